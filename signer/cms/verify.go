package cms

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rsa"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"sealdesk/signer/check"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
	"golang.org/x/crypto/cryptobyte"
	casn1 "golang.org/x/crypto/cryptobyte/asn1"

	"sealdesk/signer"
)

// Status is the outcome of one check.
type Status = check.Status

const (
	OK      = check.OK
	Failed  = check.Failed
	Unknown = check.Unknown // could not be decided (unsupported algorithm, missing input, no answer)
)

// Check names, stable for callers and reports.
const (
	CheckSigner          = "signer-certificate" // the SignerInfo's certificate is in SignedData
	CheckContent         = "encapsulated-content"
	CheckContentType     = "content-type"
	CheckMessageDigest   = "message-digest"
	CheckSignature       = "signature"
	CheckSigningCert     = "signing-certificate" // ESS signing-certificate(-v2) binds the signer cert
	CheckSigningTime     = "signing-time"
	CheckTimestamp       = "signature-timestamp"
	CheckPAdES           = "pades-profile"
	CheckTimestampEKU    = "tsa.certificate"
	CheckTimestampFormat = "tst-info"
)

// Check is one verification step.
type Check struct {
	Name    string `json:"name"`
	Status  Status `json:"status"`
	Code    string `json:"code,omitempty"` // stable machine code of a failure, e.g. "cms.digest-mismatch"
	Message string `json:"message,omitempty"`
}

// Result is the verification result of one SignerInfo. It covers the cryptography and the CMS
// profile only; chains, trust anchors, revocation and validity periods are signer/trust's job,
// which starts from Signer and Certificates.
type Result struct {
	SignerIndex int `json:"signerIndex"`
	// Signer is the signer certificate (nil when it is not in the SignedData).
	Signer *smx509.Certificate `json:"-"`
	// Certificates are all certificates of the SignedData (for chain building).
	Certificates []*smx509.Certificate  `json:"-"`
	Digest       signer.DigestAlgorithm `json:"digest"`
	// SignatureAlgorithm: "rsa-pkcs1v15", "rsa-pss", "ecdsa", "sm2" (empty when unknown).
	SignatureAlgorithm string `json:"signatureAlgorithm"`
	// SigningTime is the signing-time attribute (zero when absent): a claim, not a proof.
	SigningTime time.Time `json:"signingTime,omitzero"`
	// Timestamp is the verified signature-time-stamp (nil when absent).
	Timestamp *TimestampInfo `json:"timestamp,omitempty"`
	Checks    []Check        `json:"checks"`
	// OK is true when every check is ok.
	OK bool `json:"ok"`
}

func (r *Result) add(name string, st Status, code, format string, args ...any) {
	r.Checks = append(r.Checks, Check{Name: name, Status: st, Code: code, Message: fmt.Sprintf(format, args...)})
}

// Check returns the named check (nil when it was not made).
func (r *Result) Check(name string) *Check {
	for i := range r.Checks {
		if r.Checks[i].Name == name {
			return &r.Checks[i]
		}
	}
	return nil
}

// Err summarises the first failed or unknown check as an error (nil when OK).
func (r *Result) Err() error {
	if r.OK {
		return nil
	}
	for _, c := range r.Checks {
		if c.Status != OK {
			return fmt.Errorf("cms: %s %s: %s", c.Name, c.Status, c.Message)
		}
	}
	return errors.New("cms: not verified")
}

// VerifyOptions configures Verify.
type VerifyOptions struct {
	// SignerIndex selects the SignerInfo (default 0).
	SignerIndex int
	// Content is the detached content itself, when the caller has it in memory. Needed only
	// for SM2 signatures without signed attributes (the signature covers SM3(Z‖content)).
	Content []byte
	// ExpectContent, when set, must equal the encapsulated content: the SHA-1 digest of the
	// signed ranges for adbe.pkcs7.sha1, SM3(Signature.xml) for GB/T 35275 hash-attached.
	ExpectContent []byte
	// PAdES checks the ETSI.CAdES.detached profile (EN 319 142-1 B-B): one signer, detached,
	// content-type id-data, signing-certificate-v2, no signing-time.
	PAdES bool
	// Certificates supplies certificates the SignedData lacks (e.g. from a PDF's DSS).
	Certificates []*smx509.Certificate
	// SkipTimestamp leaves an embedded signature-time-stamp unchecked.
	SkipTimestamp bool
}

