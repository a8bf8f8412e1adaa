package pdf

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
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

// Long-term validation: PAdES B-LT and B-LTA (ETSI EN 319 142-1 §5.4, §5.5).
//
// B-LT: an incremental update after the signature adds the document security store to the
// catalog, /DSS << /Certs [streams] /CRLs [streams] /OCSPs [streams] /VRI << /KEY << /Cert
// /CRL /OCSP /TU >> >> >>, where KEY is the upper-case hex SHA-1 of the signature's /Contents
// (the decoded string, padding included) and the streams hold DER certificates, CRLs and
// OCSPResponses. B-LTA: a further update adds a document time-stamp (/Type /DocTimeStamp,
// /SubFilter /ETSI.RFC3161) over everything before it, and a last DSS update with the
// time-stamp's own validation material, so the next extension can renew it.
//
// The same is done for pdf-gm and pdf-ses signatures: their SM2 chains' material goes to the
// same store. The writer keeps every DSS key it does not know (another part of SealDesk or
// another producer may keep its own entries there) and never duplicates a stream it already
// holds.
//
// Verification (verify.go, trust.go) judges the embedded material at the signing time — the
// time-stamp's when there is one — not now, and reports what it used (document.LTVReport).

// Extension levels.
const (
	LevelLT  = "lt"
	LevelLTA = "lta"
)

// ExtendOptions configures Extend.
type ExtendOptions struct {
	// Level is LevelLT or LevelLTA.
	Level string
	// TSA is the RFC 3161 service of the document time-stamp (LevelLTA).
	TSA string
	// TSAClient overrides TSA (tests, services needing headers).
	TSAClient *tsa.Client
	// TrustPEM holds certificates that complete the signers' paths (the CA chain, roots
	// included); the documents' own certificates and DSS are used too.
	TrustPEM []byte
	// HTTP fetches OCSP responses and CRLs (nil: a client with a 15-second timeout).
	HTTP *http.Client
	// Now is the clock (tests); nil uses time.Now.
	Now func() time.Time
}

// ExtendResult says what Extend added.
type ExtendResult struct {
	Signatures   int // signatures (time-stamps included) that got a VRI entry
	Certs        int // streams added to the DSS
	CRLs         int
	OCSPs        int
	DocTimestamp string // time of the document time-stamp (LevelLTA), RFC 3339
}

// ExtendError says why the validation material could not be gathered.
type ExtendError struct{ Msg string }

func (e *ExtendError) Error() string { return e.Msg }

