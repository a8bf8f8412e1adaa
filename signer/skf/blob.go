package skf

import (
	"bytes"
	"crypto/ecdsa"
	"encoding/asn1"
	"encoding/binary"
	"fmt"
	"math/big"
	"strings"
	"unicode/utf8"

	"github.com/emmansun/gmsm/sm2"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// Sizes of the standard's structures, packed to 1 byte with 32-bit ULONG as its headers
// declare (#pragma pack(1)). Buffers handed to the library are larger (see bufSlack) so a
// vendor build that widened ULONG cannot write past them.
const (
	devInfoSize           = 2 + 64 + 64 + 32 + 32 + 2 + 2 + 8*4 + 64 // DEVINFO: 294 bytes
	eccPubBlobSize        = 4 + 64 + 64                              // ECCPUBLICKEYBLOB: 132 bytes
	eccSigBlobSize        = 64 + 64                                  // ECCSIGNATUREBLOB: 128 bytes
	fileAttrSize          = 32 + 4 + 4 + 4                           // FILEATTRIBUTE: 44 bytes
	bufSlack              = 256
	coordLen              = 64         // ECC_MAX_XCOORDINATE_BITS_LEN / 8
	sgdSM2_1       uint32 = 0x00020100 // SGD_SM2_1, SM2 signature (GM/T 0006)
	sgdSM3         uint32 = 0x00000001
	userType       uint32 = 1 // USER_TYPE
	adminType      uint32 = 0 // ADMIN_TYPE
)

// Container types returned by SKF_GetContainerType.
const (
	ContainerEmpty = 0
	ContainerRSA   = 1
	ContainerECC   = 2
)

// DevInfo is the part of DEVINFO that SealDesk shows.
type DevInfo struct {
	Version      [2]byte
	Manufacturer string
	Issuer       string
	Label        string
	SerialNumber string
	AlgAsymCap   uint32
	AlgHashCap   uint32
}

// parseDevInfo reads a packed DEVINFO.
func parseDevInfo(b []byte) (DevInfo, error) {
	if len(b) < devInfoSize {
		return DevInfo{}, fmt.Errorf("DEVINFO is %d bytes, want %d", len(b), devInfoSize)
	}
	d := DevInfo{Version: [2]byte{b[0], b[1]}}
	d.Manufacturer = cString(b[2:66])
	d.Issuer = cString(b[66:130])
	d.Label = cString(b[130:162])
	d.SerialNumber = cString(b[162:194])
	// 194: HWVersion, 196: FirmwareVersion, 198: AlgSymCap, 202: AlgAsymCap, 206: AlgHashCap.
	d.AlgAsymCap = binary.LittleEndian.Uint32(b[202:])
	d.AlgHashCap = binary.LittleEndian.Uint32(b[206:])
	return d, nil
}

// cString returns the text before the first NUL, trailing blanks trimmed, decoded from GBK
// when it is not UTF-8 (Chinese Windows libraries answer in the ANSI code page).
func cString(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return Display(strings.TrimRight(string(b), " "))
}

// Display turns a name from the library into text for people: GBK bytes are decoded; the
// raw name stays what is passed back to the library and written into URIs.
func Display(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	if d, err := simplifiedchinese.GB18030.NewDecoder().String(s); err == nil {
		return d
	}
	return strings.ToValidUTF8(s, "?")
}

// splitNames splits a multi-string ("a\0b\0\0") as EnumDev/EnumApplication/EnumContainer
// return it. Some libraries separate with NUL, a few older ones with NUL only at the end.
func splitNames(b []byte) []string {
	var out []string
	for _, p := range bytes.Split(b, []byte{0}) {
		if len(p) > 0 {
			out = append(out, string(p))
		}
	}
	return out
}

// coordinate returns the 32-byte value of a 64-byte field. The standard right-aligns values
// (leading zeros); a few vendors left-align: alt is that reading.
func coordinate(f []byte) (std, alt []byte) {
	return f[coordLen-32 : coordLen], f[:32]
}

// parsePublicKey turns a packed ECCPUBLICKEYBLOB into an SM2 public key.
func parsePublicKey(b []byte) (*ecdsa.PublicKey, error) {
	if len(b) < eccPubBlobSize {
		return nil, fmt.Errorf("ECCPUBLICKEYBLOB is %d bytes, want %d", len(b), eccPubBlobSize)
	}
	bits := binary.LittleEndian.Uint32(b)
	if bits != 256 {
		return nil, fmt.Errorf("ECCPUBLICKEYBLOB: BitLen %d, SM2 keys have 256", bits)
	}
	xs, xa := coordinate(b[4 : 4+coordLen])
	ys, ya := coordinate(b[4+coordLen : 4+2*coordLen])
	for _, xy := range [][2][]byte{{xs, ys}, {xa, ya}} {
		pt := append(append([]byte{4}, xy[0]...), xy[1]...)
		if pub, err := sm2.NewPublicKey(pt); err == nil {
			return pub, nil
		}
	}
	return nil, fmt.Errorf("ECCPUBLICKEYBLOB holds no point of the SM2 curve")
}

// PublicKeyBlob packs an SM2 public key as an ECCPUBLICKEYBLOB (right-aligned coordinates).
func PublicKeyBlob(pub *ecdsa.PublicKey) []byte {
	b := make([]byte, eccPubBlobSize)
	binary.LittleEndian.PutUint32(b, 256)
	pub.X.FillBytes(b[4 : 4+coordLen])
	pub.Y.FillBytes(b[4+coordLen : 4+2*coordLen])
	return b
}

// signatureCandidates turns a packed ECCSIGNATUREBLOB into DER SEQUENCE{r, s} readings: the
// standard's (right-aligned) first, then the left-aligned one. The caller keeps the one that
// verifies.
func signatureCandidates(b []byte) ([][]byte, error) {
	if len(b) < eccSigBlobSize {
		return nil, fmt.Errorf("ECCSIGNATUREBLOB is %d bytes, want %d", len(b), eccSigBlobSize)
	}
	rs, ra := coordinate(b[:coordLen])
	ss, sa := coordinate(b[coordLen : 2*coordLen])
	var out [][]byte
	for _, p := range [][2][]byte{{rs, ss}, {ra, sa}} {
		r, s := new(big.Int).SetBytes(p[0]), new(big.Int).SetBytes(p[1])
		if r.Sign() == 0 || s.Sign() == 0 {
			continue
		}
		der, err := asn1.Marshal(struct{ R, S *big.Int }{r, s})
		if err != nil {
			return nil, err
		}
		out = append(out, der)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("ECCSIGNATUREBLOB holds a zero r or s")
	}
	return out, nil
}

// SignatureBlob packs a DER SEQUENCE{r, s} as an ECCSIGNATUREBLOB (for test doubles).
func SignatureBlob(der []byte) ([]byte, error) {
	var sig struct{ R, S *big.Int }
	if rest, err := asn1.Unmarshal(der, &sig); err != nil || len(rest) > 0 {
		return nil, fmt.Errorf("not a DER SM2 signature")
	}
	b := make([]byte, eccSigBlobSize)
	sig.R.FillBytes(b[:coordLen])
	sig.S.FillBytes(b[coordLen:])
	return b, nil
}

// splitDER splits the content of a seal file into its DER elements. Vendors allocate files
// of a fixed size, so trailing 0x00 or 0xFF padding ends the list.
func splitDER(b []byte) [][]byte {
	var out [][]byte
	for len(b) > 0 && b[0] == 0x30 {
		var raw asn1.RawValue
		rest, err := asn1.Unmarshal(b, &raw)
		if err != nil {
			break
		}
		out = append(out, raw.FullBytes)
		b = rest
	}
	return out
}
