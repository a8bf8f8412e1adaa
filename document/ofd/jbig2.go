package ofd

import (
	"encoding/binary"
	"fmt"
	"image"
)

// A minimal JBIG2 (ITU-T T.88) decoder for what OFD e-invoices store: a JBIG2 file holding one
// page made of generic regions (arithmetic coding, any template, typical prediction), as tax
// bureaus encode the QR code. No Go module for JBIG2 is reachable here, so this implements
// those parts of the standard; symbol dictionaries, text, halftone and refinement regions and
// MMR coding give ErrJBIG2 (and the renderer draws a placeholder box).

// maxJBIG2Pixels bounds a JBIG2 page (QR codes are 100×100).
const maxJBIG2Pixels = 16 << 20

func decodeJBIG2(data []byte) (image.Image, error) {
	if len(data) < 9 || string(data[:8]) != string(jbig2Magic) {
		return nil, ErrJBIG2
	}
	flags := data[8]
	p := 9
	if flags&2 == 0 {
		p += 4 // number of pages
	}
	sequential := flags&1 == 1
	type segment struct {
		typ  byte
		data []byte
	}
	var segs []segment
	var lengths []uint32
	var types []byte
	for p < len(data) {
		if len(data)-p < 11 {
			break
		}
		num := binary.BigEndian.Uint32(data[p:])
		sf := data[p+4]
		p += 5
		refCount := int(data[p] >> 5)
		if refCount == 7 {
			return nil, fmt.Errorf("%w: long referred-to segment form", ErrJBIG2)
		}
		p++
		refSize := 1
		if num > 65536 {
			refSize = 4
		} else if num > 256 {
			refSize = 2
		}
		p += refCount * refSize
		if sf&0x40 != 0 {
			p += 4
		} else {
			p++
		}
		if p+4 > len(data) {
			return nil, fmt.Errorf("%w: truncated segment header", ErrJBIG2)
		}
		length := binary.BigEndian.Uint32(data[p:])
		p += 4
		typ := sf & 0x3f
		if sequential {
			if length == 0xffffffff || uint64(p)+uint64(length) > uint64(len(data)) {
				return nil, fmt.Errorf("%w: segment data past the end", ErrJBIG2)
			}
			segs = append(segs, segment{typ, data[p : p+int(length)]})
			p += int(length)
		} else {
			types = append(types, typ)
			lengths = append(lengths, length)
		}
		if typ == 51 { // end of file
			break
		}
	}
	for i, l := range lengths { // random-access organisation: data follows all headers
		if l == 0xffffffff || uint64(p)+uint64(l) > uint64(len(data)) {
			return nil, fmt.Errorf("%w: segment data past the end", ErrJBIG2)
		}
		segs = append(segs, segment{types[i], data[p : p+int(l)]})
		p += int(l)
	}
	var page *bitmap
	for _, s := range segs {
		switch s.typ {
		case 48: // page information
			if len(s.data) < 19 {
				return nil, fmt.Errorf("%w: short page information", ErrJBIG2)
			}
			w, h := binary.BigEndian.Uint32(s.data), binary.BigEndian.Uint32(s.data[4:])
			if h == 0xffffffff || w == 0 || h == 0 || uint64(w)*uint64(h) > maxJBIG2Pixels {
				return nil, fmt.Errorf("%w: page of %dx%d pixels", ErrJBIG2, w, h)
			}
			page = newBitmap(int(w), int(h))
			if s.data[16]&4 != 0 {
				for i := range page.pix {
					page.pix[i] = 1
				}
			}
		case 36, 38, 39: // intermediate / immediate (lossless) generic region
			if page == nil {
				return nil, fmt.Errorf("%w: region before page information", ErrJBIG2)
			}
			r, x, y, op, err := decodeGenericRegion(s.data)
			if err != nil {
				return nil, err
			}
			page.compose(r, x, y, op)
		case 49, 50, 51, 53, 62: // end of page / stripe / file, tables, extension
		default:
			return nil, fmt.Errorf("%w: segment type %d is not supported", ErrJBIG2, s.typ)
		}
	}
	if page == nil {
		return nil, fmt.Errorf("%w: no page", ErrJBIG2)
	}
	img := image.NewGray(image.Rect(0, 0, page.w, page.h))
	for i, v := range page.pix {
		if v == 0 {
			img.Pix[i] = 255
		}
	}
	return img, nil
}

type bitmap struct {
	w, h int
	pix  []byte // 1 = black
}

func newBitmap(w, h int) *bitmap { return &bitmap{w: w, h: h, pix: make([]byte, w*h)} }

func (b *bitmap) at(x, y int) int {
	if x < 0 || y < 0 || x >= b.w || y >= b.h {
		return 0
	}
	return int(b.pix[y*b.w+x])
}

