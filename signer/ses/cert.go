package ses

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"math/big"

	"github.com/emmansun/gmsm/smx509"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// parseCert parses a certificate found in a seal or signature. Real seal certificates are not
// always RFC 5280-conforming (measured: a Yunnan signer certificate with a non-ASCII byte in an
// IA5String name attribute, a dms360 certificate with a malformed subjectAltName) and Go's
// parser rejects them. Verification only needs the public key, validity and names, so when the
// strict parse fails the certificate is read leniently and strictErr says why it was needed.
func parseCert(der []byte) (c *smx509.Certificate, strictErr error, err error) {
	c, strictErr = smx509.ParseCertificate(der)
	if strictErr == nil {
		return c, nil, nil
	}
	c, err = parseCertLenient(der)
	if err != nil {
		return nil, strictErr, fmt.Errorf("%v (lenient reading: %v)", strictErr, err)
	}
	return c, strictErr, nil
}

func parseCertLenient(der []byte) (*smx509.Certificate, error) {
	e, err := splitOne(der, "Certificate")
	if err != nil {
		return nil, err
	}
	top, err := sequence(e, "Certificate")
	if err != nil {
		return nil, err
	}
	if len(top) != 3 {
		return nil, fmt.Errorf("Certificate has %d elements, want 3", len(top))
	}
	tbs, err := sequence(top[0], "tbsCertificate")
	if err != nil {
		return nil, err
	}
	i := 0
	if len(tbs) > 0 && tbs[0].tag == cbasn1.Tag(0).ContextSpecific().Constructed() {
		i = 1 // explicit version
	}
	if len(tbs) < i+6 {
		return nil, fmt.Errorf("tbsCertificate has %d elements", len(tbs))
	}
	c := &smx509.Certificate{Raw: der, RawTBSCertificate: top[0].raw}
	serial := new(big.Int)
	if tbs[i].tag == cbasn1.INTEGER {
		serial.SetBytes(tbs[i].body)
	}
	c.SerialNumber = serial
	c.RawIssuer = tbs[i+2].raw
	c.Issuer = lenientName(tbs[i+2])
	val, err := sequence(tbs[i+3], "validity")
	if err != nil || len(val) != 2 {
		return nil, fmt.Errorf("malformed validity")
	}
	if c.NotBefore, err = timeValue(val[0], "validity.notBefore"); err != nil {
		return nil, err
	}
	if c.NotAfter, err = timeValue(val[1], "validity.notAfter"); err != nil {
		return nil, err
	}
	c.RawSubject = tbs[i+4].raw
	c.Subject = lenientName(tbs[i+4])
	c.RawSubjectPublicKeyInfo = tbs[i+5].raw
	if c.PublicKey, err = smx509.ParsePKIXPublicKey(tbs[i+5].raw); err != nil {
		return nil, fmt.Errorf("subjectPublicKeyInfo: %v", err)
	}
	return c, nil
}

// lenientName reads the common attributes of a Name as raw strings, whatever their string type.
func lenientName(e elem) pkix.Name {
	var n pkix.Name
	rdns, err := sequence(e, "name")
	if err != nil {
		return n
	}
	for _, rdn := range rdns {
		atvs, err := children(rdn, "rdn")
		if err != nil {
			continue
		}
		for _, atv := range atvs {
			f, err := sequence(atv, "atv")
			if err != nil || len(f) != 2 {
				continue
			}
			var o asn1.ObjectIdentifier
			if o, err = oid(f[0], "type"); err != nil {
				continue
			}
			v := printableUTF8(f[1].body)
			switch o.String() {
			case "2.5.4.3":
				n.CommonName = v
			case "2.5.4.10":
				n.Organization = append(n.Organization, v)
			case "2.5.4.11":
				n.OrganizationalUnit = append(n.OrganizationalUnit, v)
			case "2.5.4.6":
				n.Country = append(n.Country, v)
			case "2.5.4.8":
				n.Province = append(n.Province, v)
			case "2.5.4.7":
				n.Locality = append(n.Locality, v)
			}
		}
	}
	return n
}

func printableUTF8(b []byte) string {
	return string([]rune(string(b)))
}

// ParseCertificate parses a certificate as the verifier does: strictly when possible, else
// leniently (public key, validity and names only) with nonConforming saying what the strict
// parser rejected. Tools that show seals use it so that real, sloppy certificates still show.
func ParseCertificate(der []byte) (c *smx509.Certificate, nonConforming error, err error) {
	return parseCert(der)
}
