package pdf

import (
	"context"
	"encoding"
	"errors"
	"fmt"
	"hash"
	"image"
	"io"
	"time"

	"sealdesk/document"
	"sealdesk/signer"
	"sealdesk/signer/cms"
	"sealdesk/signer/ses"
	"sealdesk/signer/tsa"
)

// Signature dictionary values per profile (docs/pdf.md D4).
const (
	FilterPPKLite     = "Adobe.PPKLite"
	SubFilterCAdES    = "ETSI.CAdES.detached"
	SubFilterPKCS7    = "adbe.pkcs7.detached"
	SubFilterPKCS7SHA = "adbe.pkcs7.sha1"
	SubFilterRSASHA1  = "adbe.x509.rsa_sha1"
	SubFilterRFC3161  = "ETSI.RFC3161"
	// SubFilterSES marks a GB/T 38540 SES_Signature in /Contents. No public specification or
	// sample names one (vendors use private handler names; see docs/pdf-ses.md), so SealDesk
	// writes this documented name under the usual /Filter /Adobe.PPKLite, and the verifier
	// recognises SES by parsing /Contents, never by this name.
	SubFilterSES = "GB38540.SES"
)

// ErrEncrypted is returned for encrypted input documents.
var ErrEncrypted = errors.New("the PDF is encrypted; SealDesk signs only unencrypted PDFs (remove the password protection first)")

// SignError names the input problem that prevents signing.
type SignError struct{ Msg string }

func (e *SignError) Error() string { return e.Msg }

func signErr(format string, args ...any) error { return &SignError{Msg: fmt.Sprintf(format, args...)} }

// Sign appends a signed incremental update to the PDF in (size bytes) and writes the whole
// result to out: the original bytes unchanged, then the new objects, xref and trailer. The
// digest is computed while the bytes are written (one pass over the input, nothing of the
// document kept in memory): the original part is hashed as it is copied to out, the increment
// (small: widgets, seal image, signature dictionary) is built in memory with its placeholders
// before anything is written, so the /ByteRange is known in advance, and the part after
// /Contents is hashed before the container is built. What is hashed is exactly what is written.
//
// With req.Field set, Sign is SignField into that field.
func Sign(ctx context.Context, in io.ReaderAt, size int64, req *document.SignRequest, out io.Writer) error {
	if req.Field != "" {
		return SignField(ctx, in, size, req, req.Field, out)
	}
	return sign(ctx, in, size, req, "", nil, out)
}

// SignField is Sign into the existing, empty signature field named field (its fully qualified
// name) instead of a new field: the field keeps its widgets and appearance, so req.Stamps must
// be empty. A field that an earlier signature locked (FieldMDP: the signed field's /Lock or a
// /Reference with /TransformMethod /FieldMDP) is refused with a *FieldLockedError.
func SignField(ctx context.Context, in io.ReaderAt, size int64, req *document.SignRequest, field string, out io.Writer) error {
	if field == "" {
		return signErr("no signature field name was given")
	}
	return sign(ctx, in, size, req, field, nil, out)
}

