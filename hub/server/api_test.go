package server_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"sealdesk/hub/api"
	"sealdesk/hub/client"
	"sealdesk/hub/hubtest"
	"sealdesk/hub/server"
)

// do sends a request; body may be a string (sent as is) or a value (sent as JSON).
func do(t *testing.T, env *hubtest.Env, method, path, token string, body any) (int, []byte) {
	t.Helper()
	var r io.Reader
	ct := "application/json"
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	case []byte:
		r = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, env.URL+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", ct)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s %s: Content-Type %q, want application/json (body %s)", method, path, ct, out)
	}
	return resp.StatusCode, out
}

// refused checks an error answer: HTTP status and stable code.
func refused(t *testing.T, what string, status int, body []byte, wantStatus int, wantCode string) {
	t.Helper()
	var er api.ErrorResponse
	if err := json.Unmarshal(body, &er); err != nil {
		t.Fatalf("%s: answer is not a JSON error: %s", what, body)
	}
	if status != wantStatus || er.Error.Code != wantCode || er.Error.Message == "" {
		t.Fatalf("%s: got %d %q (%s), want %d %q", what, status, er.Error.Code, er.Error.Message, wantStatus, wantCode)
	}
}

func ok(t *testing.T, what string, status int, body []byte, want int, out any) {
	t.Helper()
	if status != want {
		t.Fatalf("%s: got %d %s, want %d", what, status, body, want)
	}
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			t.Fatalf("%s: %v in %s", what, err, body)
		}
	}
}

func forEachStore(t *testing.T, fn func(t *testing.T, kind string)) {
	for _, kind := range hubtest.Kinds {
		t.Run(kind, func(t *testing.T) { fn(t, kind) })
	}
}

func record(id, seal string, signerCert []byte, doc string) api.Record {
	c := sha256.Sum256(signerCert)
	d := sha256.Sum256([]byte(doc))
	return api.Record{ID: id, SealID: seal, SignerCertSHA256: hex.EncodeToString(c[:]), DocDigestAlg: "sha256",
		DocDigest: hex.EncodeToString(d[:]), DocName: doc + ".pdf", Pages: []int{1, 2}, SignedAt: time.Now().UTC().Truncate(time.Millisecond), Client: "test"}
}

func TestAuthentication(t *testing.T) {
	forEachStore(t, func(t *testing.T, kind string) {
		env := hubtest.Start(t, kind, server.Options{})
		s, b := do(t, env, "GET", "/v1/seals", "", nil)
		refused(t, "no credential", s, b, 401, api.CodeUnauthenticated)
		s, b = do(t, env, "GET", "/v1/seals", "sdh_not-a-token", nil)
		refused(t, "unknown token", s, b, 401, api.CodeUnauthenticated)
		req, _ := http.NewRequest("GET", env.URL+"/v1/seals", nil)
		req.Header.Set("Authorization", "Basic dXNlcjpwYXNz")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		refused(t, "basic auth", resp.StatusCode, body, 401, api.CodeUnauthenticated)
		// Public routes need no credential.
		var hk api.HubKey
		s, b = do(t, env, "GET", "/v1/hub-key", "", nil)
		ok(t, "hub key", s, b, 200, &hk)
		if _, err := api.ParseHubKey(hk.PublicKeyPEM); err != nil || hk.KeyID == "" {
			t.Fatalf("hub key: %v %+v", err, hk)
		}
		var p api.Principal
		s, b = do(t, env, "GET", "/v1/whoami", env.A.Token, nil)
		ok(t, "whoami", s, b, 200, &p)
		if p.OrgID != env.A.ID || p.Role != api.RoleOrg {
			t.Fatalf("whoami: %+v", p)
		}
	})
}

