package pdf

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"io"
)

// maxDecoded bounds what one decoded stream (xref stream, object stream) may expand to, so a
// compression bomb cannot exhaust memory; the streams the structure reader decodes are small.
const maxDecoded = 256 << 20

// decodeStream applies the stream's filters to raw. Only what structure reading needs is
// supported (Flate with PNG/TIFF predictors, ASCIIHex); page content is never decoded here.
func decodeStream(d Dict, raw []byte) ([]byte, error) {
	filters := filterList(d["Filter"])
	parms := d["DecodeParms"]
	data := raw
	for i, f := range filters {
		var p Dict
		switch pv := parms.(type) {
		case Dict:
			p = pv
		case Array:
			if i < len(pv) {
				p, _ = pv[i].(Dict)
			}
		}
		var err error
		switch f {
		case "FlateDecode", "Fl":
			data, err = inflate(data)
			if err == nil {
				data, err = unpredict(data, p)
			}
		case "ASCIIHexDecode", "AHx":
			data, err = asciiHex(data)
		default:
			return nil, fmt.Errorf("unsupported stream filter /%s", f)
		}
		if err != nil {
			return nil, err
		}
	}
	return data, nil
}

func filterList(o Object) []Name {
	switch v := o.(type) {
	case Name:
		return []Name{v}
	case Array:
		var out []Name
		for _, e := range v {
			if n, ok := e.(Name); ok {
				out = append(out, n)
			}
		}
		return out
	}
	return nil
}

func inflate(b []byte) ([]byte, error) {
	zr, err := zlib.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("FlateDecode: %w", err)
	}
	defer zr.Close()
	var out bytes.Buffer
	n, err := io.Copy(&out, io.LimitReader(zr, maxDecoded+1))
	if n > maxDecoded {
		return nil, fmt.Errorf("FlateDecode: stream expands beyond %d bytes", maxDecoded)
	}
	if err != nil && out.Len() == 0 {
		return nil, fmt.Errorf("FlateDecode: %w", err)
	}
	// Truncated zlib data (a missing checksum) is common; keep what inflated.
	return out.Bytes(), nil
}

func asciiHex(b []byte) ([]byte, error) {
	var out []byte
	var hi byte
	half := false
	for _, c := range b {
		if c == '>' {
			break
		}
		if isSpace(c) {
			continue
		}
		if !isHex(c) {
			return nil, fmt.Errorf("ASCIIHexDecode: bad character %q", c)
		}
		if half {
			out = append(out, hi<<4|unhex(c))
		} else {
			hi = unhex(c)
		}
		half = !half
	}
	if half {
		out = append(out, hi<<4)
	}
	return out, nil
}

func unpredict(b []byte, p Dict) ([]byte, error) {
	if p == nil {
		return b, nil
	}
	pred, _ := IntOf(p["Predictor"])
	if pred <= 1 {
		return b, nil
	}
	colors, ok := IntOf(p["Colors"])
	if !ok || colors < 1 {
		colors = 1
	}
	bpc, ok := IntOf(p["BitsPerComponent"])
	if !ok || bpc < 1 {
		bpc = 8
	}
	cols, ok := IntOf(p["Columns"])
	if !ok || cols < 1 {
		cols = 1
	}
	if colors > 64 || bpc > 16 || cols > 1<<24 {
		return nil, fmt.Errorf("predictor parameters out of range")
	}
	bpp := int((colors*bpc + 7) / 8)
	rowLen := int((colors*bpc*cols + 7) / 8)
	if pred == 2 { // TIFF predictor 2, 8-bit components only
		if bpc != 8 {
			return nil, fmt.Errorf("TIFF predictor with %d bits per component is not supported", bpc)
		}
		out := append([]byte(nil), b...)
		for r := 0; r+rowLen <= len(out); r += rowLen {
			for i := bpp; i < rowLen; i++ {
				out[r+i] += out[r+i-bpp]
			}
		}
		return out, nil
	}
	// PNG predictors: every row starts with its filter type byte.
	out := make([]byte, 0, len(b))
	prev := make([]byte, rowLen)
	for i := 0; i+1+rowLen <= len(b); i += 1 + rowLen {
		ft := b[i]
		row := append([]byte(nil), b[i+1:i+1+rowLen]...)
		for j := 0; j < rowLen; j++ {
			var left, up, ul byte
			if j >= bpp {
				left = row[j-bpp]
				ul = prev[j-bpp]
			}
			up = prev[j]
			switch ft {
			case 0:
			case 1:
				row[j] += left
			case 2:
				row[j] += up
			case 3:
				row[j] += byte((int(left) + int(up)) / 2)
			case 4:
				row[j] += paeth(left, up, ul)
			default:
				return nil, fmt.Errorf("bad PNG predictor row type %d", ft)
			}
		}
		out = append(out, row...)
		prev = row
	}
	return out, nil
}

func paeth(a, b, c byte) byte {
	p := int(a) + int(b) - int(c)
	pa, pb, pc := abs(p-int(a)), abs(p-int(b)), abs(p-int(c))
	if pa <= pb && pa <= pc {
		return a
	}
	if pb <= pc {
		return b
	}
	return c
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