// Extend appends the long-term validation material of every signature of the PDF in (size
// bytes) — and for LevelLTA a document time-stamp over it and the time-stamp's own material —
// and writes the whole result to out: the original bytes unchanged, then the increments. It
// fetches every certificate's OCSP response (else its CRL) from the services the certificates
// name; a certificate whose material cannot be fetched fails the extension (a B-LT file
// without the answers it promises would mislead), naming the certificate.
func Extend(ctx context.Context, in io.ReaderAt, size int64, opts *ExtendOptions, out io.Writer) (*ExtendResult, error) {
	if opts == nil || (opts.Level != LevelLT && opts.Level != LevelLTA) {
		return nil, signErr("the extension level must be %q or %q", LevelLT, LevelLTA)
	}
	ts := opts.TSAClient
	if ts == nil && opts.TSA != "" {
		ts = &tsa.Client{URL: opts.TSA}
	}
	if opts.Level == LevelLTA && ts == nil {
		return nil, signErr("level lta needs a time-stamp service (--tsa URL)")
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	res := &ExtendResult{}
	inc1, err := dssUpdate(ctx, in, size, opts, now, res, nil)
	if err != nil {
		return nil, err
	}
	if opts.Level == LevelLT {
		if _, err := io.Copy(out, io.NewSectionReader(in, 0, size)); err != nil {
			return nil, fmt.Errorf("copying the original PDF: %w", err)
		}
		_, err := out.Write(inc1)
		return res, err
	}
	// B-LTA: the document time-stamp over the original and the DSS update.
	cur := &catReaderAt{parts: []io.ReaderAt{in, bytes.NewReader(inc1)}, sizes: []int64{size, int64(len(inc1))}}
	size2 := cur.size()
	rd, err := NewReader(cur, size2)
	if err != nil {
		return nil, fmt.Errorf("reading the extended PDF: %w", err)
	}
	inc2, err := docTimestampIncrement(rd.Final, size2, ts.MaxTokenSize()+4096)
	if err != nil {
		return nil, err
	}
	rec := &tailRecorder{w: out, from: size2}
	if err := writeSigned(ctx, cur, size2, inc2, &docTSContainer{c: ts}, rec); err != nil {
		return nil, err
	}
	// The time-stamp's own validation material, in a last DSS update (for the next renewal).
	cur.parts = append(cur.parts, bytes.NewReader(rec.tail))
	cur.sizes = append(cur.sizes, int64(len(rec.tail)))
	before := res.Signatures
	inc3, err := dssUpdate(ctx, cur, cur.size(), opts, now, res, func(key string) bool { return key == rec.sigKey(inc2) })
	if err != nil {
		return nil, err
	}
	if res.Signatures == before {
		return nil, &ExtendError{Msg: "the document time-stamp was written but could not be read back"}
	}
	if _, err := out.Write(inc3); err != nil {
		return nil, err
	}
	if rd3, err := NewReader(cur, cur.size()); err == nil {
		for _, f := range SignatureFields(rd3.Final) {
			if d := rd3.Final.Dict(f.Value); d != nil && NameOf(d["Type"]) == "DocTimeStamp" {
				if cs, ok := d["Contents"].(String); ok && vriKey(cs.B) == rec.sigKey(inc2) {
					if sd, err := cms.Parse(trimDER(cs.B)); err == nil {
						if tst, err := cms.ParseTSTInfo(sd.Content()); err == nil {
							res.DocTimestamp = tst.Time.UTC().Format(time.RFC3339)
						}
					}
				}
			}
		}
	}
	return res, nil
}

// sigKeyed is one signature's certificates to collect material for.
type sigKeyed struct {
	key   string
	leafs []*smx509.Certificate
	certs []*smx509.Certificate
}

// dssUpdate builds the increment that adds the validation material of the document's
// signatures (only those whose VRI key want accepts, when want is set) to the DSS.
func dssUpdate(ctx context.Context, in io.ReaderAt, size int64, opts *ExtendOptions, now func() time.Time, res *ExtendResult, want func(string) bool) ([]byte, error) {
	rd, err := NewReader(in, size)
	if err != nil {
		return nil, fmt.Errorf("cannot read the PDF: %w", err)
	}
	if rd.Repaired {
		return nil, signErr("the PDF's cross-reference table is broken (%v); repair the file before extending it", rd.RepairErr)
	}
	if rd.Final.Trailer["Encrypt"] != nil {
		return nil, ErrEncrypted
	}
	sigs, err := collectSignatures(ctx, in, size, opts)
	if err != nil {
		return nil, err
	}
	if want != nil {
		var keep []*sigKeyed
		for _, s := range sigs {
			if want(s.key) {
				keep = append(keep, s)
			}
		}
		sigs = keep
	}
	if len(sigs) == 0 {
		return nil, signErr("the PDF has no signature to extend")
	}
	roots, inter, _, err := trust.SplitBundleRejected(opts.TrustPEM)
	if err != nil {
		return nil, signErr("--trust: %v", err)
	}
	v, err := trust.NewVerifier(trust.Config{Roots: roots, Intermediates: inter, HTTP: opts.HTTP, Now: now})
	if err != nil {
		return nil, signErr("--trust: %v", err)
	}
	dssCerts := dssCertificates(rd.Final)
	var entries []vriMaterial
	for _, s := range sigs {
		e := vriMaterial{key: s.key}
		extra := append(append([]*smx509.Certificate{}, s.certs...), dssCerts...)
		for _, leaf := range s.leafs {
			col := v.Collect(ctx, leaf, extra)
			if len(col.Problems) > 0 {
				var msgs []string
				for _, p := range col.Problems {
					msgs = append(msgs, p.Message)
				}
				return nil, &ExtendError{Msg: "the validation material cannot be collected: " + strings.Join(msgs, "; ")}
			}
			for _, c := range col.Path {
				e.certs = append(e.certs, c.Raw)
			}
			e.ocsps = append(e.ocsps, col.OCSPs...)
			e.crls = append(e.crls, col.CRLs...)
		}
		entries = append(entries, e)
	}
	return dssIncrement(in, rd.Final, size, entries, now(), res)
}

// collectSignatures runs the verifier over the document and records, per signature, the
// certificates whose status must be embedded: the signer's (or a document time-stamp's TSA),
// and a signature time-stamp's TSA.
func collectSignatures(ctx context.Context, in io.ReaderAt, size int64, opts *ExtendOptions) ([]*sigKeyed, error) {
	var out []*sigKeyed
	var cur *sigKeyed
	hooks := &verifyHooks{
		begin: func(key string) {
			cur = &sigKeyed{key: key}
			out = append(out, cur)
		},
		capture: func(leaf *smx509.Certificate, certs []*smx509.Certificate) {
			if cur == nil || leaf == nil {
				return
			}
			for _, l := range cur.leafs {
				if bytes.Equal(l.Raw, leaf.Raw) {
					return
				}
			}
			cur.leafs = append(cur.leafs, leaf)
			cur.certs = append(cur.certs, certs...)
		},
	}
	_, err := verify(ctx, in, size, &document.VerifyOptions{TrustPEM: opts.TrustPEM, Offline: true, Now: opts.Now}, hooks)
	if err != nil {
		return nil, err
	}
	var keep []*sigKeyed
	for _, s := range out {
		if len(s.leafs) > 0 {
			keep = append(keep, s)
		}
	}
	return keep, nil
}

// vriMaterial is the material of one VRI entry (DER).
type vriMaterial struct {
	key                string
	certs, ocsps, crls [][]byte
}

// vriKey is the VRI dictionary key of a signature: the upper-case hex SHA-1 of its /Contents.
func vriKey(contents []byte) string {
	h := sha1.Sum(contents)
	return strings.ToUpper(hex.EncodeToString(h[:]))
}

// dssIncrement serialises the DSS update: the store's existing entries kept (unknown keys
// too), new streams appended without duplicates, the VRI entries added or merged.
func dssIncrement(in io.ReaderAt, v *View, size int64, entries []vriMaterial, now time.Time, res *ExtendResult) ([]byte, error) {
	cat, catRef, err := v.Catalog()
	if err != nil {
		return nil, err
	}
	inc := newIncrement(v, size)
	dss := Dict{}
	if old := v.Dict(cat["DSS"]); old != nil {
		dss = copyDict(old)
	}
	known := map[[32]byte]Ref{}
	arrays := map[Name]Array{}
	for _, key := range []Name{"Certs", "OCSPs", "CRLs"} {
		arr := append(Array{}, v.Array(dss[key])...)
		for _, o := range arr {
			r, ok := o.(Ref)
			if !ok {
				continue
			}
			if st, ok := v.Resolve(r).(*Stream); ok && st.Length < 32<<20 {
				if data, err := v.rd.StreamData(st); err == nil {
					known[sha256.Sum256(data)] = r
				}
			}
		}
		arrays[key] = arr
	}
	put := func(key Name, der []byte) Ref {
		h := sha256.Sum256(der)
		if r, ok := known[h]; ok {
			return r
		}
		r := inc.add(flateStream(Dict{}, der))
		known[h] = r
		arrays[key] = append(arrays[key], r)
		switch key {
		case "Certs":
			res.Certs++
		case "OCSPs":
			res.OCSPs++
		case "CRLs":
			res.CRLs++
		}
		return r
	}
	vri := Dict{}
	if old := v.Dict(dss["VRI"]); old != nil {
		vri = copyDict(old)
	}
	for _, e := range entries {
		ent := Dict{}
		if old := v.Dict(vri[Name(e.key)]); old != nil {
			ent = copyDict(old)
		}
		add := func(field, store Name, ders [][]byte) {
			arr := append(Array{}, v.Array(ent[field])...)
			for _, der := range ders {
				r := put(store, der)
				dup := false
				for _, x := range arr {
					if x == r {
						dup = true
					}
				}
				if !dup {
					arr = append(arr, r)
				}
			}
			if len(arr) > 0 {
				ent[field] = arr
			}
		}
		add("Cert", "Certs", e.certs)
		add("OCSP", "OCSPs", e.ocsps)
		add("CRL", "CRLs", e.crls)
		ent["TU"] = String{B: []byte(pdfDate(now))}
		vri[Name(e.key)] = ent
		res.Signatures++
	}
	for key, arr := range arrays {
		if len(arr) > 0 {
			dss[key] = arr
		}
	}
	dss["VRI"] = vri
	if r, ok := cat["DSS"].(Ref); ok {
		inc.set(r, dss)
	} else {
		nc := copyDict(cat)
		nc["DSS"] = inc.add(dss)
		if _, ok := nc["Extensions"]; !ok {
			// PDF 1.7 readers learn of the DSS from Adobe's extension level 8 (EN 319 142-1
			// Annex A); PDF 2.0 has it natively and ignores the entry.
			nc["Extensions"] = Dict{"ADBE": Dict{"BaseVersion": Name("1.7"), "ExtensionLevel": Int(8)}}
		}
		inc.set(catRef, nc)
	}
	lay, err := inc.serialise(needsEOL(in, size))
	if err != nil {
		return nil, err
	}
	return lay.buf, nil
}

func needsEOL(in io.ReaderAt, size int64) bool {
	var last [1]byte
	if size == 0 {
		return false
	}
	if _, err := in.ReadAt(last[:], size-1); err != nil {
		return true
	}
	return last[0] != '\n' && last[0] != '\r'
}

// docTimestampIncrement prepares the update that adds a document time-stamp: an invisible
// signature field on the first page whose value is a /DocTimeStamp dictionary; writeSigned
// fills its /Contents with the token over the ByteRange.
func docTimestampIncrement(v *View, size int64, reserve int) (*increment, error) {
	cat, catRef, err := v.Catalog()
	if err != nil {
		return nil, err
	}
	pages, err := v.Pages()
	if err != nil {
		return nil, fmt.Errorf("cannot read the page tree: %w", err)
	}
	if len(pages) == 0 {
		return nil, signErr("the PDF has no pages")
	}
	if p := docMDPPermission(v); p == 1 {
		return nil, signErr("the document is certified with DocMDP P=1 (no changes allowed); a document time-stamp would break the certification")
	}
	inc := newIncrement(v, size)
	sigRef := inc.alloc()
	inc.sigNum = sigRef.Num
	inc.contentsSz = reserve
	fieldRef := inc.alloc()
	name := uniqueFieldName(SignatureFields(v), "DocTimeStamp")
	inc.set(fieldRef, Dict{"FT": Name("Sig"), "T": EncodeText(name), "V": sigRef,
		"Type": Name("Annot"), "Subtype": Name("Widget"), "Rect": Array{Int(0), Int(0), Int(0), Int(0)}, "F": Int(132), "P": pages[0].Ref})
	pd, ok := asDict(inc.get(pages[0].Ref))
	if !ok {
		return nil, signErr("page 1 is not a dictionary")
	}
	pd = copyDict(pd)
	switch a := pd["Annots"].(type) {
	case Ref:
		arr, _ := inc.get(a).(Array)
		inc.set(a, append(append(Array{}, arr...), fieldRef))
	default:
		arr, _ := a.(Array)
		pd["Annots"] = append(append(Array{}, arr...), fieldRef)
		inc.set(pages[0].Ref, pd)
	}
	switch af := cat["AcroForm"].(type) {
	case Ref:
		d := copyDict(v.Dict(af))
		addField(inc, d, fieldRef)
		inc.set(af, d)
	default:
		d := Dict{}
		if ad, ok := af.(Dict); ok {
			d = copyDict(ad)
		}
		addField(inc, d, fieldRef)
		nc := copyDict(cat)
		nc["AcroForm"] = d
		inc.set(catRef, nc)
	}
	sig := Dict{"Type": Name("DocTimeStamp"), "Filter": Name(FilterPPKLite), "SubFilter": Name(SubFilterRFC3161),
		"Prop_Build": Dict{"App": Dict{"Name": Name("SealDesk")}}}
	inc.sigDict = sig
	inc.set(sigRef, sig)
	return inc, nil
}

// docTSContainer makes the /Contents of a document time-stamp: a token over the ByteRange's
// SHA-256 digest.
type docTSContainer struct{ c *tsa.Client }

func (d *docTSContainer) Digest() signer.DigestAlgorithm { return signer.SHA256 }
func (d *docTSContainer) MaxSize() int                   { return d.c.MaxTokenSize() + 4096 }
func (d *docTSContainer) Build(ctx context.Context, digest []byte) ([]byte, error) {
	return d.c.Stamp(ctx, signer.SHA256, digest)
}

// tailRecorder passes everything to w and keeps the bytes written from offset from on (the
// increment, small) so that the next step can read the whole result without re-reading out.
type tailRecorder struct {
	w    io.Writer
	from int64
	n    int64
	tail []byte
}

func (t *tailRecorder) Write(p []byte) (int, error) {
	n, err := t.w.Write(p)
	if start := t.from - t.n; start < int64(n) {
		if start < 0 {
			start = 0
		}
		t.tail = append(t.tail, p[start:n]...)
	}
	t.n += int64(n)
	return n, err
}

// sigKey is the VRI key of the signature inc wrote (its /Contents as recorded).
func (t *tailRecorder) sigKey(inc *increment) string {
	i := bytes.Index(t.tail, []byte("/Contents <"))
	if i < 0 {
		return ""
	}
	s := t.tail[i+len("/Contents <"):]
	j := bytes.IndexByte(s, '>')
	if j < 0 {
		return ""
	}
	raw, err := hex.DecodeString(string(s[:j]))
	if err != nil {
		return ""
	}
	return vriKey(raw)
}

// catReaderAt reads several parts as one.
type catReaderAt struct {
	parts []io.ReaderAt
	sizes []int64
}

func (c *catReaderAt) size() int64 {
	var n int64
	for _, s := range c.sizes {
		n += s
	}
	return n
}

func (c *catReaderAt) ReadAt(p []byte, off int64) (int, error) {
	read := 0
	for i, part := range c.parts {
		if len(p) == 0 {
			break
		}
		if off >= c.sizes[i] {
			off -= c.sizes[i]
			continue
		}
		want := min(int64(len(p)), c.sizes[i]-off)
		n, err := part.ReadAt(p[:want], off)
		read += n
		if err != nil && !(errors.Is(err, io.EOF) && int64(n) == want) {
			return read, err
		}
		p = p[n:]
		off = 0
	}
	if len(p) > 0 {
		return read, io.EOF
	}
	return read, nil
}

// dssInfo is what the verifier learns from the document security store.
type dssInfo struct {
	present  bool
	material *trust.Material
	vri      map[string]bool
}

// readDSS reads the DSS of v: every certificate, CRL and OCSP response (unreadable streams
// are skipped: the signatures' checks say what is missing) and the VRI keys.
func readDSS(v *View) *dssInfo {
	info := &dssInfo{material: &trust.Material{}, vri: map[string]bool{}}
	cat, _, err := v.Catalog()
	if err != nil {
		return info
	}
	dss := v.Dict(cat["DSS"])
	if dss == nil {
		return info
	}
	info.present = true
	read := func(key Name) [][]byte {
		var out [][]byte
		for _, o := range v.Array(dss[key]) {
			st, ok := v.Resolve(o).(*Stream)
			if !ok || st.Length > 32<<20 {
				continue
			}
			if der, err := v.rd.StreamData(st); err == nil {
				out = append(out, der)
			}
		}
		return out
	}
	info.material.Certs = read("Certs")
	info.material.CRLs = read("CRLs")
	info.material.OCSPs = read("OCSPs")
	for k := range v.Dict(dss["VRI"]) {
		info.vri[strings.ToUpper(string(k))] = true
	}
	return info
}

// ltvState is the long-term validation state of the signature being verified.
type ltvState struct {
	key       string
	existedAt time.Time
	at        time.Time
	used      []trust.Evidence
}

// docTimestamp is a verified document time-stamp: its time and the revision it covers.
type docTimestamp struct {
	revEnd int64
	at     time.Time
	signed *View
}

// ltvReport fills sr.LTV for a signature (s) from what its trust check used.
func ltvReport(s *sigInfo, sr *document.SignatureReport, st *ltvState, dss *dssInfo, dts []docTimestamp) {
	r := &document.LTVReport{Level: "B-B", Used: []trust.Evidence{}}
	if dss != nil {
		r.DSS = dss.present
		r.VRI = dss.vri[st.key]
		r.Embedded = document.LTVCounts{Certs: len(dss.material.Certs), CRLs: len(dss.material.CRLs), OCSPs: len(dss.material.OCSPs)}
	}
	if st.used != nil {
		r.Used = st.used
	}
	if !st.at.IsZero() {
		r.ValidationTime = st.at.UTC().Format(time.RFC3339)
	} else {
		r.ValidationTime = sr.SignedAt
	}
	if !st.existedAt.IsZero() {
		r.ExistenceProvenAt = st.existedAt.UTC().Format(time.RFC3339)
	}
	timed := sr.TimeSource == "timestamp" || !st.existedAt.IsZero()
	embeddedUsed := false
	for _, e := range r.Used {
		if e.Source == "embedded" {
			embeddedUsed = true
		}
	}
	lt := r.VRI || embeddedUsed
	switch {
	case timed && lt:
		r.Level = "B-LT"
		for _, d := range dts {
			if d.revEnd <= s.revEnd {
				continue
			}
			if di := readDSS(d.signed); di.present && (di.vri[st.key] || !r.VRI) {
				r.Level = "B-LTA"
				break
			}
		}
	case timed:
		r.Level = "B-T"
	}
	sr.LTV = r
}

// sesTimestampCerts returns the TSA certificate of an SES signature's time-stamp token and
// the token's other certificates.
func sesTimestampCerts(sig *ses.Signature) (*smx509.Certificate, []*smx509.Certificate) {
	if sig == nil || len(sig.TimeStamp) == 0 {
		return nil, nil
	}
	sd, err := cms.Parse(sig.TimeStamp)
	if err != nil {
		return nil, nil
	}
	for _, c := range sd.Certificates {
		for _, u := range c.ExtKeyUsage {
			if u == smx509.ExtKeyUsageTimeStamping {
				return c, sd.Certificates
			}
		}
	}
	return nil, nil
}