func TestAdminActions(t *testing.T) {
	forEachStore(t, func(t *testing.T, kind string) {
		env := hubtest.Start(t, kind, server.Options{})
		org := api.Org{ID: "org-c", Name: "Org C", USCC: api.USCCWithCheckDigit("91310000MA1FL0000")}
		s, b := do(t, env, "POST", "/v1/orgs", env.A.Token, org)
		refused(t, "org creates org", s, b, 403, api.CodeAdminRequired)
		s, b = do(t, env, "POST", "/v1/tokens", env.A.Token, api.TokenRequest{OrgID: env.B.ID, Role: api.RoleOrg})
		refused(t, "org issues token", s, b, 403, api.CodeAdminRequired)
		s, b = do(t, env, "GET", "/v1/orgs", env.B.Token, nil)
		refused(t, "org lists orgs", s, b, 403, api.CodeAdminRequired)

		bad := org
		bad.USCC = bad.USCC[:17] + "0"
		if bad.USCC == org.USCC {
			bad.USCC = bad.USCC[:17] + "1"
		}
		s, b = do(t, env, "POST", "/v1/orgs", env.AdminToken, bad)
		refused(t, "wrong check digit", s, b, 422, api.CodeInvalidUSCC)
		s, b = do(t, env, "POST", "/v1/orgs", env.AdminToken, api.Org{ID: "Bad Id", Name: "x", USCC: org.USCC})
		refused(t, "bad org id", s, b, 422, api.CodeInvalidField)
		var got api.Org
		s, b = do(t, env, "POST", "/v1/orgs", env.AdminToken, org)
		ok(t, "create org", s, b, 201, &got)
		s, b = do(t, env, "POST", "/v1/orgs", env.AdminToken, org)
		refused(t, "org again", s, b, 409, api.CodeAlreadyExists)
		var orgs struct{ Items []api.Org }
		s, b = do(t, env, "GET", "/v1/orgs", env.AdminToken, nil)
		ok(t, "list orgs", s, b, 200, &orgs)
		if len(orgs.Items) != 3 {
			t.Fatalf("orgs: %+v", orgs)
		}
		var tok api.TokenResponse
		s, b = do(t, env, "POST", "/v1/tokens", env.AdminToken, api.TokenRequest{OrgID: "org-c", Role: api.RoleOrg, Label: "c1"})
		ok(t, "issue token", s, b, 201, &tok)
		s, b = do(t, env, "POST", "/v1/tokens", env.AdminToken, api.TokenRequest{OrgID: "org-zz", Role: api.RoleOrg})
		refused(t, "token for missing org", s, b, 404, api.CodeNotFound)
		s, b = do(t, env, "POST", "/v1/tokens", env.AdminToken, api.TokenRequest{OrgID: "org-c", Role: "root"})
		refused(t, "bad role", s, b, 422, api.CodeInvalidField)
		var p api.Principal
		s, b = do(t, env, "GET", "/v1/whoami", tok.Token, nil)
		ok(t, "new token works", s, b, 200, &p)
		if p.OrgID != "org-c" {
			t.Fatalf("new token acts as %+v", p)
		}
		// Revoking it (by the start of its hash) locks it out.
		if _, e := env.Hub.RevokeCredential(context.Background(), api.Principal{OrgID: env.A.ID, Role: api.RoleOrg}, server.TokenHash(tok.Token)[:12]); e == nil || e.Code != api.CodeAdminRequired {
			t.Fatalf("org revokes a credential: %v", e)
		}
		if _, e := env.Hub.RevokeCredential(context.Background(), server.Admin, server.TokenHash(tok.Token)[:12]); e != nil {
			t.Fatal(e)
		}
		s, b = do(t, env, "GET", "/v1/whoami", tok.Token, nil)
		refused(t, "revoked token", s, b, 401, api.CodeUnauthenticated)
		if _, e := env.Hub.RevokeCredential(context.Background(), server.Admin, server.TokenHash(tok.Token)[:12]); e == nil || e.Code != api.CodeNotFound {
			t.Fatalf("revoking twice: %v", e)
		}
	})
}

