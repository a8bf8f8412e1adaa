package ses

import (
	encasn1 "encoding/asn1"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"
)

// FieldError is a parse or build error that names the ASN.1 field it concerns, as a dotted path
// from the outer structure (e.g. "SES_Signature.toSign.eseal.esealInfo.property.validEnd").
type FieldError struct {
	Field string
	Err   error
}

func (e *FieldError) Error() string { return "ses: " + e.Field + ": " + e.Err.Error() }
func (e *FieldError) Unwrap() error { return e.Err }

func fieldErr(field string, format string, args ...any) error {
	return &FieldError{Field: field, Err: fmt.Errorf(format, args...)}
}

// elem is one DER element: its tag, its whole encoding (header included) and its contents.
type elem struct {
	tag  asn1.Tag
	raw  []byte
	body []byte
}

// splitOne reads exactly one element from der and fails on trailing bytes. cryptobyte enforces
// DER length rules (minimal lengths, no indefinite form), which is the strictness we want.
func splitOne(der []byte, field string) (elem, error) {
	s := cryptobyte.String(der)
	e, err := next(&s, field)
	if err != nil {
		return e, err
	}
	if !s.Empty() {
		return e, fieldErr(field, "%d trailing bytes after the structure", len(s))
	}
	return e, nil
}

func next(s *cryptobyte.String, field string) (elem, error) {
	var raw cryptobyte.String
	var tag asn1.Tag
	if s.Empty() {
		return elem{}, fieldErr(field, "missing")
	}
	if !s.ReadAnyASN1Element(&raw, &tag) {
		return elem{}, fieldErr(field, "malformed DER element (bad tag or length)")
	}
	var body cryptobyte.String
	r := raw
	var t2 asn1.Tag
	if !r.ReadAnyASN1(&body, &t2) {
		return elem{}, fieldErr(field, "malformed DER element")
	}
	return elem{tag: tag, raw: []byte(raw), body: []byte(body)}, nil
}

