package web

import (
	"bytes"
	"encoding/base64"
	"html/template"
	"image/png"
	"net/http"
	"net/url"
	"strings"

	"sealdesk/hub/api"
)

// The application queue (issue 13's lifecycle): reviewers see the pending applications of
// every organisation and approve, return (with a reason) or reject them; organisations see
// their own; auditors and admins read. Every decision is the hub's own method, so its role
// rules (a reviewer never decides their own organisation's application) and its signed audit
// events apply as they do through the API.

type appsData struct {
	Apps    []api.Application
	Status  string
	Pending bool
}

func (s *Server) applications(w http.ResponseWriter, r *http.Request, c *call) {
	q := r.URL.Query()
	d := appsData{Status: q.Get("status"), Pending: q.Get("all") == "" && c.p().Role == api.RoleReviewer}
	list, e := s.hub.Applications(r.Context(), c.p(), q.Get("org"), d.Status, d.Pending)
	if e != nil {
		s.hubFail(w, r, e)
		return
	}
	d.Apps = list
	s.render(w, r, http.StatusOK, "applications", s.view(r, c, tr(c.lang, "nav.apps"), d))
}

type appData struct {
	App       *api.Application
	Type      api.SealType
	Picture   template.URL
	PicW      float64 // mm
	PicH      float64
	CanDecide bool
}

func (s *Server) application(w http.ResponseWriter, r *http.Request, c *call) {
	s.applicationPage(w, r, c, http.StatusOK, "")
}

func (s *Server) applicationPage(w http.ResponseWriter, r *http.Request, c *call, code int, flash string) {
	a, e := s.hub.Application(r.Context(), c.p(), r.PathValue("id"))
	if e != nil {
		s.hubFail(w, r, e)
		return
	}
	d := appData{App: a, CanDecide: c.p().Role == api.RoleReviewer && api.AppPending(a.Status)}
	for _, t := range s.hub.SealTypes() {
		if t.Code == a.SealType {
			d.Type = t
		}
	}
	if len(a.Picture) > 0 {
		// The picture at its true size: the type's standard size in mm (CSS mm), or else
		// the PNG's own size at 96 dpi.
		d.Picture = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(a.Picture))
		d.PicW, d.PicH = float64(d.Type.WidthMM), float64(d.Type.HeightMM)
		if d.PicW == 0 {
			if cfg, err := png.DecodeConfig(bytes.NewReader(a.Picture)); err == nil {
				d.PicW, d.PicH = float64(cfg.Width)*25.4/96, float64(cfg.Height)*25.4/96
			}
		}
	}
	if flash == "" && r.URL.Query().Get("done") != "" {
		flash = tr(c.lang, "app.decided")
	}
	v := s.view(r, c, a.SealName, d)
	v.Flash, v.FlashBad = flash, code >= 400
	s.render(w, r, code, "application", v)
}

func (s *Server) decide(w http.ResponseWriter, r *http.Request, c *call) {
	id := r.PathValue("id")
	reason := strings.TrimSpace(r.PostFormValue("reason"))
	var e *api.ErrorBody
	switch r.PostFormValue("decision") {
	case "approve":
		_, e = s.hub.ApproveApplication(r.Context(), c.p(), id, reason)
	case "return":
		_, e = s.hub.ReturnApplication(r.Context(), c.p(), id, reason)
	case "reject":
		_, e = s.hub.RejectApplication(r.Context(), c.p(), id, reason)
	default:
		s.applicationPage(w, r, c, http.StatusBadRequest, "decision: want approve, return or reject")
		return
	}
	if e != nil {
		if e.Code == api.CodeNotFound {
			s.hubFail(w, r, e)
			return
		}
		s.applicationPage(w, r, c, api.StatusFor(e.Code), e.Message)
		return
	}
	http.Redirect(w, r, "/console/applications/"+url.PathEscape(id)+"?done=1", http.StatusSeeOther)
}