func TestSealFilingAndIsolation(t *testing.T) {
	forEachStore(t, func(t *testing.T, kind string) {
		env := hubtest.Start(t, kind, server.Options{})
		req := hubtest.SealRequest(env.A.ID, "11010000009999", env.A.USCC, env.A.Signer)
		req.OrgID = ""
		var seal api.Seal
		s, b := do(t, env, "POST", "/v1/seals", env.A.Token, req)
		ok(t, "file seal", s, b, 201, &seal)
		if seal.Status != api.StatusActive || seal.OrgID != env.A.ID || len(seal.CertSHA256) != 1 || len(seal.StatusHistory) != 1 {
			t.Fatalf("filed: %+v", seal)
		}
		s, b = do(t, env, "POST", "/v1/seals", env.A.Token, req)
		refused(t, "same seal again", s, b, 409, api.CodeAlreadyExists)

		r2 := req
		r2.ESID, r2.FilingNumber = "11010000009998", "F-other"
		r2.OwnerUSCC = env.A.USCC[:17] + string("0123456789ABCDEFGHJKLMNPQRTUWXY"[(strings.IndexByte("0123456789ABCDEFGHJKLMNPQRTUWXY", env.A.USCC[17])+1)%31])
		s, b = do(t, env, "POST", "/v1/seals", env.A.Token, r2)
		refused(t, "bad check digit", s, b, 422, api.CodeInvalidUSCC)
		r2.OwnerUSCC = env.B.USCC
		s, b = do(t, env, "POST", "/v1/seals", env.A.Token, r2)
		refused(t, "another org's USCC", s, b, 422, api.CodeInvalidField)
		r2.OwnerUSCC, r2.OrgID = env.B.USCC, env.B.ID
		s, b = do(t, env, "POST", "/v1/seals", env.A.Token, r2)
		refused(t, "filing for another org", s, b, 403, api.CodeForbidden)
		r3 := req
		r3.ESID, r3.FilingNumber, r3.Certificates = "11010000009997", "F-3", nil
		s, b = do(t, env, "POST", "/v1/seals", env.A.Token, r3)
		refused(t, "no certificates", s, b, 422, api.CodeInvalidField)
		r3.Certificates, r3.ValidEnd = req.Certificates, req.ValidStart
		s, b = do(t, env, "POST", "/v1/seals", env.A.Token, r3)
		refused(t, "empty validity", s, b, 422, api.CodeInvalidField)

		// Isolation: B can neither read, change, renew nor list A's seals.
		s, b = do(t, env, "GET", "/v1/seals/"+env.A.SealID, env.A.Token, nil)
		ok(t, "A reads A's seal", s, b, 200, nil)
		s, b = do(t, env, "GET", "/v1/seals/"+env.A.SealID, env.B.Token, nil)
		refused(t, "B reads A's seal", s, b, 404, api.CodeNotFound)
		s, b = do(t, env, "POST", "/v1/seals/"+env.A.SealID+"/status", env.B.Token, api.StatusChange{Status: api.StatusRevoked, Reason: "hostile"})
		refused(t, "B revokes A's seal", s, b, 404, api.CodeNotFound)
		s, b = do(t, env, "POST", "/v1/seals/"+env.A.SealID+"/renew", env.B.Token, api.RenewRequest{ValidEnd: time.Now().AddDate(5, 0, 0)})
		refused(t, "B renews A's seal", s, b, 404, api.CodeNotFound)
		s, b = do(t, env, "GET", "/v1/seals?org="+env.A.ID, env.B.Token, nil)
		refused(t, "B lists A's seals", s, b, 403, api.CodeForbidden)
		var list struct{ Seals []api.Seal }
		s, b = do(t, env, "GET", "/v1/seals", env.B.Token, nil)
		ok(t, "B lists own", s, b, 200, &list)
		if len(list.Seals) != 1 || list.Seals[0].ESID != env.B.SealID {
			t.Fatalf("B's seals: %+v", list.Seals)
		}
		s, b = do(t, env, "GET", "/v1/seals", env.AdminToken, nil)
		ok(t, "admin lists all", s, b, 200, &list)
		if len(list.Seals) != 3 {
			t.Fatalf("admin sees %d seals", len(list.Seals))
		}
		// A's seal is still active after B's attempts.
		s, b = do(t, env, "GET", "/v1/seals/"+env.A.SealID, env.A.Token, nil)
		ok(t, "A's seal after", s, b, 200, &seal)
		if seal.Status != api.StatusActive {
			t.Fatalf("B changed A's seal: %+v", seal)
		}
	})
}