// Verify checks one SignerInfo. contentDigest is the digest of the detached content made
// with DigestAlgorithm(); for attached SignedData pass nil (the encapsulated content is hashed
// here) or the digest of the encapsulated content. It never panics on hostile input; every
// problem is a failed or unknown Check.
func (sd *SignedData) Verify(contentDigest []byte, opts VerifyOptions) *Result {
	r := &Result{SignerIndex: opts.SignerIndex, Certificates: sd.Certificates}
	defer func() {
		r.OK = len(r.Checks) > 0
		for _, c := range r.Checks {
			if c.Status != OK {
				r.OK = false
			}
		}
	}()
	if opts.SignerIndex < 0 || opts.SignerIndex >= len(sd.SignerInfos) {
		r.add(CheckSigner, Failed, "cms.no-signer", "SignedData has %d signer(s), no signer #%d", len(sd.SignerInfos), opts.SignerIndex)
		return r
	}
	si := &sd.SignerInfos[opts.SignerIndex]

	// Signer certificate.
	cert := sd.findSigner(si, opts.Certificates)
	if cert == nil {
		r.add(CheckSigner, Failed, "cms.signer-cert-missing", "the signer certificate (%s) is not in the SignedData", si.describeSID())
	} else {
		r.Signer = cert
		r.add(CheckSigner, OK, "", "%s", cert.Subject.String())
	}

	// Digest algorithm.
	d, err := DigestByOID(si.DigestAlgorithm.Algorithm)
	if err != nil {
		r.add(CheckMessageDigest, Unknown, "cms.digest-unsupported", "%v", err)
	}
	r.Digest = d

	// Encapsulated content.
	if opts.ExpectContent != nil {
		switch {
		case sd.EContent == nil:
			r.add(CheckContent, Failed, "cms.content-missing", "no encapsulated content, but one was expected")
		case !bytes.Equal(sd.EContent, opts.ExpectContent):
			r.add(CheckContent, Failed, "cms.content-mismatch", "encapsulated content %x differs from the expected %x", trunc(sd.EContent), trunc(opts.ExpectContent))
		default:
			r.add(CheckContent, OK, "", "encapsulated content matches (%d bytes)", len(sd.EContent))
		}
	}
	if d != "" && sd.EContent != nil {
		own, _ := Sum(d, sd.EContent)
		switch {
		case contentDigest != nil && !bytes.Equal(own, contentDigest):
			r.add(CheckContent, Failed, "cms.content-mismatch", "digest of the encapsulated content differs from the caller's digest")
		case contentDigest == nil && opts.ExpectContent == nil:
			// A valid signature over content nobody compared with the document proves
			// nothing about the document: fail closed.
			r.add(CheckContent, Unknown, "cms.content-unbound", "attached content (%d bytes) was not compared with anything (pass ExpectContent or its digest)", len(sd.EContent))
		}
		contentDigest = own
	}
	if d != "" && contentDigest == nil && opts.Content != nil {
		contentDigest, _ = Sum(d, opts.Content)
	}
	if d != "" && contentDigest == nil {
		r.add(CheckMessageDigest, Unknown, "cms.no-content", "detached signature and no content digest given")
	}
	content := sd.EContent
	if content == nil {
		content = opts.Content
	}

	// Signed attributes or none.
	var signedMsg []byte // the message whose signature is checked (DER attrs or content)
	var msgDigest []byte // or, for RSA/ECDSA without attributes, its digest
	if si.RawSignedAttrs != nil {
		signedMsg = si.RawSignedAttrs
		sd.checkAttributes(r, si, d, contentDigest, cert, opts)
	} else {
		if opts.PAdES {
			r.add(CheckPAdES, Failed, "cms.pades-no-signed-attrs", "PAdES requires signed attributes")
		}
		signedMsg = content
		msgDigest = contentDigest
	}

	// Signature.
	sd.checkSignature(r, si, d, cert, signedMsg, msgDigest)

	if opts.PAdES {
		sd.checkPAdES(r, si)
	}
	if !opts.SkipTimestamp {
		sd.checkTimestamp(r, si, opts)
	}
	return r
}