// sign is Sign/SignField; cont overrides the profile's container (tests).
func sign(ctx context.Context, in io.ReaderAt, size int64, req *document.SignRequest, target string, cont signer.Container, out io.Writer) error {
	rd, err := NewReader(in, size)
	if err != nil {
		return fmt.Errorf("cannot read the PDF: %w", err)
	}
	if rd.Repaired {
		return signErr("the PDF's cross-reference table is broken (%v); repair the file (e.g. qpdf in.pdf out.pdf) before signing", rd.RepairErr)
	}
	v := rd.Final
	if v.Trailer["Encrypt"] != nil {
		return ErrEncrypted
	}
	if req.Identity == nil || req.Identity.Certificate == nil {
		return signErr("no signer identity with a certificate was given")
	}
	pages, err := v.Pages()
	if err != nil {
		return fmt.Errorf("cannot read the page tree: %w", err)
	}
	cat, catRef, err := v.Catalog()
	if err != nil {
		return err
	}
	when := req.Time
	if when.IsZero() {
		when = time.Now()
	}

	existing := SignatureFields(v)
	signedCount := 0
	for _, f := range existing {
		if f.Value != nil {
			signedCount++
		}
	}
	if p := docMDPPermission(v); p == 1 {
		return signErr("the document is certified with DocMDP P=1 (no changes allowed); another signature would break the certification")
	}
	if req.Certify != 0 {
		if req.Certify < 1 || req.Certify > 3 {
			return signErr("certification level %d is not 1, 2 or 3", req.Certify)
		}
		if signedCount > 0 {
			return signErr("a certification (DocMDP) signature must be the document's first signature; this PDF already has %d", signedCount)
		}
	}

	locks := documentLocks(v)
	for _, l := range locks {
		if l.p == 1 {
			return &FieldLockedError{LockedBy: l.by, All: true}
		}
	}
	var fill *SigField
	if target != "" {
		for i := range existing {
			if existing[i].Name == target {
				fill = &existing[i]
			}
		}
		switch {
		case fill == nil:
			return signErr("the PDF has no signature field %q", target)
		case fill.Value != nil:
			return signErr("signature field %q is already signed", target)
		case fill.Ref.Num == 0:
			return signErr("signature field %q is not an indirect object and cannot be updated incrementally", target)
		case len(req.Stamps) > 0:
			return signErr("signature field %q keeps its own widget; no seal placement can be given when filling it", target)
		}
		for _, l := range locks {
			if l.covers(target) {
				return &FieldLockedError{Field: target, LockedBy: l.by}
			}
		}
	}

	subFilter := ""
	if cont == nil {
		cont, subFilter, err = containerFor(req, when)
		if err != nil {
			return err
		}
	} else if _, subFilter, err = containerFor(req, when); err != nil {
		return err
	}

	inc := newIncrement(v, size)
	sigRef := inc.alloc()
	inc.sigNum = sigRef.Num
	inc.contentsSz = cont.MaxSize()
	var fieldRef Ref
	if fill != nil {
		fieldRef = fill.Ref
	} else {
		fieldRef = inc.alloc()
	}

	pic := req.Picture
	if pic == nil && len(req.Stamps) > 0 && len(req.Seal) > 0 {
		if seal, err := ses.ParseSeal(req.Seal); err == nil {
			pic, _ = ses.DecodePicture(seal)
		}
	}
	if pic == nil && len(req.Stamps) > 0 {
		return signErr("the seal placement needs a seal picture (none given and none decodable from the seal)")
	}

	name := uniqueFieldName(existing, "Seal")
	field := Dict{"FT": Name("Sig"), "T": EncodeText(name), "V": sigRef}
	var widgets []Ref
	pageAnnots := map[int][]Ref{}
	if fill != nil {
		// The existing field keeps its widgets, appearance and /Lock; only /V is set.
		field = copyDict(fill.Dict)
		field["V"] = sigRef
	} else if len(req.Stamps) == 0 {
		// Invisible signature: a zero-size widget on the first page.
		if len(pages) == 0 {
			return signErr("the PDF has no pages")
		}
		inv := Dict{"Type": Name("Annot"), "Subtype": Name("Widget"), "Rect": Array{Int(0), Int(0), Int(0), Int(0)}, "F": Int(132), "P": pages[0].Ref}
		for k, x := range inv {
			field[k] = x
		}
		widgets = append(widgets, fieldRef)
		pageAnnots[0] = append(pageAnnots[0], fieldRef)
	} else {
		img, err := imageXObject(inc, pic)
		if err != nil {
			return err
		}
		for i, st := range req.Stamps {
			if st.Page < 0 || st.Page >= len(pages) {
				return signErr("stamp %d: page %d does not exist (the document has %d pages)", i+1, st.Page+1, len(pages))
			}
			if st.Rect.W <= 0 || st.Rect.H <= 0 {
				return signErr("stamp %d: empty rectangle", i+1)
			}
			p := &pages[st.Page]
			ap, rect := appearance(inc, p, st, img)
			w := Dict{"Type": Name("Annot"), "Subtype": Name("Widget"), "F": Int(132), "P": p.Ref,
				"Rect": Array{Real(rect[0]), Real(rect[1]), Real(rect[2]), Real(rect[3])},
				"AP":   Dict{"N": ap}}
			if len(req.Stamps) == 1 {
				for k, x := range w {
					field[k] = x
				}
				widgets = append(widgets, fieldRef)
				pageAnnots[st.Page] = append(pageAnnots[st.Page], fieldRef)
				break
			}
			w["Parent"] = fieldRef
			wr := inc.add(w)
			widgets = append(widgets, wr)
			pageAnnots[st.Page] = append(pageAnnots[st.Page], wr)
		}
		if len(req.Stamps) > 1 {
			kids := Array{}
			for _, w := range widgets {
				kids = append(kids, w)
			}
			field["Kids"] = kids
		}
	}
	inc.set(fieldRef, field)

	// Pages: add the widgets to /Annots.
	for pi, refs := range pageAnnots {
		p := pages[pi]
		cur, ok := asDict(inc.get(p.Ref))
		if !ok {
			return signErr("page %d (%v) is not a dictionary", pi+1, p.Ref)
		}
		pd := copyDict(cur)
		switch a := pd["Annots"].(type) {
		case Ref:
			arr, _ := inc.get(a).(Array)
			arr = append(append(Array{}, arr...), refsArray(refs)...)
			inc.set(a, arr)
		default:
			arr, _ := a.(Array)
			pd["Annots"] = append(append(Array{}, arr...), refsArray(refs)...)
			inc.set(p.Ref, pd)
		}
	}

	// AcroForm: add the field, SigFlags 3 (SignaturesExist | AppendOnly).
	newCat := copyDict(cat)
	catChanged := false
	addTo := func(d Dict) {
		if fill != nil {
			d["SigFlags"] = Int(3) // the field is already listed
			return
		}
		addField(inc, d, fieldRef)
	}
	switch af := cat["AcroForm"].(type) {
	case Ref:
		d := copyDict(v.Dict(af))
		addTo(d)
		inc.set(af, d)
	case Dict:
		d := copyDict(af)
		addTo(d)
		newCat["AcroForm"] = d
		catChanged = true
	default:
		d := Dict{}
		addTo(d)
		newCat["AcroForm"] = inc.add(d)
		catChanged = true
	}

	sig := Dict{
		"Type": Name("Sig"), "Filter": Name(FilterPPKLite), "SubFilter": Name(subFilter),
		"M":          String{B: []byte(pdfDate(when))},
		"Prop_Build": Dict{"App": Dict{"Name": Name("SealDesk")}, "Filter": Dict{"Name": Name(FilterPPKLite)}},
	}
	if cn := req.Identity.Certificate.Subject.CommonName; cn != "" {
		sig["Name"] = EncodeText(cn)
	}
	if req.Reason != "" {
		sig["Reason"] = EncodeText(req.Reason)
	}
	if req.Location != "" {
		sig["Location"] = EncodeText(req.Location)
	}
	if req.Certify != 0 {
		sig["Reference"] = Array{Dict{
			"Type": Name("SigRef"), "TransformMethod": Name("DocMDP"),
			"TransformParams": Dict{"Type": Name("TransformParams"), "P": Int(req.Certify), "V": Name("1.2")},
		}}
		perms := Dict{}
		if pd := v.Dict(cat["Perms"]); pd != nil {
			perms = copyDict(pd)
		}
		perms["DocMDP"] = sigRef
		newCat["Perms"] = perms
		catChanged = true
	}
	if fill != nil {
		// Signing a field that carries a lock records the lock in the signature (ISO 32000-1
		// 12.8.2.4), where verifiers look for it.
		if ld := v.Dict(fill.Dict["Lock"]); ld != nil {
			tp := Dict{"Type": Name("TransformParams"), "V": Name("1.2"), "Action": v.Resolve(ld["Action"])}
			if f := v.Resolve(ld["Fields"]); f != nil {
				tp["Fields"] = f
			}
			refs, _ := sig["Reference"].(Array)
			sig["Reference"] = append(refs, Dict{"Type": Name("SigRef"), "TransformMethod": Name("FieldMDP"), "TransformParams": tp})
		}
	}
	if req.Profile == document.ProfilePDFSES && len(req.Identity.Chain) > 0 {
		// An SES_Signature carries only the signer certificate; the issuing chain goes into the
		// document security store so verifiers can build the path (validation data, not trust).
		dss := Dict{}
		if old := v.Dict(cat["DSS"]); old != nil {
			dss = copyDict(old)
		}
		certs := append(Array{}, v.Array(dss["Certs"])...)
		for _, c := range req.Identity.Chain {
			certs = append(certs, inc.add(flateStream(Dict{}, c.Raw)))
		}
		dss["Certs"] = certs
		if r, ok := cat["DSS"].(Ref); ok {
			inc.set(r, dss)
		} else {
			newCat["DSS"] = inc.add(dss)
			catChanged = true
		}
	}
	inc.sigDict = sig
	inc.set(sigRef, sig)
	if catChanged {
		inc.set(catRef, newCat)
	}

	return writeSigned(ctx, in, size, inc, cont, out)
}

