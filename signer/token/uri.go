package token

import (
	"bytes"
	"fmt"
	"strings"

	"sealdesk/signer"
)

// URI is an RFC 7512 PKCS#11 URI. Empty fields (nil ID) are absent and match anything.
// pin-source and pin-value are refused: PINs never come from URIs.
type URI struct {
	// Token attributes.
	Token, Manufacturer, Serial, Model string
	// Object attributes: label, CKA_ID (nil = absent) and class ("cert", "private", "data", ...).
	Object string
	ID     []byte
	Type   string
	// SlotID is the slot-id attribute as written (decimal); kept but not used for matching,
	// since modules renumber slots.
	SlotID string
	// Query attributes.
	ModulePath, ModuleName string
}

// URIError names what is wrong with a PKCS#11 URI.
type URIError struct {
	URI    string
	Reason string
}

func (e *URIError) Error() string {
	return fmt.Sprintf("invalid PKCS#11 URI %q: %s", e.URI, e.Reason)
}

// ParseURI parses a pkcs11: URI.
func ParseURI(s string) (*URI, error) {
	const scheme = "pkcs11:"
	if len(s) < len(scheme) || !strings.EqualFold(s[:len(scheme)], scheme) {
		return nil, &URIError{s, "it does not start with pkcs11:"}
	}
	rest := s[len(scheme):]
	path, query, _ := strings.Cut(rest, "?")
	u := &URI{}
	seen := map[string]bool{}
	if path != "" {
		for _, attr := range strings.Split(path, ";") {
			k, v, ok := strings.Cut(attr, "=")
			if !ok || k == "" {
				return nil, &URIError{s, fmt.Sprintf("path attribute %q is not name=value", attr)}
			}
			if seen[k] {
				return nil, &URIError{s, fmt.Sprintf("attribute %q appears twice", k)}
			}
			seen[k] = true
			val, err := pctDecode(v)
			if err != nil {
				return nil, &URIError{s, fmt.Sprintf("attribute %q: %v", k, err)}
			}
			switch k {
			case "token":
				u.Token = string(val)
			case "manufacturer":
				u.Manufacturer = string(val)
			case "serial":
				u.Serial = string(val)
			case "model":
				u.Model = string(val)
			case "object":
				u.Object = string(val)
			case "id":
				u.ID = append([]byte{}, val...)
			case "type":
				switch t := string(val); t {
				case "public", "private", "cert", "secret-key", "data":
					u.Type = t
				default:
					return nil, &URIError{s, fmt.Sprintf("unknown object type %q", t)}
				}
			case "slot-id":
				u.SlotID = string(val)
			case "library-manufacturer", "library-description", "library-version",
				"slot-description", "slot-manufacturer":
				// Valid attributes that SealDesk does not match on; the module path decides.
			default:
				if !strings.HasPrefix(k, "x-") {
					return nil, &URIError{s, fmt.Sprintf("unknown attribute %q", k)}
				}
			}
		}
	}
	if query != "" {
		for _, attr := range strings.Split(query, "&") {
			k, v, ok := strings.Cut(attr, "=")
			if !ok || k == "" {
				return nil, &URIError{s, fmt.Sprintf("query attribute %q is not name=value", attr)}
			}
			val, err := pctDecode(v)
			if err != nil {
				return nil, &URIError{s, fmt.Sprintf("attribute %q: %v", k, err)}
			}
			switch k {
			case "module-path":
				u.ModulePath = string(val)
			case "module-name":
				u.ModuleName = string(val)
			case "pin-source", "pin-value":
				return nil, &URIError{s, k + " is not supported: PINs never come from URIs (use --pin-file or SEALDESK_PIN)"}
			default:
				if !strings.HasPrefix(k, "x-") {
					return nil, &URIError{s, fmt.Sprintf("unknown query attribute %q", k)}
				}
			}
		}
	}
	return u, nil
}

func pctDecode(v string) ([]byte, error) {
	out := make([]byte, 0, len(v))
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c != '%' {
			out = append(out, c)
			continue
		}
		if i+2 >= len(v) {
			return nil, fmt.Errorf("truncated %%-escape")
		}
		h, l := unhex(v[i+1]), unhex(v[i+2])
		if h < 0 || l < 0 {
			return nil, fmt.Errorf("bad %%-escape %q", v[i:i+3])
		}
		out = append(out, byte(h<<4|l))
		i += 2
	}
	return out, nil
}

func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// pctEncode escapes everything except RFC 3986 unreserved characters and the extra
// characters keep allows (e.g. "/" in module-path, readable in shells and logs).
func pctEncode(b []byte, keep string) string {
	var sb strings.Builder
	for _, c := range b {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~' || (c < 0x80 && strings.IndexByte(keep, c) >= 0) {
			sb.WriteByte(c)
			continue
		}
		fmt.Fprintf(&sb, "%%%02X", c)
	}
	return sb.String()
}

// String formats the URI; attributes in the RFC's order, every byte of id escaped.
func (u *URI) String() string {
	var path []string
	add := func(k, v string) {
		if v != "" {
			path = append(path, k+"="+pctEncode([]byte(v), ""))
		}
	}
	add("token", u.Token)
	add("manufacturer", u.Manufacturer)
	add("serial", u.Serial)
	add("model", u.Model)
	add("slot-id", u.SlotID)
	add("object", u.Object)
	if u.ID != nil {
		var sb strings.Builder
		for _, c := range u.ID {
			fmt.Fprintf(&sb, "%%%02X", c)
		}
		path = append(path, "id="+sb.String())
	}
	add("type", u.Type)
	s := "pkcs11:" + strings.Join(path, ";")
	var q []string
	if u.ModuleName != "" {
		q = append(q, "module-name="+pctEncode([]byte(u.ModuleName), ""))
	}
	if u.ModulePath != "" {
		q = append(q, "module-path="+pctEncode([]byte(u.ModulePath), "/:"))
	}
	if len(q) > 0 {
		s += "?" + strings.Join(q, "&")
	}
	return s
}

// MatchesToken reports whether the URI's token attributes match t.
func (u *URI) MatchesToken(t signer.TokenInfo) bool {
	return (u.Token == "" || u.Token == t.Label) &&
		(u.Manufacturer == "" || u.Manufacturer == t.Manufacturer) &&
		(u.Serial == "" || u.Serial == t.Serial) &&
		(u.Model == "" || u.Model == t.Model)
}

// MatchesObject reports whether the URI's object attributes match a label and CKA_ID.
func (u *URI) MatchesObject(label string, id []byte) bool {
	return (u.Object == "" || u.Object == label) && (u.ID == nil || bytes.Equal(u.ID, id))
}

// MatchesModule reports whether the URI names the module at path (or names none).
func (u *URI) MatchesModule(m Module) bool {
	if u.ModulePath != "" {
		return SamePath(u.ModulePath, m.Path)
	}
	if u.ModuleName != "" {
		return u.ModuleName == m.Name || strings.Contains(strings.ToLower(m.Path), strings.ToLower(u.ModuleName))
	}
	return true
}

// KeyURI builds the URI that names an identity on a token.
func KeyURI(m Module, t signer.TokenInfo, label string, id []byte) string {
	u := &URI{Token: t.Label, Serial: t.Serial, Object: label, ID: id, ModulePath: m.Path}
	return u.String()
}