func trunc(b []byte) []byte {
	if len(b) > 32 {
		return b[:32]
	}
	return b
}

func (si *SignerInfo) describeSID() string {
	if si.SubjectKeyID != nil {
		return fmt.Sprintf("subject key ID %x", si.SubjectKeyID)
	}
	var name pkixName
	if _, err := asn1.Unmarshal(si.IssuerRaw, &name.seq); err == nil {
		return fmt.Sprintf("issuer %s, serial %x", name.String(), si.Serial)
	}
	return fmt.Sprintf("serial %x", si.Serial)
}

// findSigner locates the SignerInfo's certificate by issuer+serial or subject key ID.
func (sd *SignedData) findSigner(si *SignerInfo, extra []*smx509.Certificate) *smx509.Certificate {
	all := append(append([]*smx509.Certificate{}, sd.Certificates...), extra...)
	for _, c := range all {
		if si.SubjectKeyID != nil {
			if bytes.Equal(c.SubjectKeyId, si.SubjectKeyID) {
				return c
			}
			continue
		}
		if c.SerialNumber.Cmp(si.Serial) == 0 && bytes.Equal(c.RawIssuer, si.IssuerRaw) {
			return c
		}
	}
	// Some producers re-encode the issuer name (string types); compare it by value.
	if si.SubjectKeyID == nil {
		want, err := nameString(si.IssuerRaw)
		if err == nil {
			for _, c := range all {
				if c.SerialNumber.Cmp(si.Serial) == 0 {
					if got, err := nameString(c.RawIssuer); err == nil && got == want {
						return c
					}
				}
			}
		}
	}
	return nil
}

func (sd *SignedData) checkAttributes(r *Result, si *SignerInfo, d signer.DigestAlgorithm, contentDigest []byte, cert *smx509.Certificate, opts VerifyOptions) {
	// Each of these attributes must occur once with one value (RFC 5652 §11).
	for _, oid := range []asn1.ObjectIdentifier{OIDAttrContentType, OIDAttrMessageDigest, OIDAttrSigningTime} {
		n := 0
		for _, a := range si.SignedAttrs {
			if a.Type.Equal(oid) {
				n++
				if len(a.Values) != 1 {
					n = 99
				}
			}
		}
		if n > 1 {
			r.add(CheckSignature, Failed, "cms.attr-repeated", "signed attribute %s occurs more than once or with several values", oid)
		}
	}
	// content-type.
	if v, ok := si.Attr(OIDAttrContentType); !ok {
		r.add(CheckContentType, Failed, "cms.content-type-missing", "signed attributes lack content-type (RFC 5652 §5.3)")
	} else {
		var ct asn1.ObjectIdentifier
		if rest, err := asn1.Unmarshal(v[0], &ct); err != nil || len(rest) > 0 {
			r.add(CheckContentType, Failed, "cms.content-type-malformed", "content-type attribute is not an OBJECT IDENTIFIER")
		} else if ct.Equal(sd.EContentType) {
			r.add(CheckContentType, OK, "", "%s", ct)
		} else if isDataOID(ct) && isDataOID(sd.EContentType) {
			// GB/T 35275 producers (gomain, ofdrw's PKCS#9 container) write the GM data OID in
			// the attribute and id-data in encapContentInfo: both mean "data".
			r.add(CheckContentType, OK, "", "%s (encapContentInfo says %s; both are data)", ct, sd.EContentType)
		} else {
			r.add(CheckContentType, Failed, "cms.content-type-mismatch", "content-type attribute %s differs from encapContentInfo %s", ct, sd.EContentType)
		}
	}
	// message-digest.
	if v, ok := si.Attr(OIDAttrMessageDigest); !ok {
		r.add(CheckMessageDigest, Failed, "cms.message-digest-missing", "signed attributes lack message-digest")
	} else {
		var md []byte
		if rest, err := asn1.Unmarshal(v[0], &md); err != nil || len(rest) > 0 {
			r.add(CheckMessageDigest, Failed, "cms.message-digest-malformed", "message-digest attribute is not an OCTET STRING")
		} else if contentDigest != nil {
			if bytes.Equal(md, contentDigest) {
				r.add(CheckMessageDigest, OK, "", "%s %x", d, md)
			} else {
				r.add(CheckMessageDigest, Failed, "cms.digest-mismatch", "the content's %s digest %x differs from the signed message-digest %x", d, contentDigest, md)
			}
		}
	}
	// signing-time (informational; its plausibility is judged with the certificate by trust).
	if v, ok := si.Attr(OIDAttrSigningTime); ok {
		t, err := parseTime(v[0])
		if err != nil {
			r.add(CheckSigningTime, Failed, "cms.signing-time-malformed", "signing-time: %v", err)
		} else {
			r.SigningTime = t
		}
	}
	// CMSAlgorithmProtection (RFC 6211): when present, it must name the SignerInfo's own
	// algorithms, which are otherwise unsigned and could be swapped.
	if v, ok := si.Attr(OIDAttrAlgorithmProtection); ok {
		checkAlgorithmProtection(r, v[0], si)
	}
	// signing-certificate(-v2).
	if cert != nil {
		if v, ok := si.Attr(OIDAttrSigningCertV2); ok {
			checkESS(r, v[0], cert, true)
		} else if v, ok := si.Attr(OIDAttrSigningCertV1); ok {
			checkESS(r, v[0], cert, false)
		}
	}
}

