package cms

import (
	"bytes"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/emmansun/gmsm/smx509"
	"golang.org/x/crypto/cryptobyte"
	casn1 "golang.org/x/crypto/cryptobyte/asn1"

	"sealdesk/signer"
)

// ParseError names the part of a SignedData that is malformed.
type ParseError struct {
	Field string // e.g. "SignedData.signerInfos[0].signedAttrs"
	Err   error
}

func (e *ParseError) Error() string { return "cms: malformed " + e.Field + ": " + e.Err.Error() }
func (e *ParseError) Unwrap() error { return e.Err }

func perr(field string, format string, args ...any) error {
	return &ParseError{Field: field, Err: fmt.Errorf(format, args...)}
}

// AlgorithmIdentifier is an algorithm OID with its DER parameters (nil when absent).
type AlgorithmIdentifier struct {
	Algorithm  asn1.ObjectIdentifier
	Parameters []byte
}

// Attribute is a CMS attribute: its type and the DER of each value.
type Attribute struct {
	Type   asn1.ObjectIdentifier
	Values [][]byte
}

// SignerInfo is one signer of a SignedData.
type SignerInfo struct {
	Version int
	// IssuerRaw and Serial identify the certificate (issuerAndSerialNumber); SubjectKeyID is
	// set instead for the [0] subjectKeyIdentifier form.
	IssuerRaw    []byte
	Serial       *big.Int
	SubjectKeyID []byte

	DigestAlgorithm AlgorithmIdentifier
	SignedAttrs     []Attribute
	// RawSignedAttrs is the DER SET OF the signed attributes (tag 0x31): the bytes the
	// signature covers. Nil when the SignerInfo has no signed attributes.
	RawSignedAttrs     []byte
	SignatureAlgorithm AlgorithmIdentifier
	Signature          []byte
	UnsignedAttrs      []Attribute
}

// Attr returns the values of the first signed attribute of type oid.
func (si *SignerInfo) Attr(oid asn1.ObjectIdentifier) ([][]byte, bool) {
	return findAttr(si.SignedAttrs, oid)
}

// UnsignedAttr returns the values of the first unsigned attribute of type oid.
func (si *SignerInfo) UnsignedAttr(oid asn1.ObjectIdentifier) ([][]byte, bool) {
	return findAttr(si.UnsignedAttrs, oid)
}

func findAttr(as []Attribute, oid asn1.ObjectIdentifier) ([][]byte, bool) {
	for _, a := range as {
		if a.Type.Equal(oid) {
			return a.Values, true
		}
	}
	return nil, false
}

// SignedData is a parsed ContentInfo holding SignedData (standard or GM/T 0010 identifiers).
type SignedData struct {
	// Raw is the ContentInfo as DER (BER input converted; padding removed).
	Raw []byte
	// BER reports that the input was not DER and was converted.
	BER bool
	// ContentType is the outer type: OIDSignedData or OIDGMSignedData.
	ContentType      asn1.ObjectIdentifier
	Version          int
	DigestAlgorithms []AlgorithmIdentifier
	// EContentType is the encapsulated content type (id-data, GM data, id-ct-TSTInfo, ...).
	EContentType asn1.ObjectIdentifier
	// EContent is the encapsulated content; nil for a detached signature.
	EContent []byte
	// Certificates holds the parsed certificates; CertificateErrors the ones that failed to
	// parse (they do not fail Parse: a signer certificate that cannot be read fails Verify).
	Certificates      []*smx509.Certificate
	CertificateErrors []error
	// CRLs holds the DER of each revocation-info entry (for signer/trust).
	CRLs        [][]byte
	SignerInfos []SignerInfo
}

// Style reports which identifier style the SignedData uses.
func (sd *SignedData) Style() Style {
	if sd.ContentType.Equal(OIDGMSignedData) {
		return GM
	}
	return Standard
}

// Content returns the encapsulated content: nil for detached signatures; the SHA-1 digest of
// the signed ranges for adbe.pkcs7.sha1; the SM3 hash of Signature.xml for GB/T 35275
// hash-attached OFD signatures; the DER TSTInfo of a time-stamp token.
func (sd *SignedData) Content() []byte { return sd.EContent }

// DigestAlgorithm returns the digest the (first) signer used over the content: what a caller
// must hash detached content with. Hash with NewHash (it also covers SHA-1/SHA-3).
func (sd *SignedData) DigestAlgorithm() (signer.DigestAlgorithm, error) {
	if len(sd.SignerInfos) == 0 {
		return "", errors.New("cms: SignedData has no signer")
	}
	return DigestByOID(sd.SignerInfos[0].DigestAlgorithm.Algorithm)
}

