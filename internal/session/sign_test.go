package session_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"sealdesk/document"
	"sealdesk/document/ofd"
	_ "sealdesk/document/ofd/ofdsig"
	"sealdesk/document/pdf"
	"sealdesk/hub/api"
	"sealdesk/hub/client"
	"sealdesk/hub/hubtest"
	"sealdesk/hub/outbox"
	"sealdesk/hub/server"
	"sealdesk/internal/cli"
	"sealdesk/internal/session"
	"sealdesk/internal/session/sessiontest"
	"sealdesk/signer"
	"sealdesk/signer/keys"
)

// These tests run without cgo and without fyne (CGO_ENABLED=0 go test ./internal/session).

type rig struct {
	*sessiontest.Rig
	core  *session.Core
	keys  keys.Layer
	uri   string
	dir   string
	files []string
}

func newRig(t *testing.T, nFiles int) *rig {
	t.Helper()
	r, err := sessiontest.New("Core Key")
	if err != nil {
		t.Fatal(err)
	}
	ob, err := session.OpenOutbox(filepath.Join(t.TempDir(), "outbox.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ob.Close() })
	uri, err := r.URI(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	x := &rig{Rig: r, core: &session.Core{Outbox: ob, TrustPEM: r.RootPEM}, keys: &keys.Stores{Stores: []signer.KeyStore{r}},
		uri: uri, dir: t.TempDir()}
	for i := 0; i < nFiles; i++ {
		p := filepath.Join(x.dir, string(rune('a'+i))+".ofd")
		if err := os.WriteFile(p, ofd.SampleContract(2).Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		x.files = append(x.files, p)
	}
	return x
}

func (x *rig) job() session.Job {
	return session.Job{KeyURI: x.uri, Seal: x.Seal, Files: x.files, Request: func(string) *document.SignRequest {
		return &document.SignRequest{Placements: []document.Placement{{Page: 1, At: &document.Point{X: 150, Y: 240}}}}
	}}
}

// pins answers the PIN prompts in order and counts them.
type pins struct {
	answers []string
	asked   []error
}

func (p *pins) ask(last error) ([]byte, bool) {
	p.asked = append(p.asked, last)
	if len(p.answers) == 0 {
		return nil, false
	}
	a := p.answers[0]
	p.answers = p.answers[1:]
	return []byte(a), true
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	sort.Strings(out)
	return out
}

func records(t *testing.T, ob *outbox.Outbox) map[string]int {
	t.Helper()
	c, err := ob.Counts()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestBatchOfThreeWithOnePIN(t *testing.T) {
	x := newRig(t, 3)
	p := &pins{answers: []string{sessiontest.PIN}}
	var progress []session.Progress
	job := x.job()
	job.Progress = func(pr session.Progress) { progress = append(progress, pr) }
	res, err := x.core.Run(context.Background(), x.keys, job, p.ask)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.asked) != 1 || x.Logins() != 1 {
		t.Fatalf("PIN asked %d times, %d logins; want one of each", len(p.asked), x.Logins())
	}
	if len(res.Signed) != 3 || len(res.Failed) != 0 || res.Stopped != nil {
		t.Fatalf("result %+v", res)
	}
	if len(progress) != 6 || progress[5].Index != 2 || !progress[5].Done || progress[5].Total != 3 {
		t.Fatalf("progress %+v", progress)
	}
	for _, out := range res.Signed {
		rep, err := x.core.Verify(context.Background(), out)
		if err != nil || len(rep.Signatures) != 1 || rep.Signatures[0].Integrity != document.OK {
			t.Fatalf("%s: %v %+v", out, err, rep)
		}
	}
	if c := records(t, x.core.Outbox); c[outbox.StateReady] != 3 || c[outbox.StatePending] != 0 {
		t.Fatalf("outbox %v, want one ready record per file", c)
	}
}

func TestWrongPINThenRight(t *testing.T) {
	x := newRig(t, 1)
	p := &pins{answers: []string{"000000", sessiontest.PIN}}
	res, err := x.core.Run(context.Background(), x.keys, x.job(), p.ask)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.asked) != 2 || p.asked[0] != nil {
		t.Fatalf("asked %d times (%v)", len(p.asked), p.asked)
	}
	var pe *signer.PINError
	if !errors.As(p.asked[1], &pe) || pe.TriesLeft == 0 || session.Classify(p.asked[1]) != session.KindWrongPIN {
		t.Fatalf("the second prompt was told %v, want a wrong PIN, not yet locked", p.asked[1])
	}
	if len(res.Signed) != 1 {
		t.Fatalf("result %+v", res)
	}
	// Three wrong PINs lock the key: no fourth prompt.
	y := newRig(t, 1)
	p = &pins{answers: []string{"1", "2", "3", sessiontest.PIN}}
	_, err = y.core.Run(context.Background(), y.keys, y.job(), p.ask)
	if session.Classify(err) != session.KindPINLocked || len(p.asked) != 3 {
		t.Fatalf("after three wrong PINs: %v (%d prompts)", err, len(p.asked))
	}
	// Cancelling the prompt signs nothing.
	_, err = x.core.Run(context.Background(), x.keys, x.job(), (&pins{}).ask)
	if session.Classify(err) != session.KindCancelled {
		t.Fatalf("cancelled prompt: %v", err)
	}
}

func TestKeyRemovedAfterTheFirstFile(t *testing.T) {
	x := newRig(t, 3)
	job := x.job()
	job.Progress = func(pr session.Progress) {
		if pr.Index == 0 && pr.Done {
			x.Fake.Unplug(x.Label)
		}
	}
	res, err := x.core.Run(context.Background(), x.keys, job, (&pins{answers: []string{sessiontest.PIN}}).ask)
	if err != nil {
		t.Fatal(err)
	}
	if session.Classify(res.Stopped) != session.KindKeyRemoved || !session.Classify(res.Stopped).Retryable() {
		t.Fatalf("stopped by %v, want the removed key", res.Stopped)
	}
	if len(res.Signed) != 1 || res.Signed[0] != filepath.Join(x.dir, "a-signed.ofd") {
		t.Fatalf("signed %v, want only the first file", res.Signed)
	}
	// Files 2 and 3 were not written, nothing partial (no temporary file) is left.
	want := []string{"a-signed.ofd", "a.ofd", "b.ofd", "c.ofd"}
	if got := dirNames(t, x.dir); len(got) != len(want) || got[0] != want[0] || got[3] != want[3] {
		t.Fatalf("folder holds %v, want %v", got, want)
	}
	// File 1's record is kept; no record waits for a file that was never written.
	if c := records(t, x.core.Outbox); c[outbox.StateReady] != 1 || c[outbox.StatePending] != 0 {
		t.Fatalf("outbox %v, want file 1's record only", c)
	}
}

func TestRevokedSealRefusedBeforeThePIN(t *testing.T) {
	env := hubtest.Start(t, "sqlite", server.Options{})
	x := newRig(t, 1)
	ctx := context.Background()
	if _, e := env.Hub.FileSeal(ctx, server.Admin, hubtest.SealRequest(env.A.ID, x.SealID, env.A.USCC, x.Signer)); e != nil {
		t.Fatal(e)
	}
	c, err := client.New(env.URL, client.Options{Token: env.A.Token})
	if err != nil {
		t.Fatal(err)
	}
	x.core.Hub = c
	// Filed and active: it signs.
	if _, err := x.core.Run(ctx, x.keys, x.job(), (&pins{answers: []string{sessiontest.PIN}}).ask); err != nil {
		t.Fatalf("active seal: %v", err)
	}
	if _, e := env.Hub.SetStatus(ctx, server.Admin, x.SealID, api.StatusChange{Status: api.StatusRevoked, Reason: "key compromise"}); e != nil {
		t.Fatal(e)
	}
	logins := x.Logins()
	p := &pins{answers: []string{sessiontest.PIN}}
	_, err = x.core.Run(ctx, x.keys, x.job(), p.ask)
	if session.Classify(err) != session.KindSealRefused || !errors.Is(err, outbox.ErrSealNotUsable) {
		t.Fatalf("revoked seal: %v", err)
	}
	if len(p.asked) != 0 || x.Logins() != logins {
		t.Fatalf("the PIN was asked %d times for a revoked seal", len(p.asked))
	}
	if got := dirNames(t, x.dir); len(got) != 2 { // a.ofd and the copy signed while active
		t.Fatalf("folder holds %v", got)
	}
}

// TestTwoValidSignaturesBothGreen signs a PDF twice (pdf-gm: no SES seal in the report, so the
// earlier signature is known to the hub only by the revision it signed), syncs the records, and
// verifies: both signatures are valid with the registry's "ok", through the core (the app) and
// through `sealctl verify --hub` — the same registry step and the same verdict function.
func TestTwoValidSignaturesBothGreen(t *testing.T) {
	env := hubtest.Start(t, "sqlite", server.Options{})
	x := newRig(t, 0)
	ctx := context.Background()
	if _, e := env.Hub.FileSeal(ctx, server.Admin, hubtest.SealRequest(env.A.ID, x.SealID, env.A.USCC, x.Signer)); e != nil {
		t.Fatal(e)
	}
	c, err := client.New(env.URL, client.Options{Token: env.A.Token})
	if err != nil {
		t.Fatal(err)
	}
	x.core.Hub = c
	in := filepath.Join(x.dir, "contract.pdf")
	if err := os.WriteFile(in, pdf.SampleContract(), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{in, filepath.Join(x.dir, "contract-signed.pdf")} {
		job := x.job()
		job.Files = []string{f}
		job.Request = func(string) *document.SignRequest {
			return &document.SignRequest{Placements: []document.Placement{{Page: 0, At: &document.Point{X: 60, Y: 250}}}}
		}
		if _, err := x.core.Run(ctx, x.keys, job, (&pins{answers: []string{sessiontest.PIN}}).ask); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := x.core.Sync(ctx, 1); err != nil {
		t.Fatal(err)
	}
	final := filepath.Join(x.dir, "contract-signed-signed.pdf")
	rep, err := x.core.Verify(ctx, final)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Signatures) != 2 {
		t.Fatalf("%d signatures", len(rep.Signatures))
	}
	for _, s := range rep.Signatures {
		if s.Registry != document.OK || !s.Valid {
			t.Fatalf("signature %d: registry %s valid %v, problems %+v", s.Index+1, s.Registry, s.Valid, s.Problems)
		}
	}

	// sealctl verify --hub: the same answer.
	root := filepath.Join(x.dir, "root.pem")
	os.WriteFile(root, x.RootPEM, 0o644)
	t.Setenv("SEALDESK_HUB_TOKEN", env.A.Token)
	t.Setenv("SEALDESK_OUTBOX", x.core.Outbox.Path())
	var out, errOut bytes.Buffer
	code := cli.Main("sealctl", []string{"verify", "--json", "--trust", root, "--hub", env.URL, final}, nil, &out, &errOut)
	var cliRep document.VerifyReport
	if err := json.Unmarshal(out.Bytes(), &cliRep); err != nil {
		t.Fatalf("sealctl verify (exit %d): %v\n%s\n%s", code, err, out.Bytes(), errOut.Bytes())
	}
	if code != 0 || !cliRep.Valid || len(cliRep.Signatures) != 2 {
		t.Fatalf("sealctl verify exit %d: %s", code, out.Bytes())
	}
	for i, s := range cliRep.Signatures {
		if s.Registry != rep.Signatures[i].Registry || s.Valid != rep.Signatures[i].Valid || s.Trust != rep.Signatures[i].Trust {
			t.Fatalf("signature %d: the CLI says %+v, the app %+v", i+1, s, rep.Signatures[i])
		}
	}
}