// checkESS verifies that the first ESSCertID(v2) names the signer certificate, so that it
// cannot be substituted by another certificate for the same key.
func checkESS(r *Result, der []byte, cert *smx509.Certificate, v2 bool) {
	fail := func(code, format string, args ...any) { r.add(CheckSigningCert, Failed, code, format, args...) }
	in := cryptobyte.String(der)
	var sc, certs, id cryptobyte.String
	if !in.ReadASN1(&sc, casn1.SEQUENCE) || !sc.ReadASN1(&certs, casn1.SEQUENCE) || !certs.ReadASN1(&id, casn1.SEQUENCE) {
		fail("cms.signing-cert-malformed", "signing-certificate attribute is malformed")
		return
	}
	d := SHA1
	if v2 {
		d = signer.SHA256
		if id.PeekASN1Tag(casn1.SEQUENCE) {
			a, err := readAlgID(&id, "ESSCertIDv2.hashAlgorithm")
			if err != nil {
				fail("cms.signing-cert-malformed", "%v", err)
				return
			}
			if d, err = DigestByOID(a.Algorithm); err != nil {
				r.add(CheckSigningCert, Unknown, "cms.signing-cert-digest", "%v", err)
				return
			}
		}
	}
	var h cryptobyte.String
	if !id.ReadASN1(&h, casn1.OCTET_STRING) {
		fail("cms.signing-cert-malformed", "ESSCertID certHash is not an OCTET STRING")
		return
	}
	want, _ := Sum(d, cert.Raw)
	if !bytes.Equal(h, want) {
		fail("cms.signing-cert-mismatch", "signing-certificate names a different certificate (%s hash %x, signer's is %x)", d, []byte(h), want)
		return
	}
	if id.PeekASN1Tag(casn1.SEQUENCE) {
		var is, names cryptobyte.String
		serial := new(big.Int)
		if id.ReadASN1(&is, casn1.SEQUENCE) && is.ReadASN1(&names, casn1.SEQUENCE) && readSerial(&is, serial) {
			if serial.Cmp(cert.SerialNumber) != 0 {
				fail("cms.signing-cert-mismatch", "signing-certificate issuerSerial serial %x differs from the signer's %x", serial, cert.SerialNumber)
				return
			}
		}
	}
	v := "v1"
	if v2 {
		v = "v2"
	}
	r.add(CheckSigningCert, OK, "", "signing-certificate-%s matches (%s)", v, d)
}