// maxInput bounds what Parse accepts; real CMS with embedded revocation data stays far below.
const maxInput = 16 << 20

// Parse reads a ContentInfo holding SignedData. It accepts BER (converted to DER, see
// SignedData.BER) and trailing zero bytes (the padding of a PDF /Contents placeholder); any
// other trailing byte is an error, so nothing can hide behind the signature.
func Parse(der []byte) (*SignedData, error) {
	if len(der) > maxInput {
		return nil, perr("ContentInfo", "%d bytes is more than the %d accepted", len(der), maxInput)
	}
	if len(der) == 0 {
		return nil, perr("ContentInfo", "empty input")
	}
	n, err := berElementLen(der)
	if err != nil {
		return nil, &ParseError{Field: "ContentInfo", Err: err}
	}
	for i, c := range der[n:] {
		if c != 0 {
			return nil, perr("ContentInfo", "non-zero byte 0x%02x at offset %d after the %d-byte structure", c, n+i, n)
		}
	}
	raw := der[:n]
	sd := &SignedData{}
	conv, _, err := toDER(raw)
	if err != nil {
		return nil, &ParseError{Field: "ContentInfo", Err: err}
	}
	sd.BER = !bytes.Equal(conv, raw)
	sd.Raw = conv
	if err := sd.parse(conv); err != nil {
		return nil, err
	}
	return sd, nil
}

func (sd *SignedData) parse(der []byte) error {
	in := cryptobyte.String(der)
	var ci, content, s cryptobyte.String
	if !in.ReadASN1(&ci, casn1.SEQUENCE) {
		return perr("ContentInfo", "not a SEQUENCE")
	}
	if !ci.ReadASN1ObjectIdentifier(&sd.ContentType) {
		return perr("ContentInfo.contentType", "not an OBJECT IDENTIFIER")
	}
	if !sd.ContentType.Equal(OIDSignedData) && !sd.ContentType.Equal(OIDGMSignedData) {
		return perr("ContentInfo.contentType", "%s is not signedData", sd.ContentType)
	}
	if !ci.ReadASN1(&content, casn1.Tag(0).Constructed().ContextSpecific()) || !ci.Empty() {
		return perr("ContentInfo.content", "missing [0] content")
	}
	if !content.ReadASN1(&s, casn1.SEQUENCE) || !content.Empty() {
		return perr("SignedData", "not a SEQUENCE")
	}
	if !s.ReadASN1Integer(&sd.Version) {
		return perr("SignedData.version", "not a small INTEGER")
	}
	var algs cryptobyte.String
	if !s.ReadASN1(&algs, casn1.SET) {
		return perr("SignedData.digestAlgorithms", "not a SET")
	}
	for !algs.Empty() {
		a, err := readAlgID(&algs, "SignedData.digestAlgorithms")
		if err != nil {
			return err
		}
		sd.DigestAlgorithms = append(sd.DigestAlgorithms, a)
	}
	var eci cryptobyte.String
	if !s.ReadASN1(&eci, casn1.SEQUENCE) || !eci.ReadASN1ObjectIdentifier(&sd.EContentType) {
		return perr("SignedData.encapContentInfo", "not a SEQUENCE with a content type")
	}
	if eci.PeekASN1Tag(casn1.Tag(0).Constructed().ContextSpecific()) {
		var ex, oct cryptobyte.String
		eci.ReadASN1(&ex, casn1.Tag(0).Constructed().ContextSpecific())
		if !ex.ReadASN1(&oct, casn1.OCTET_STRING) || !ex.Empty() {
			return perr("SignedData.encapContentInfo.eContent", "not an OCTET STRING")
		}
		sd.EContent = append([]byte{}, oct...)
	}
	if !eci.Empty() {
		return perr("SignedData.encapContentInfo", "trailing data")
	}
	if s.PeekASN1Tag(casn1.Tag(0).Constructed().ContextSpecific()) {
		var certs cryptobyte.String
		s.ReadASN1(&certs, casn1.Tag(0).Constructed().ContextSpecific())
		for i := 0; !certs.Empty(); i++ {
			var el cryptobyte.String
			var tag casn1.Tag
			if !certs.ReadAnyASN1Element(&el, &tag) {
				return perr(fmt.Sprintf("SignedData.certificates[%d]", i), "not an ASN.1 element")
			}
			if tag != casn1.SEQUENCE { // attribute/other certificate choices: not X.509
				continue
			}
			c, err := parseCertificate(el)
			if err != nil {
				sd.CertificateErrors = append(sd.CertificateErrors, fmt.Errorf("certificates[%d]: %w", i, err))
				continue
			}
			sd.Certificates = append(sd.Certificates, c)
		}
	}
	if s.PeekASN1Tag(casn1.Tag(1).Constructed().ContextSpecific()) {
		var crls cryptobyte.String
		s.ReadASN1(&crls, casn1.Tag(1).Constructed().ContextSpecific())
		for !crls.Empty() {
			var el cryptobyte.String
			var tag casn1.Tag
			if !crls.ReadAnyASN1Element(&el, &tag) {
				return perr("SignedData.crls", "not an ASN.1 element")
			}
			sd.CRLs = append(sd.CRLs, append([]byte{}, el...))
		}
	}
	var sis cryptobyte.String
	if !s.ReadASN1(&sis, casn1.SET) {
		return perr("SignedData.signerInfos", "not a SET")
	}
	if !s.Empty() {
		return perr("SignedData", "trailing data after signerInfos")
	}
	for i := 0; !sis.Empty(); i++ {
		si, err := parseSignerInfo(&sis, fmt.Sprintf("SignedData.signerInfos[%d]", i))
		if err != nil {
			return err
		}
		sd.SignerInfos = append(sd.SignerInfos, *si)
	}
	return nil
}