// writeSigned serialises the increment, patches /ByteRange, streams the original bytes to out
// while hashing, builds the container and fills /Contents.
func writeSigned(ctx context.Context, in io.ReaderAt, size int64, inc *increment, cont signer.Container, out io.Writer) error {
	var last [1]byte
	prefix := false
	if size > 0 {
		if _, err := in.ReadAt(last[:], size-1); err != nil {
			return err
		}
		prefix = last[0] != '\n' && last[0] != '\r'
	}
	lay, err := inc.serialise(prefix)
	if err != nil {
		return err
	}
	a := size + int64(lay.contentsStart)
	b := size + int64(lay.contentsEnd)
	total := size + int64(len(lay.buf))
	if err := lay.patchByteRange([4]int64{0, a, b, total - b}); err != nil {
		return err
	}
	h, err := cont.Digest().New()
	if err != nil {
		return err
	}
	// One pass: copy the original to out and into the hash.
	buf := make([]byte, 1<<20) // large blocks: fewer syscalls on multi-hundred-MB files
	if _, err := io.CopyBuffer(io.MultiWriter(out, h), io.NewSectionReader(in, 0, size), buf); err != nil {
		return fmt.Errorf("copying the original PDF: %w", err)
	}
	// The hash state after the original bytes is kept (cloned) so that a retry with a larger
	// placeholder does not need a second pass over the input.
	saved := cloneHash(h, cont.Digest())
	der, err := buildContainer(ctx, h, lay, cont)
	if err != nil {
		return err
	}
	if 2*len(der) > lay.contentsEnd-lay.contentsStart-2 {
		// The container's MaxSize was a broken promise (e.g. a TSA token larger than its
		// reserve). Never truncate: lay the increment out again once with room for what was
		// built plus a margin (a new token may be a little larger) and sign again. Only the
		// original bytes have been written to out so far, and they do not change.
		first := len(der)
		inc.contentsSz = first + max(first/2, 4096)
		if lay, err = inc.serialise(prefix); err != nil {
			return err
		}
		b = size + int64(lay.contentsEnd)
		total = size + int64(len(lay.buf))
		if err := lay.patchByteRange([4]int64{0, size + int64(lay.contentsStart), b, total - b}); err != nil {
			return err
		}
		if saved != nil {
			h = saved
		} else {
			if h, err = cont.Digest().New(); err != nil {
				return err
			}
			if _, err := io.CopyBuffer(h, io.NewSectionReader(in, 0, size), buf); err != nil {
				return fmt.Errorf("re-reading the original PDF: %w", err)
			}
		}
		if der, err = buildContainer(ctx, h, lay, cont); err != nil {
			return err
		}
		if 2*len(der) > lay.contentsEnd-lay.contentsStart-2 {
			return &PlaceholderError{Reserved: cont.MaxSize(), Retried: inc.contentsSz, First: first, Got: len(der)}
		}
	}
	if _, err := out.Write(lay.buf[:lay.contentsStart]); err != nil {
		return err
	}
	gap := lay.buf[lay.contentsStart+1 : lay.contentsEnd-1]
	for i, c := range der {
		gap[2*i] = hexDigits[c>>4]
		gap[2*i+1] = hexDigits[c&15]
	}
	_, err = out.Write(lay.buf[lay.contentsStart:])
	return err
}

