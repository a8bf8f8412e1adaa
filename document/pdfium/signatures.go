package pdfium

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"

	gopdfium "github.com/klippa-app/go-pdfium"
	"github.com/klippa-app/go-pdfium/enums"
	"github.com/klippa-app/go-pdfium/references"
	"github.com/klippa-app/go-pdfium/requests"

	"sealdesk/document"
	"sealdesk/document/pdf"
)

// sigWidget is one widget of a signature field.
type sigWidget struct {
	page   int
	name   string
	signed bool // the widget dictionary carries /V (merged field and widget, the usual layout)
	rect   document.Rect
}

// Signatures implements document.Document. It lists the signed signature fields of the
// AcroForm in /Fields order (the order PDFium and other viewers list them), each with its
// field name, /SubFilter, /M, /Reason, profile label and the page and rectangle of each of its
// widgets, in mm from the visible top-left of that page.
//
// Fields, widgets and signature dictionaries are read with the project's own PDF reader
// (package document/pdf), which follows /Fields → /Kids → /V and each page's /Annots, so every
// signature is paired with exactly its own widgets whatever the order of fields and pages.
// PDFium (by-order pairing) is used only when that reader cannot parse the file.
func (d *Document) Signatures() ([]document.SignatureInfo, error) {
	sigs, err := exactSignatures(d.f, d.size)
	if err != nil {
		// Files PDFium repairs beyond what our reader accepts still get a list.
		return d.signaturesByOrder()
	}
	return sigs, nil
}

// exactSignatures reads the signatures of the PDF in r (size bytes) as the last revision shows
// them.
func exactSignatures(r io.ReaderAt, size int64) ([]document.SignatureInfo, error) {
	rd, err := pdf.NewReader(r, size)
	if err != nil {
		return nil, err
	}
	v := rd.Final
	pages, err := v.Pages()
	if err != nil {
		return nil, err
	}
	// Widget → page, from each page's /Annots: a widget's /P is optional and sometimes wrong.
	pageOf := map[pdf.Ref]int{}
	byRef := map[pdf.Ref]int{}
	for i, p := range pages {
		byRef[p.Ref] = i
		for _, a := range v.Array(p.Dict["Annots"]) {
			if ar, ok := a.(pdf.Ref); ok {
				if _, dup := pageOf[ar]; !dup {
					pageOf[ar] = i
				}
			}
		}
	}
	sigs := []document.SignatureInfo{}
	for _, f := range pdf.SignatureFields(v) {
		sd := v.Dict(f.Value)
		if sd == nil {
			continue // an empty field waiting for a signer is not a signature
		}
		sub := string(pdf.NameOf(sd["SubFilter"]))
		var contents []byte
		if c, ok := v.Resolve(sd["Contents"]).(pdf.String); ok {
			contents = c.B
		}
		if sub == "" && len(contents) == 0 {
			continue
		}
		info := document.SignatureInfo{Index: len(sigs), Name: f.Name, Profile: profileOf(sub, contents),
			Pages: []int{}, Rects: []document.Rect{}}
		if sub != "" {
			info.Extra = append(info.Extra, "subFilter="+sub)
		}
		if m, ok := v.Resolve(sd["M"]).(pdf.String); ok {
			info.Time = pdf.TextString(m.B)
		}
		if rs, ok := v.Resolve(sd["Reason"]).(pdf.String); ok && len(rs.B) > 0 {
			info.Extra = append(info.Extra, "reason="+pdf.TextString(rs.B))
		}
		for _, w := range f.Widgets {
			wd := v.Dict(w)
			if wd == nil {
				continue
			}
			pi, ok := pageOf[w]
			if !ok {
				if pr, isRef := wd["P"].(pdf.Ref); isRef {
					pi, ok = byRef[pr]
				}
			}
			rect := v.Array(wd["Rect"])
			if !ok || len(rect) != 4 {
				continue // an invisible signature (no widget on a page)
			}
			var b [4]float64
			for k := range b {
				b[k], _ = v.Num(rect[k])
			}
			b = [4]float64{min(b[0], b[2]), min(b[1], b[3]), max(b[0], b[2]), max(b[1], b[3])}
			if b[2]-b[0] <= 0 || b[3]-b[1] <= 0 {
				continue // zero-size widget: an invisible signature
			}
			info.Pages = append(info.Pages, pi)
			info.Rects = append(info.Rects, pages[pi].RectFromUser(b))
		}
		sigs = append(sigs, info)
	}
	return sigs, nil
}