func readAlgID(s *cryptobyte.String, field string) (AlgorithmIdentifier, error) {
	var a AlgorithmIdentifier
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, casn1.SEQUENCE) || !seq.ReadASN1ObjectIdentifier(&a.Algorithm) {
		return a, perr(field, "not an AlgorithmIdentifier")
	}
	if !seq.Empty() {
		a.Parameters = append([]byte{}, seq...)
	}
	return a, nil
}

func parseSignerInfo(s *cryptobyte.String, field string) (*SignerInfo, error) {
	si := &SignerInfo{}
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, casn1.SEQUENCE) {
		return nil, perr(field, "not a SEQUENCE")
	}
	if !seq.ReadASN1Integer(&si.Version) {
		return nil, perr(field+".version", "not a small INTEGER")
	}
	switch {
	case seq.PeekASN1Tag(casn1.SEQUENCE):
		var ias, name cryptobyte.String
		seq.ReadASN1(&ias, casn1.SEQUENCE)
		si.Serial = new(big.Int)
		if !ias.ReadASN1Element(&name, casn1.SEQUENCE) || !readSerial(&ias, si.Serial) || !ias.Empty() {
			return nil, perr(field+".sid", "malformed issuerAndSerialNumber")
		}
		si.IssuerRaw = append([]byte{}, name...)
	case seq.PeekASN1Tag(casn1.Tag(0).ContextSpecific()):
		var ski cryptobyte.String
		seq.ReadASN1(&ski, casn1.Tag(0).ContextSpecific())
		si.SubjectKeyID = append([]byte{}, ski...)
	default:
		return nil, perr(field+".sid", "neither issuerAndSerialNumber nor subjectKeyIdentifier")
	}
	var err error
	if si.DigestAlgorithm, err = readAlgID(&seq, field+".digestAlgorithm"); err != nil {
		return nil, err
	}
	if seq.PeekASN1Tag(casn1.Tag(0).Constructed().ContextSpecific()) {
		var attrs cryptobyte.String
		seq.ReadASN1(&attrs, casn1.Tag(0).Constructed().ContextSpecific())
		si.RawSignedAttrs = encodeTLV([]byte{0x31}, attrs)
		if si.SignedAttrs, err = parseAttributes(attrs, field+".signedAttrs"); err != nil {
			return nil, err
		}
	}
	if si.SignatureAlgorithm, err = readAlgID(&seq, field+".signatureAlgorithm"); err != nil {
		return nil, err
	}
	var sig cryptobyte.String
	if !seq.ReadASN1(&sig, casn1.OCTET_STRING) {
		return nil, perr(field+".signature", "not an OCTET STRING")
	}
	si.Signature = append([]byte{}, sig...)
	if seq.PeekASN1Tag(casn1.Tag(1).Constructed().ContextSpecific()) {
		var attrs cryptobyte.String
		seq.ReadASN1(&attrs, casn1.Tag(1).Constructed().ContextSpecific())
		if si.UnsignedAttrs, err = parseAttributes(attrs, field+".unsignedAttrs"); err != nil {
			return nil, err
		}
	}
	if !seq.Empty() {
		return nil, perr(field, "trailing data")
	}
	return si, nil
}