// cloneHash copies a hash state (hash.Cloner, else through its binary marshaling, which SM3
// offers); nil when neither works.
func cloneHash(h hash.Hash, d signer.DigestAlgorithm) hash.Hash {
	if cl, ok := h.(hash.Cloner); ok {
		if c, err := cl.Clone(); err == nil {
			return c
		}
	}
	m, ok := h.(encoding.BinaryMarshaler)
	if !ok {
		return nil
	}
	state, err := m.MarshalBinary()
	if err != nil {
		return nil
	}
	c, err := d.New()
	if err != nil {
		return nil
	}
	u, ok := c.(encoding.BinaryUnmarshaler)
	if !ok || u.UnmarshalBinary(state) != nil {
		return nil
	}
	return c
}

// buildContainer hashes the increment around /Contents into h (which holds the original
// bytes' state) and builds the container over the digest.
func buildContainer(ctx context.Context, h hash.Hash, lay *layout, cont signer.Container) ([]byte, error) {
	h.Write(lay.buf[:lay.contentsStart])
	h.Write(lay.buf[lay.contentsEnd:])
	der, err := cont.Build(ctx, h.Sum(nil))
	if err != nil {
		return nil, fmt.Errorf("signing: %w", err)
	}
	return der, nil
}

// PlaceholderError: the signature container did not fit its /Contents placeholder even after
// the one retry with a placeholder sized from the first container. Nothing was truncated.
type PlaceholderError struct {
	Reserved int // the container's MaxSize (bytes)
	First    int // size of the first container built
	Retried  int // placeholder of the retry
	Got      int // size of the container built for the retry
}

