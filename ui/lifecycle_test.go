package ui

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509/pkix"
	"errors"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
	"github.com/emmansun/gmsm/smx509"

	"sealdesk/hub/api"
	hubca "sealdesk/hub/ca"
	"sealdesk/hub/client"
	"sealdesk/hub/holder"
	"sealdesk/hub/hubtest"
	"sealdesk/hub/maker"
	"sealdesk/hub/server"
	"sealdesk/internal/testenv"
	"sealdesk/signer"
	"sealdesk/signer/keys"
	"sealdesk/signer/pki"
	"sealdesk/signer/token"
)

// lifecycleHub is a real hub (SQLite) with a seal maker and CA, and clients for organisation
// A's applicant and organisation B's reviewer.
func lifecycleHub(t *testing.T) (*hubtest.Env, *client.Client, *client.Client) {
	t.Helper()
	chain, err := pki.NewChain(signer.ECDSA, "UI Lifecycle")
	if err != nil {
		t.Fatal(err)
	}
	mk, err := chain.Issue(pki.Template{Kind: pki.SealMaker, CommonName: "UI Seal Maker"})
	if err != nil {
		t.Fatal(err)
	}
	env := hubtest.Start(t, "sqlite", server.Options{Maker: &maker.SES{Key: mk.Key, Cert: mk.Cert},
		CA: &hubca.Local{Key: chain.Intermediate.Key, Cert: chain.Intermediate.Cert, Chain: []*smx509.Certificate{chain.Root.Cert}}})
	rev, e := env.Hub.IssueToken(context.Background(), server.Admin, api.TokenRequest{OrgID: env.B.ID, Role: api.RoleReviewer, Label: "reviewer"})
	if e != nil {
		t.Fatal(e)
	}
	a, _ := client.New(env.URL, client.Options{Token: env.A.Token})
	r, _ := client.New(env.URL, client.Options{Token: rev.Token})
	return env, a, r
}

func lifecycleApp(t *testing.T) {
	newTestApp(t)
	SetLang(Chinese)
	fyne.CurrentApp().Settings().SetTheme(NewTheme(false, false)) // the bundled CJK font
}

func screenshot(t *testing.T, w fyne.Window, name string) {
	dir := os.Getenv("SEALDESK_SCREENSHOTS") // docs/screenshots/README.md
	if dir == "" {
		return
	}
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, w.Canvas().Capture()); err != nil {
		t.Fatal(err)
	}
}

