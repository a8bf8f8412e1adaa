package pdf

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/emmansun/gmsm/smx509"

	"sealdesk/document"
	"sealdesk/signer"
	"sealdesk/signer/cms"
	"sealdesk/signer/ses"
	"sealdesk/signer/trust"
	"sealdesk/signer/tsa"
)

// Problem codes of the PDF verifier (stable: scripts match on them; docs/CLI.md and
// document.Codes list every code with its fact and verdict).
const (
	CodeXrefBroken            = "pdf.xref-broken"
	CodeByteRangeMissing      = "pdf.byterange-missing"
	CodeByteRangeInvalid      = "pdf.byterange-invalid"
	CodeByteRangeNotRevision  = "pdf.byterange-not-revision-end"
	CodeContentsMissing       = "pdf.contents-missing"
	CodeContentsGap           = "pdf.contents-gap-mismatch"
	CodeContentsUnparsable    = "pdf.contents-unparsable"
	CodeSigDictMissing        = "pdf.sigdict-not-in-signed-revision"
	CodeSigDictRedefined      = "pdf.sigdict-redefined"
	CodeSignedRevisionRepair  = "pdf.signed-revision-xref-repaired"
	CodeDigestMismatch        = "pdf.digest-mismatch"
	CodeSignatureInvalid      = "pdf.signature-invalid"
	CodeUnsupported           = "pdf.signature-format-unsupported"
	CodeSignerCertMissing     = "pdf.signer-cert-missing"
	CodeSignerCertUnparsable  = "pdf.signer-cert-unparsable"
	CodeTrustUnknown          = trust.CodeNoRoots
	CodeAnchorsUnusable       = trust.CodeAnchorsUnusable
	CodeNotWholeDocument      = "pdf.not-whole-document"
	CodeTrailingBytes         = "pdf.trailing-bytes"
	CodeCertificationNotFirst = "pdf.certification-not-first"
)

// Verify verifies every signature of the PDF in (size bytes): for each signature its
// /ByteRange against the file's revisions and its own /Contents, the digest over the ranges,
// the CMS or SES container, the signer's chain, a time-stamp, and what later revisions changed
// (see changes.go). It reads the file through the lazy reader and hashes by streaming.
func Verify(ctx context.Context, in io.ReaderAt, size int64, opts *document.VerifyOptions) (*document.VerifyReport, error) {
	return verify(ctx, in, size, opts, nil)
}

// verifyHooks let Extend learn, per signature (begin: its VRI key), every certificate
// whose status verification checks (capture).
type verifyHooks struct {
	begin   func(key string)
	capture func(leaf *smx509.Certificate, certs []*smx509.Certificate)
}

func verify(ctx context.Context, in io.ReaderAt, size int64, opts *document.VerifyOptions, hooks *verifyHooks) (*document.VerifyReport, error) {
	if opts == nil {
		opts = &document.VerifyOptions{}
	}
	rd, err := NewReader(in, size)
	if err != nil {
		return nil, fmt.Errorf("cannot read the PDF: %w", err)
	}
	rep := &document.VerifyReport{Format: document.PDF}
	if rd.Repaired {
		rep.Problems = append(rep.Problems, document.Problem{Code: CodeXrefBroken,
			Message: fmt.Sprintf("the cross-reference data is broken (%v); the document was read by scanning its objects", rd.RepairErr)})
	}
	if rd.Final.Trailer["Encrypt"] != nil {
		return nil, ErrEncrypted
	}
	tc := newTrustChecker(ctx, opts, dssCertificates(rd.Final))
	tc.ltv = readDSS(rd.Final)
	if hooks != nil {
		tc.capture, tc.begin = hooks.capture, hooks.begin
	}
	fields := SignatureFields(rd.Final)
	var sigs []*sigInfo
	for _, f := range fields {
		if f.Value == nil {
			continue
		}
		sigs = append(sigs, &sigInfo{field: f})
	}
	// Document time-stamps first: they prove that the signatures before them existed
	// (long-term validation, ltv.go).
	reports := make([]*document.SignatureReport, len(sigs))
	for pass := 0; pass < 2; pass++ {
		for i, s := range sigs {
			isTS := false
			if d := rd.Final.Dict(s.field.Value); d != nil {
				isTS = NameOf(rd.Final.Resolve(d["SubFilter"])) == SubFilterRFC3161
			}
			if isTS != (pass == 0) {
				continue
			}
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			sr := verifyOne(ctx, rd, s, tc, opts)
			if isTS && sr.Integrity == document.OK && s.signed != nil {
				if t, err := time.Parse(time.RFC3339, sr.SignedAt); err == nil {
					tc.dts = append(tc.dts, docTimestamp{revEnd: s.revEnd, at: t, signed: s.signed})
				}
			}
			reports[i] = sr
		}
	}
	var last *sigInfo
	for i, s := range sigs {
		sr := reports[i]
		sr.Index = i
		rep.Signatures = append(rep.Signatures, *sr)
		if sr.Integrity == document.OK && (last == nil || s.revEnd > last.revEnd) {
			last = s
		}
	}
	// What no signature protects.
	if len(sigs) > 0 {
		rep.Uncovered = uncovered(rd, last)
	}
	checkCertificationOrder(rd, sigs, rep)
	// Where the changes after each signature show on the pages (regions.go).
	locateChanges(ctx, rd, sigs, rep)
	return rep, nil
}