func (sd *SignedData) checkPAdES(r *Result, si *SignerInfo) {
	var bad []string
	if len(sd.SignerInfos) != 1 {
		bad = append(bad, fmt.Sprintf("%d SignerInfos (PAdES allows one)", len(sd.SignerInfos)))
	}
	if sd.EContent != nil {
		bad = append(bad, "encapsulated content present (must be detached)")
	}
	if r.Signer != nil {
		in := false
		for _, c := range sd.Certificates {
			if c == r.Signer {
				in = true
			}
		}
		if !in {
			bad = append(bad, "the signer certificate is not in SignedData.certificates")
		}
	}
	if !isDataOID(sd.EContentType) {
		bad = append(bad, "encapContentInfo type "+sd.EContentType.String()+" is not data")
	}
	if _, ok := si.Attr(OIDAttrSigningTime); ok {
		bad = append(bad, "signing-time attribute present (the claimed time belongs in /M)")
	}
	_, v2 := si.Attr(OIDAttrSigningCertV2)
	_, v1 := si.Attr(OIDAttrSigningCertV1)
	if !v2 && !(v1 && r.Digest == SHA1) {
		bad = append(bad, "signing-certificate-v2 attribute missing")
	}
	if len(bad) > 0 {
		r.add(CheckPAdES, Failed, "cms.pades-profile", "not ETSI.CAdES.detached B-B: %s", joinStrings(bad))
		return
	}
	if sd.Style() == GM {
		// GM/T 0010 identifiers are outside EN 319 142 (EU validators reject them), but the
		// profile's attribute rules are met; SealDesk's pdf-gm profile relies on that.
		r.add(CheckPAdES, OK, "", "ETSI.CAdES.detached B-B attributes present (GM/T 0010 identifiers)")
		return
	}
	r.add(CheckPAdES, OK, "", "ETSI.CAdES.detached B-B attributes present")
}

func joinStrings(s []string) string {
	var b bytes.Buffer
	for i, x := range s {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(x)
	}
	return b.String()
}