// TestApplyDialog fills the application form with real keystrokes and clicks, with a key
// generated on a SoftHSM2 token, and finds the application on the hub.
func TestApplyDialog(t *testing.T) {
	lib := testenv.SoftHSMModule(t)
	dir := t.TempDir()
	conf := filepath.Join(dir, "softhsm2.conf")
	os.MkdirAll(filepath.Join(dir, "tokens"), 0o700)
	os.WriteFile(conf, []byte("directories.tokendir = "+filepath.Join(dir, "tokens")+"\nobjectstore.backend = file\nlog.level = ERROR\n"), 0o644)
	mod := token.Module{Path: lib, Env: map[string]string{"SOFTHSM2_CONF": conf}, Reinit: true}
	st, err := token.OpenModule(mod)
	if errors.Is(err, token.ErrNotBuiltIn) {
		t.Skip("PKCS#11 needs cgo")
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := st.InitToken(context.Background(), "UI Key", []byte("12345678"), []byte("123456")); err != nil {
		t.Fatal(err)
	}
	st.Close()
	cfg := &keys.Config{}
	cfg.SetModule(mod)
	env, applicant, _ := lifecycleHub(t)
	svc := &holder.Service{Hub: applicant, Config: cfg}
	types, err := svc.SealTypes(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	lifecycleApp(t)
	keyURI := "pkcs11:token=UI%20Key;object=seal-holder?module-path=" + lib
	f := NewApplyForm("Org org-a 测试单位", types, []string{keyURI}, func(in ApplyInput) (*api.Application, error) {
		return svc.Apply(context.Background(), in.Request, in.KeyURI, in.NewKey, []byte("123456"))
	})
	w := test.NewTempWindow(t, container.NewVScroll(f.Box))
	w.Resize(fyne.NewSize(640, 720))

	test.Tap(f.Submit)
	if !strings.Contains(f.Status.Text, "印章名称") || !strings.Contains(f.Status.Text, "联系人") {
		t.Fatalf("empty form: %q", f.Status.Text)
	}
	test.Type(f.Name, "测试单位财务专用章")
	test.Type(f.Contact, "李四 010-87654321")
	f.Type.SetSelected("02 财务专用章")
	test.Tap(f.NewKey)
	// The picture preview is drawn at the type's true size (财务专用章: 38 mm).
	if got, want := f.Preview.MinSize().Width, float32(38*UnitsPerMM); got < want-0.5 || got > want+0.5 || f.Preview.Image == nil {
		t.Fatalf("preview %v wide, want %v (38 mm)", got, want)
	}
	test.Tap(f.Submit)
	if !strings.Contains(f.Status.Text, "已提交申请") {
		t.Fatalf("submit: %q", f.Status.Text)
	}
	screenshot(t, w, "4-apply.png")
	apps, err := applicant.Applications(context.Background(), "", "", false)
	if err != nil || len(apps) != 1 || apps[0].SealType != "02" || apps[0].SealName != "测试单位财务专用章" || apps[0].Status != api.AppSubmitted {
		t.Fatalf("on the hub: %v %+v", err, apps)
	}
	_ = env
}

// TestMySealsView shows the applications (with the reviewer's reason) and seals, and changes
// a seal's status through the confirmation: suspend, then report lost (final: no actions).
func TestMySealsView(t *testing.T) {
	env, applicant, reviewer := lifecycleHub(t)
	ctx := context.Background()
	holderKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	csr, err := smx509.CreateCertificateRequest(rand.Reader, &smx509.CertificateRequest{Subject: pkix.Name{CommonName: "holder"}}, holderKey)
	if err != nil {
		t.Fatal(err)
	}
	req := api.ApplicationRequest{SealType: "04", SealName: "测试单位合同专用章", CSR: csr, Contact: "张三", Submit: true}
	app, err := applicant.Apply(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reviewer.Decide(ctx, app.ID, "approve", ""); err != nil {
		t.Fatal(err)
	}
	pkg, err := applicant.FetchSeal(ctx, app.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := applicant.Delivered(ctx, pkg.ESID); err != nil {
		t.Fatal(err)
	}
	req.SealType, req.SealName = "03", "测试单位发票专用章"
	app2, err := applicant.Apply(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reviewer.Decide(ctx, app2.ID, "return", "发票专用章需附税务登记证明"); err != nil {
		t.Fatal(err)
	}
	svc := &holder.Service{Hub: applicant}
	lifecycleApp(t)
	v := NewSealsView(func() ([]api.Application, []api.Seal, error) { return svc.Overview(ctx) },
		func(esID, status, reason string) error {
			_, err := svc.SetStatus(ctx, esID, status, reason)
			return err
		})
	w := test.NewTempWindow(t, container.NewVScroll(v.Box))
	w.Resize(fyne.NewSize(900, 560))
	v.Refresh()
	text := labels(v.Box)
	for _, want := range []string{"已批准", "已退回", "发票专用章需附税务登记证明", env.A.SealID, pkg.ESID + "  测试单位合同专用章  ·  正常"} {
		if !strings.Contains(text, want) {
			t.Fatalf("the view lacks %q:\n%s", want, text)
		}
	}
	screenshot(t, w, "5-my-seals.png")

	test.Tap(v.Buttons[pkg.ESID+"/"+api.StatusSuspended])
	if v.Confirm == nil {
		t.Fatal("no confirmation before suspending")
	}
	test.Type(v.Confirm.Reason, "年度检查")
	test.Tap(v.Confirm.OK)
	s, err := applicant.Seal(ctx, pkg.ESID)
	if err != nil || s.Status != api.StatusSuspended || s.StatusReason != "年度检查" {
		t.Fatalf("after suspending: %v %+v", err, s)
	}
	if !strings.Contains(labels(v.Box), pkg.ESID+"  测试单位合同专用章  ·  已停用") || v.Buttons[pkg.ESID+"/"+api.StatusActive] == nil {
		t.Fatalf("the view after suspending:\n%s", labels(v.Box))
	}
	// Cancelling changes nothing.
	test.Tap(v.Buttons[pkg.ESID+"/"+api.StatusLost])
	test.Tap(v.Confirm.Cancel)
	if s, _ := applicant.Seal(ctx, pkg.ESID); s.Status != api.StatusSuspended {
		t.Fatalf("cancel changed the status to %s", s.Status)
	}
	test.Tap(v.Buttons[pkg.ESID+"/"+api.StatusLost])
	test.Type(v.Confirm.Reason, "U盾遗失")
	test.Tap(v.Confirm.OK)
	if s, _ := applicant.Seal(ctx, pkg.ESID); s.Status != api.StatusLost {
		t.Fatalf("after reporting lost: %s", s.Status)
	}
	for k := range v.Buttons {
		if strings.HasPrefix(k, pkg.ESID+"/") {
			t.Fatalf("a lost seal still offers %s", k)
		}
	}
}

// labels joins the text of every label under o.
func labels(o fyne.CanvasObject) string {
	var b strings.Builder
	var walk func(fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		switch x := o.(type) {
		case *widget.Label:
			b.WriteString(x.Text + "\n")
		case *fyne.Container:
			for _, c := range x.Objects {
				walk(c)
			}
		case *container.Scroll:
			walk(x.Content)
		}
	}
	walk(o)
	return b.String()
}