// sigInfo is what verification learns about one signature.
type sigInfo struct {
	field    SigField
	ref      Ref
	revEnd   int64
	revIndex int
	signed   *View
	dict     Dict // the signature dictionary as of the signed revision
	changes  *changeReport
}

func verifyOne(ctx context.Context, rd *Reader, s *sigInfo, tc *trustChecker, opts *document.VerifyOptions) *document.SignatureReport {
	sr := &document.SignatureReport{Name: s.field.Name, Profile: "unknown", Integrity: document.Failed,
		ChangesAfter: document.None, Trust: document.Unknown, Revocation: document.Unknown}
	final := rd.Final
	fdict := final.Dict(s.field.Value)
	s.ref, _ = s.field.Value.(Ref)
	sr.Pages, sr.Rects = widgetPlacement(final, s.field)
	if fdict == nil {
		sr.AddProblem(CodeContentsMissing, "field %q: /V is not a signature dictionary", s.field.Name)
		return sr
	}
	sf := string(NameOf(final.Resolve(fdict["SubFilter"])))
	br, ok := byteRange(final, fdict["ByteRange"])
	if !ok {
		sr.AddProblem(CodeByteRangeMissing, "signature %q has no valid /ByteRange (4 non-negative integers)", s.field.Name)
		return sr
	}
	a, b, c := br[1], br[2], br[3]
	sr.Covered = []string{fmt.Sprintf("bytes 0-%d", a), fmt.Sprintf("bytes %d-%d", b, b+c)}
	if br[0] != 0 || a <= 0 || b <= a || c < 0 || b+c > rd.size || b+c < b {
		sr.AddProblem(CodeByteRangeInvalid, "/ByteRange [%d %d %d %d] does not start at 0 with two ordered ranges inside the %d-byte file", br[0], a, b, c, rd.size)
		return sr
	}
	rev, idx, ok := rd.RevisionEndingAt(b + c)
	if !ok {
		sr.AddProblem(CodeByteRangeNotRevision, "/ByteRange ends at byte %d, which is not the end of a revision (%%%%EOF)", b+c)
		return sr
	}
	s.revEnd, s.revIndex = b+c, idx
	sr.CoversWholeDocument = b+c == rd.size || rev.End == rd.size
	if !sr.CoversWholeDocument {
		sr.AddProblem(CodeNotWholeDocument, "the signature covers revision %d of %d (bytes up to %d of %d)", idx+1, len(rd.Revisions()), b+c, rd.size)
	}
	sv, err := rd.ViewAt(rev.StartXref)
	if err == nil {
		err = sv.probe()
	}
	if err != nil {
		sv, err = rd.RepairedView(rev.End)
		if err != nil {
			sr.AddProblem(CodeSigDictMissing, "the signed revision cannot be read: %v", err)
			return sr
		}
		sr.AddProblem(CodeSignedRevisionRepair, "the signed revision's cross-reference data is broken; it was read by scanning objects")
	}
	s.signed = sv
	var sdict Dict
	if s.ref.Num > 0 {
		sdict = sv.Dict(s.ref)
	} else if d, ok := s.field.Value.(Dict); ok {
		sdict = d
	}
	if sdict == nil {
		sr.AddProblem(CodeSigDictMissing, "the signature dictionary %v is not part of the revision it claims to sign", s.ref)
		return sr
	}
	s.dict = sdict
	// The gap must be exactly this dictionary's /Contents string, as our parser located it in
	// the signed revision (not a regex match anywhere).
	cs, ok := sdict["Contents"].(String)
	if !ok || len(cs.B) == 0 {
		sr.AddProblem(CodeContentsMissing, "the signature dictionary has no /Contents string")
		return sr
	}
	if cs.Off != a || cs.End != b {
		sr.AddProblem(CodeContentsGap, "the /ByteRange gap [%d, %d) is not this signature's /Contents (bytes %d-%d)", a, b, cs.Off, cs.End)
		return sr
	}
	if sbr, ok := byteRange(sv, sdict["ByteRange"]); !ok || sbr != br {
		sr.AddProblem(CodeSigDictRedefined, "the /ByteRange shown today differs from the one in the signed revision")
		return sr
	}
	if !Equal(sdict, fdict) {
		sr.AddProblem(CodeSigDictRedefined, "a later revision redefines the signature dictionary (values shown by viewers are not the signed ones)")
		sr.ChangesAfter = document.Disallowed
	}
	sf = string(NameOf(sv.Resolve(sdict["SubFilter"])))
	if m, ok := sdict["M"].(String); ok {
		if t, ok := parsePDFDate(string(m.B)); ok {
			sr.SignedAt = t.UTC().Format(time.RFC3339)
			sr.TimeSource = "claimed"
		}
	}
	der := trimDER(cs.B)
	ranges := [][2]int64{{0, a}, {b, b + c}}
	st := tc.beginSignature(vriKey(cs.B), s.revEnd)
	checkContainer(ctx, rd, sv, sdict, sf, der, ranges, sr, tc, opts)
	tc.cur = nil
	ltvReport(s, sr, st, tc.ltv, tc.dts)
	// Changes after signing.
	classifyInto(rd, s, sr)
	return sr
}