// checkSignature verifies the signature value over msg (or, without signed attributes and for
// RSA/ECDSA, over msgDigest).
func (sd *SignedData) checkSignature(r *Result, si *SignerInfo, d signer.DigestAlgorithm, cert *smx509.Certificate, msg, msgDigest []byte) {
	if cert == nil {
		r.add(CheckSignature, Unknown, "cms.signer-cert-missing", "no signer certificate to check the signature with")
		return
	}
	var err error
	kind, sigDigest := signatureAlgorithm(si.SignatureAlgorithm.Algorithm)
	if sigDigest == "" {
		sigDigest = d
	}
	unknown := func(format string, args ...any) {
		r.add(CheckSignature, Unknown, "cms.sigalg-unsupported", format, args...)
	}
	bad := func(format string, args ...any) {
		r.add(CheckSignature, Failed, "cms.signature-invalid", format, args...)
	}
	hashMsg := func(alg signer.DigestAlgorithm) ([]byte, bool) {
		if msg == nil {
			if msgDigest != nil && alg == d {
				return msgDigest, true
			}
			r.add(CheckSignature, Unknown, "cms.no-content", "the signature covers the content itself, which was not given")
			return nil, false
		}
		h, err := Sum(alg, msg)
		if err != nil {
			unknown("%v", err)
			return nil, false
		}
		return h, true
	}
	switch pub := cert.PublicKey.(type) {
	case *rsa.PublicKey:
		switch kind {
		case sigRSA:
			r.SignatureAlgorithm = "rsa-pkcs1v15"
			if p := si.SignatureAlgorithm.Parameters; p != nil && !bytes.Equal(p, []byte{5, 0}) {
				r.add(CheckSignature, Failed, "cms.sigalg-params", "PKCS#1 v1.5 signature algorithm has parameters %x (only NULL or none are defined)", p)
				return
			}
			h := cryptoHash(sigDigest)
			if h == 0 || !h.Available() {
				unknown("RSA with digest %q is not supported", sigDigest)
				return
			}
			dg, ok := hashMsg(sigDigest)
			if !ok {
				return
			}
			if rsaKeyTooUnusual(pub) {
				err = verifyPKCS1Big(pub, sigDigest, dg, si.Signature)
			} else {
				err = rsa.VerifyPKCS1v15(pub, h, dg, si.Signature)
			}
			if err != nil {
				if why := describePKCS1Mismatch(pub, sigDigest, si.Signature); why != "" {
					bad("RSA PKCS#1 v1.5 (%s) signature does not verify: %s", sigDigest, why)
					return
				}
				bad("RSA PKCS#1 v1.5 (%s) signature does not verify: %v", sigDigest, err)
				return
			}
			r.add(CheckSignature, OK, "", "RSA-%d PKCS#1 v1.5 with %s", pub.N.BitLen(), sigDigest)
		case sigRSAPSS:
			r.SignatureAlgorithm = "rsa-pss"
			pd, salt, err := parsePSSParams(si.SignatureAlgorithm.Parameters)
			if err != nil {
				r.add(CheckSignature, Failed, "cms.pss-params", "RSASSA-PSS parameters: %v", err)
				return
			}
			h := cryptoHash(pd)
			if h == 0 || !h.Available() {
				unknown("RSA-PSS with digest %q is not supported", pd)
				return
			}
			dg, ok := hashMsg(pd)
			if !ok {
				return
			}
			if rsaKeyTooUnusual(pub) {
				err = verifyPSSBig(pub, pd, dg, si.Signature, salt)
			} else {
				err = rsa.VerifyPSS(pub, h, dg, si.Signature, &rsa.PSSOptions{SaltLength: salt, Hash: h})
			}
			if err != nil {
				bad("RSA-PSS (%s, salt %d) signature does not verify: %v", pd, salt, err)
				return
			}
			r.add(CheckSignature, OK, "", "RSA-%d PSS with %s", pub.N.BitLen(), pd)
		default:
			r.add(CheckSignature, Failed, "cms.sigalg-key-mismatch", "signature algorithm %s does not fit the signer's RSA key", si.SignatureAlgorithm.Algorithm)
		}
	case *ecdsa.PublicKey:
		isSM2 := pub.Curve == sm2.P256()
		size := (pub.Curve.Params().BitSize + 7) / 8
		sig, err := normalizeECSignature(si.Signature, size)
		if err != nil {
			bad("signature value is neither DER SEQUENCE{r, s} nor raw r‖s (%d bytes)", len(si.Signature))
			return
		}
		if isSM2 {
			r.SignatureAlgorithm = "sm2"
			if kind != sigSM2 && kind != sigECAny {
				r.add(CheckSignature, Failed, "cms.sigalg-key-mismatch", "signature algorithm %s does not fit the signer's SM2 key", si.SignatureAlgorithm.Algorithm)
				return
			}
			if sigDigest != signer.SM3 {
				unknown("SM2 with digest %q is not supported (only SM3)", sigDigest)
				return
			}
			if msg == nil {
				r.add(CheckSignature, Unknown, "cms.no-content", "SM2 without signed attributes covers SM3(Z‖content); pass the content")
				return
			}
			if !sm2.VerifyASN1WithSM2(pub, signer.SM2DefaultUID, msg, sig) {
				// Some producers sign SM3(msg) without Z (not GM/T 0009): say so, still failed.
				if e, err := Sum(signer.SM3, msg); err == nil && sm2.VerifyASN1(pub, e, sig) {
					bad("SM2 signature is over SM3(message) without Z (the GM/T 0009 user-ID hash); not accepted")
					return
				}
				bad("SM2 signature (SM3, default user ID) does not verify")
				return
			}
			r.add(CheckSignature, OK, "", "SM2 with SM3 (sigAlg %s)", si.SignatureAlgorithm.Algorithm)
			return
		}
		r.SignatureAlgorithm = "ecdsa"
		if kind != sigECDSA && kind != sigECAny {
			r.add(CheckSignature, Failed, "cms.sigalg-key-mismatch", "signature algorithm %s does not fit the signer's ECDSA key", si.SignatureAlgorithm.Algorithm)
			return
		}
		dg, ok := hashMsg(sigDigest)
		if !ok {
			return
		}
		if !ecdsa.VerifyASN1(pub, dg, sig) {
			bad("ECDSA %s (%s) signature does not verify", pub.Curve.Params().Name, sigDigest)
			return
		}
		r.add(CheckSignature, OK, "", "ECDSA %s with %s", pub.Curve.Params().Name, sigDigest)
	default:
		unknown("signer key type %T is not supported", cert.PublicKey)
	}
}