func (e *PlaceholderError) Error() string {
	return fmt.Sprintf("the signature container does not fit its /Contents placeholder: %d bytes built for a %d-byte reserve, then %d bytes for the enlarged %d-byte reserve", e.First, e.Reserved, e.Got, e.Retried)
}

func containerFor(req *document.SignRequest, when time.Time) (signer.Container, string, error) {
	id := req.Identity
	alg, err := signer.AlgorithmOf(id.Certificate.PublicKey)
	if err != nil {
		return nil, "", signErr("signer certificate: %v", err)
	}
	var ts cms.Timestamper
	if req.TSA != "" {
		ts = &tsa.Client{URL: req.TSA}
	}
	switch req.Profile {
	case document.ProfilePAdES, "":
		return cms.NewContainer(cms.Options{Identity: id, Style: cms.Standard, PAdES: true, SigningTime: when, TSA: ts}), SubFilterCAdES, nil
	case document.ProfilePDFGM:
		if alg != signer.SM2 {
			return nil, "", signErr("profile pdf-gm needs an SM2 key; the signer's key is %s (use pades)", alg)
		}
		return cms.NewContainer(cms.Options{Identity: id, Style: cms.GM, SigningTime: when, TSA: ts}), SubFilterPKCS7, nil
	case document.ProfilePDFSES:
		if len(req.Seal) == 0 {
			return nil, "", signErr("profile pdf-ses needs an SES seal (--seal)")
		}
		o := ses.SignOptions{Version: ses.V4, Seal: req.Seal, Identity: id, PropertyInfo: "PDF", Time: when}
		if ts != nil {
			d := signer.DefaultDigest(alg)
			o.TSA = func(ctx context.Context, sigValue []byte) ([]byte, error) {
				h, _ := d.New()
				h.Write(sigValue)
				return ts.Stamp(ctx, d, h.Sum(nil))
			}
		}
		c, err := ses.NewContainer(o)
		if err != nil {
			return nil, "", err
		}
		return c, SubFilterSES, nil
	}
	return nil, "", signErr("profile %q does not apply to PDF (use pades, pdf-gm or pdf-ses)", req.Profile)
}

func addField(inc *increment, acro Dict, field Ref) {
	switch f := acro["Fields"].(type) {
	case Ref:
		arr, _ := inc.get(f).(Array)
		inc.set(f, append(append(Array{}, arr...), field))
	default:
		arr, _ := f.(Array)
		acro["Fields"] = append(append(Array{}, arr...), field)
	}
	acro["SigFlags"] = Int(3)
}

func refsArray(refs []Ref) Array {
	out := make(Array, len(refs))
	for i, r := range refs {
		out[i] = r
	}
	return out
}

func copyDict(d Dict) Dict {
	out := make(Dict, len(d)+2)
	for k, v := range d {
		out[k] = v
	}
	return out
}

