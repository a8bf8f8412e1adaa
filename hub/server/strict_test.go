package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"sealdesk/hub/api"
	"sealdesk/hub/hubtest"
	"sealdesk/hub/server"
)

// TestStrictJSONOnEveryWrite sends a duplicate key and an unknown key to every POST and PUT
// that openapi.yaml documents (so endpoints added later are covered without touching this
// test), as the admin and as an organisation, and expects 400 malformed_request naming the key,
// never a 2xx and never a 5xx. Then the repro of issue 12: {"status":"active","status":"revoked"}
// used to revoke a seal (the last key won; revocation is final).
func TestStrictJSONOnEveryWrite(t *testing.T) {
	b, err := os.ReadFile("../api/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	for _, kind := range hubtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			env := hubtest.Start(t, kind, server.Options{})
			n := 0
			for path, ops := range doc.Paths {
				p := strings.NewReplacer("{id}", env.A.SealID, "{name}", "x").Replace(path)
				for method := range ops {
					if method != "post" && method != "put" {
						continue
					}
					n++
					for _, tok := range []string{env.AdminToken, env.A.Token} {
						for _, c := range []struct{ body, want string }{
							{`{"zz":1,"zz":2}`, `key \"zz\" appears twice`},
							{`{"zz":1}`, `unknown field \"zz\"`},
						} {
							s, out := do(t, env, strings.ToUpper(method), p, tok, c.body)
							var er api.ErrorResponse
							json.Unmarshal(out, &er)
							// An endpoint that refuses the caller (role) before reading the body
							// may answer 403; it must never accept the body or fail with 5xx.
							if s == 403 && (er.Error.Code == api.CodeForbidden || er.Error.Code == api.CodeAdminRequired) {
								continue
							}
							if s != 400 || er.Error.Code != api.CodeMalformed || !strings.Contains(string(out), c.want) {
								t.Errorf("%s %s %s: %d %s, want 400 malformed_request with %s", method, path, c.body, s, out, c.want)
							}
						}
					}
				}
			}
			if n < 8 {
				t.Fatalf("only %d write operations documented", n)
			}

			// The repro: two "status" keys. Refused, and the seal stays active.
			s, out := do(t, env, "POST", "/v1/seals/"+env.A.SealID+"/status", env.AdminToken,
				`{"status":"active","status":"revoked","reason":"x"}`)
			if s != 400 || !strings.Contains(string(out), `key \"status\" appears twice`) {
				t.Fatalf("duplicate status key: %d %s", s, out)
			}
			seal, e := env.Hub.Seal(context.Background(), server.Admin, env.A.SealID)
			if e != nil || seal.Status != api.StatusActive {
				t.Fatalf("seal after the refused change: %+v %v", seal, e)
			}
			// A duplicate key deep inside a record batch is caught too.
			s, out = do(t, env, "POST", "/v1/records", env.A.Token,
				fmt.Sprintf(`{"records":[{"id":"r1","sealId":%q,"sealId":"x"}]}`, env.A.SealID))
			if s != 400 || !strings.Contains(string(out), `appears twice in records[0]`) {
				t.Fatalf("duplicate key in a record: %d %s", s, out)
			}
		})
	}
}
