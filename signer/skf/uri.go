package skf

import (
	"fmt"
	"strings"

	"sealdesk/signer"
	"sealdesk/signer/token"
)

// URI names an SKF key: skf:lib=LIBRARY;dev=DEVICE;app=APPLICATION;con=CONTAINER.
// LIBRARY is the library's path or its configured/vendor name; values are percent-encoded
// where they contain ';', '=', '%' or bytes outside printable ASCII (GBK names). Empty fields
// match anything (so skf:lib=NAME;con=SealKey names the container on whichever device is
// plugged in). serial=SERIAL optionally pins the device by DEVINFO.SerialNumber, which is
// steadier than the device name some libraries derive from the USB port.
type URI struct {
	Lib, Dev, App, Con, Serial string
}

// URIError names what is wrong with an skf: URI.
type URIError struct {
	URI    string
	Reason string
}

func (e *URIError) Error() string { return fmt.Sprintf("invalid SKF key URI %q: %s", e.URI, e.Reason) }

// Scheme is the URI scheme of SKF keys.
const Scheme = "skf:"

// IsURI reports whether s starts with skf: (case-insensitive).
func IsURI(s string) bool {
	return len(s) >= len(Scheme) && strings.EqualFold(s[:len(Scheme)], Scheme)
}

// ParseURI parses an skf: URI. PINs never come from URIs: pin attributes are refused.
func ParseURI(s string) (*URI, error) {
	if !IsURI(s) {
		return nil, &URIError{s, "it does not start with skf:"}
	}
	u := &URI{}
	rest := s[len(Scheme):]
	if rest == "" {
		return nil, &URIError{s, "no attributes (write skf:lib=…;dev=…;app=…;con=…)"}
	}
	seen := map[string]bool{}
	for _, attr := range strings.Split(rest, ";") {
		if attr == "" {
			continue
		}
		k, v, ok := strings.Cut(attr, "=")
		if !ok || k == "" {
			return nil, &URIError{s, fmt.Sprintf("attribute %q is not name=value", attr)}
		}
		k = strings.ToLower(k)
		if seen[k] {
			return nil, &URIError{s, fmt.Sprintf("attribute %q appears twice", k)}
		}
		seen[k] = true
		val, err := pctDecode(v)
		if err != nil {
			return nil, &URIError{s, fmt.Sprintf("attribute %q: %v", k, err)}
		}
		switch k {
		case "lib", "library":
			u.Lib = val
		case "dev", "device":
			u.Dev = val
		case "app", "application":
			u.App = val
		case "con", "container":
			u.Con = val
		case "serial":
			u.Serial = val
		case "pin", "pin-value", "pin-source":
			return nil, &URIError{s, "a PIN never goes into a key URI"}
		default:
			return nil, &URIError{s, fmt.Sprintf("unknown attribute %q (known: lib, dev, app, con, serial)", k)}
		}
	}
	return u, nil
}

// String formats the URI with its non-empty attributes in a fixed order.
func (u *URI) String() string {
	var parts []string
	add := func(k, v string) {
		if v != "" {
			parts = append(parts, k+"="+pctEncode(v))
		}
	}
	add("lib", u.Lib)
	add("dev", u.Dev)
	add("serial", u.Serial)
	add("app", u.App)
	add("con", u.Con)
	return Scheme + strings.Join(parts, ";")
}

func match(want, have string) bool { return want == "" || want == have }

// KeyURI is the URI of one container.
func KeyURI(lib, dev, app, con string) string {
	return (&URI{Lib: lib, Dev: dev, App: app, Con: con}).String()
}

func pctEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || c == ';' || c == '=' || c == '%' || c == '?' || c == '#' {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

func pctDecode(s string) (string, error) {
	var b []byte
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b = append(b, s[i])
			continue
		}
		if i+2 >= len(s) {
			return "", fmt.Errorf("truncated %%-escape")
		}
		var v byte
		for _, c := range []byte(s[i+1 : i+3]) {
			v <<= 4
			switch {
			case c >= '0' && c <= '9':
				v |= c - '0'
			case c >= 'a' && c <= 'f':
				v |= c - 'a' + 10
			case c >= 'A' && c <= 'F':
				v |= c - 'A' + 10
			default:
				return "", fmt.Errorf("bad %%-escape %q", s[i:i+3])
			}
		}
		b = append(b, v)
		i += 2
	}
	return string(b), nil
}

// MatchesToken reports whether the URI names the device a watcher reported as t (for SKF
// devices TokenInfo.Module is the library path and Label the device name).
func (u *URI) MatchesToken(t signer.TokenInfo) bool {
	return (u.Lib == "" || u.Lib == t.Module || token.SamePath(u.Lib, t.Module)) &&
		(u.Dev == "" || Display(u.Dev) == t.Label) && match(u.Serial, t.Serial)
}