func byteRange(v *View, o Object) ([4]int64, bool) {
	a := v.Array(o)
	var br [4]int64
	if len(a) != 4 {
		return br, false
	}
	for i := range br {
		n, ok := IntOf(v.Resolve(a[i]))
		if !ok || n < 0 {
			return br, false
		}
		br[i] = n
	}
	return br, true
}

// trimDER returns the DER element at the start of b, dropping the zero padding of the
// placeholder (strict DER parsers reject trailing bytes).
func trimDER(b []byte) []byte {
	var raw asn1.RawValue
	rest, err := asn1.Unmarshal(b, &raw)
	if err != nil {
		// BER indefinite lengths: leave trimming to the container parser (it accepts zero padding).
		return b
	}
	return b[:len(b)-len(rest)]
}

// hashRanges streams the byte ranges through the digest.
func hashRanges(rd *Reader, alg signer.DigestAlgorithm, ranges [][2]int64) ([]byte, error) {
	h, err := newHash(alg)
	if err != nil {
		return nil, err
	}
	if err := copyRanges(rd, h, ranges); err != nil {
		return nil, err
	}
	return h.Sum(nil), nil
}

func copyRanges(rd *Reader, w io.Writer, ranges [][2]int64) error {
	buf := make([]byte, 256<<10)
	for _, r := range ranges {
		if _, err := io.CopyBuffer(w, io.NewSectionReader(rd.r, r[0], r[1]-r[0]), buf); err != nil {
			return err
		}
	}
	return nil
}

var (
	oidSignedData   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidGMSignedData = asn1.ObjectIdentifier{1, 2, 156, 10197, 6, 1, 4, 2, 2}
)

