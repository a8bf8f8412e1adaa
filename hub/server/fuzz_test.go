package server_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"sealdesk/hub/api"
	"sealdesk/hub/hubtest"
	"sealdesk/hub/server"
)

// FuzzRequests sends arbitrary bodies to every endpoint that takes one and checks the hub
// answers each with a JSON object — a refusal with a stable code, or a result — and never with
// a panic or an internal error.
func FuzzRequests(f *testing.F) {
	for _, s := range []string{`{}`, `{"records": [{"id": "a", "sealId": "1"}]}`, `{"ids": ["1", ""]}`,
		`{"esId": "x", "seal": "MAA=", "certificates": ["MAA="]}`, `{"signature": "MAA=", "docDigest": "00"}`,
		`{"status": "revoked", "reason": "r", "at": "2020-01-01T00:00:00Z"}`, `[`, "\x00", `{"validEnd": 5}`} {
		for route := 0; route < 8; route++ {
			f.Add(uint8(route), []byte(s))
		}
	}
	env := hubtest.Start(f, "sqlite", server.Options{Rate: -1})
	routes := []struct{ method, path string }{
		{"POST", "/v1/records"}, {"PUT", "/v1/records/r1"}, {"POST", "/v1/status"}, {"POST", "/v1/seals"},
		{"POST", "/v1/seals/" + env.A.SealID + "/renew"}, {"POST", "/v1/verify"}, {"POST", "/v1/orgs"}, {"POST", "/v1/tokens"},
	}
	h := env.Hub.Handler()
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		rt := routes[int(route)%len(routes)]
		req := httptest.NewRequest(rt.method, rt.path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+env.A.Token)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		var any map[string]json.RawMessage
		if err := json.Unmarshal(w.Body.Bytes(), &any); err != nil {
			t.Fatalf("%s %s: answer is not a JSON object: %d %q", rt.method, rt.path, w.Code, w.Body.String())
		}
		if w.Code >= 500 {
			var er api.ErrorResponse
			json.Unmarshal(w.Body.Bytes(), &er)
			t.Fatalf("%s %s %q: %d %+v", rt.method, rt.path, body, w.Code, er.Error)
		}
		if w.Code >= 300 && w.Code != http.StatusConflict {
			var er api.ErrorResponse
			if json.Unmarshal(w.Body.Bytes(), &er) != nil || er.Error.Code == "" {
				t.Fatalf("%s %s: refusal without a code: %s", rt.method, rt.path, w.Body.String())
			}
		}
	})
}