// readSerial reads an INTEGER leniently: real certificates carry negative or non-minimal
// serial numbers, which cryptobyte's strict reader rejects.
func readSerial(s *cryptobyte.String, out *big.Int) bool {
	var v cryptobyte.String
	if !s.ReadASN1(&v, casn1.INTEGER) || len(v) == 0 {
		return false
	}
	out.Set(twosComplement(v))
	return true
}

// twosComplement reads a big-endian two's complement integer.
func twosComplement(v []byte) *big.Int {
	out := new(big.Int).SetBytes(v)
	if len(v) > 0 && v[0]&0x80 != 0 {
		out.Sub(out, new(big.Int).Lsh(big.NewInt(1), uint(len(v))*8))
	}
	return out
}

func parseAttributes(s cryptobyte.String, field string) ([]Attribute, error) {
	var out []Attribute
	for i := 0; !s.Empty(); i++ {
		var a Attribute
		var seq, vals cryptobyte.String
		f := fmt.Sprintf("%s[%d]", field, i)
		if !s.ReadASN1(&seq, casn1.SEQUENCE) || !seq.ReadASN1ObjectIdentifier(&a.Type) || !seq.ReadASN1(&vals, casn1.SET) || !seq.Empty() {
			return nil, perr(f, "not an Attribute {type, SET OF values}")
		}
		for !vals.Empty() {
			var v cryptobyte.String
			var tag casn1.Tag
			if !vals.ReadAnyASN1Element(&v, &tag) {
				return nil, perr(f+" ("+a.Type.String()+")", "malformed value")
			}
			a.Values = append(a.Values, append([]byte{}, v...))
		}
		out = append(out, a)
	}
	return out, nil
}

// parseCertificate is smx509.ParseCertificate, but also reads certificates with a negative
// serial number, which Go refuses since 1.23 while real PKIs issued them (one signs a DSS
// sample in the corpus). Such a certificate is parsed from a copy whose serial is made
// positive, then every raw field and the serial are taken back from the original bytes, so
// signature checks over RawTBSCertificate stay exact.
func parseCertificate(der []byte) (*smx509.Certificate, error) {
	c, err := smx509.ParseCertificate(der)
	if err == nil || !strings.Contains(err.Error(), "negative serial") {
		return c, err
	}
	// Certificate SEQUENCE → tbsCertificate SEQUENCE → [0] version → serial INTEGER.
	in := cryptobyte.String(der)
	var cert, tbs cryptobyte.String
	if !in.ReadASN1(&cert, casn1.SEQUENCE) || !in.Empty() || !cert.ReadASN1(&tbs, casn1.SEQUENCE) {
		return nil, err
	}
	tbsStart := len(der) - len(cert) - len(tbs) // tbs content start
	tbsLen := len(tbs)
	if tbs.PeekASN1Tag(casn1.Tag(0).Constructed().ContextSpecific()) {
		tbs.SkipASN1(casn1.Tag(0).Constructed().ContextSpecific())
	}
	var serial cryptobyte.String
	if !tbs.ReadASN1(&serial, casn1.INTEGER) || len(serial) == 0 || serial[0]&0x80 == 0 {
		return nil, err
	}
	off := tbsStart + (tbsLen - len(tbs)) - len(serial) // the serial's first content byte
	patched := bytes.Clone(der)
	patched[off] = patched[off]&0x7f | 0x40 // positive, still minimally encoded
	c, err2 := smx509.ParseCertificate(patched)
	if err2 != nil {
		return nil, err
	}
	neg := twosComplement(serial)
	rebase := func(b []byte) []byte {
		if len(b) == 0 {
			return b
		}
		i := bytes.Index(patched, b)
		if i < 0 {
			return b
		}
		return der[i : i+len(b)]
	}
	c.Raw = der
	c.RawTBSCertificate = rebase(c.RawTBSCertificate)
	c.RawSubjectPublicKeyInfo = rebase(c.RawSubjectPublicKeyInfo)
	c.RawSubject = rebase(c.RawSubject)
	c.RawIssuer = rebase(c.RawIssuer)
	c.SerialNumber = neg
	return c, nil
}