// children splits the contents of a constructed element into its elements.
func children(e elem, field string) ([]elem, error) {
	if e.tag&0x20 == 0 {
		return nil, fieldErr(field, "expected a constructed element, got tag %s", tagName(e.tag))
	}
	s := cryptobyte.String(e.body)
	var out []elem
	for !s.Empty() {
		c, err := next(&s, fmt.Sprintf("%s[%d]", field, len(out)))
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// sequence checks that e is a SEQUENCE and returns its elements.
func sequence(e elem, field string) ([]elem, error) {
	if e.tag != asn1.SEQUENCE {
		return nil, fieldErr(field, "expected SEQUENCE, got %s", tagName(e.tag))
	}
	return children(e, field)
}

func tagName(t asn1.Tag) string {
	switch t {
	case asn1.SEQUENCE:
		return "SEQUENCE"
	case asn1.SET:
		return "SET"
	case asn1.INTEGER:
		return "INTEGER"
	case asn1.BOOLEAN:
		return "BOOLEAN"
	case asn1.OCTET_STRING:
		return "OCTET STRING"
	case asn1.BIT_STRING:
		return "BIT STRING"
	case asn1.OBJECT_IDENTIFIER:
		return "OBJECT IDENTIFIER"
	case asn1.IA5String:
		return "IA5String"
	case asn1.UTF8String:
		return "UTF8String"
	case asn1.PrintableString:
		return "PrintableString"
	case asn1.UTCTime:
		return "UTCTime"
	case asn1.GeneralizedTime:
		return "GeneralizedTime"
	case asn1.NULL:
		return "NULL"
	}
	class := "UNIVERSAL"
	switch {
	case t&0xc0 == 0x80:
		class = "context"
	case t&0xc0 == 0x40:
		class = "APPLICATION"
	case t&0xc0 == 0xc0:
		class = "PRIVATE"
	}
	if class == "context" {
		return fmt.Sprintf("[%d]", int(t&0x1f))
	}
	return fmt.Sprintf("%s %d (0x%02x)", class, int(t&0x1f), uint8(t))
}

func integer(e elem, field string) (int64, error) {
	if e.tag != asn1.INTEGER {
		return 0, fieldErr(field, "expected INTEGER, got %s", tagName(e.tag))
	}
	var v int64
	s := cryptobyte.String(e.raw)
	if !s.ReadASN1Integer(&v) {
		return 0, fieldErr(field, "malformed or out-of-range INTEGER")
	}
	return v, nil
}

// smallInt reads an INTEGER that must fit a non-negative int32 (versions, types, sizes).
func smallInt(e elem, field string) (int, error) {
	v, err := integer(e, field)
	if err != nil {
		return 0, err
	}
	if v < 0 || v > math.MaxInt32 {
		return 0, fieldErr(field, "value %d out of range", v)
	}
	return int(v), nil
}

// str reads a character string. The standards say IA5String or UTF8String per field; real
// producers swap them, so any of the common string types is accepted and the tag is returned
// for callers that care.
func str(e elem, field string) (string, error) {
	switch e.tag {
	case asn1.IA5String, asn1.PrintableString:
		for _, c := range e.body {
			if c > 0x7f {
				return "", fieldErr(field, "non-ASCII byte 0x%02x in %s", c, tagName(e.tag))
			}
		}
		return string(e.body), nil
	case asn1.UTF8String, asn1.Tag(26) /* VisibleString */, asn1.T61String:
		return strings.ToValidUTF8(string(e.body), "\uFFFD"), nil
	}
	return "", fieldErr(field, "expected a character string, got %s", tagName(e.tag))
}

func oid(e elem, field string) (encasn1.ObjectIdentifier, error) {
	if e.tag != asn1.OBJECT_IDENTIFIER {
		return nil, fieldErr(field, "expected OBJECT IDENTIFIER, got %s", tagName(e.tag))
	}
	var o encasn1.ObjectIdentifier
	s := cryptobyte.String(e.raw)
	if !s.ReadASN1ObjectIdentifier(&o) {
		return nil, fieldErr(field, "malformed OBJECT IDENTIFIER")
	}
	return o, nil
}

func octets(e elem, field string) ([]byte, error) {
	if e.tag != asn1.OCTET_STRING {
		return nil, fieldErr(field, "expected OCTET STRING, got %s", tagName(e.tag))
	}
	return e.body, nil
}

// bits reads a BIT STRING that must hold whole bytes. Producers write OCTET STRING in its place
// (GM/T 0031 decoders, ofdrw), so that is accepted too; isOctet reports which one was found.
func bits(e elem, field string) (b []byte, isOctet bool, err error) {
	switch e.tag {
	case asn1.OCTET_STRING:
		return e.body, true, nil
	case asn1.BIT_STRING:
		if len(e.body) == 0 {
			return nil, false, fieldErr(field, "empty BIT STRING (no unused-bits byte)")
		}
		if e.body[0] != 0 {
			return nil, false, fieldErr(field, "BIT STRING with %d unused bits; whole bytes expected", e.body[0])
		}
		return e.body[1:], false, nil
	}
	return nil, false, fieldErr(field, "expected BIT STRING, got %s", tagName(e.tag))
}

func boolean(e elem, field string) (bool, error) {
	if e.tag != asn1.BOOLEAN {
		return false, fieldErr(field, "expected BOOLEAN, got %s", tagName(e.tag))
	}
	if len(e.body) != 1 {
		return false, fieldErr(field, "BOOLEAN of %d bytes", len(e.body))
	}
	// DER wants 0xff for TRUE; BER producers write other non-zero values. Accept them.
	return e.body[0] != 0, nil
}

// timeValue reads a UTCTime or GeneralizedTime. GB/T 38540 specifies GeneralizedTime and
// GM/T 0031 UTCTime; real files use both, with and without fractional seconds.
func timeValue(e elem, field string) (time.Time, error) {
	switch e.tag {
	case asn1.UTCTime, asn1.GeneralizedTime:
	default:
		return time.Time{}, fieldErr(field, "expected GeneralizedTime or UTCTime, got %s", tagName(e.tag))
	}
	s := string(e.body)
	var layouts []string
	if e.tag == asn1.UTCTime {
		layouts = []string{"060102150405Z0700", "0601021504Z0700"}
	} else {
		layouts = []string{"20060102150405Z0700", "20060102150405.999999999Z0700", "20060102150405", "20060102150405.999999999"}
	}
	for _, l := range layouts {
		if t, err := time.Parse(l, s); err == nil {
			if e.tag == asn1.UTCTime && t.Year() >= 2050 {
				t = t.AddDate(-100, 0, 0) // RFC 5280: UTCTime YY >= 50 means 19YY
			}
			return t, nil
		}
	}
	return time.Time{}, fieldErr(field, "unparsable %s %q", tagName(e.tag), clip(s, 40))
}

// chinaTime is the zone assumed for zone-less local times written by producers in China.
var chinaTime = time.FixedZone("CST", 8*3600)

// textTime parses the free-text times some producers put into GM/T 0031 timeInfo.
func textTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(strings.TrimRight(s, "\x00"))
	for _, l := range []string{time.RFC3339Nano, "060102150405Z0700", "2006-01-02T15:04:05.999999999Z0700", "20060102150405Z0700", "20060102150405.999999999Z0700"} {
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	for _, l := range []string{"2006-01-02 15:04:05", "2006-01-02 15:04:05.999999999", "20060102150405", "2006-01-02T15:04:05"} {
		if t, err := time.ParseInLocation(l, s, chinaTime); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

var errEmpty = errors.New("empty input")
