package ses

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509/pkix"
	"fmt"
	"sealdesk/signer/check"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/smx509"

	"sealdesk/document"
	"sealdesk/signer"
)

// Status is the outcome of one check.
type Status = check.Status

const (
	OK      = check.OK
	Failed  = check.Failed
	Unknown = check.Unknown // could not be decided (unsupported algorithm, missing input, no answer)
)

// Check names: one fact each. They are stable (reports and tests key on them).
const (
	CheckSealFormat       = "seal.format"           // header and structure agree with the standard
	CheckSealSignature    = "seal.signature"        // maker signature over the right scope
	CheckSealMakerCert    = "seal.maker-cert"       // maker certificate parses and was valid between creation and use
	CheckSealValidity     = "seal.validity"         // validStart ≤ time of use ≤ validEnd
	CheckSealPicture      = "seal.picture"          // picture decodes, size sane
	CheckSignerCert       = "signature.signer-cert" // signer certificate parses
	CheckSignatureValue   = "signature.value"       // signer signature over TBS_Sign
	CheckSignerInSeal     = "signature.signer-in-seal"
	CheckSignerValidity   = "signature.signer-cert-validity" // signer cert valid at signing time
	CheckDataHash         = "signature.data-hash"            // dataHash = digest of the protected data
	CheckTimeStamp        = "signature.timestamp"            // optional RFC 3161 token over the signature value
	CheckSignatureVersion = "signature.version"              // TBS version matches the structure and the seal
)