func TestStatusLifecycleAndSignedAnswers(t *testing.T) {
	forEachStore(t, func(t *testing.T, kind string) {
		env := hubtest.Start(t, kind, server.Options{})
		ctx := context.Background()
		ca, _ := client.New(env.URL, client.Options{Token: env.A.Token})
		cb, _ := client.New(env.URL, client.Options{Token: env.B.Token})
		start := time.Now().UTC()

		p, signed, err := cb.Status(ctx, env.A.SealID)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Statuses) != 1 || p.Statuses[0].Status != api.StatusActive || p.Statuses[0].OwnerUSCC != env.A.USCC {
			t.Fatalf("status: %+v", p)
		}
		// The answer verifies offline under the hub key and not after tampering.
		tampered := *signed
		tampered.Payload = bytes.Replace(signed.Payload, []byte(`"active"`), []byte(`"revoked"`), 1)
		if _, err := tampered.Open(&env.Key.PublicKey); err == nil {
			t.Fatal("a tampered status answer verified")
		}
		p, _, err = ca.Status(ctx, env.A.SealID, env.B.SealID, "99999999")
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Statuses) != 3 || p.Statuses[2].Status != api.StatusUnknown || p.Statuses[1].ESID != env.B.SealID {
			t.Fatalf("batch: %+v", p.Statuses)
		}
		s, b := do(t, env, "POST", "/v1/status", env.A.Token, api.StatusBatchRequest{})
		refused(t, "empty batch", s, b, 422, api.CodeInvalidField)
		ids := make([]string, server.MaxStatusIDs+1)
		for i := range ids {
			ids[i] = fmt.Sprint(i + 1)
		}
		s, b = do(t, env, "POST", "/v1/status", env.A.Token, api.StatusBatchRequest{IDs: ids})
		refused(t, "batch too big", s, b, 422, api.CodeInvalidField)

		s, b = do(t, env, "POST", "/v1/seals/"+env.A.SealID+"/status", env.A.Token, api.StatusChange{Status: api.StatusSuspended})
		refused(t, "suspend without reason", s, b, 422, api.CodeInvalidField)
		s, b = do(t, env, "POST", "/v1/seals/"+env.A.SealID+"/status", env.A.Token, api.StatusChange{Status: "gone", Reason: "x"})
		refused(t, "unknown status", s, b, 422, api.CodeInvalidField)
		if _, err := ca.SetStatus(ctx, env.A.SealID, api.StatusChange{Status: api.StatusSuspended, Reason: "audit"}); err != nil {
			t.Fatal(err)
		}
		if _, err := ca.SetStatus(ctx, env.A.SealID, api.StatusChange{Status: api.StatusActive, Reason: "audit done"}); err != nil {
			t.Fatal(err)
		}
		seal, err := ca.Renew(ctx, env.A.SealID, api.RenewRequest{ValidEnd: time.Now().AddDate(4, 0, 0)})
		if err != nil {
			t.Fatal(err)
		}
		_, err = ca.Renew(ctx, env.A.SealID, api.RenewRequest{ValidEnd: time.Now()})
		if he, ok := err.(*api.Error); !ok || he.Code != api.CodeInvalidField {
			t.Fatalf("shortening renew: %v", err)
		}
		seal, err = ca.SetStatus(ctx, env.A.SealID, api.StatusChange{Status: api.StatusRevoked, Reason: "key compromise"})
		if err != nil {
			t.Fatal(err)
		}
		if seal.Status != api.StatusRevoked || len(seal.StatusHistory) != 4 {
			t.Fatalf("after revoke: %+v", seal)
		}
		s, b = do(t, env, "POST", "/v1/seals/"+env.A.SealID+"/status", env.A.Token, api.StatusChange{Status: api.StatusActive, Reason: "undo"})
		refused(t, "reactivate revoked", s, b, 409, api.CodeInvalidTransition)
		s, b = do(t, env, "POST", "/v1/seals/"+env.A.SealID+"/renew", env.A.Token, api.RenewRequest{ValidEnd: time.Now().AddDate(9, 0, 0)})
		refused(t, "renew revoked", s, b, 409, api.CodeInvalidTransition)
		s, b = do(t, env, "POST", "/v1/seals/"+env.B.SealID+"/status", env.AdminToken, api.StatusChange{Status: api.StatusLost, Reason: "reported lost", At: time.Now().Add(time.Hour)})
		refused(t, "future change", s, b, 422, api.CodeInvalidField)
		if _, e := env.Hub.SetStatus(ctx, server.Admin, env.B.SealID, api.StatusChange{Status: api.StatusLost, Reason: "reported lost"}); e != nil {
			t.Fatal(e)
		}

		p, _, err = cb.Revocations(ctx, start)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, st := range p.Statuses {
			got[st.ESID] = st.Status
		}
		if p.Type != "revocations" || got[env.A.SealID] != api.StatusRevoked || got[env.B.SealID] != api.StatusLost || len(got) != 2 {
			t.Fatalf("revocations since start: %+v", p)
		}
		p, _, err = cb.Revocations(ctx, time.Now().Add(time.Minute))
		if err != nil || len(p.Statuses) != 0 {
			t.Fatalf("revocations since the future: %+v %v", p, err)
		}
		s, b = do(t, env, "GET", "/v1/revocations?since=yesterday", env.A.Token, nil)
		refused(t, "bad since", s, b, 422, api.CodeInvalidField)
	})
}