// compose combines r into b at (x, y) with operator op (0 OR, 1 AND, 2 XOR, 3 XNOR, 4 REPLACE).
func (b *bitmap) compose(r *bitmap, x, y, op int) {
	for j := 0; j < r.h; j++ {
		for i := 0; i < r.w; i++ {
			px, py := x+i, y+j
			if px < 0 || py < 0 || px >= b.w || py >= b.h {
				continue
			}
			d, s := b.pix[py*b.w+px], r.pix[j*r.w+i]
			switch op {
			case 1:
				d &= s
			case 2:
				d ^= s
			case 3:
				d = 1 ^ (d ^ s)
			case 4:
				d = s
			default:
				d |= s
			}
			b.pix[py*b.w+px] = d
		}
	}
}

func decodeGenericRegion(d []byte) (*bitmap, int, int, int, error) {
	if len(d) < 18 {
		return nil, 0, 0, 0, fmt.Errorf("%w: short generic region", ErrJBIG2)
	}
	w, h := binary.BigEndian.Uint32(d), binary.BigEndian.Uint32(d[4:])
	x, y := int(int32(binary.BigEndian.Uint32(d[8:]))), int(int32(binary.BigEndian.Uint32(d[12:])))
	op := int(d[16] & 7)
	if w == 0 || h == 0 || h == 0xffffffff || uint64(w)*uint64(h) > maxJBIG2Pixels {
		return nil, 0, 0, 0, fmt.Errorf("%w: region of %dx%d pixels", ErrJBIG2, w, h)
	}
	fl := d[17]
	if fl&1 != 0 {
		return nil, 0, 0, 0, fmt.Errorf("%w: MMR coding", ErrJBIG2)
	}
	tmpl := int(fl>>1) & 3
	tpgdon := fl&8 != 0
	p := 18
	nat := 1
	if tmpl == 0 {
		nat = 4
	}
	if len(d) < p+2*nat {
		return nil, 0, 0, 0, fmt.Errorf("%w: short generic region", ErrJBIG2)
	}
	var at [4][2]int
	for i := 0; i < nat; i++ {
		at[i] = [2]int{int(int8(d[p])), int(int8(d[p+1]))}
		p += 2
	}
	bm := newBitmap(int(w), int(h))
	mq := newMQDecoder(d[p:])
	cx := make([]byte, 1<<16)
	// Typical-prediction contexts per template (T.88 6.2.5.7).
	sltp := [4]int{0x9B25, 0x0795, 0x00E5, 0x0195}[tmpl]
	ltp := 0
	for j := 0; j < bm.h; j++ {
		if tpgdon {
			ltp ^= mq.decode(cx, sltp)
			if ltp == 1 {
				if j > 0 {
					copy(bm.pix[j*bm.w:(j+1)*bm.w], bm.pix[(j-1)*bm.w:j*bm.w])
				}
				continue
			}
		}
		for i := 0; i < bm.w; i++ {
			c := genericContext(bm, tmpl, i, j, &at)
			bm.pix[j*bm.w+i] = byte(mq.decode(cx, c))
		}
	}
	return bm, x, y, op, nil
}

// genericContext forms the context of pixel (x, y) with the bit order of T.88 6.2.5.3, which
// the typical-prediction contexts above assume.
func genericContext(b *bitmap, tmpl, x, y int, at *[4][2]int) int {
	g := b.at
	a := func(i int) int { return g(x+at[i][0], y+at[i][1]) }
	switch tmpl {
	case 0:
		return g(x-1, y) | g(x-2, y)<<1 | g(x-3, y)<<2 | g(x-4, y)<<3 | a(0)<<4 |
			g(x+2, y-1)<<5 | g(x+1, y-1)<<6 | g(x, y-1)<<7 | g(x-1, y-1)<<8 | g(x-2, y-1)<<9 |
			a(1)<<10 | a(2)<<11 | g(x+1, y-2)<<12 | g(x, y-2)<<13 | g(x-1, y-2)<<14 | a(3)<<15
	case 1:
		return g(x-1, y) | g(x-2, y)<<1 | g(x-3, y)<<2 | a(0)<<3 |
			g(x+2, y-1)<<4 | g(x+1, y-1)<<5 | g(x, y-1)<<6 | g(x-1, y-1)<<7 | g(x-2, y-1)<<8 |
			g(x+2, y-2)<<9 | g(x+1, y-2)<<10 | g(x, y-2)<<11 | g(x-1, y-2)<<12
	case 2:
		return g(x-1, y) | g(x-2, y)<<1 | a(0)<<2 |
			g(x+1, y-1)<<3 | g(x, y-1)<<4 | g(x-1, y-1)<<5 | g(x-2, y-1)<<6 |
			g(x+1, y-2)<<7 | g(x, y-2)<<8 | g(x-1, y-2)<<9
	default:
		return g(x-1, y) | g(x-2, y)<<1 | g(x-3, y)<<2 | g(x-4, y)<<3 | a(0)<<4 |
			g(x+1, y-1)<<5 | g(x, y-1)<<6 | g(x-1, y-1)<<7 | g(x-2, y-1)<<8 | g(x-3, y-1)<<9
	}
}