// pdfDate formats t as a PDF date string (D:YYYYMMDDHHmmSS+hh'mm').
func pdfDate(t time.Time) string {
	s := t.Format("D:20060102150405")
	_, off := t.Zone()
	if off == 0 {
		return s + "Z"
	}
	sign := '+'
	if off < 0 {
		sign = '-'
		off = -off
	}
	return fmt.Sprintf("%s%c%02d'%02d'", s, sign, off/3600, off%3600/60)
}

// SigField is a signature field found in the AcroForm.
type SigField struct {
	Ref     Ref
	Name    string
	Dict    Dict
	Value   Object // /V (usually a reference to the signature dictionary)
	Widgets []Ref
}

// SignatureFields walks /AcroForm /Fields depth first (the order viewers list fields) for the
// terminal /FT /Sig fields, inheriting /FT, joining partial names with ".", skipping loops and
// trees deeper than 32. The verifier, the signer and the preview engine's signature overlay all
// read fields through it.
func SignatureFields(v *View) []SigField {
	cat, _, err := v.Catalog()
	if err != nil {
		return nil
	}
	acro := v.Dict(cat["AcroForm"])
	if acro == nil {
		return nil
	}
	var out []SigField
	seen := map[int]bool{}
	var walk func(o Object, prefix string, ft Name, depth int)
	walk = func(o Object, prefix string, ft Name, depth int) {
		if depth > 32 {
			return
		}
		r, isRef := o.(Ref)
		if isRef {
			if seen[r.Num] {
				return
			}
			seen[r.Num] = true
		}
		d := v.Dict(o)
		if d == nil {
			return
		}
		name := prefix
		if t, ok := v.Resolve(d["T"]).(String); ok {
			if name != "" {
				name += "."
			}
			name += TextString(t.B)
		}
		if f := NameOf(v.Resolve(d["FT"])); f != "" {
			ft = f
		}
		kids := v.Array(d["Kids"])
		// Kids that are widgets only (no /T) belong to this field.
		fieldKids := false
		for _, k := range kids {
			if kd := v.Dict(k); kd != nil && kd["T"] != nil {
				fieldKids = true
			}
		}
		if ft == "Sig" && !fieldKids {
			f := SigField{Ref: r, Name: name, Dict: d, Value: d["V"]}
			if len(kids) == 0 && isRef {
				f.Widgets = []Ref{r}
			}
			for _, k := range kids {
				if kr, ok := k.(Ref); ok {
					f.Widgets = append(f.Widgets, kr)
				}
			}
			out = append(out, f)
			return
		}
		for _, k := range kids {
			walk(k, name, ft, depth+1)
		}
	}
	for _, f := range v.Array(acro["Fields"]) {
		walk(f, "", "", 0)
	}
	return out
}

func uniqueFieldName(existing []SigField, base string) string {
	names := map[string]bool{}
	for _, f := range existing {
		names[f.Name] = true
	}
	for i := len(existing) + 1; ; i++ {
		n := fmt.Sprintf("%s%d", base, i)
		if !names[n] {
			return n
		}
	}
}

// docMDPPermission returns the P value of the document's certification signature (0: none).
func docMDPPermission(v *View) int {
	cat, _, err := v.Catalog()
	if err != nil {
		return 0
	}
	perms := v.Dict(cat["Perms"])
	if perms == nil {
		return 0
	}
	sd := v.Dict(perms["DocMDP"])
	if sd == nil {
		return 0
	}
	return docMDPOf(v, sd)
}

// docMDPOf returns the DocMDP P value of a signature dictionary's /Reference (0: none; 2 when
// /P is missing, as the spec says).
func docMDPOf(v *View, sd Dict) int {
	for _, r := range v.Array(sd["Reference"]) {
		rd := v.Dict(r)
		if rd == nil || NameOf(v.Resolve(rd["TransformMethod"])) != "DocMDP" {
			continue
		}
		p := 2
		if tp := v.Dict(rd["TransformParams"]); tp != nil {
			if n, ok := v.Num(tp["P"]); ok && n >= 1 && n <= 3 {
				p = int(n)
			}
		}
		return p
	}
	return 0
}

var _ image.Image = (*image.NRGBA)(nil)