// containerKind sniffs /Contents: a CMS ContentInfo (SEQUENCE { OID signedData, [0] ... }) or
// an SES_Signature (SEQUENCE { TBS_Sign SEQUENCE { INTEGER version, ... }, ... }).
func containerKind(der []byte) string {
	var outer asn1.RawValue
	if _, err := asn1.Unmarshal(der, &outer); err != nil || outer.Tag != asn1.TagSequence {
		if len(der) > 2 && der[0] == 0x30 && der[1] == 0x80 {
			return "cms" // BER indefinite length: only CMS producers write it
		}
		if len(der) > 0 && der[0] == 0x04 {
			return "pkcs1"
		}
		return ""
	}
	var first asn1.RawValue
	if _, err := asn1.Unmarshal(outer.Bytes, &first); err != nil {
		return ""
	}
	if first.Tag == asn1.TagOID {
		return "cms"
	}
	if first.Tag == asn1.TagSequence {
		return "ses"
	}
	return ""
}

func checkContainer(ctx context.Context, rd *Reader, sv *View, sdict Dict, subFilter string, der []byte, ranges [][2]int64, sr *document.SignatureReport, tc *trustChecker, opts *document.VerifyOptions) {
	kind := containerKind(der)
	switch {
	case subFilter == SubFilterRSASHA1 && kind == "pkcs1":
		sr.Profile = "pdf-rsa-sha1"
		verifyRSASHA1(rd, sv, sdict, der, ranges, sr, tc)
		return
	case subFilter == SubFilterRFC3161 && kind == "cms":
		sr.Profile = "pdf-doc-timestamp"
		verifyDocTimestamp(rd, der, ranges, sr, tc)
		return
	case kind == "cms":
		verifyCMS(ctx, rd, subFilter, der, ranges, sr, tc, opts)
		return
	case kind == "ses":
		sr.Profile = string(document.ProfilePDFSES)
		verifySES(ctx, rd, der, ranges, sr, tc)
		return
	}
	sr.AddProblem(CodeContentsUnparsable, "/Contents is neither a CMS SignedData nor an SES_Signature (SubFilter %s)", subFilter)
}