func TestRecords(t *testing.T) {
	forEachStore(t, func(t *testing.T, kind string) {
		env := hubtest.Start(t, kind, server.Options{})
		r := record("rec-1", env.A.SealID, env.A.Signer.Cert.Raw, "contract")
		s, b := do(t, env, "PUT", "/v1/records/rec-1", env.A.Token, r)
		ok(t, "first push", s, b, 201, nil)
		s, b = do(t, env, "PUT", "/v1/records/rec-1", env.A.Token, r)
		var rr api.RecordResult
		ok(t, "same again", s, b, 200, &rr)
		if rr.Result != api.ResultDuplicate {
			t.Fatalf("retry: %+v", rr)
		}
		r2 := r
		r2.Pages = []int{3}
		s, b = do(t, env, "PUT", "/v1/records/rec-1", env.A.Token, r2)
		refused(t, "same id, other body", s, b, 409, api.CodeConflict)
		s, b = do(t, env, "PUT", "/v1/records/rec-x", env.A.Token, r)
		refused(t, "path and body ids differ", s, b, 422, api.CodeInvalidField)

		// B uses the same id for its own record: ids are per organisation.
		rb := record("rec-1", env.B.SealID, env.B.Signer.Cert.Raw, "invoice")
		s, b = do(t, env, "PUT", "/v1/records/rec-1", env.B.Token, rb)
		ok(t, "B's own rec-1", s, b, 201, nil)
		// B cannot log a use of A's seal, nor read A's records.
		bad := record("rec-2", env.A.SealID, env.A.Signer.Cert.Raw, "forged")
		s, b = do(t, env, "PUT", "/v1/records/rec-2", env.B.Token, bad)
		refused(t, "B records with A's seal", s, b, 403, api.CodeForbidden)
		var got api.StoredRecord
		s, b = do(t, env, "GET", "/v1/records/rec-1", env.B.Token, nil)
		ok(t, "B reads its rec-1", s, b, 200, &got)
		if got.OrgID != env.B.ID || got.DocName != "invoice.pdf" {
			t.Fatalf("B read %+v", got)
		}
		s, b = do(t, env, "GET", "/v1/records?org="+env.A.ID, env.B.Token, nil)
		refused(t, "B lists A's records", s, b, 403, api.CodeForbidden)
		s, b = do(t, env, "PUT", "/v1/records/rec-9", env.AdminToken, record("rec-9", env.A.SealID, env.A.Signer.Cert.Raw, "x"))
		refused(t, "admin pushes", s, b, 403, api.CodeForbidden)

		// A batch with every outcome.
		batch := api.RecordBatch{Records: []api.Record{
			record("rec-3", env.A.SealID, env.A.Signer.Cert.Raw, "three"),
			r,  // duplicate
			r2, // conflict
			record("rec-4", "77777777", env.A.Signer.Cert.Raw, "unfiled"),
			record("rec-5", env.B.SealID, env.B.Signer.Cert.Raw, "foreign"),
			{ID: "bad id!"},
			record("rec-3", env.A.SealID, env.A.Signer.Cert.Raw, "three"), // repeated in the batch
		}}
		batch.Records[6].SignedAt = batch.Records[0].SignedAt
		var res api.RecordBatchResult
		s, b = do(t, env, "POST", "/v1/records", env.A.Token, batch)
		ok(t, "batch", s, b, 200, &res)
		want := []string{api.ResultCreated, api.ResultDuplicate, api.ResultConflict, api.ResultRejected, api.ResultRejected, api.ResultRejected, api.ResultDuplicate}
		wantCode := []string{"", "", api.CodeConflict, api.CodeSealNotFiled, api.CodeForbidden, api.CodeInvalidField, ""}
		for i, w := range want {
			got := res.Results[i]
			code := ""
			if got.Error != nil {
				code = got.Error.Code
			}
			if got.Result != w || code != wantCode[i] {
				t.Errorf("batch[%d]: %+v, want %s %s", i, got, w, wantCode[i])
			}
		}
		var page api.RecordPage
		s, b = do(t, env, "GET", "/v1/records", env.A.Token, nil)
		ok(t, "A lists", s, b, 200, &page)
		if len(page.Records) != 2 || page.Records[0].ID != "rec-1" || page.Records[0].Pages[0] != 1 || page.Records[1].ID != "rec-3" {
			t.Fatalf("A's records: %+v", page)
		}
		s, b = do(t, env, "GET", "/v1/records?limit=1", env.A.Token, nil)
		ok(t, "page 1", s, b, 200, &page)
		if len(page.Records) != 1 || page.Next == "" {
			t.Fatalf("page 1: %+v", page)
		}
		s, b = do(t, env, "GET", "/v1/records?limit=1&after="+page.Next, env.A.Token, nil)
		ok(t, "page 2", s, b, 200, &page)
		if len(page.Records) != 1 || page.Records[0].ID != "rec-3" {
			t.Fatalf("page 2: %+v", page)
		}
		s, b = do(t, env, "GET", "/v1/records?limit=-1", env.A.Token, nil)
		refused(t, "bad limit", s, b, 422, api.CodeInvalidField)
		many := api.RecordBatch{Records: make([]api.Record, server.MaxBatchRecords+1)}
		for i := range many.Records {
			many.Records[i] = record(fmt.Sprint("m", i), env.A.SealID, env.A.Signer.Cert.Raw, "m")
		}
		s, b = do(t, env, "POST", "/v1/records", env.A.Token, many)
		refused(t, "batch over the limit", s, b, 422, api.CodeInvalidField)
	})
}