// mqDecoder is the MQ arithmetic decoder of T.88 Annex E.
type mqDecoder struct {
	data  []byte
	bp    int
	chigh uint32
	clow  uint32
	a     uint32
	ct    int
}

type qe struct {
	qe         uint32
	nmps, nlps byte
	sw         byte
}

var qeTable = [47]qe{
	{0x5601, 1, 1, 1}, {0x3401, 2, 6, 0}, {0x1801, 3, 9, 0}, {0x0AC1, 4, 12, 0}, {0x0521, 5, 29, 0},
	{0x0221, 38, 33, 0}, {0x5601, 7, 6, 1}, {0x5401, 8, 14, 0}, {0x4801, 9, 14, 0}, {0x3801, 10, 14, 0},
	{0x3001, 11, 17, 0}, {0x2401, 12, 18, 0}, {0x1C01, 13, 20, 0}, {0x1601, 29, 21, 0}, {0x5601, 15, 14, 1},
	{0x5401, 16, 14, 0}, {0x5101, 17, 15, 0}, {0x4801, 18, 16, 0}, {0x3801, 19, 17, 0}, {0x3401, 20, 18, 0},
	{0x3001, 21, 19, 0}, {0x2801, 22, 19, 0}, {0x2401, 23, 20, 0}, {0x2201, 24, 21, 0}, {0x1C01, 25, 22, 0},
	{0x1801, 26, 23, 0}, {0x1601, 27, 24, 0}, {0x1401, 28, 25, 0}, {0x1201, 29, 26, 0}, {0x1101, 30, 27, 0},
	{0x0AC1, 31, 28, 0}, {0x09C1, 32, 29, 0}, {0x08A1, 33, 30, 0}, {0x0521, 34, 31, 0}, {0x0441, 35, 32, 0},
	{0x02A1, 36, 33, 0}, {0x0221, 37, 34, 0}, {0x0141, 38, 35, 0}, {0x0111, 39, 36, 0}, {0x0085, 40, 37, 0},
	{0x0049, 41, 38, 0}, {0x0025, 42, 39, 0}, {0x0015, 43, 40, 0}, {0x0009, 44, 41, 0}, {0x0005, 45, 42, 0},
	{0x0001, 45, 43, 0}, {0x5601, 46, 46, 0},
}

func newMQDecoder(data []byte) *mqDecoder {
	m := &mqDecoder{data: data}
	m.chigh = uint32(m.byteAt(0))
	m.byteIn()
	m.chigh = ((m.chigh << 7) & 0xffff) | ((m.clow >> 9) & 0x7f)
	m.clow = (m.clow << 7) & 0xffff
	m.ct -= 7
	m.a = 0x8000
	return m
}

// byteAt reads past the end as 0xFF, as the standard's decoder does at the end of data.
func (m *mqDecoder) byteAt(i int) byte {
	if i < len(m.data) {
		return m.data[i]
	}
	return 0xff
}

func (m *mqDecoder) byteIn() {
	if m.byteAt(m.bp) == 0xff {
		if m.byteAt(m.bp+1) > 0x8f {
			m.clow += 0xff00
			m.ct = 8
		} else {
			m.bp++
			m.clow += uint32(m.byteAt(m.bp)) << 9
			m.ct = 7
		}
	} else {
		m.bp++
		m.clow += uint32(m.byteAt(m.bp)) << 8
		m.ct = 8
	}
	if m.clow > 0xffff {
		m.chigh += m.clow >> 16
		m.clow &= 0xffff
	}
}

// decode decodes one bit with context state cx[i] (index << 1 | MPS).
func (m *mqDecoder) decode(cx []byte, i int) int {
	idx, mps := int(cx[i]>>1), int(cx[i]&1)
	q := qeTable[idx]
	var d int
	a := m.a - q.qe
	if m.chigh < q.qe {
		if a < q.qe {
			a = q.qe
			d = mps
			idx = int(q.nmps)
		} else {
			a = q.qe
			d = 1 ^ mps
			if q.sw == 1 {
				mps = d
			}
			idx = int(q.nlps)
		}
	} else {
		m.chigh -= q.qe
		if a&0x8000 != 0 {
			m.a = a
			return mps
		}
		if a < q.qe {
			d = 1 ^ mps
			if q.sw == 1 {
				mps = d
			}
			idx = int(q.nlps)
		} else {
			d = mps
			idx = int(q.nmps)
		}
	}
	for {
		if m.ct == 0 {
			m.byteIn()
		}
		a <<= 1
		m.chigh = ((m.chigh << 1) & 0xffff) | ((m.clow >> 15) & 1)
		m.clow = (m.clow << 1) & 0xffff
		m.ct--
		if a&0x8000 != 0 {
			break
		}
	}
	m.a = a
	cx[i] = byte(idx<<1 | mps)
	return d
}