func verifyCMS(ctx context.Context, rd *Reader, subFilter string, der []byte, ranges [][2]int64, sr *document.SignatureReport, tc *trustChecker, opts *document.VerifyOptions) {
	sd, err := cms.Parse(der)
	if err != nil {
		sr.AddProblem(CodeContentsUnparsable, "/Contents: %v", err)
		return
	}
	switch {
	case subFilter == SubFilterCAdES:
		sr.Profile = string(document.ProfilePAdES)
	case sd.Style() == cms.GM:
		sr.Profile = string(document.ProfilePDFGM)
	default:
		sr.Profile = "pdf-pkcs7"
	}
	vo := cms.VerifyOptions{}
	if extra, err := parseCertsPEM(opts.SignerCertPEM); err == nil {
		vo.Certificates = extra
	}
	var digest []byte
	if subFilter == SubFilterPKCS7SHA {
		h := sha1.New()
		if err := copyRanges(rd, h, ranges); err != nil {
			sr.AddProblem(CodeDigestMismatch, "reading the signed ranges: %v", err)
			return
		}
		vo.ExpectContent = h.Sum(nil)
	} else {
		alg, err := sd.DigestAlgorithm()
		if err != nil {
			sr.AddProblem(CodeUnsupported, "%v", err)
			return
		}
		digest, err = hashRanges(rd, alg, ranges)
		if err != nil {
			sr.AddProblem(CodeDigestMismatch, "reading the signed ranges: %v", err)
			return
		}
	}
	res := sd.Verify(digest, vo)
	if tc.capture != nil && res.Timestamp != nil && res.Timestamp.Certificate != nil {
		tc.capture(res.Timestamp.Certificate, res.Timestamp.Certificates)
	}
	integrity := document.OK
	for _, ch := range res.Checks {
		if ch.Status == cms.OK {
			continue
		}
		code := ch.ProblemCode()
		sr.AddProblem(code, "%s (%s): %s", ch.Name, ch.Status, ch.Message)
		switch ch.Name {
		case cms.CheckSigner, cms.CheckContent, cms.CheckContentType, cms.CheckMessageDigest, cms.CheckSignature, cms.CheckSigningCert:
			// Proven wrong (a red code) fails integrity; what could not be checked (no signer
			// certificate, an unsupported algorithm) leaves it unknown.
			if ch.Status == cms.Failed && document.LevelOf(code) == document.IndicationInvalid {
				integrity = document.Failed
			} else if integrity == document.OK {
				integrity = document.Unknown
			}
		}
	}
	// Without signed attributes the signature value itself covers the content digest, so a
	// passing "signature" check is what integrity needs; message-digest is checked when present.
	if res.Check(cms.CheckSignature) == nil && integrity == document.OK {
		integrity = document.Unknown
	}
	sr.Integrity = integrity
	at := time.Now()
	if !res.SigningTime.IsZero() && sr.SignedAt == "" {
		sr.SignedAt = res.SigningTime.UTC().Format(time.RFC3339)
		sr.TimeSource = "claimed"
		at = res.SigningTime
	} else if t, err := time.Parse(time.RFC3339, sr.SignedAt); err == nil {
		at = t
	}
	if res.Timestamp != nil && res.Timestamp.OK {
		sr.SignedAt = res.Timestamp.Time.UTC().Format(time.RFC3339)
		sr.TimeSource = "timestamp"
		at = res.Timestamp.Time
	}
	sr.SetSigner(res.Signer)
	if res.Signer == nil {
		if !sr.HasCode("cms.signer-cert-missing") {
			sr.AddProblem(CodeSignerCertMissing, "the signer certificate is not in the signature (give it with --cert)")
		}
		return
	}
	tc.check(sr, res.Signer, res.Certificates, at, sr.TimeSource == "timestamp", false)
}

func verifySES(ctx context.Context, rd *Reader, der []byte, ranges [][2]int64, sr *document.SignatureReport, tc *trustChecker) {
	sig, err := ses.ParseSignature(der)
	if err != nil {
		sr.AddProblem(CodeContentsUnparsable, "/Contents: %v", err)
		return
	}
	alg := ses.Digest(sig)
	digest, err := hashRanges(rd, alg, ranges)
	if err != nil {
		sr.AddProblem(CodeUnsupported, "digest %s: %v", alg, err)
		return
	}
	res := ses.VerifySignature(ctx, sig, ses.VerifyOptions{DataHash: digest})
	sr.Integrity = res.Report(sr)
	if tsaCert, tsaCerts := sesTimestampCerts(sig); tc.capture != nil && tsaCert != nil {
		tc.capture(tsaCert, tsaCerts)
	}
	if res.SignerCert == nil {
		return // the SES checks said why (ses.signer-cert-malformed)
	}
	var inter []*smx509.Certificate
	if res.MakerCert != nil {
		inter = append(inter, res.MakerCert)
	}
	at := res.SignedAt
	if at.IsZero() {
		at = time.Now()
	}
	tc.check(sr, res.SignerCert, inter, at, sr.TimeSource == "timestamp", false)
}

func verifyDocTimestamp(rd *Reader, der []byte, ranges [][2]int64, sr *document.SignatureReport, tc *trustChecker) {
	sd, err := cms.Parse(der)
	if err != nil {
		sr.AddProblem(CodeContentsUnparsable, "/Contents: %v", err)
		return
	}
	tst, err := cms.ParseTSTInfo(sd.Content())
	if err != nil {
		sr.AddProblem(CodeContentsUnparsable, "document time-stamp: %v", err)
		return
	}
	digest, err := hashRanges(rd, tst.HashAlgorithm, ranges)
	if err != nil {
		sr.AddProblem(CodeUnsupported, "document time-stamp digest %s: %v", tst.HashAlgorithm, err)
		return
	}
	info, err := tsa.VerifyDigest(der, digest)
	if err != nil {
		sr.AddProblem(CodeSignatureInvalid, "document time-stamp: %v", err)
		return
	}
	integrity := true
	for _, ch := range info.Checks {
		if ch.Status != cms.OK {
			code := ch.Code
			if code == "" {
				code = CodeSignatureInvalid
			}
			if ch.Status == cms.Failed {
				integrity = false
			}
			sr.AddProblem(code, "%s (%s): %s", ch.Name, ch.Status, ch.Message)
		}
	}
	if integrity {
		sr.Integrity = document.OK
	}
	sr.SignedAt = info.Time.UTC().Format(time.RFC3339)
	sr.TimeSource = "timestamp"
	sr.SetSigner(info.Certificate)
	if info.Certificate != nil {
		tc.check(sr, info.Certificate, info.Certificates, info.Time, true, true)
	}
}

