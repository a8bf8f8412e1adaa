package server

import (
	"net/http"

	"sealdesk/hub/api"
)

// addLifecycleRoutes serves the seal lifecycle (lifecycle.go) under /v1.
func (h *Hub) addLifecycleRoutes(mux *http.ServeMux) {
	add := func(pattern string, m map[string]handlerFunc) { mux.Handle(pattern, h.wrap(&route{methods: m})) }
	decision := func(r *http.Request) (string, *api.ErrorBody) {
		var d api.Decision
		if r.ContentLength == 0 {
			return "", nil
		}
		if e := decode(r, &d); e != nil {
			return "", e
		}
		return d.Reason, nil
	}
	add("/v1/seal-types", map[string]handlerFunc{"GET": func(*http.Request) (any, *api.ErrorBody) {
		return api.SealTypeList{Types: h.SealTypes()}, nil
	}})
	add("/v1/applications", map[string]handlerFunc{
		"GET": func(r *http.Request) (any, *api.ErrorBody) {
			q := r.URL.Query()
			list, e := h.Applications(r.Context(), principal(r), q.Get("org"), q.Get("status"), q.Get("pending") == "1" || q.Get("pending") == "true")
			if e != nil {
				return nil, e
			}
			return api.ApplicationList{Applications: list}, nil
		},
		"POST": func(r *http.Request) (any, *api.ErrorBody) {
			var req api.ApplicationRequest
			if e := decode(r, &req); e != nil {
				return nil, e
			}
			v, e := h.Apply(r.Context(), principal(r), req)
			return created{v}, e
		},
	})
	add("/v1/applications/{id}", map[string]handlerFunc{
		"GET": func(r *http.Request) (any, *api.ErrorBody) {
			return h.Application(r.Context(), principal(r), r.PathValue("id"))
		},
		"PUT": func(r *http.Request) (any, *api.ErrorBody) {
			var req api.ApplicationRequest
			if e := decode(r, &req); e != nil {
				return nil, e
			}
			return h.EditApplication(r.Context(), principal(r), r.PathValue("id"), req)
		},
	})
	type step func(r *http.Request, id, reason string) (any, *api.ErrorBody)
	for name, fn := range map[string]step{
		"submit": func(r *http.Request, id, _ string) (any, *api.ErrorBody) {
			return h.SubmitApplication(r.Context(), principal(r), id)
		},
		"withdraw": func(r *http.Request, id, reason string) (any, *api.ErrorBody) {
			return h.WithdrawApplication(r.Context(), principal(r), id, reason)
		},
		"return": func(r *http.Request, id, reason string) (any, *api.ErrorBody) {
			return h.ReturnApplication(r.Context(), principal(r), id, reason)
		},
		"reject": func(r *http.Request, id, reason string) (any, *api.ErrorBody) {
			return h.RejectApplication(r.Context(), principal(r), id, reason)
		},
		"approve": func(r *http.Request, id, reason string) (any, *api.ErrorBody) {
			return h.ApproveApplication(r.Context(), principal(r), id, reason)
		},
	} {
		add("/v1/applications/{id}/"+name, map[string]handlerFunc{"POST": func(r *http.Request) (any, *api.ErrorBody) {
			reason, e := decision(r)
			if e != nil {
				return nil, e
			}
			return fn(r, r.PathValue("id"), reason)
		}})
	}
	add("/v1/applications/{id}/seal", map[string]handlerFunc{"GET": func(r *http.Request) (any, *api.ErrorBody) {
		return h.FetchSeal(r.Context(), principal(r), r.PathValue("id"))
	}})
	add("/v1/seals/{id}/delivered", map[string]handlerFunc{"POST": func(r *http.Request) (any, *api.ErrorBody) {
		if r.ContentLength != 0 {
			var none struct{}
			if e := decode(r, &none); e != nil { // the body, when there is one, is {}
				return nil, e
			}
		}
		return h.DeliverSeal(r.Context(), principal(r), r.PathValue("id"))
	}})
}
