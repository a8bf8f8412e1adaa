package ofdsig

import (
	"archive/zip"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/emmansun/gmsm/sm3"

	"sealdesk/document"
	"sealdesk/document/ofd"
	"sealdesk/signer"
	"sealdesk/signer/ses"
	"sealdesk/signer/tsa"
)

// ErrLocked is returned when an existing signature protects Signatures.xml
// (WholeProtected): adding a signature would break it.
var ErrLocked = errors.New("the document is locked: an existing signature protects Signatures.xml, so any further signature would invalidate it")

// Options tunes signing beyond document.SignRequest.
type Options struct {
	// Lock also protects Signatures.xml (ofdrw's WholeProtected): the signature then forbids
	// any later signature. Default false (ContinueSign), so co-signers can follow.
	// document.SignRequest.Lock does the same through document.SignFile.
	Lock bool
	// Container overrides the SES container (tests inject failing or vendor-style containers);
	// nil builds ses.NewContainer from the request.
	Container signer.Container
}

// Sign is the document.Handler Sign function: a ContinueSign signature per req.
func Sign(ctx context.Context, in io.ReaderAt, size int64, req *document.SignRequest, out io.Writer) error {
	return SignWith(ctx, in, size, req, &Options{}, out)
}

// SignWith adds one signature to the OFD package in and writes the whole new package to out.
// See the package documentation for what is written and why.
func SignWith(ctx context.Context, in io.ReaderAt, size int64, req *document.SignRequest, opts *Options, out io.Writer) error {
	if opts == nil {
		opts = &Options{}
	}
	lock := opts.Lock || req.Lock
	version := 0
	switch req.Profile {
	case document.ProfileOFDSES4:
		version = ses.V4
	case document.ProfileOFDSES1:
		version = ses.V1
	default:
		return fmt.Errorf("ofd: profile %q is not an OFD profile (use ofd-ses4 or ofd-ses1)", req.Profile)
	}
	if req.TSA != "" && version != ses.V4 {
		return fmt.Errorf("ofd: profile %s has no place for a timestamp (GM/T 0031 SES_Signature); use ofd-ses4 with --tsa", req.Profile)
	}
	if req.Identity == nil || req.Identity.Certificate == nil {
		return errors.New("ofd: signing needs an identity with a certificate")
	}
	if req.Identity.Algorithm != signer.SM2 && !req.AllowNonSM2 {
		// Our verifier follows SignatureMethod and checks a SHA-256 digest, but ofdrw and the
		// vendors' readers hash with SM3 throughout and call the file tampered.
		return &document.NonSM2Error{Algorithm: req.Identity.Algorithm}
	}
	if opts.Container == nil && req.Identity.Signer == nil {
		return errors.New("ofd: the signing key is not logged in")
	}
	if len(req.Seal) == 0 {
		return fmt.Errorf("ofd: profile %s needs an SES seal", req.Profile)
	}
	if len(req.Stamps) == 0 {
		return errors.New("ofd: no seal position given")
	}
	rd, err := ofd.Open(in, size, nil)
	if err != nil {
		return err
	}
	pkg := rd.Pkg
	if len(pkg.Unsafe) > 0 {
		return fmt.Errorf("ofd: refusing to sign: the archive holds entries that cannot be addressed safely (%s)", strings.Join(pkg.Unsafe, ", "))
	}
	zr, err := zip.NewReader(in, size)
	if err != nil {
		return fmt.Errorf("ofd: %w", err)
	}
	st := readStructure(rd)
	if rd.Body.Signatures == "" && pkg.Has(st.sigsPath) {
		return fmt.Errorf("ofd: %s exists but OFD.xml does not name it: refusing to guess which signature list is meant", st.sigsPath)
	}
	if st.sigsErr != nil && pkg.Has(st.sigsPath) {
		return fmt.Errorf("ofd: refusing to sign: the signature list cannot be read: %w", st.sigsErr)
	}
	// When OFD.xml names a Signatures.xml that does not exist (seen in a real template), the
	// list is created at the named place and OFD.xml stays as it is.
	for _, s := range st.sigs {
		if s.err != nil {
			return fmt.Errorf("ofd: refusing to sign: existing signature %s cannot be read (%v); verify the document first", s.id(), s.err)
		}
		if s.coversPath(pkg, st.sigsPath) {
			return fmt.Errorf("ofd: signature %s (%s): %w", s.id(), s.xmlPath(), ErrLocked)
		}
	}

	// Page indexes → page IDs, stamps → StampAnnots.
	signID := nextSignID(st.maxSignID(), st.sigIDs())
	pageIDs := st.pageIDs()
	var stamps []stampAnnot
	for i, s := range req.Stamps {
		if s.Page < 0 || s.Page >= len(pageIDs) {
			return fmt.Errorf("ofd: seal position %d: page %d does not exist (the document has %d pages)", i+1, s.Page+1, len(pageIDs))
		}
		if s.Rect.W <= 0 || s.Rect.H <= 0 {
			return fmt.Errorf("ofd: seal position %d: empty rectangle %gx%g mm", i+1, s.Rect.W, s.Rect.H)
		}
		a := stampAnnot{ID: fmt.Sprintf("%s_%d", signID, i+1), PageRef: strconv.FormatUint(uint64(pageIDs[s.Page]), 10), Boundary: s.Rect}
		if s.Clip != (document.Rect{}) {
			c := s.Clip
			a.Clip = &c
		}
		stamps = append(stamps, a)
	}

	// New files of this signature, next to the other signatures.
	signsDir := path.Dir(st.sigsPath)
	signDir := ""
	for k := len(st.sigs); ; k++ {
		signDir = path.Join(signsDir, "Sign_"+strconv.Itoa(k))
		if !hasPrefix(pkg.Files(), signDir+"/") {
			break
		}
	}
	sigXMLPath := signDir + "/Signature.xml"
	valuePath := signDir + "/SignedValue.dat"
	sealPath := signDir + "/Seal.esl"

	entry := signaturesEntry{ID: signID, Type: "Seal", BaseLoc: sigXMLPath}
	changed := map[string][]byte{} // existing files rewritten (OFD.xml, Signatures.xml)
	var added []newFile            // files this signature adds, in write order
	if pkg.Has(st.sigsPath) {
		old, err := pkg.ReadFile(st.sigsPath)
		if err != nil {
			return err
		}
		nb, err := appendSignature(old, signID, entry)
		if err != nil {
			return fmt.Errorf("ofd: %s: %w", st.sigsPath, err)
		}
		changed[st.sigsPath] = nb
	} else {
		added = append(added, newFile{st.sigsPath, newSignaturesXML(signID, entry)})
	}
	if rd.Body.Signatures == "" {
		old, err := pkg.ReadFile("/OFD.xml")
		if err != nil {
			return err
		}
		nb, err := addSignaturesRef(old, st.sigsPath)
		if err != nil {
			return fmt.Errorf("ofd: %w", err)
		}
		changed["/OFD.xml"] = nb
	}
	added = append(added, newFile{sealPath, req.Seal})

	// References: every file of the new package except Signatures.xml (unless locking) and
	// this signature's own Signature.xml and SignedValue.dat, which do not exist yet.
	var refs []reference
	digestOf := func(data []byte) []byte { s := sm3.Sum(data); return s[:] }
	for _, name := range pkg.Files() {
		if err := ctx.Err(); err != nil {
			return err
		}
		if name == st.sigsPath && !lock {
			continue
		}
		data, ok := changed[name]
		if !ok {
			if data, err = pkg.ReadFile(name); err != nil {
				return err
			}
		}
		refs = append(refs, reference{FileRef: name, CheckValue: digestOf(data)})
	}
	for _, f := range added {
		if f.name == st.sigsPath && !lock {
			continue
		}
		refs = append(refs, reference{FileRef: f.name, CheckValue: digestOf(f.data)})
	}

	when := req.Time
	if when.IsZero() {
		when = time.Now()
	}
	method, err := signatureMethod(req.Identity.Algorithm)
	if err != nil {
		return err
	}
	sx := &signatureXML{
		SignatureMethod: method,
		DateTime:        when.UTC().Format("20060102150405Z"),
		CheckMethod:     OIDSM3,
		References:      refs,
		Stamps:          stamps,
		SealLoc:         sealPath,
		SignedValueLoc:  valuePath,
	}
	sigXML := sx.marshal()

	c := opts.Container
	if c == nil {
		o := ses.SignOptions{Version: version, Seal: req.Seal, Identity: req.Identity, PropertyInfo: sigXMLPath, Time: when}
		if req.TSA != "" {
			// GB/T 38540 timeStamp: an RFC 3161 token over the signature value.
			ts := &tsa.Client{URL: req.TSA}
			d := signer.DefaultDigest(req.Identity.Algorithm)
			o.TSA = func(ctx context.Context, sigValue []byte) ([]byte, error) {
				h, err := d.New()
				if err != nil {
					return nil, err
				}
				h.Write(sigValue)
				return ts.Stamp(ctx, d, h.Sum(nil))
			}
		}
		c, err = ses.NewContainer(o)
		if err != nil {
			return fmt.Errorf("ofd: %w", err)
		}
	}
	h, err := c.Digest().New()
	if err != nil {
		return err
	}
	h.Write(sigXML)
	value, err := c.Build(ctx, h.Sum(nil))
	if err != nil {
		return fmt.Errorf("ofd: signing failed: %w", err)
	}
	added = append(added, newFile{sigXMLPath, sigXML}, newFile{valuePath, value})
	return writePackage(zr, pkg, changed, added, out)
}