// verifyRSASHA1 checks the legacy adbe.x509.rsa_sha1 form: /Contents is a DER OCTET STRING with
// a PKCS#1 v1.5 signature over SHA-1 of the ranges; the certificates are in /Cert.
func verifyRSASHA1(rd *Reader, sv *View, sdict Dict, der []byte, ranges [][2]int64, sr *document.SignatureReport, tc *trustChecker) {
	var sig []byte
	if _, err := asn1.Unmarshal(der, &sig); err != nil {
		sr.AddProblem(CodeContentsUnparsable, "/Contents is not an OCTET STRING: %v", err)
		return
	}
	var certs []*smx509.Certificate
	var raws [][]byte
	addCert := func(o Object) {
		if s, ok := sv.Resolve(o).(String); ok {
			raws = append(raws, s.B)
			if c, err := smx509.ParseCertificate(s.B); err == nil {
				certs = append(certs, c)
			}
		}
	}
	switch cv := sv.Resolve(sdict["Cert"]).(type) {
	case Array:
		for _, e := range cv {
			addCert(e)
		}
	default:
		addCert(cv)
	}
	if len(raws) == 0 {
		sr.AddProblem(CodeSignerCertMissing, "adbe.x509.rsa_sha1 signature without a /Cert")
		return
	}
	var leaf *smx509.Certificate
	var pub *rsa.PublicKey
	if len(certs) > 0 && bytes.Equal(certs[0].Raw, raws[0]) {
		leaf = certs[0]
		pub, _ = leaf.PublicKey.(*rsa.PublicKey)
	} else {
		// Old certificates (negative serial numbers, common in 2000s test PKIs) are refused by
		// Go's X.509 parser; the signature can still be checked with the key, and the report
		// says why the chain could not be.
		var subject string
		pub, subject = rawRSAKey(raws[0])
		sr.Signer = subject
		sr.AddProblem(CodeSignerCertUnparsable, "the signer certificate in /Cert cannot be parsed as X.509 (e.g. a negative serial number); its chain was not checked")
	}
	if pub == nil {
		sr.AddProblem(CodeUnsupported, "adbe.x509.rsa_sha1 without a usable RSA key in /Cert")
		return
	}
	h := sha1.New()
	if err := copyRanges(rd, h, ranges); err != nil {
		sr.AddProblem(CodeDigestMismatch, "reading the signed ranges: %v", err)
		return
	}
	digest := h.Sum(nil)
	// Some producers sign the DER DigestInfo directly, others sign a DER OCTET STRING holding the
	// digest (Adobe's historical form); accept both, nothing else.
	err := rsa.VerifyPKCS1v15(pub, crypto.SHA1, digest, sig)
	if err != nil {
		wrapped, _ := asn1.Marshal(digest)
		w := sha1.Sum(wrapped)
		if err2 := rsa.VerifyPKCS1v15(pub, crypto.SHA1, w[:], sig); err2 == nil {
			err = nil
		}
	}
	if err != nil {
		sr.AddProblem(CodeSignatureInvalid, "adbe.x509.rsa_sha1 signature does not verify over the signed ranges")
	} else {
		sr.Integrity = document.OK
	}
	if leaf == nil {
		sr.Trust = document.Unknown
		return
	}
	sr.SetSigner(leaf)
	at := time.Now()
	if t, err := time.Parse(time.RFC3339, sr.SignedAt); err == nil {
		at = t
	}
	tc.check(sr, leaf, certs[1:], at, false, false)
}

