package ofdsig

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/emmansun/gmsm/smx509"

	"sealdesk/document"
	"sealdesk/document/ofd"
	"sealdesk/signer/ses"
	"sealdesk/signer/trust"
)

// Problem codes of this package (SES, CMS and trust checks add their own).
const (
	CodeSignaturesMissing  = "ofd.signatures.missing"   // OFD.xml names a Signatures.xml that is not there
	CodeSignaturesBad      = "ofd.signatures.malformed" // Signatures.xml unreadable
	CodeSignatureFile      = "ofd.signature.unreadable" // Signature.xml missing or malformed
	CodeSignedValueMissing = "ofd.signedvalue.missing"
	CodeRefMissing         = "ofd.reference.missing"   // a referenced file is not in the package
	CodeRefDigest          = "ofd.reference.digest"    // a referenced file changed after signing
	CodeRefMalformed       = "ofd.reference.malformed" // FileRef or CheckValue unusable
	CodeCheckMethod        = "ofd.checkmethod.unsupported"
	CodeLockedBroken       = "ofd.locked.later-signature" // a locking signature was followed by another
	CodeFileAdded          = "ofd.file.added"             // a file the document uses appeared after signing
	CodeFileUnprotected    = "ofd.file.unprotected"       // used by the document, not covered (present when signed)
	CodeSealFileMismatch   = "ofd.seal.file-mismatch"     // Seal.esl differs from the seal inside the signed value
	CodeSealFileMissing    = "ofd.seal.file-missing"
	CodePropertyInfo       = "ofd.ses.property-info" // propertyInfo names another file than this Signature.xml
	CodeStampPage          = "ofd.stamp.page-missing"
	CodeSignedValueFormat  = "ofd.signedvalue.format"
	CodeMultipleDocs       = "ofd.docbody.multiple"
	CodeUnsafeEntry        = "ofd.package.unsafe-entry"
)

// Verify is the document.Handler Verify function. It returns an error only when the input
// is no readable OFD; everything about signatures goes into the report.
func Verify(ctx context.Context, in io.ReaderAt, size int64, opts *document.VerifyOptions) (*document.VerifyReport, error) {
	if opts == nil {
		opts = &document.VerifyOptions{}
	}
	rd, err := ofd.Open(in, size, nil)
	if err != nil {
		return nil, err
	}
	pkg := rd.Pkg
	rep := &document.VerifyReport{Format: document.OFD}
	for _, u := range pkg.Unsafe {
		rep.Problems = append(rep.Problems, document.Problem{Code: CodeUnsafeEntry,
			Message: fmt.Sprintf("archive entry %q cannot be addressed safely (path escapes the root or is duplicated); no signature can cover it", u)})
	}
	st := readStructure(rd)
	if st.extraBody {
		rep.Problems = append(rep.Problems, document.Problem{Code: CodeMultipleDocs,
			Message: "OFD.xml holds more than one DocBody; only the first document's signatures are verified"})
	}
	if st.sigsErr != nil {
		code := CodeSignaturesBad
		if !pkg.Has(st.sigsPath) {
			code = CodeSignaturesMissing
		}
		rep.Problems = append(rep.Problems, document.Problem{Code: code, Message: "the document is not signed: its signature list is broken: " + st.sigsErr.Error()})
	}
	v := &verifier{pkg: pkg, st: st, opts: opts, files: pkg.Files(), machinery: map[string]bool{}}
	if st.list != nil {
		v.machinery[st.sigsPath] = true
	}
	for _, s := range st.sigs {
		v.machinery[canonical(pkg, s.xmlPath())] = true
		if s.sig != nil {
			v.machinery[canonical(pkg, s.sig.SignedValuePath)] = true
			if s.sig.SealPath != "" {
				v.machinery[canonical(pkg, s.sig.SealPath)] = true
			}
		}
	}
	delete(v.machinery, "")
	v.usage = buildUsage(pkg, v.files, v.machinery, v.read)
	for _, s := range st.sigs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		rep.Signatures = append(rep.Signatures, v.verifyOne(ctx, s))
	}
	// Files no signature protects (signature files themselves excluded: each is bound by its
	// own signed value, and Signatures.xml is left open by design so co-signers can follow).
	if len(st.sigs) > 0 {
		for _, f := range v.files {
			if v.machinery[f] {
				continue
			}
			covered := false
			for _, s := range st.sigs {
				if s.coversPath(pkg, f) {
					covered = true
					break
				}
			}
			if !covered {
				rep.Uncovered = append(rep.Uncovered, f)
			}
		}
	}
	rep.Decide()
	return rep, nil
}

type verifier struct {
	pkg       *ofd.Package
	st        *structure
	opts      *document.VerifyOptions
	files     []string
	machinery map[string]bool
	usage     *usage
	tv        *trust.Verifier
	tvErr     error
	cache     map[string][]byte // XML files, read once for the usage graph and the digests
}

// read returns a file's stored bytes, caching XML files (read twice: usage and digests).
func (v *verifier) read(name string) ([]byte, error) {
	if b, ok := v.cache[name]; ok {
		return b, nil
	}
	b, err := v.pkg.ReadFile(name)
	if err == nil && strings.EqualFold(path.Ext(name), ".xml") {
		if v.cache == nil {
			v.cache = map[string][]byte{}
		}
		v.cache[name] = b
	}
	return b, err
}

