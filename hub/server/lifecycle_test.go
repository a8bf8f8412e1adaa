package server_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509/pkix"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emmansun/gmsm/smx509"

	"sealdesk/hub/api"
	hubca "sealdesk/hub/ca"
	"sealdesk/hub/client"
	"sealdesk/hub/hubtest"
	"sealdesk/hub/maker"
	"sealdesk/hub/server"
	"sealdesk/signer"
	"sealdesk/signer/pki"
	"sealdesk/signer/ses"
)

// lifecycleHub starts a hub with a maker and a built-in CA (software keys: the SoftHSM2
// token versions run in internal/cli's end-to-end test) and credentials of every role.
type lifecycleHub struct {
	*hubtest.Env
	applicantA, applicantB, reviewerA, reviewerB, auditor *client.Client
}

// startLifecycle starts the hub; now, when given, is its clock.
func startLifecycle(t *testing.T, kind string, now ...func() time.Time) *lifecycleHub {
	t.Helper()
	chain, err := pki.NewChain(signer.ECDSA, "Lifecycle Test")
	if err != nil {
		t.Fatal(err)
	}
	mk, err := chain.Issue(pki.Template{Kind: pki.SealMaker, CommonName: "Test Seal Maker"})
	if err != nil {
		t.Fatal(err)
	}
	opt := server.Options{
		Maker: &maker.SES{Key: mk.Key, Cert: mk.Cert},
		CA:    &hubca.Local{Key: chain.Intermediate.Key, Cert: chain.Intermediate.Cert, Chain: []*smx509.Certificate{chain.Root.Cert}},
	}
	if len(now) > 0 {
		opt.Now = now[0]
	}
	env := hubtest.Start(t, kind, opt)
	ctx := context.Background()
	cl := func(tok string) *client.Client {
		c, err := client.New(env.URL, client.Options{Token: tok})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	token := func(org, role string) *client.Client {
		tok, e := env.Hub.IssueToken(ctx, server.Admin, api.TokenRequest{OrgID: org, Role: role, Label: role + "@" + org})
		if e != nil {
			t.Fatal(e)
		}
		return cl(tok.Token)
	}
	return &lifecycleHub{Env: env, applicantA: cl(env.A.Token), applicantB: cl(env.B.Token),
		reviewerA: token(env.A.ID, api.RoleReviewer), reviewerB: token(env.B.ID, api.RoleReviewer), auditor: token("", api.RoleAuditor)}
}

func csrFor(t *testing.T, key crypto.Signer) []byte {
	t.Helper()
	der, err := smx509.CreateCertificateRequest(rand.Reader, &smx509.CertificateRequest{Subject: pkix.Name{CommonName: "holder"}}, key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func wantCode(t *testing.T, what string, err error, status int, code string) {
	t.Helper()
	var he *api.Error
	if !errors.As(err, &he) || he.HTTPStatus != status || he.Code != code {
		t.Fatalf("%s: got %v, want %d %s", what, err, status, code)
	}
}

func TestLifecycle(t *testing.T) {
	forEachStore(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		h := startLifecycle(t, kind)
		holder, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		req := api.ApplicationRequest{UnitName: "Org A 单位", USCC: h.A.USCC, SealType: "04", SealName: "Org A 合同专用章",
			CSR: csrFor(t, holder), Contact: "张三 010-12345678", Submit: true,
			Attachments: []api.Attachment{{Name: "licence.pdf", Data: []byte("%PDF-1.7 scan")}}}

		// Refusals before anything exists.
		bad := req
		bad.SealType = "77"
		_, err := h.applicantA.Apply(ctx, bad)
		wantCode(t, "unknown type", err, 422, api.CodeUnknownType)
		bad = req
		bad.USCC = h.B.USCC
		_, err = h.applicantA.Apply(ctx, bad)
		wantCode(t, "another's credit code", err, 422, api.CodeInvalidField)
		bad = req
		bad.CSR = append(append([]byte{}, req.CSR[:len(req.CSR)-3]...), 1, 2, 3)
		_, err = h.applicantA.Apply(ctx, bad)
		wantCode(t, "tampered CSR", err, 422, api.CodeInvalidField)
		_, err = h.reviewerB.Apply(ctx, req)
		wantCode(t, "reviewer applies", err, 403, api.CodeRoleNotAllowed)

		app, err := h.applicantA.Apply(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if app.Status != api.AppSubmitted || app.Attachments[0].SHA256 == "" || app.CSRSubject == "" {
			t.Fatalf("applied: %+v", app)
		}
		// Illegal steps, each with its stable code.
		_, err = h.applicantA.FetchSeal(ctx, app.ID)
		wantCode(t, "fetch before approval", err, 409, api.CodeNotApproved)
		_, err = h.applicantB.Application(ctx, app.ID)
		wantCode(t, "another organisation reads", err, 404, api.CodeNotFound)
		_, err = h.applicantB.Decide(ctx, app.ID, "withdraw", "mine now")
		wantCode(t, "another organisation withdraws", err, 404, api.CodeNotFound)
		_, err = h.reviewerA.Decide(ctx, app.ID, "approve", "")
		wantCode(t, "reviewer of the same organisation", err, 403, api.CodeOwnOrg)
		_, err = h.applicantA.Decide(ctx, app.ID, "approve", "")
		wantCode(t, "applicant approves", err, 403, api.CodeRoleNotAllowed)
		_, err = h.auditor.Decide(ctx, app.ID, "approve", "")
		wantCode(t, "auditor approves", err, 403, api.CodeRoleNotAllowed)
		admin, _ := client.New(h.URL, client.Options{Token: h.AdminToken})
		_, err = admin.Decide(ctx, app.ID, "approve", "")
		wantCode(t, "admin approves", err, 403, api.CodeRoleNotAllowed)
		_, err = h.reviewerB.Decide(ctx, app.ID, "return", "")
		wantCode(t, "return without a reason", err, 422, api.CodeInvalidField)

		// Reviewer sees it waiting; returns it; applicant resubmits.
		pending, err := h.reviewerB.Applications(ctx, "", "", true)
		if err != nil || len(pending) != 1 || pending[0].ID != app.ID || pending[0].CSR != nil {
			t.Fatalf("pending: %v %+v", err, pending)
		}
		if app, err = h.reviewerB.Decide(ctx, app.ID, "return", "营业执照扫描件不清晰"); err != nil || app.Status != api.AppReturned || app.Reason != "营业执照扫描件不清晰" {
			t.Fatalf("return: %v %+v", err, app)
		}
		_, err = h.reviewerB.Decide(ctx, app.ID, "approve", "")
		wantCode(t, "approve a returned application", err, 409, api.CodeInvalidTransition)
		edit := req
		edit.Attachments = []api.Attachment{{Name: "licence.pdf", Data: []byte("%PDF-1.7 clear scan")}}
		edit.Submit = true
		if app, err = h.applicantA.EditApplication(ctx, app.ID, edit); err != nil || app.Status != api.AppResubmitted {
			t.Fatalf("resubmit: %v %+v", err, app)
		}
		if app, err = h.reviewerB.Decide(ctx, app.ID, "approve", "材料齐全"); err != nil || app.Status != api.AppApproved || app.ESID == "" || app.FilingNumber == "" {
			t.Fatalf("approve: %v %+v", err, app)
		}
		_, err = h.reviewerB.Decide(ctx, app.ID, "approve", "")
		wantCode(t, "approve twice", err, 409, api.CodeInvalidTransition)
		_, err = h.reviewerB.Decide(ctx, app.ID, "reject", "too late")
		wantCode(t, "reject after approval", err, 409, api.CodeInvalidTransition)

		// The seal is filed, not yet in force.
		seal, err := h.applicantA.Seal(ctx, app.ESID)
		if err != nil || seal.Status != api.StatusFiled || seal.ApplicationID != app.ID {
			t.Fatalf("filed seal: %v %+v", err, seal)
		}
		if got := statuses(seal.StatusHistory); !slices.Equal(got, []string{api.StatusMade, api.StatusFiled}) {
			t.Fatalf("history %v", got)
		}
		_, err = h.applicantA.SetStatus(ctx, app.ESID, api.StatusChange{Status: api.StatusActive})
		wantCode(t, "activate before delivery", err, 409, api.CodeInvalidTransition)

		pkg, err := h.applicantA.FetchSeal(ctx, app.ID)
		if err != nil {
			t.Fatal(err)
		}
		leaf, err := smx509.ParseCertificate(pkg.Certificate)
		if err != nil || !leaf.PublicKey.(*ecdsa.PublicKey).Equal(&holder.PublicKey) || len(pkg.Chain) != 2 {
			t.Fatalf("certificate: %v", err)
		}
		parsed, err := ses.ParseSeal(pkg.Seal)
		if err != nil || parsed.Info.ESID != app.ESID || parsed.Info.Property.Name != req.SealName || parsed.Version() != ses.V4 {
			t.Fatalf("seal: %v %+v", err, parsed)
		}
		if r := ses.VerifySeal(parsed, parsed.Info.Property.ValidStart.Add(1)); r.Status() != ses.OK {
			t.Fatalf("the made seal does not verify: %+v", r)
		}
		if seal, err = h.applicantA.Delivered(ctx, app.ESID); err != nil || seal.Status != api.StatusActive {
			t.Fatalf("delivered: %v %+v", err, seal)
		}
		_, err = h.applicantA.Delivered(ctx, app.ESID)
		wantCode(t, "deliver twice", err, 409, api.CodeInvalidTransition)
		_, err = h.reviewerB.SetStatus(ctx, app.ESID, api.StatusChange{Status: api.StatusSuspended, Reason: "x"})
		wantCode(t, "reviewer suspends", err, 403, api.CodeRoleNotAllowed)

		for _, ch := range []api.StatusChange{{Status: api.StatusSuspended, Reason: "印章停用检查"}, {Status: api.StatusActive}, {Status: api.StatusLost, Reason: "遗失"}} {
			if _, err := h.applicantA.SetStatus(ctx, app.ESID, ch); err != nil {
				t.Fatalf("%s: %v", ch.Status, err)
			}
		}
		_, err = h.applicantA.SetStatus(ctx, app.ESID, api.StatusChange{Status: api.StatusActive})
		wantCode(t, "resume a lost seal", err, 409, api.CodeInvalidTransition)

		// Re-issue after the loss: the new seal names the old one, in the hub and in itself.
		re := req
		re.Replaces, re.ReissueKind = app.ESID, api.ReissueLost
		re.SESVersion = ses.V1
		re.Attachments = nil
		app2, err := h.applicantA.Apply(ctx, re)
		if err != nil {
			t.Fatal(err)
		}
		if app2, err = h.reviewerB.Decide(ctx, app2.ID, "approve", ""); err != nil {
			t.Fatal(err)
		}
		pkg2, err := h.applicantA.FetchSeal(ctx, app2.ID)
		if err != nil {
			t.Fatal(err)
		}
		p2, err := ses.ParseSeal(pkg2.Seal)
		if err != nil {
			t.Fatalf("re-issued seal: %v", err)
		}
		if p2.Version() != ses.V1 || maker.Replaces(p2) != app.ESID {
			t.Fatalf("re-issued seal: %v version %d replaces %q", err, p2.Version(), maker.Replaces(p2))
		}
		s2, _ := h.applicantA.Seal(ctx, app2.ESID)
		if s2.Replaces != app.ESID {
			t.Fatalf("re-issued seal names %q", s2.Replaces)
		}

		// Withdraw and reject paths.
		app3, err := h.applicantA.Apply(ctx, api.ApplicationRequest{UnitName: "Org A", USCC: h.A.USCC, SealType: "01", SealName: "x", CSR: req.CSR, Contact: "c"})
		if err != nil || app3.Status != api.AppDraft {
			t.Fatalf("draft: %v %+v", err, app3)
		}
		_, err = h.reviewerB.Decide(ctx, app3.ID, "reject", "no")
		wantCode(t, "reject a draft", err, 409, api.CodeInvalidTransition)
		if app3, err = h.applicantA.Decide(ctx, app3.ID, "withdraw", "不再需要"); err != nil || app3.Status != api.AppWithdrawn {
			t.Fatalf("withdraw: %v", err)
		}
		_, err = h.applicantA.Decide(ctx, app3.ID, "submit", "")
		wantCode(t, "submit a withdrawn application", err, 409, api.CodeInvalidTransition)

		// The audit trail: every step in order, each event signed by the hub key, chained.
		page, err := h.auditor.Audit(ctx, "", "", "", 1000)
		if err != nil {
			t.Fatal(err)
		}
		pub, err := h.auditor.PinnedKey(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var steps []string
		prev := ""
		for _, ev := range page.Events {
			if err := ev.Verify(pub); err != nil {
				t.Fatalf("event %d %s: %v", ev.Seq, ev.Action, err)
			}
			if ev.Prev != prev {
				t.Fatalf("event %d: chain broken (prev %q, want %q)", ev.Seq, ev.Prev, prev)
			}
			prev = ev.Link()
			if ev.Target == app.ID || ev.Target == app.ESID {
				steps = append(steps, ev.Action+" "+ev.Reason)
			}
		}
		want := []string{"application.submitted ", "application.returned 营业执照扫描件不清晰", "application.resubmitted ",
			"application.approved 材料齐全", "seal.made ", "seal.filed ", "seal.fetch ", "seal.delivered ", "seal.status delivered",
			"seal.status 印章停用检查", "seal.status ", "seal.status 遗失"}
		// denied attempts name the application too; keep the lifecycle steps only
		steps = slices.DeleteFunc(steps, func(s string) bool { return strings.HasPrefix(s, "denied") })
		if !slices.Equal(steps, want) {
			t.Fatalf("audit steps:\n%s\nwant\n%s", strings.Join(steps, "\n"), strings.Join(want, "\n"))
		}
		// A tampered event no longer verifies.
		ev := page.Events[len(page.Events)-1]
		ev.Reason += "!"
		if ev.Verify(pub) == nil {
			t.Fatal("a changed audit event still verifies")
		}
		_, err = h.applicantA.Audit(ctx, h.B.ID, "", "", 10)
		wantCode(t, "applicant reads another's audit", err, 403, api.CodeForbidden)
	})
}

func statuses(h []api.StatusEvent) []string {
	var out []string
	for _, e := range h {
		out = append(out, e.Status)
	}
	return out
}