// rawRSAKey digs the RSA key and the subject out of a certificate Go's parser refuses.
func rawRSAKey(der []byte) (*rsa.PublicKey, string) {
	var cert struct {
		TBS asn1.RawValue
	}
	if _, err := asn1.Unmarshal(der, &cert); err != nil {
		return nil, ""
	}
	var tbs struct {
		Version   asn1.RawValue `asn1:"optional,explicit,tag:0"`
		Serial    asn1.RawValue
		SigAlg    asn1.RawValue
		Issuer    asn1.RawValue
		Validity  asn1.RawValue
		Subject   pkix.RDNSequence
		PublicKey asn1.RawValue
	}
	if _, err := asn1.Unmarshal(cert.TBS.FullBytes, &tbs); err != nil {
		return nil, ""
	}
	k, err := x509.ParsePKIXPublicKey(tbs.PublicKey.FullBytes)
	if err != nil {
		return nil, ""
	}
	var name pkix.Name
	name.FillFromRDNSequence(&tbs.Subject)
	pub, _ := k.(*rsa.PublicKey)
	subject := name.CommonName
	if subject == "" {
		subject = name.String()
	}
	return pub, subject
}

func parseCertsPEM(b []byte) ([]*smx509.Certificate, error) {
	if len(b) == 0 {
		return nil, nil
	}
	var out []*smx509.Certificate
	rest := b
	for {
		var blk []byte
		blk, rest = pemBlock(rest)
		if blk == nil {
			break
		}
		c, err := smx509.ParseCertificate(blk)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, errors.New("no PEM certificate found")
	}
	return out, nil
}

// parsePDFDate parses D:YYYYMMDDHHmmSSOHH'mm' (every part after the year optional).
func parsePDFDate(s string) (time.Time, bool) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "D:")
	if len(s) < 4 {
		return time.Time{}, false
	}
	digits := func(i, n, def int) int {
		if i+n > len(s) {
			return def
		}
		v := 0
		for k := i; k < i+n; k++ {
			if s[k] < '0' || s[k] > '9' {
				return def
			}
			v = v*10 + int(s[k]-'0')
		}
		return v
	}
	y := digits(0, 4, -1)
	if y < 0 {
		return time.Time{}, false
	}
	mo, d, h, mi, se := digits(4, 2, 1), digits(6, 2, 1), digits(8, 2, 0), digits(10, 2, 0), digits(12, 2, 0)
	loc := time.UTC
	if len(s) > 14 {
		switch s[14] {
		case '+', '-':
			oh, om := digits(15, 2, 0), digits(18, 2, 0)
			off := oh*3600 + om*60
			if s[14] == '-' {
				off = -off
			}
			loc = time.FixedZone("", off)
		}
	}
	return time.Date(y, time.Month(mo), d, h, mi, se, 0, loc), true
}

// SignedVersion returns the document exactly as signature i (0-based, in Verify's order) signed
// it: the bytes [0, end of its revision). A viewer renders it to "show the signed version" next
// to the current one.
func SignedVersion(in io.ReaderAt, size int64, i int) (*io.SectionReader, error) {
	rd, err := NewReader(in, size)
	if err != nil {
		return nil, err
	}
	var n int
	for _, f := range SignatureFields(rd.Final) {
		if f.Value == nil {
			continue
		}
		if n != i {
			n++
			continue
		}
		d := rd.Final.Dict(f.Value)
		br, ok := byteRange(rd.Final, d["ByteRange"])
		if !ok || br[2]+br[3] > size {
			return nil, fmt.Errorf("signature %d has no usable /ByteRange", i+1)
		}
		rev, _, ok := rd.RevisionEndingAt(br[2] + br[3])
		if !ok {
			return nil, fmt.Errorf("signature %d does not end at a revision", i+1)
		}
		return io.NewSectionReader(in, 0, rev.End), nil
	}
	return nil, fmt.Errorf("the document has no signature %d", i+1)
}