// verifyOne checks one signature; the facts go into the report, Decide derives the verdict.
func (v *verifier) verifyOne(ctx context.Context, s *sigEntry) document.SignatureReport {
	r := document.SignatureReport{Index: s.index, Name: s.id(), Integrity: document.Failed, ChangesAfter: document.None,
		Trust: document.Unknown, Revocation: document.Unknown, Problems: []document.Problem{}}
	if s.ref.Type == "Sign" {
		r.Profile = "ofd-sign"
	} else {
		r.Profile = "ofd-ses"
	}
	if s.err != nil {
		r.AddProblem(CodeSignatureFile, "signature %s: %v", s.id(), s.err)
		return r
	}
	r.Pages, r.Rects = v.stamps(s, &r)
	value, err := v.pkg.ReadFile(s.sig.SignedValuePath)
	if err != nil {
		r.AddProblem(CodeSignedValueMissing, "signature %s: signed value %s: %v", s.id(), s.sig.SignedValuePath, err)
		v.changesAfter(s, &r, nil)
		return r
	}

	// The signed value over the exact Signature.xml bytes.
	var sv signedValue
	if s.ref.Type == "Sign" {
		sv = v.verifySign(ctx, s, value, &r)
	} else {
		sv = v.verifySES(ctx, s, value, &r)
	}

	// Every reference.
	refsOK, changed := v.checkRefs(s, sv.pub, &r)
	switch {
	case sv.valueOK && refsOK:
		r.Integrity = document.OK
	case sv.valueUnknown && refsOK:
		r.Integrity = document.Unknown
	}
	v.changesAfter(s, &r, changed)
	v.trust(ctx, sv, &r)
	return r
}

// signedValue is what checking a signed value established.
type signedValue struct {
	valueOK      bool // signature value and data hash verify over Signature.xml
	valueUnknown bool // could not be checked (e.g. bare signature without --cert)
	pub          any  // signer public key, for CheckMethod …401.2
	cert         *smx509.Certificate
	extra        []*smx509.Certificate // other certificates carried (CMS) or supplied
	signedAt     time.Time
}

func (v *verifier) verifySES(ctx context.Context, s *sigEntry, value []byte, r *document.SignatureReport) signedValue {
	var out signedValue
	sig, err := ses.ParseSignature(value)
	if err != nil {
		r.AddProblem(CodeSignedValueFormat, "signature %s: %s is not an SES_Signature: %v", s.id(), s.sig.SignedValuePath, err)
		return out
	}
	switch sig.Version() {
	case ses.V1:
		r.Profile = string(document.ProfileOFDSES1)
	case ses.V5:
		r.Profile = "ofd-ses5"
	default:
		r.Profile = string(document.ProfileOFDSES4)
	}
	res := ses.VerifySignature(ctx, sig, ses.VerifyOptions{Content: s.raw})
	integrity := res.Report(r)
	out.cert = res.SignerCert
	if out.cert != nil {
		out.pub = out.cert.PublicKey
	}
	out.signedAt = res.SignedAt
	out.valueOK = integrity == document.OK
	out.valueUnknown = integrity == document.Unknown
	// propertyInfo says what was signed; for OFD it names this Signature.xml.
	if pi := strings.TrimSpace(sig.TBS.PropertyInfo); pi != "" {
		if p, err := v.pkg.Resolve("/", pi); err != nil || !strings.EqualFold(p, s.xmlPath()) {
			r.AddProblem(CodePropertyInfo, "signature %s: propertyInfo %q does not name %s", s.id(), pi, s.xmlPath())
		}
	}
	// Seal.esl, when present, must be the seal inside the signature (readers show it).
	if s.sig.SealPath != "" {
		esl, err := v.pkg.ReadFile(s.sig.SealPath)
		switch {
		case err != nil:
			r.AddProblem(CodeSealFileMissing, "signature %s: seal file %s: %v", s.id(), s.sig.SealPath, err)
			if r.Seal != nil {
				r.Seal.Checks = document.Failed
			}
		case sig.TBS.Seal == nil || !bytes.Equal(esl, sig.TBS.Seal.Raw):
			r.AddProblem(CodeSealFileMismatch, "signature %s: seal file %s differs from the seal inside %s (the seal was swapped)", s.id(), s.sig.SealPath, s.sig.SignedValuePath)
			if r.Seal != nil {
				r.Seal.Checks = document.Failed
				r.Seal.Problems = append(r.Seal.Problems, CodeSealFileMismatch+": "+s.sig.SealPath+" is not the signed seal")
			}
		}
	}
	return out
}

