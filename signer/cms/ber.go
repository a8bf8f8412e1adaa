package cms

import (
	"errors"
	"fmt"
)

// Real PDF signatures (Adobe Acrobat, some Chinese producers) are BER: indefinite lengths,
// constructed OCTET STRINGs, non-minimal lengths. encoding/asn1 and cryptobyte only read DER,
// so Parse first rewrites one BER element into DER. Signed attributes re-encoded this way are
// exactly the DER the signer had to sign (RFC 5652 §5.4), so signature checks stay correct.

const maxBERDepth = 64

var errBERTruncated = errors.New("truncated BER element")

// berElementLen reports the length of the first BER element of b (following indefinite
// lengths to their end-of-contents), without converting it.
func berElementLen(b []byte) (int, error) {
	_, n, err := berToDER(b, 0, false)
	return n, err
}

// toDER converts the first BER element of b to DER and reports how many bytes it used.
func toDER(b []byte) ([]byte, int, error) {
	return berToDER(b, 0, true)
}

func berToDER(b []byte, depth int, emit bool) ([]byte, int, error) {
	if depth > maxBERDepth {
		return nil, 0, fmt.Errorf("BER nesting deeper than %d", maxBERDepth)
	}
	if len(b) < 2 {
		return nil, 0, errBERTruncated
	}
	// Identifier octets (multi-byte tag numbers kept as they are).
	i := 1
	if b[0]&0x1f == 0x1f {
		for {
			if i >= len(b) {
				return nil, 0, errBERTruncated
			}
			if i > 5 {
				return nil, 0, errors.New("BER tag number too large")
			}
			c := b[i]
			i++
			if c&0x80 == 0 {
				break
			}
		}
	}
	ident := b[:i]
	constructed := b[0]&0x20 != 0
	if i >= len(b) {
		return nil, 0, errBERTruncated
	}
	l := int(b[i])
	i++
	indefinite := false
	switch {
	case l == 0x80:
		if !constructed {
			return nil, 0, errors.New("BER indefinite length on a primitive element")
		}
		indefinite = true
	case l > 0x80:
		n := l & 0x7f
		if n > 4 || i+n > len(b) {
			return nil, 0, errors.New("BER length too large or truncated")
		}
		l = 0
		for _, c := range b[i : i+n] {
			l = l<<8 | int(c)
		}
		i += n
		if l < 0 || l > len(b)-i {
			return nil, 0, errBERTruncated
		}
	default:
		if l > len(b)-i {
			return nil, 0, errBERTruncated
		}
	}
	if !constructed {
		if !emit {
			return nil, i + l, nil
		}
		return encodeTLV(ident, b[i:i+l]), i + l, nil
	}
	// Constructed: convert children.
	var content []byte
	pos := i
	// A constructed universal OCTET STRING (tag 0x24) becomes a primitive one holding the
	// concatenated fragments, as DER requires.
	octets := len(ident) == 1 && ident[0] == 0x24
	for {
		if indefinite {
			if pos+2 > len(b) {
				return nil, 0, errBERTruncated
			}
			if b[pos] == 0 && b[pos+1] == 0 {
				pos += 2
				break
			}
		} else if pos >= i+l {
			break
		}
		limit := len(b)
		if !indefinite {
			limit = i + l
		}
		child, n, err := berToDER(b[pos:limit], depth+1, emit)
		if err != nil {
			return nil, 0, err
		}
		if emit {
			if octets {
				if child[0] != 0x04 {
					return nil, 0, errors.New("BER constructed OCTET STRING holds a non-OCTET STRING")
				}
				_, v, _ := splitTLV(child)
				content = append(content, v...)
			} else {
				content = append(content, child...)
			}
		}
		pos += n
	}
	if !emit {
		return nil, pos, nil
	}
	if octets {
		return encodeTLV([]byte{0x04}, content), pos, nil
	}
	return encodeTLV(ident, content), pos, nil
}

// encodeTLV writes identifier, DER length and value.
func encodeTLV(ident, v []byte) []byte {
	out := make([]byte, 0, len(ident)+6+len(v))
	out = append(out, ident...)
	out = appendLength(out, len(v))
	return append(out, v...)
}

func appendLength(out []byte, n int) []byte {
	switch {
	case n < 0x80:
		return append(out, byte(n))
	case n < 0x100:
		return append(out, 0x81, byte(n))
	case n < 0x10000:
		return append(out, 0x82, byte(n>>8), byte(n))
	case n < 0x1000000:
		return append(out, 0x83, byte(n>>16), byte(n>>8), byte(n))
	}
	return append(out, 0x84, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}

// splitTLV splits a DER element produced by encodeTLV (single-byte identifier).
func splitTLV(der []byte) (tag byte, value []byte, ok bool) {
	if len(der) < 2 {
		return 0, nil, false
	}
	l := int(der[1])
	i := 2
	if l&0x80 != 0 {
		n := l & 0x7f
		if n == 0 || n > 4 || len(der) < 2+n {
			return 0, nil, false
		}
		l = 0
		for _, c := range der[2 : 2+n] {
			l = l<<8 | int(c)
		}
		i += n
	}
	if l < 0 || i+l > len(der) {
		return 0, nil, false
	}
	return der[0], der[i : i+l], true
}
