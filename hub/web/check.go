package web

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"image"
	"image/draw"
	"image/png"
	"io"
	"mime"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"sealdesk/document"
	"sealdesk/hub/api"
	"sealdesk/hub/outbox"
	"sealdesk/hub/server"
	"sealdesk/internal/overlay"
	"sealdesk/internal/report"
)

type checkData struct {
	Limit      string
	LimitBytes int64
	ESID       string
}

func humanSize(n int64) string {
	if n%(1<<20) == 0 {
		return fmt.Sprintf("%d MB", n>>20)
	}
	return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
}

func (s *Server) checkForm(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "check", &view{Title: tr(langOf(r), "nav.check"),
		Data: checkData{Limit: humanSize(s.opt.MaxUpload), LimitBytes: s.opt.MaxUpload}})
}

func wantsJSON(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "application/json")
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

// uploadError is a refusal of an upload: an HTTP status and a message id.
type uploadError struct {
	code int
	msg  string
}

// readUpload reads the "file" part of a multipart/form-data body into memory, at most
// MaxUpload bytes. Nothing touches the disk (unlike Request.ParseMultipartForm, which spills
// large files to temporary files).
func (s *Server) readUpload(w http.ResponseWriter, r *http.Request, lang string) ([]byte, string, *uploadError) {
	limit := s.opt.MaxUpload
	tooLarge := &uploadError{http.StatusRequestEntityTooLarge, tr(lang, "err.tooLarge", humanSize(limit))}
	// Read (and drop) what a browser sends beyond the limit, up to a bound, so it sees the
	// answer instead of a reset connection; past the bound the connection is closed.
	drain := func() { io.Copy(io.Discard, io.LimitReader(r.Body, 4*limit)) }
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		return nil, "", &uploadError{http.StatusUnsupportedMediaType, tr(lang, "err.notMultipart")}
	}
	if r.ContentLength > limit+1<<20 {
		drain()
		return nil, "", tooLarge
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, "", &uploadError{http.StatusBadRequest, tr(lang, "err.notMultipart")}
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil, "", &uploadError{http.StatusBadRequest, tr(lang, "err.noFile")}
		}
		if err != nil {
			return nil, "", &uploadError{http.StatusBadRequest, tr(lang, "err.notMultipart")}
		}
		if part.FormName() != "file" {
			io.Copy(io.Discard, io.LimitReader(part, 1<<20))
			continue
		}
		name := filepath.Base(strings.ReplaceAll(part.FileName(), `\`, "/"))
		if name == "." || name == "/" {
			name = "upload"
		}
		var buf bytes.Buffer
		if r.ContentLength > 0 {
			buf.Grow(int(min(r.ContentLength, limit+1)))
		}
		n, err := io.Copy(&buf, io.LimitReader(part, limit+1))
		if err != nil {
			return nil, "", &uploadError{http.StatusBadRequest, tr(lang, "err.notMultipart")}
		}
		if n > limit {
			drain()
			return nil, "", tooLarge
		}
		if n == 0 {
			if part.FileName() == "" {
				return nil, "", &uploadError{http.StatusBadRequest, tr(lang, "err.noFile")}
			}
			return nil, "", &uploadError{http.StatusBadRequest, tr(lang, "err.empty")}
		}
		return buf.Bytes(), name, nil
	}
}

// acquire takes one of the Checks slots, waiting at most 20 s.
func (s *Server) acquire(ctx context.Context) bool {
	t := time.NewTimer(20 * time.Second)
	defer t.Stop()
	select {
	case s.checks <- struct{}{}:
		return true
	case <-ctx.Done():
	case <-t.C:
	}
	return false
}

func (s *Server) checkUpload(w http.ResponseWriter, r *http.Request) {
	lang := langOf(r)
	// The slot is taken before the body is read: at most Checks uploads are in memory.
	if !s.acquire(r.Context()) {
		w.Header().Set("Retry-After", "5")
		s.fail(w, r, http.StatusServiceUnavailable, tr(lang, "err.busy"))
		return
	}
	defer func() { <-s.checks }()
	r.Body = http.MaxBytesReader(w, r.Body, 5*s.opt.MaxUpload+1<<20)
	data, name, ue := s.readUpload(w, r, lang)
	if ue != nil {
		if ue.code == http.StatusRequestEntityTooLarge {
			w.Header().Set("Connection", "close")
		}
		s.fail(w, r, ue.code, ue.msg)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.opt.CheckTimeout)
	defer cancel()
	rep, err := s.Verify(ctx, data, name)
	if err != nil {
		msg := tr(lang, "err.unreadable", err.Error())
		if errors.Is(err, document.ErrUnknownFormat) {
			msg = tr(lang, "err.unknownFormat")
		}
		s.fail(w, r, http.StatusBadRequest, msg)
		return
	}
	if wantsJSON(r) {
		writeJSON(w, http.StatusOK, rep)
		return
	}
	res := s.result(ctx, lang, data, rep)
	s.render(w, r, http.StatusOK, "report", &view{Title: tr(lang, "rep.heading"), Data: res})
}

// Verify checks a document held in memory exactly as `sealctl verify --hub` checks a file:
// the document's own facts (document.VerifyAt), then the registry facts, asked of this hub
// in process through the same rule (outbox.RegistryWith) the CLI asks over HTTP.
func (s *Server) Verify(ctx context.Context, data []byte, name string) (*document.VerifyReport, error) {
	opts := s.opt.Verify
	rep, err := document.VerifyAt(ctx, bytes.NewReader(data), int64(len(data)), name, &opts)
	if err != nil {
		return nil, err
	}
	ask := func(ctx context.Context, req api.VerifyRequest) (*api.VerifyResult, error) {
		res, e := s.hub.Verify(ctx, api.Principal{}, req)
		if e != nil {
			// A refusal as the HTTP client reports it, so RegistryWith treats it alike.
			return nil, &api.Error{HTTPStatus: api.StatusFor(e.Code), ErrorBody: *e}
		}
		return res, nil
	}
	if err := outbox.RegistryWith(ctx, ask, data, nil, rep); err != nil {
		rep.Problems = append(rep.Problems, document.Problem{Code: "registry-unreachable", Message: err.Error()})
	}
	rep.Decide()
	return rep, nil
}

type fact struct{ Label, Value, Class string }

type sigView struct {
	N        int
	State    string
	Verdict  string
	Facts    []fact
	Reasons  []string // why the verdict is what it is (internal/report's catalogue)
	Notes    []string // other findings
	Problems []document.Problem
}

type pageView struct {
	N      int
	Src    template.URL
	W, H   int
	Failed string
}

type reportData struct {
	Rep      *document.VerifyReport
	State    string
	Verdict  string
	Sigs     []sigView
	Pages    []pageView
	Omitted  bool
	MaxPages int
	JSONHref template.URL
	JSONName string
	PDFHref  template.URL
	PDFName  string
	PageErr  string
}

func reportLang(lang string) report.Lang {
	if lang == langEN {
		return report.English
	}
	return report.Chinese
}

// factClass colours a fact's value: the label/value lines are internal/report's (the same the
// app's panel and the PDF report show), matched to the facts they state.
func factClass(s *document.SignatureReport, i int) string {
	var v string
	switch i {
	case 3:
		v = string(s.Integrity)
	case 4:
		v = s.ChangesAfter
	case 5:
		v = string(s.Trust)
	case 6:
		v = string(s.Revocation)
	case 7:
		v = string(s.Registry)
	default:
		return ""
	}
	switch v {
	case string(document.OK), document.None, document.Allowed:
		return "ok"
	case string(document.Failed), document.Disallowed:
		return "bad"
	}
	return "warn"
}

func statusText(lang, st string) string {
	if _, ok := msgs["status."+st]; ok {
		return tr(lang, "status."+st)
	}
	return st
}

// result builds the report page: the verdict and facts of each signature in words (package
// internal/report's catalogue, as the app and the PDF report say them), the seal's registry
// entry (status at signing and now), the pages with the seals outlined, and the report to
// download as JSON and PDF.
func (s *Server) result(ctx context.Context, lang string, data []byte, rep *document.VerifyReport) *reportData {
	l := reportLang(lang)
	st := overlay.Worst(rep)
	d := &reportData{Rep: rep, State: st.Name(), Verdict: report.IndicationText(rep.Indication, l), MaxPages: s.opt.MaxPages}
	if len(rep.Signatures) == 0 {
		d.Verdict = tr(lang, "rep.nosig")
	}
	base := strings.TrimSuffix(rep.File, filepath.Ext(rep.File))
	js, _ := json.MarshalIndent(rep, "", "  ")
	d.JSONHref = template.URL("data:application/json;base64," + base64.StdEncoding.EncodeToString(js))
	d.JSONName = base + "-report.json"
	var pdf bytes.Buffer
	if err := report.WritePDF(&pdf, rep, report.Options{Lang: l}); err == nil {
		d.PDFHref = template.URL("data:application/pdf;base64," + base64.StdEncoding.EncodeToString(pdf.Bytes()))
		d.PDFName = base + "-report.pdf"
	}
	for i := range rep.Signatures {
		sg := &rep.Signatures[i]
		sst := overlay.StateOf(sg)
		v := sigView{N: i + 1, State: sst.Name(), Verdict: report.IndicationText(sg.Indication, l),
			Reasons: report.Reasons(sg, l), Notes: report.Notes(sg, l), Problems: sg.Problems}
		for j, line := range report.Lines(sg, l) {
			v.Facts = append(v.Facts, fact{line[0], line[1], factClass(sg, j)})
		}
		add := func(label, value, class string) { v.Facts = append(v.Facts, fact{tr(lang, label), value, class}) }
		if sg.Seal != nil {
			if ps, e := s.hub.LookupSeal(ctx, sg.Seal.ESID); e == nil {
				if t, err := time.Parse(time.RFC3339, sg.SignedAt); err == nil {
					at := api.StatusAt(ps.History, t)
					add("rep.atSigning", statusText(lang, at.Status), statusClass(at.Status))
				}
				add("rep.now", statusText(lang, ps.Status)+" ("+ps.StatusAt.UTC().Format("2006-01-02 15:04Z")+")", statusClass(ps.Status))
			} else {
				add("rep.now", tr(lang, "rep.notFiled"), "bad")
			}
		}
		yes := tr(lang, "fact.no")
		if sg.CoversWholeDocument {
			yes = tr(lang, "fact.yes")
		}
		add("rep.whole", yes, "")
		d.Sigs = append(d.Sigs, v)
	}
	d.Pages, d.Omitted, d.PageErr = s.renderPages(ctx, data, rep)
	return d
}

func statusClass(st string) string {
	switch st {
	case api.StatusActive:
		return "ok"
	case api.StatusSuspended, api.StatusFiled:
		return "warn"
	}
	return "bad"
}

// renderPages draws the first MaxPages pages and every page with a seal, with the outlines.
func (s *Server) renderPages(ctx context.Context, data []byte, rep *document.VerifyReport) ([]pageView, bool, string) {
	doc, err := document.OpenAt(bytes.NewReader(data), int64(len(data)), rep.File)
	if err != nil {
		return nil, false, err.Error()
	}
	defer doc.Close()
	outlines := overlay.Outlines(rep)
	want := map[int]bool{}
	for _, o := range outlines {
		want[o.Page] = true
	}
	n := doc.NumPages()
	omitted := false
	var out []pageView
	for i := 0; i < n; i++ {
		if i >= s.opt.MaxPages && !want[i] {
			omitted = true
			continue
		}
		if ctx.Err() != nil {
			break
		}
		pv := pageView{N: i + 1}
		size, err := doc.PageSize(i)
		var img image.Image
		if err == nil {
			img, err = doc.Render(ctx, i, s.opt.DPI)
		}
		if err != nil {
			pv.Failed = err.Error()
			out = append(out, pv)
			continue
		}
		rgba, ok := img.(draw.Image)
		if !ok {
			b := img.Bounds()
			m := image.NewRGBA(b)
			draw.Draw(m, b, img, b.Min, draw.Src)
			rgba = m
		}
		overlay.Draw(rgba, i, size, outlines, 3)
		var buf bytes.Buffer
		enc := png.Encoder{CompressionLevel: png.BestSpeed}
		if err := enc.Encode(&buf, rgba); err != nil {
			pv.Failed = err.Error()
			out = append(out, pv)
			continue
		}
		pv.W, pv.H = rgba.Bounds().Dx(), rgba.Bounds().Dy()
		pv.Src = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()))
		out = append(out, pv)
	}
	return out, omitted, ""
}

type lookupData struct {
	ESID  string
	Seal  *server.PublicSeal
	Error string
}

// sealLookup shows a seal's public registry entry and status history (GET /seal?id=ESID).
func (s *Server) sealLookup(w http.ResponseWriter, r *http.Request) {
	lang := langOf(r)
	id := strings.TrimSpace(r.URL.Query().Get("id"))
	d := lookupData{ESID: id}
	code := http.StatusOK
	if id != "" {
		ps, e := s.hub.LookupSeal(r.Context(), id)
		if e != nil {
			code = api.StatusFor(e.Code)
			d.Error = e.Message
		}
		d.Seal = ps
		if wantsJSON(r) {
			if e != nil {
				writeJSON(w, code, api.ErrorResponse{Error: *e})
			} else {
				writeJSON(w, code, ps)
			}
			return
		}
	}
	s.render(w, r, code, "seal_lookup", &view{Lang: lang, Title: tr(lang, "seal.heading"), Data: d})
}