// signaturesByOrder is the fallback of Signatures for files the project's reader cannot parse
// but PDFium can: PDFium links no signature dictionary to its widget, so they are paired in
// order, the n-th signature with the n-th signed signature field met in page order (widgets of
// one field are grouped). That is right for documents signed page by page only.
func (d *Document) signaturesByOrder() ([]document.SignatureInfo, error) {
	ctx := context.Background()
	var sigs []document.SignatureInfo
	err := d.with(ctx, func(inst gopdfium.Pdfium, h *handle) error {
		cnt, err := inst.FPDF_GetSignatureCount(&requests.FPDF_GetSignatureCount{Document: h.doc})
		if err != nil {
			return err
		}
		for i := 0; i < cnt.Count; i++ {
			so, err := inst.FPDF_GetSignatureObject(&requests.FPDF_GetSignatureObject{Document: h.doc, Index: i})
			if err != nil {
				return err
			}
			var info document.SignatureInfo
			sub := ""
			if r, err := inst.FPDFSignatureObj_GetSubFilter(&requests.FPDFSignatureObj_GetSubFilter{Signature: so.Signature}); err == nil && r.SubFilter != nil {
				sub = *r.SubFilter
			}
			var contents []byte
			if r, err := inst.FPDFSignatureObj_GetContents(&requests.FPDFSignatureObj_GetContents{Signature: so.Signature}); err == nil {
				contents = r.Contents
			}
			if sub == "" && len(contents) == 0 {
				// PDFium lists unsigned signature fields too (an empty field waiting for a
				// signer): they are not signatures.
				continue
			}
			info.Index = len(sigs)
			info.Profile = profileOf(sub, contents)
			if sub != "" {
				info.Extra = append(info.Extra, "subFilter="+sub)
			}
			if r, err := inst.FPDFSignatureObj_GetTime(&requests.FPDFSignatureObj_GetTime{Signature: so.Signature}); err == nil && r.Time != nil {
				info.Time = *r.Time
			}
			if r, err := inst.FPDFSignatureObj_GetReason(&requests.FPDFSignatureObj_GetReason{Signature: so.Signature}); err == nil && r.Reason != nil && *r.Reason != "" {
				info.Extra = append(info.Extra, "reason="+*r.Reason)
			}
			sigs = append(sigs, info)
		}
		return nil
	})
	if err != nil {
		return nil, d.wrap(err)
	}
	if len(sigs) == 0 {
		return []document.SignatureInfo{}, nil
	}
	widgets, err := d.signatureWidgets(ctx)
	if err != nil {
		return nil, err
	}
	// Group widgets by field name, in page order, preferring fields that carry a value.
	type field struct {
		name   string
		signed bool
		pages  []int
		rects  []document.Rect
	}
	var fields []*field
	byName := map[string]*field{}
	for _, w := range widgets {
		f := byName[w.name]
		if f == nil || w.name == "" {
			f = &field{name: w.name}
			fields = append(fields, f)
			if w.name != "" {
				byName[w.name] = f
			}
		}
		f.signed = f.signed || w.signed
		f.pages = append(f.pages, w.page)
		f.rects = append(f.rects, w.rect)
	}
	var signed []*field
	for _, f := range fields {
		if f.signed {
			signed = append(signed, f)
		}
	}
	// Fields whose value sits on a parent (widgets as kids) show no /V on the widget: fall back
	// to every signature field.
	if len(signed) < len(sigs) {
		signed = fields
	}
	for i := range sigs {
		sigs[i].Pages, sigs[i].Rects = []int{}, []document.Rect{}
		if i < len(signed) {
			sigs[i].Name = signed[i].name
			sigs[i].Pages = signed[i].pages
			sigs[i].Rects = signed[i].rects
		}
	}
	return sigs, nil
}