// Check is one verified fact: what was checked, its outcome, a stable reason code and a message.
type Check struct {
	Name    string `json:"name"`
	Status  Status `json:"status"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Result is the outcome of VerifySeal or VerifySignature: the facts (Checks) and what they
// were about. Status derives the verdict.
type Result struct {
	Checks     []Check             `json:"checks"`
	Seal       *Seal               `json:"-"`
	Signature  *Signature          `json:"-"`
	MakerCert  *smx509.Certificate `json:"-"`
	SignerCert *smx509.Certificate `json:"-"`
	// SignedAt is the signing time used for the time checks; TimeSource says where it came from:
	// "timestamp" (a verified token) or "claimed" (TBS_Sign.timeInfo).
	SignedAt   time.Time `json:"signedAt"`
	TimeSource string    `json:"timeSource,omitempty"`
}

// add records a check. Codes are given without the "ses." area prefix that every SES code
// carries in reports (docs/CLI.md); it is added here, in one place.
func (r *Result) add(name string, st Status, code, format string, args ...any) {
	if code != "" {
		code = "ses." + code
	}
	r.Checks = append(r.Checks, Check{Name: name, Status: st, Code: code, Message: fmt.Sprintf(format, args...)})
}

// Get returns the check called name, or nil.
func (r *Result) Get(name string) *Check {
	for i := range r.Checks {
		if r.Checks[i].Name == name {
			return &r.Checks[i]
		}
	}
	return nil
}

// Status is the verdict: failed if any check failed, else unknown if any is unknown, else ok.
func (r *Result) Status() Status { return verdict(r.Checks, nil) }

func verdict(cs []Check, keep func(string) bool) Status {
	st := OK
	for _, c := range cs {
		if keep != nil && !keep(c.Name) {
			continue
		}
		switch c.Status {
		case Failed:
			return Failed
		case Unknown:
			st = Unknown
		}
	}
	return st
}

// Report fills the SES part of a signature report — the one mapping of an SES result to a
// report, for PDF (pdf-ses) and OFD (ofd-ses4, ofd-ses1) alike: a problem for every check that
// did not pass (same code, same message), the seal (SealReport, which counts whether the seal
// binds the signer), the signer, the signing time and its source. It returns the integrity of
// the signed value: failed when the signature value, the data hash or the version check failed
// with a red code (document.Codes), unknown when one could not be checked, else ok; the format
// combines it with what it checks itself (references, byte ranges).
func (r *Result) Report(sr *document.SignatureReport) document.Status {
	sr.Problems = append(sr.Problems, r.Problems()...)
	sr.Seal = r.SealReport()
	sr.SetSigner(r.SignerCert)
	if !r.SignedAt.IsZero() {
		sr.SignedAt = r.SignedAt.UTC().Format(time.RFC3339)
		sr.TimeSource = r.TimeSource
	}
	integrity := OK
	for _, name := range []string{CheckSignerCert, CheckSignatureValue, CheckDataHash, CheckSignatureVersion} {
		c := r.Get(name)
		switch {
		case c == nil && name != CheckSignatureVersion:
			integrity = check.WorseStatus(integrity, Unknown)
		case c == nil || c.Status == OK:
		case c.Status == Failed && document.LevelOf(c.Code) == document.IndicationInvalid:
			integrity = Failed
		default:
			integrity = check.WorseStatus(integrity, Unknown)
		}
	}
	return integrity
}

// Problems lists the checks that did not pass, as document.Problem values.
func (r *Result) Problems() []document.Problem {
	var out []document.Problem
	for _, c := range r.Checks {
		if c.Status != OK {
			out = append(out, document.Problem{Code: c.Code, Message: c.Name + ": " + c.Message})
		}
	}
	return out
}

// SealReport fills the seal part of a verification report (docs/CLI.md) from the seal checks.
func (r *Result) SealReport() *document.SealReport {
	s := r.Seal
	if s == nil {
		return nil
	}
	rep := &document.SealReport{
		ESID:       s.Info.ESID,
		Name:       s.Info.Property.Name,
		Version:    s.Version(),
		Type:       s.Info.Property.Type,
		ValidStart: s.Info.Property.ValidStart.UTC().Format(time.RFC3339),
		ValidEnd:   s.Info.Property.ValidEnd.UTC().Format(time.RFC3339),
		Vendor:     s.Info.Header.Vid,
	}
	if r.MakerCert != nil {
		rep.Maker = subjectName(r.MakerCert.Subject)
	}
	// The seal's verdict includes whether it binds this signer: a seal that does not name the
	// signer does not authorise the signature, whoever made the seal.
	isSeal := func(n string) bool { return len(n) > 5 && n[:5] == "seal." || n == CheckSignerInSeal }
	rep.Checks = verdict(r.Checks, isSeal)
	for _, c := range r.Checks {
		if isSeal(c.Name) && c.Status != OK {
			rep.Problems = append(rep.Problems, c.Code+": "+c.Message)
		}
	}
	return rep
}

func subjectName(n pkix.Name) string {
	if n.CommonName != "" {
		if len(n.Organization) > 0 && n.Organization[0] != n.CommonName {
			return n.CommonName + " (" + n.Organization[0] + ")"
		}
		return n.CommonName
	}
	return n.String()
}

// VerifySeal checks a seal on its own: structure, maker certificate and signature, picture,
// and that the seal is valid at time at (zero: now).
//
// The maker certificate's chain and revocation are not checked here (signer/trust does that).
func VerifySeal(s *Seal, at time.Time) *Result {
	r := &Result{Seal: s}
	if at.IsZero() {
		at = time.Now()
	}
	r.verifySeal(at, "time of use", true)
	return r
}

// verifySeal checks the seal at time at. proven says at is established (a time-stamp, or the
// time of use itself); a merely claimed signing time outside a validity window proves nothing
// either way, so it makes the check unknown rather than failed.
func (r *Result) verifySeal(at time.Time, what string, proven bool) {
	s := r.Seal
	// Format: header says what the structure is.
	hv := s.Info.Header.Version
	switch {
	case s.Format == V4 && hv != V4 && hv != V5:
		r.add(CheckSealFormat, Failed, "seal-header-version", "GB/T 38540 structure with header version %d (want 4)", hv)
	case s.Format == V4 && hv == V5:
		r.add(CheckSealFormat, OK, "seal-v5", "ofdrw \"V5\" seal (header version 5), read as GB/T 38540")
	case s.Format == V1 && hv != V1:
		// ofdrw issue #249: real v1 seals with header version 2; the structure decides.
		r.add(CheckSealFormat, OK, "seal-header-version", "GM/T 0031 structure with header version %d", hv)
	case s.Format == V1 && len(s.Info.Property.Unrecognised) > 0:
		r.add(CheckSealFormat, Failed, "seal-certlist-entry", "certList holds %d entries that are not certificates (vendor variant)", len(s.Info.Property.Unrecognised))
	default:
		r.add(CheckSealFormat, OK, "", "version %d structure", s.Version())
	}

	// Maker certificate and signature.
	mc, strictErr, err := parseCert(s.MakerCert)
	if err != nil {
		r.add(CheckSealMakerCert, Failed, "maker-cert-malformed", "maker certificate does not parse: %v", err)
		r.add(CheckSealSignature, Failed, "maker-cert-malformed", "cannot verify without the maker certificate")
	} else {
		r.MakerCert = mc
		code, note := "", ""
		if strictErr != nil {
			code, note = "cert-nonconforming", fmt.Sprintf("; certificate is not RFC 5280-conforming (%v), read leniently", strictErr)
		}
		// The maker must have held a valid certificate at some point between the seal's creation
		// and its use. (createDate itself is not the signing moment: real tax seals have a
		// createDate days before their maker certificate's notBefore.)
		made := s.Info.Property.CreateDate
		switch {
		case !at.IsZero() && at.Before(mc.NotBefore):
			r.add(CheckSealMakerCert, Failed, "maker-cert-not-yet-valid",
				"maker certificate %q valid from %s, after the %s %s%s", subjectName(mc.Subject), day(mc.NotBefore), what, stamp(at), note)
		case !made.IsZero() && mc.NotAfter.Before(made):
			r.add(CheckSealMakerCert, Failed, "maker-cert-expired-before-creation",
				"maker certificate %q expired %s, before the seal was made (%s)%s", subjectName(mc.Subject), day(mc.NotAfter), day(made), note)
		default:
			r.add(CheckSealMakerCert, OK, code, "maker %q, certificate valid %s … %s, seal made %s%s",
				subjectName(mc.Subject), day(mc.NotBefore), day(mc.NotAfter), day(made), note)
		}
		if v, err := verifyValue(mc, s.SignAlg, s.signed, s.Value); err != nil {
			r.add(CheckSealSignature, Failed, "seal-signature-invalid", "maker signature (%s): %v", AlgorithmName(s.SignAlg), err)
		} else {
			msg := "maker signature (" + AlgorithmName(s.SignAlg) + ") verifies"
			if v != "" {
				msg += "; " + v
			}
			r.add(CheckSealSignature, OK, variantCode(v), "%s", msg)
		}
	}

	// Validity window.
	p := s.Info.Property
	switch {
	case at.IsZero():
		r.add(CheckSealValidity, Unknown, "signing-time-unknown", "no usable signing time to compare with the seal validity %s … %s", day(p.ValidStart), day(p.ValidEnd))
	case p.ValidEnd.Before(p.ValidStart):
		r.add(CheckSealValidity, Failed, "seal-validity-inverted", "validEnd %s is before validStart %s", day(p.ValidEnd), day(p.ValidStart))
	case (at.Before(p.ValidStart) || at.After(p.ValidEnd)) && !proven:
		r.add(CheckSealValidity, Unknown, "seal-validity-unproven", "seal valid %s … %s, but the %s is %s and no time-stamp proves when it was signed", stamp(p.ValidStart), stamp(p.ValidEnd), what, stamp(at))
	case at.Before(p.ValidStart):
		r.add(CheckSealValidity, Failed, "seal-not-yet-valid", "seal valid from %s, %s is %s", stamp(p.ValidStart), what, stamp(at))
	case at.After(p.ValidEnd):
		r.add(CheckSealValidity, Failed, "seal-expired", "seal valid until %s, %s is %s", stamp(p.ValidEnd), what, stamp(at))
	default:
		r.add(CheckSealValidity, OK, "", "seal valid %s … %s, %s %s", day(p.ValidStart), day(p.ValidEnd), what, stamp(at))
	}

	// Picture.
	if err := checkPicture(s.Info.Picture); err != nil {
		r.add(CheckSealPicture, Failed, "seal-picture-bad", "%v", err)
	} else {
		r.add(CheckSealPicture, OK, "", "%s picture, %d×%d mm", s.Info.Picture.Type, s.Info.Picture.Width, s.Info.Picture.Height)
	}
}

func variantCode(v string) string {
	if v != "" {
		return "raw-rs-variant"
	}
	return ""
}

func day(t time.Time) string   { return t.UTC().Format("2006-01-02") }
func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05Z") }

// TimeStampVerifier verifies an RFC 3161 token over the signature value and returns the time it
// proves. VerifyTimeStamp (signer/tsa) is the default.
type TimeStampVerifier func(ctx context.Context, token, signatureValue []byte) (time.Time, error)

// VerifyOptions says what VerifySignature compares against.
type VerifyOptions struct {
	// DataHash is the digest of the protected data computed by the format (for OFD: of the
	// Signature.xml bytes, with the algorithm of Digest(sig)). Or set Content.
	DataHash []byte
	// Content is the protected data itself; it is hashed here. Ignored when DataHash is set.
	Content []byte
	// TimeStamp verifies the optional v4 timeStamp; nil uses VerifyTimeStamp (token and
	// binding to the signature value, not the TSA's chain).
	TimeStamp TimeStampVerifier
}

// Digest returns the algorithm the signature's dataHash is expected to use: SM3 for SM2
// signatures, SHA-1 for 20-byte hashes of other algorithms, else SHA-256.
func Digest(sig *Signature) signer.DigestAlgorithm {
	if a, ok := lookupAlg(sig.SignAlg); ok && a.key == signer.SM2 {
		return signer.SM3
	}
	if len(sig.TBS.DataHash) == 20 {
		return "sha1"
	}
	return signer.SHA256
}

// VerifySignature checks an SES signature and the seal inside it: the signer signature over
// the raw TBS_Sign, the signer certificate against the seal's list, the seal (maker signature,
// validity at the signing time, picture), the signer certificate's validity at the signing
// time, the data hash and the timestamp. Chains and revocation are signer/trust's job.
func VerifySignature(ctx context.Context, sig *Signature, opts VerifyOptions) *Result {
	r := &Result{Signature: sig, Seal: sig.TBS.Seal}

	// Version consistency.
	tv := sig.TBS.Version
	switch {
	case sig.Format == V1 && tv != V1 && tv != 2:
		r.add(CheckSignatureVersion, Failed, "signature-version", "GM/T 0031 structure with TBS_Sign version %d", tv)
	case sig.Format == V4 && tv != V4 && tv != V5:
		r.add(CheckSignatureVersion, Failed, "signature-version", "GB/T 38540 structure with TBS_Sign version %d (want 4)", tv)
	case sig.Format != sig.TBS.Seal.Format:
		r.add(CheckSignatureVersion, Failed, "signature-seal-version-mismatch", "version %d signature wraps a version %d seal", sig.Version(), sig.TBS.Seal.Version())
	default:
		r.add(CheckSignatureVersion, OK, "", "version %d", sig.Version())
	}

	// Signer signature over TBS_Sign as found.
	sc, strictErr, err := parseCert(sig.Cert)
	if err != nil {
		r.add(CheckSignerCert, Failed, "signer-cert-malformed", "signer certificate does not parse: %v", err)
		r.add(CheckSignatureValue, Failed, "signer-cert-malformed", "cannot verify without the signer certificate")
	} else {
		r.SignerCert = sc
		if strictErr != nil {
			r.add(CheckSignerCert, OK, "cert-nonconforming", "signer certificate %q is not RFC 5280-conforming (%v); read leniently", subjectName(sc.Subject), strictErr)
		} else {
			r.add(CheckSignerCert, OK, "", "signer %q", subjectName(sc.Subject))
		}
		v, err := verifyValue(sc, sig.SignAlg, sig.TBS.Raw, sig.Value)
		switch {
		case err == nil:
			msg := "signer signature (" + AlgorithmName(sig.SignAlg) + ") over TBS_Sign verifies"
			if v != "" {
				msg += "; " + v
			}
			r.add(CheckSignatureValue, OK, variantCode(v), "%s", msg)
		case err == errBadSignature && dataHashVariant(sc, sig):
			r.add(CheckSignatureValue, Failed, "signature-over-datahash-variant",
				"signature does not cover TBS_Sign; it verifies only as SM2 with e = dataHash (no Z, dms360-style vendor variant), so the seal, time and property info are not bound")
		default:
			r.add(CheckSignatureValue, Failed, "signature-invalid", "signer signature (%s) over TBS_Sign: %v", AlgorithmName(sig.SignAlg), err)
		}
	}

	// Signer certificate in the seal's list.
	r.checkSignerInSeal(sc)

	// Timestamp and signing time.
	r.SignedAt, r.TimeSource = sig.TBS.TimeInfo, "claimed"
	if len(sig.TimeStamp) > 0 {
		verify := opts.TimeStamp
		if verify == nil {
			verify = VerifyTimeStamp
		}
		if t, err := verify(ctx, sig.TimeStamp, sig.Value); err != nil {
			r.add(CheckTimeStamp, Failed, "timestamp-invalid", "timestamp token: %v", err)
		} else {
			r.SignedAt, r.TimeSource = t, "timestamp"
			r.add(CheckTimeStamp, OK, "", "timestamp over the signature value proves %s", stamp(t))
		}
	}

	// The seal, at the signing time.
	what := "signing time (claimed)"
	if r.TimeSource == "timestamp" {
		what = "signing time (timestamp)"
	}
	r.verifySeal(r.SignedAt, what, r.TimeSource == "timestamp")

	// Signer certificate validity at the signing time.
	switch {
	case sc == nil:
		r.add(CheckSignerValidity, Failed, "signer-cert-malformed", "no usable signer certificate")
	case r.SignedAt.IsZero():
		r.add(CheckSignerValidity, Unknown, "signing-time-unknown", "timeInfo %q is not a recognisable time", sig.TBS.TimeText)
	case (r.SignedAt.Before(sc.NotBefore) || r.SignedAt.After(sc.NotAfter)) && r.TimeSource != "timestamp":
		r.add(CheckSignerValidity, Unknown, "signer-cert-validity-unproven",
			"signer certificate %q valid %s … %s, but the %s is %s and no time-stamp proves when it was signed", subjectName(sc.Subject), stamp(sc.NotBefore), stamp(sc.NotAfter), what, stamp(r.SignedAt))
	case r.SignedAt.Before(sc.NotBefore) || r.SignedAt.After(sc.NotAfter):
		r.add(CheckSignerValidity, Failed, "signer-cert-not-valid-at-signing",
			"signer certificate %q valid %s … %s, %s %s", subjectName(sc.Subject), stamp(sc.NotBefore), stamp(sc.NotAfter), what, stamp(r.SignedAt))
	default:
		r.add(CheckSignerValidity, OK, "", "signer certificate %q valid at %s %s", subjectName(sc.Subject), what, stamp(r.SignedAt))
	}

	r.checkDataHash(sc, opts)
	return r
}

func (r *Result) checkSignerInSeal(sc *smx509.Certificate) {
	p := r.Seal.Info.Property
	if sc == nil {
		r.add(CheckSignerInSeal, Failed, "signer-cert-malformed", "no usable signer certificate")
		return
	}
	if p.CertListType == CertListDigests {
		var unknownAlgs []string
		for _, d := range p.CertDigests {
			h, ok := digestByName(d.Type, sc.Raw)
			if !ok {
				unknownAlgs = append(unknownAlgs, d.Type)
				continue
			}
			if bytes.Equal(h, d.Value) {
				r.add(CheckSignerInSeal, OK, "", "signer certificate's %s digest is in the seal's list of %d", d.Type, len(p.CertDigests))
				return
			}
		}
		if len(unknownAlgs) > 0 {
			r.add(CheckSignerInSeal, Unknown, "certlist-digest-unknown", "no digest matched; unsupported digest types %q", unknownAlgs)
			return
		}
		r.add(CheckSignerInSeal, Failed, "signer-not-in-seal", "signer certificate digest matches none of the seal's %d digests", len(p.CertDigests))
		return
	}
	for _, c := range p.Certs {
		if bytes.Equal(c, sc.Raw) {
			r.add(CheckSignerInSeal, OK, "", "signer certificate is in the seal's list of %d", len(p.Certs))
			return
		}
	}
	if len(p.Certs) == 0 && len(p.Unrecognised) > 0 {
		r.add(CheckSignerInSeal, Failed, "certlist-unrecognised", "the seal's certList holds no certificates (%d unrecognised entries)", len(p.Unrecognised))
		return
	}
	r.add(CheckSignerInSeal, Failed, "signer-not-in-seal", "signer certificate %q is not among the seal's %d certificates", subjectName(sc.Subject), len(p.Certs))
}

func (r *Result) checkDataHash(sc *smx509.Certificate, opts VerifyOptions) {
	sig := r.Signature
	want := sig.TBS.DataHash
	alg := Digest(sig)
	switch {
	case opts.DataHash != nil:
		if bytes.Equal(opts.DataHash, want) {
			r.add(CheckDataHash, OK, "", "dataHash matches the %s digest of the protected data", alg)
		} else {
			r.add(CheckDataHash, Failed, "data-hash-mismatch", "dataHash %x… differs from the protected data's digest %x…", head(want), head(opts.DataHash))
		}
	case opts.Content != nil:
		got := hashWith(alg, opts.Content)
		if bytes.Equal(got, want) {
			r.add(CheckDataHash, OK, "", "dataHash matches %s of the %d protected bytes", alg, len(opts.Content))
			return
		}
		// GM/T 0006 "SM3 with key" (OFD CheckMethod 1.2.156.10197.1.401.2): SM3(Z_signer‖data).
		if alg == signer.SM3 && sc != nil {
			if z, err := signer.SM2Digest(sc.PublicKey, opts.Content); err == nil && bytes.Equal(z, want) {
				r.add(CheckDataHash, OK, "data-hash-with-z", "dataHash matches SM3(Z‖data) of the %d protected bytes (GM/T 0006 \"SM3 with key\")", len(opts.Content))
				return
			}
		}
		r.add(CheckDataHash, Failed, "data-hash-mismatch", "dataHash %x… differs from %s of the %d protected bytes (%x…)", head(want), alg, len(opts.Content), head(got))
	default:
		r.add(CheckDataHash, Unknown, "data-not-given", "protected data not supplied; dataHash %x… not compared", head(want))
	}
}

func head(b []byte) []byte {
	if len(b) > 8 {
		return b[:8]
	}
	return b
}

func hashWith(a signer.DigestAlgorithm, data []byte) []byte {
	switch a {
	case signer.SM3:
		h := sm3.Sum(data)
		return h[:]
	case "sha1":
		h := sha1.Sum(data)
		return h[:]
	}
	h := sha256.Sum256(data)
	return h[:]
}

// dataHashVariant reports whether an SM2 signature verifies with e = dataHash (the dms360 v1
// variant: the value signs the document hash directly, not TBS_Sign).
func dataHashVariant(sc *smx509.Certificate, sig *Signature) bool {
	a, ok := lookupAlg(sig.SignAlg)
	if !ok || a.key != signer.SM2 || len(sig.TBS.DataHash) != 32 {
		return false
	}
	pub, ok := sc.PublicKey.(*ecdsa.PublicKey)
	if !ok {
		return false
	}
	der, _ := sigDER(sig.Value, 32)
	return sm2.VerifyASN1(pub, sig.TBS.DataHash, der)
}