// parsePSSParams reads RSASSA-PSS-params (RFC 4055); absent fields take the SHA-1 defaults.
func parsePSSParams(p []byte) (signer.DigestAlgorithm, int, error) {
	d, salt := SHA1, 20
	if p == nil {
		return d, salt, nil
	}
	in := cryptobyte.String(p)
	var seq cryptobyte.String
	if !in.ReadASN1(&seq, casn1.SEQUENCE) {
		return "", 0, errors.New("not a SEQUENCE")
	}
	if seq.PeekASN1Tag(casn1.Tag(0).Constructed().ContextSpecific()) {
		var x cryptobyte.String
		seq.ReadASN1(&x, casn1.Tag(0).Constructed().ContextSpecific())
		a, err := readAlgID(&x, "hashAlgorithm")
		if err != nil {
			return "", 0, err
		}
		if d, err = DigestByOID(a.Algorithm); err != nil {
			return "", 0, err
		}
	}
	if seq.PeekASN1Tag(casn1.Tag(1).Constructed().ContextSpecific()) {
		var x cryptobyte.String
		seq.ReadASN1(&x, casn1.Tag(1).Constructed().ContextSpecific())
		a, err := readAlgID(&x, "maskGenAlgorithm")
		if err != nil {
			return "", 0, err
		}
		if !a.Algorithm.Equal(oidMGF1) {
			return "", 0, fmt.Errorf("mask generation %s is not MGF1", a.Algorithm)
		}
		ps := cryptobyte.String(a.Parameters)
		mh, err := readAlgID(&ps, "MGF1 hash")
		if err != nil {
			return "", 0, err
		}
		if md, err := DigestByOID(mh.Algorithm); err != nil || md != d {
			return "", 0, fmt.Errorf("MGF1 hash %s differs from the message hash %s", mh.Algorithm, d)
		}
	}
	if seq.PeekASN1Tag(casn1.Tag(2).Constructed().ContextSpecific()) {
		var x cryptobyte.String
		seq.ReadASN1(&x, casn1.Tag(2).Constructed().ContextSpecific())
		if !x.ReadASN1Integer(&salt) || salt < 0 {
			return "", 0, errors.New("malformed saltLength")
		}
	}
	if seq.PeekASN1Tag(casn1.Tag(3).Constructed().ContextSpecific()) {
		var x cryptobyte.String
		var tf int
		seq.ReadASN1(&x, casn1.Tag(3).Constructed().ContextSpecific())
		if !x.ReadASN1Integer(&tf) || tf != 1 {
			return "", 0, errors.New("trailerField is not 1")
		}
	}
	return d, salt, nil
}

// CheckAlgorithmProtection is the check of a CMSAlgorithmProtection attribute (RFC 6211).
const CheckAlgorithmProtection = "algorithm-protection"

func checkAlgorithmProtection(r *Result, der []byte, si *SignerInfo) {
	in := cryptobyte.String(der)
	var seq cryptobyte.String
	if !in.ReadASN1(&seq, casn1.SEQUENCE) {
		r.add(CheckAlgorithmProtection, Failed, "cms.algprot-malformed", "CMSAlgorithmProtection is not a SEQUENCE")
		return
	}
	d, err := readAlgID(&seq, "CMSAlgorithmProtection.digestAlgorithm")
	if err != nil {
		r.add(CheckAlgorithmProtection, Failed, "cms.algprot-malformed", "%v", err)
		return
	}
	var sigSeq cryptobyte.String
	if !seq.ReadASN1(&sigSeq, casn1.Tag(1).Constructed().ContextSpecific()) {
		r.add(CheckAlgorithmProtection, Failed, "cms.algprot-malformed", "CMSAlgorithmProtection lacks [1] signatureAlgorithm")
		return
	}
	var sigOID asn1.ObjectIdentifier
	if !sigSeq.ReadASN1ObjectIdentifier(&sigOID) {
		r.add(CheckAlgorithmProtection, Failed, "cms.algprot-malformed", "malformed [1] signatureAlgorithm")
		return
	}
	if !d.Algorithm.Equal(si.DigestAlgorithm.Algorithm) || !sigOID.Equal(si.SignatureAlgorithm.Algorithm) {
		r.add(CheckAlgorithmProtection, Failed, "cms.algprot-mismatch", "signed algorithms %s/%s differ from the SignerInfo's %s/%s",
			d.Algorithm, sigOID, si.DigestAlgorithm.Algorithm, si.SignatureAlgorithm.Algorithm)
		return
	}
	r.add(CheckAlgorithmProtection, OK, "", "%s with %s", d.Algorithm, sigOID)
}

// ProblemCode is the code a report gives a check that did not pass: its own code, or
// "cms." and the check's name when the check carries none.
func (c Check) ProblemCode() string {
	if c.Code != "" {
		return c.Code
	}
	return "cms." + c.Name
}