// signatureWidgets lists every signature-field widget, page by page.
func (d *Document) signatureWidgets(ctx context.Context) ([]sigWidget, error) {
	var out []sigWidget
	for i := 0; i < d.n; i++ {
		g, err := d.geometry(ctx, i, true)
		if err != nil {
			return nil, err
		}
		err = d.with(ctx, func(inst gopdfium.Pdfium, h *handle) error {
			form, ok := formHandle(inst, h)
			if !ok {
				return fmt.Errorf("PDFium could not read the form fields")
			}
			page := requests.Page{ByIndex: &requests.PageByIndex{Document: h.doc, Index: i}}
			n, err := inst.FPDFPage_GetAnnotCount(&requests.FPDFPage_GetAnnotCount{Page: page})
			if err != nil {
				return err
			}
			for k := 0; k < n.Count; k++ {
				a, err := inst.FPDFPage_GetAnnot(&requests.FPDFPage_GetAnnot{Page: page, Index: k})
				if err != nil {
					continue
				}
				w, ok := sigWidgetOf(inst, form, a.Annotation, i, g)
				inst.FPDFPage_CloseAnnot(&requests.FPDFPage_CloseAnnot{Annotation: a.Annotation})
				if ok {
					out = append(out, w)
				}
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("%s: page %d: signature widgets: %w", d.name, i+1, err)
		}
	}
	return out, nil
}

func sigWidgetOf(inst gopdfium.Pdfium, form references.FPDF_FORMHANDLE, annot references.FPDF_ANNOTATION, page int, g *pageGeom) (sigWidget, bool) {
	st, err := inst.FPDFAnnot_GetSubtype(&requests.FPDFAnnot_GetSubtype{Annotation: annot})
	if err != nil || st.Subtype != enums.FPDF_ANNOT_SUBTYPE_WIDGET {
		return sigWidget{}, false
	}
	ft, err := inst.FPDFAnnot_GetFormFieldType(&requests.FPDFAnnot_GetFormFieldType{FormHandle: form, Annotation: annot})
	if err != nil || ft.FormFieldType != enums.FPDF_FORMFIELD_TYPE_SIGNATURE {
		return sigWidget{}, false
	}
	r, err := inst.FPDFAnnot_GetRect(&requests.FPDFAnnot_GetRect{Annotation: annot})
	if err != nil {
		return sigWidget{}, false
	}
	w := sigWidget{page: page}
	w.rect = g.rectMM(float64(r.Rect.Left), float64(r.Rect.Bottom), float64(r.Rect.Right), float64(r.Rect.Top))
	if n, err := inst.FPDFAnnot_GetFormFieldName(&requests.FPDFAnnot_GetFormFieldName{FormHandle: form, Annotation: annot}); err == nil {
		w.name = n.FormFieldName
	}
	if vt, err := inst.FPDFAnnot_GetValueType(&requests.FPDFAnnot_GetValueType{Annotation: annot, Key: "V"}); err == nil {
		w.signed = vt.ValueType == enums.FPDF_OBJECT_TYPE_DICTIONARY || vt.ValueType == enums.FPDF_OBJECT_TYPE_REFERENCE
	}
	return w, true
}

// profileOf names the signature profile from /SubFilter and, for adbe.pkcs7.detached, a look
// at /Contents: GM/T 0010 OIDs (1.2.156.10197.…) mean pdf-gm, a DER structure that is not a
// CMS ContentInfo means a GB/T 38540 SES_Signature (pdf-ses). It is a label for the list, not a
// verification.
func profileOf(subFilter string, contents []byte) string {
	switch subFilter {
	case "ETSI.CAdES.detached":
		return string(document.ProfilePAdES)
	case "ETSI.RFC3161":
		return "timestamp"
	case "adbe.pkcs7.detached", "adbe.pkcs7.sha1":
		switch {
		case len(contents) == 0:
			return "pkcs7"
		case !isContentInfo(contents):
			return string(document.ProfilePDFSES)
		case bytes.Contains(contents, gmOIDPrefix):
			return string(document.ProfilePDFGM)
		default:
			return "pkcs7"
		}
	case "":
		return "unknown"
	default:
		return strings.ToLower(subFilter)
	}
}

var (
	// 1.2.156.10197 (the Chinese GM algorithm arc), DER-encoded.
	gmOIDPrefix = []byte{0x2A, 0x81, 0x1C, 0xCF, 0x55}
	// 1.2.840.113549.1.7.2 (signedData) and 1.2.156.10197.6.1.4.2.2 (GM signedData).
	oidSignedData   = []byte{0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x02}
	oidGMSignedData = []byte{0x06, 0x0A, 0x2A, 0x81, 0x1C, 0xCF, 0x55, 0x06, 0x01, 0x04, 0x02, 0x02}
)

// isContentInfo reports whether der starts with SEQUENCE { signedData OID, ... }.
func isContentInfo(der []byte) bool {
	if len(der) < 2 || der[0] != 0x30 {
		return false
	}
	i := 2
	if der[1]&0x80 != 0 {
		i += int(der[1] & 0x7F)
	}
	if i >= len(der) {
		return false
	}
	rest := der[i:]
	return bytes.HasPrefix(rest, oidSignedData) || bytes.HasPrefix(rest, oidGMSignedData)
}