func TestMalformedAndOversized(t *testing.T) {
	forEachStore(t, func(t *testing.T, kind string) {
		env := hubtest.Start(t, kind, server.Options{MaxBody: 64 << 10})
		tok := env.A.Token
		s, b := do(t, env, "POST", "/v1/records", tok, `{"records": [`)
		refused(t, "truncated JSON", s, b, 400, api.CodeMalformed)
		s, b = do(t, env, "POST", "/v1/records", tok, `{"records": 5}`)
		refused(t, "wrong type", s, b, 400, api.CodeMalformed)
		s, b = do(t, env, "POST", "/v1/records", tok, `{"records": []} {"again": 1}`)
		refused(t, "trailing data", s, b, 400, api.CodeMalformed)
		s, b = do(t, env, "POST", "/v1/records", tok, "\x00\xff\xfe")
		refused(t, "binary", s, b, 400, api.CodeMalformed)
		big := `{"records": [{"id": "` + strings.Repeat("x", 70<<10) + `"}]}`
		s, b = do(t, env, "POST", "/v1/records", tok, big)
		refused(t, "oversized", s, b, 413, api.CodeTooLarge)
		// A chunked body (no Content-Length) is cut at the limit too.
		req, _ := http.NewRequest("POST", env.URL+"/v1/records", io.MultiReader(strings.NewReader(big)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		refused(t, "oversized chunked", resp.StatusCode, body, 413, api.CodeTooLarge)
		req, _ = http.NewRequest("POST", env.URL+"/v1/records", strings.NewReader(`{"records": []}`))
		req.Header.Set("Content-Type", "text/plain")
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		refused(t, "text/plain", resp.StatusCode, body, 415, api.CodeUnsupportedType)
		s, b = do(t, env, "GET", "/v1/nothing", tok, nil)
		refused(t, "unknown route", s, b, 404, api.CodeNotFound)
		s, b = do(t, env, "DELETE", "/v1/records/rec-1", tok, nil)
		refused(t, "DELETE a record", s, b, 405, api.CodeMethodNotAllowed)
		s, b = do(t, env, "PUT", "/v1/seals", tok, `{}`)
		refused(t, "PUT seals", s, b, 405, api.CodeMethodNotAllowed)
		s, b = do(t, env, "POST", "/v1/verify", tok, `{}`)
		refused(t, "empty verify", s, b, 422, api.CodeInvalidField)
		s, b = do(t, env, "POST", "/v1/verify", tok, `{"docDigest": "abc"}`)
		refused(t, "short digest", s, b, 422, api.CodeInvalidField)
		s, b = do(t, env, "POST", "/v1/seals", tok, `{"esId": "x", "validStart": "not a time"}`)
		refused(t, "bad time", s, b, 400, api.CodeMalformed)
	})
}

func TestRateLimitAndTimeout(t *testing.T) {
	forEachStore(t, func(t *testing.T, kind string) {
		env := hubtest.Start(t, kind, server.Options{Rate: 0.001, Burst: 2})
		for i := 0; i < 2; i++ {
			s, b := do(t, env, "GET", "/v1/whoami", env.A.Token, nil)
			ok(t, "within burst", s, b, 200, nil)
		}
		s, b := do(t, env, "GET", "/v1/whoami", env.A.Token, nil)
		refused(t, "over the limit", s, b, 429, api.CodeRateLimited)
		// Another credential has its own bucket.
		s, b = do(t, env, "GET", "/v1/whoami", env.B.Token, nil)
		ok(t, "B unaffected", s, b, 200, nil)

		// Guessing tokens: after a burst of failures from one address, refusals turn into 429
		// before the credential store is asked.
		for i := 0; i < 20; i++ {
			s, b = do(t, env, "GET", "/v1/whoami", fmt.Sprint("sdh_guess", i), nil)
			refused(t, "guess", s, b, 401, api.CodeUnauthenticated)
		}
		s, b = do(t, env, "GET", "/v1/whoami", "sdh_guess-more", nil)
		refused(t, "too many guesses", s, b, 429, api.CodeRateLimited)

		slow := hubtest.Start(t, kind, server.Options{RequestTimeout: time.Nanosecond})
		s, b = do(t, slow, "GET", "/v1/seals", slow.A.Token, nil)
		refused(t, "timed out", s, b, 503, api.CodeTimeout)
	})
}

func TestVerify(t *testing.T) {
	forEachStore(t, func(t *testing.T, kind string) {
		env := hubtest.Start(t, kind, server.Options{})
		ctx := context.Background()
		ca, _ := client.New(env.URL, client.Options{Token: env.A.Token})
		cb, _ := client.New(env.URL, client.Options{Token: env.B.Token})
		r := record("v-1", env.A.SealID, env.A.Signer.Cert.Raw, "deed")
		r.SignedAt = time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
		if _, err := ca.PutRecord(ctx, r); err != nil {
			t.Fatal(err)
		}
		res, err := ca.Verify(ctx, api.VerifyRequest{DocDigest: r.DocDigest})
		if err != nil {
			t.Fatal(err)
		}
		if res.Verdict != api.VerdictOK || res.Seal == nil || res.Seal.ESID != env.A.SealID || len(res.Records) != 1 ||
			!res.Records[0].Own || res.Records[0].DocName != "deed.pdf" || res.StatusAtSigning != api.StatusActive {
			t.Fatalf("A verifies its document: %+v", res)
		}
		res, err = cb.Verify(ctx, api.VerifyRequest{DocDigest: r.DocDigest})
		if err != nil {
			t.Fatal(err)
		}
		if res.Verdict != api.VerdictOK || len(res.Records) != 1 || res.Records[0].Own || res.Records[0].DocName != "" || res.Records[0].ID != "" {
			t.Fatalf("B verifies A's document (must not see its name): %+v", res)
		}
		other := sha256.Sum256([]byte("unrelated"))
		res, err = cb.Verify(ctx, api.VerifyRequest{DocDigest: r.DocDigest, SignerCertSHA256: hex.EncodeToString(other[:])})
		if err != nil || res.Verdict != api.VerdictFailed || !hasProblem(res, "cert_not_bound") {
			t.Fatalf("unbound certificate: %+v %v", res, err)
		}
		res, err = cb.Verify(ctx, api.VerifyRequest{SealID: "31000000000000", SignedAt: time.Now()})
		if err != nil || res.Verdict != api.VerdictFailed || !hasProblem(res, api.CodeSealNotFiled) {
			t.Fatalf("unfiled seal: %+v %v", res, err)
		}
		res, err = cb.Verify(ctx, api.VerifyRequest{DocDigest: hex.EncodeToString(other[:])})
		if err != nil || res.Verdict != api.VerdictUnknown || !hasProblem(res, "no_signing_record") {
			t.Fatalf("unknown digest: %+v %v", res, err)
		}
		res, err = cb.Verify(ctx, api.VerifyRequest{SealID: env.A.SealID, Signature: []byte{0x30, 0x00}})
		if err != nil || res.Crypto.Result != api.VerdictUnknown || res.Verdict != api.VerdictUnknown {
			t.Fatalf("blob without a verifier: %+v %v", res, err)
		}

		// Revoke now: the document signed an hour ago stays valid (with a note); one
		// claiming a signing time after the revocation is not.
		time.Sleep(10 * time.Millisecond)
		if _, err := ca.SetStatus(ctx, env.A.SealID, api.StatusChange{Status: api.StatusRevoked, Reason: "key compromise"}); err != nil {
			t.Fatal(err)
		}
		res, err = cb.Verify(ctx, api.VerifyRequest{DocDigest: r.DocDigest})
		if err != nil || res.Verdict != api.VerdictOK || !hasProblem(res, "seal_revoked_later") || hasProblem(res, "signing_time_unproven") {
			t.Fatalf("signed before the revocation: %+v %v", res, err)
		}
		res, err = cb.Verify(ctx, api.VerifyRequest{SealID: env.A.SealID, SignerCertSHA256: r.SignerCertSHA256, SignedAt: time.Now().Add(time.Second)})
		if err != nil || res.Verdict != api.VerdictFailed || res.StatusAtSigning != api.StatusRevoked || !hasProblem(res, "seal_revoked") {
			t.Fatalf("signed after the revocation: %+v %v", res, err)
		}
		res, err = cb.Verify(ctx, api.VerifyRequest{SealID: env.B.SealID, SignedAt: time.Now().AddDate(3, 0, 0)})
		if err != nil || res.Verdict != api.VerdictFailed || !hasProblem(res, "seal_expired") {
			t.Fatalf("after validity: %+v %v", res, err)
		}
	})
}

func hasProblem(res *api.VerifyResult, code string) bool {
	for _, p := range res.Problems {
		if p.Code == code {
			return true
		}
	}
	return false
}

func TestAudit(t *testing.T) {
	forEachStore(t, func(t *testing.T, kind string) {
		env := hubtest.Start(t, kind, server.Options{})
		ctx := context.Background()
		ca, _ := client.New(env.URL, client.Options{Token: env.A.Token})
		if _, err := ca.PutRecord(ctx, record("a-1", env.A.SealID, env.A.Signer.Cert.Raw, "doc")); err != nil {
			t.Fatal(err)
		}
		do(t, env, "GET", "/v1/seals/"+env.A.SealID, env.B.Token, nil) // denied, logged for B
		page, err := ca.Audit(ctx, "", "", "", 0)
		if err != nil {
			t.Fatal(err)
		}
		actions := map[string]int{}
		for _, ev := range page.Events {
			if ev.OrgID != env.A.ID {
				t.Fatalf("A sees another org's event %+v", ev)
			}
			actions[ev.Action]++
		}
		if actions["org.create"] != 1 || actions["seal.file"] != 1 || actions["records.push"] != 1 || actions["denied"] != 0 {
			t.Fatalf("A's audit: %v", actions)
		}
		s, b := do(t, env, "GET", "/v1/audit?org="+env.A.ID, env.B.Token, nil)
		refused(t, "B reads A's audit", s, b, 403, api.CodeForbidden)
		var bp api.AuditPage
		s, b = do(t, env, "GET", "/v1/audit?action=denied", env.B.Token, nil)
		ok(t, "B's denials", s, b, 200, &bp)
		if len(bp.Events) != 2 { // the read of A's seal and the read of A's audit
			t.Fatalf("B's denied events: %+v", bp.Events)
		}
		s, b = do(t, env, "GET", "/v1/audit", env.AdminToken, nil)
		ok(t, "admin reads all", s, b, 200, &bp)
		orgs := map[string]bool{}
		for _, ev := range bp.Events {
			orgs[ev.OrgID] = true
		}
		if !orgs[env.A.ID] || !orgs[env.B.ID] {
			t.Fatalf("admin audit: %+v", orgs)
		}
	})
}

// TestOpenAPIRoutes sends every method of every path openapi.yaml documents and checks that
// the server has the route (no 404 "no such endpoint", no 405).
func TestOpenAPIRoutes(t *testing.T) {
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
	env := hubtest.Start(t, "sqlite", server.Options{})
	n := 0
	for path, ops := range doc.Paths {
		p := strings.NewReplacer("{id}", "x").Replace(path)
		for method := range ops {
			if method == "parameters" {
				continue
			}
			n++
			var body any
			if method == "post" || method == "put" {
				body = "{}"
			}
			s, out := do(t, env, strings.ToUpper(method), p, env.AdminToken, body)
			if s == 405 || strings.Contains(string(out), "no such endpoint") {
				t.Errorf("%s %s documented but not served: %d %s", method, path, s, out)
			}
		}
	}
	if n < 20 {
		t.Fatalf("only %d operations documented", n)
	}
}