// checkRefs recomputes every reference's digest over the stored bytes of the file. It returns
// whether all match and which protected files changed or are missing.
func (v *verifier) checkRefs(s *sigEntry, pub any, r *document.SignatureReport) (bool, map[string]bool) {
	changed := map[string]bool{}
	cm, err := parseCheckMethod(s.sig.CheckMethod)
	if err != nil {
		r.AddProblem(CodeCheckMethod, "signature %s: %v: the %d file digests cannot be verified", s.id(), err, len(s.sig.References))
		return false, changed
	}
	if len(s.sig.References) == 0 {
		r.AddProblem(CodeRefMalformed, "signature %s protects no file (empty References)", s.id())
		return false, changed
	}
	ok := true
	for _, ref := range s.sig.References {
		p := canonical(v.pkg, ref.Path)
		if p != "" {
			r.Covered = append(r.Covered, p)
		}
		switch {
		case p == "":
			r.AddProblem(CodeRefMalformed, "signature %s: FileRef %q is not a usable package path", s.id(), ref.FileRef)
			ok = false
			continue
		case ref.CheckValue == nil:
			r.AddProblem(CodeRefMalformed, "signature %s: CheckValue of %s is not base64", s.id(), p)
			ok = false
			continue
		case !v.pkg.Has(p):
			r.AddProblem(CodeRefMissing, "signature %s: protected file %s is missing from the package", s.id(), p)
			changed[p] = true
			ok = false
			continue
		}
		h, err := cm.hasher(pub)
		if err != nil {
			r.AddProblem(CodeCheckMethod, "signature %s: %s: %v", s.id(), p, err)
			ok = false
			continue
		}
		data, err := v.read(p)
		if err != nil {
			r.AddProblem(CodeRefMissing, "signature %s: %v", s.id(), err)
			changed[p] = true
			ok = false
			continue
		}
		h.Write(data)
		if bytes.Equal(h.Sum(nil), ref.CheckValue) {
			continue
		}
		ok = false
		changed[p] = true
		if p == v.st.sigsPath && v.laterSignatures(s) > 0 {
			r.AddProblem(CodeLockedBroken, "signature %s protects %s, yet %d signature(s) were added after it, changing that file",
				s.id(), p, v.laterSignatures(s))
			continue
		}
		r.AddProblem(CodeRefDigest, "signature %s: %s changed after signing (%s digest differs)", s.id(), p, cm.Name)
	}
	return ok, changed
}

func (v *verifier) laterSignatures(s *sigEntry) int { return len(v.st.sigs) - 1 - s.index }

// changesAfter classifies the package files the signature does not protect: later signatures'
// files are allowed changes; a file the document uses that neither the signature nor any
// protected, unchanged file referring to it accounts for was added after signing
// (disallowed); a file the document uses that a protected, unchanged file refers to was
// present but left unprotected by its signer (reported, not a change). Protected files that
// changed are disallowed changes too.
func (v *verifier) changesAfter(s *sigEntry, r *document.SignatureReport, changed map[string]bool) {
	if changed == nil {
		changed = map[string]bool{}
	}
	for f := range changed {
		r.Changes = append(r.Changes, "modified: "+f)
	}
	for _, later := range v.st.sigs[s.index+1:] {
		r.Changes = append(r.Changes, "later signature "+later.id()+" ("+later.xmlPath()+")")
	}
	whole := true
	for _, f := range v.files {
		if v.machinery[f] || s.coversPath(v.pkg, f) {
			continue
		}
		whole = false
		if !v.usage.reachable[f] {
			continue // not part of what the document shows
		}
		present := f == "/OFD.xml"
		for _, ref := range v.usage.referrers[f] {
			if s.coversPath(v.pkg, ref) && !changed[ref] {
				present = true
				break
			}
		}
		if present {
			r.AddProblem(CodeFileUnprotected, "signature %s does not protect %s, which the document uses: it can be changed without breaking the signature", s.id(), f)
			continue
		}
		r.Changes = append(r.Changes, "added: "+f)
		r.AddProblem(CodeFileAdded, "%s is used by the document but was not there, or not referred to, when signature %s was made: no file it protects refers to it unchanged (added or swapped in after signing)", f, s.id())
		changed[f] = true
	}
	r.CoversWholeDocument = whole
	switch {
	case len(changed) > 0:
		r.ChangesAfter = document.Disallowed
	case len(v.st.sigs) > s.index+1:
		r.ChangesAfter = document.Allowed
	}
	sort.Strings(r.Changes)
}

// stamps converts StampAnnots to page indexes and visible rectangles (Clip applied).
func (v *verifier) stamps(s *sigEntry, r *document.SignatureReport) ([]int, []document.Rect) {
	var pages []int
	var rects []document.Rect
	for _, a := range s.sig.StampAnnots {
		idx := v.st.rd.PageIndex(a.PageRef)
		if idx < 0 {
			r.AddProblem(CodeStampPage, "signature %s: stamp %s refers to page ID %d, which the document does not have", s.id(), a.ID, a.PageRef)
			continue
		}
		b := document.Rect{X: a.Boundary.X, Y: a.Boundary.Y, W: a.Boundary.W, H: a.Boundary.H}
		if a.Clip != nil {
			b = document.Rect{X: b.X + a.Clip.X, Y: b.Y + a.Clip.Y, W: a.Clip.W, H: a.Clip.H}
		}
		pages = append(pages, idx)
		rects = append(rects, b)
	}
	return pages, rects
}