// signatureMethod is the SignatureMethod OID for a key algorithm.
func signatureMethod(a signer.KeyAlgorithm) (string, error) {
	switch a {
	case signer.SM2:
		return OIDSM3WithSM2, nil
	case signer.RSA:
		return "1.2.840.113549.1.1.11", nil
	case signer.ECDSA:
		return "1.2.840.10045.4.3.2", nil
	}
	return "", fmt.Errorf("ofd: unsupported key algorithm %q", a)
}

type newFile struct {
	name string
	data []byte
}

// writePackage writes the output archive: every original entry in its original order, copied
// raw (compressed bytes, CRC and sizes unchanged; no file an earlier signature covers is ever
// re-serialised), except the rewritten OFD.xml / Signatures.xml, then the new files.
func writePackage(zr *zip.Reader, pkg *ofd.Package, changed map[string][]byte, added []newFile, out io.Writer) error {
	zw := zip.NewWriter(out)
	canonical := map[string]string{} // archive name → package path
	for _, e := range pkg.Entries() {
		canonical[e.RawName] = e.Name
	}
	names := map[string]bool{}
	for _, f := range zr.File {
		name := canonical[f.Name]
		names[name] = true
		if data, ok := changed[name]; ok {
			fh := &zip.FileHeader{Name: f.Name, Method: zip.Deflate, Modified: time.Now()}
			w, err := zw.CreateHeader(fh)
			if err != nil {
				return err
			}
			if _, err := w.Write(data); err != nil {
				return err
			}
			continue
		}
		if err := zw.Copy(f); err != nil {
			return fmt.Errorf("ofd: copying %s: %w", f.Name, err)
		}
	}
	for _, f := range added {
		if names[f.name] {
			return fmt.Errorf("ofd: %s already exists in the package", f.name)
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: strings.TrimPrefix(f.name, "/"), Method: zip.Deflate, Modified: time.Now()})
		if err != nil {
			return err
		}
		if _, err := w.Write(f.data); err != nil {
			return err
		}
	}
	return zw.Close()
}

func hasPrefix(names []string, prefix string) bool {
	for _, n := range names {
		if strings.HasPrefix(n, prefix) {
			return true
		}
	}
	return false
}
