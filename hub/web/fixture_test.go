package web_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509/pkix"
	"encoding/hex"
	"image"
	"image/color"
	"image/png"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emmansun/gmsm/smx509"
	"sealdesk/document"
	_ "sealdesk/document/ofd"
	_ "sealdesk/document/ofd/ofdsig"
	_ "sealdesk/document/pdf"
	_ "sealdesk/document/pdfium"

	"sealdesk/hub/api"
	hubca "sealdesk/hub/ca"
	"sealdesk/hub/hubtest"
	"sealdesk/hub/maker"
	"sealdesk/hub/server"
	"sealdesk/hub/web"
	"sealdesk/internal/demo"
	"sealdesk/signer"
	"sealdesk/signer/keys"
	"sealdesk/signer/pki"
	"sealdesk/signer/softkey"
)

// The demo workspace and the documents signed with it are made once per test binary: the
// demo's signed sample.pdf (pdf-gm, SM2) and sample.ofd (ofd-ses4), and a tampered copy of the
// PDF (one byte of its page content changed after signing).
var (
	demoOnce sync.Once
	demoWS   *demo.Workspace
	demoErr  error
	signed   struct{ pdf, ofd, tampered string }
)

func demoDocs(t testing.TB) *demo.Workspace {
	t.Helper()
	demoOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sealhub-web-test")
		if err != nil {
			demoErr = err
			return
		}
		os.Setenv(keys.ConfigEnv, filepath.Join(dir, "config.json"))
		ctx := context.Background()
		ws, err := demo.Init(ctx, filepath.Join(dir, "demo"), signer.SM2)
		if err != nil {
			demoErr = err
			return
		}
		demoWS = ws
		id, err := softkey.Load(ws.Path(demo.KeystorePath(signer.SM2)), []byte(ws.PIN))
		if err != nil {
			demoErr = err
			return
		}
		signed.pdf = filepath.Join(dir, "sample-signed.pdf")
		signed.ofd = filepath.Join(dir, "sample-signed.ofd")
		signed.tampered = filepath.Join(dir, "sample-tampered.pdf")
		at := []document.Placement{{Page: 1, At: &document.Point{X: 150, Y: 60}, SealW: 40, SealH: 40}}
		if demoErr = document.SignFile(ctx, ws.Path("sample.pdf"), signed.pdf, &document.SignRequest{
			Profile: document.ProfilePDFGM, Identity: id, Seal: ws.Seal, Placements: at}); demoErr != nil {
			return
		}
		if demoErr = document.SignFile(ctx, ws.Path("sample.ofd"), signed.ofd, &document.SignRequest{
			Profile: document.ProfileOFDSES4, Identity: id, Seal: ws.Seal,
			Placements: []document.Placement{{Page: 1, At: &document.Point{X: 100, Y: 100}, SealW: 40, SealH: 40}}}); demoErr != nil {
			return
		}
		b, err := os.ReadFile(signed.pdf)
		if err != nil {
			demoErr = err
			return
		}
		// Change one character of the first page's text inside the signed byte range.
		i := bytes.Index(b, []byte(") Tj"))
		if i < 0 {
			i = bytes.Index(b, []byte("stream")) + 10
		}
		b[i-1] ^= 0x01
		demoErr = os.WriteFile(signed.tampered, b, 0o644)
	})
	if demoErr != nil {
		t.Fatalf("demo workspace: %v", demoErr)
	}
	return demoWS
}

// hub is a running sealhub (API + web face) for one test, with the hubtest organisations
// org-a and org-b (a seal and a signing record each), the demo organisation, its filed seal
// and staff accounts (demo.SeedHub), and a clerk account for org-a and org-b.
type hub struct {
	env   *hubtest.Env
	web   *web.Server
	srv   *httptest.Server
	url   string
	staff map[string]string // username → password
	appID string            // org-a's submitted application
}

// sealPicture is a red ring on a transparent background, 151 px (40 mm at 96 dpi).
func sealPicture(t testing.TB) []byte {
	const n = 151
	img := image.NewNRGBA(image.Rect(0, 0, n, n))
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			d := math.Hypot(float64(x-n/2), float64(y-n/2))
			if d > n/2-8 && d < n/2-1 || d < 12 {
				img.Set(x, y, color.NRGBA{R: 0xc8, G: 0x10, B: 0x2e, A: 0xff})
			}
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func startHub(t testing.TB, opt web.Options) *hub {
	t.Helper()
	ws := demoDocs(t)
	chain, err := pki.NewChain(signer.ECDSA, "Web Test")
	if err != nil {
		t.Fatal(err)
	}
	mk, err := chain.Issue(pki.Template{Kind: pki.SealMaker, CommonName: "Web Test Seal Maker"})
	if err != nil {
		t.Fatal(err)
	}
	env := hubtest.Start(t, "sqlite", server.Options{CRLDir: ws.Path(demo.CRLDir), ParseSeal: server.SESParser, VerifyBlob: server.SESVerifier,
		Maker: &maker.SES{Key: mk.Key, Cert: mk.Cert},
		CA:    &hubca.Local{Key: chain.Intermediate.Key, Cert: chain.Intermediate.Cert, Chain: []*smx509.Certificate{chain.Root.Cert}}})
	ctx := context.Background()
	if err := demo.SeedHub(ctx, ws.Dir, env.Hub); err != nil {
		t.Fatal(err)
	}
	h := &hub{env: env, staff: map[string]string{}}
	b, err := os.ReadFile(ws.Path(demo.StaffFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 3 {
			h.staff[f[0]] = f[1]
		}
	}
	for _, o := range []hubtest.Org{env.A, env.B} {
		user, pw := "clerk-"+o.ID, "password-of-"+o.ID
		if _, e := env.Hub.AddStaff(ctx, server.Admin, user, pw, "org", o.ID); e != nil {
			t.Fatal(e)
		}
		h.staff[user] = pw
		p := api.Principal{Role: api.RoleOrg, OrgID: o.ID, Label: "client"}
		rec := api.Record{ID: "rec-" + o.ID, SealID: o.SealID, SignerCertSHA256: sha256hex(o.Signer.Cert.Raw),
			DocDigestAlg: "sha256", DocDigest: sha256hex([]byte(o.ID)), DocName: "contract-" + o.ID + ".pdf",
			Pages: []int{1}, SignedAt: time.Now().UTC().Add(-time.Hour).Truncate(time.Second), Client: "test"}
		if res, e := env.Hub.PushRecords(ctx, p, []api.Record{rec}); e != nil || res.Results[0].Result != api.ResultCreated {
			t.Fatalf("record for %s: %v %+v", o.ID, e, res)
		}
	}
	// An application of org-a waiting for a reviewer.
	holder, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	csr, err := smx509.CreateCertificateRequest(rand.Reader, &smx509.CertificateRequest{Subject: pkix.Name{CommonName: "Holder of org-a", Organization: []string{"Org org-a"}}}, holder)
	if err != nil {
		t.Fatal(err)
	}
	app, e := env.Hub.Apply(ctx, api.Principal{Role: api.RoleOrg, OrgID: env.A.ID, Label: "client"}, api.ApplicationRequest{
		UnitName: "Org A 单位", USCC: env.A.USCC, SealType: "04", SealName: "Org A 合同专用章", CSR: csr,
		Picture: sealPicture(t), Contact: "张三 010-12345678", Submit: true})
	if e != nil {
		t.Fatal(e)
	}
	h.appID = app.ID
	opt.Hub = env.Hub
	opt.API = env.Hub.Handler()
	roots, err := os.ReadFile(ws.Path("root.pem"))
	if err != nil {
		t.Fatal(err)
	}
	opt.Verify.TrustPEM = roots
	if h.web, err = web.New(opt); err != nil {
		t.Fatal(err)
	}
	h.srv = httptest.NewServer(h.web.Handler())
	t.Cleanup(h.srv.Close)
	h.url = h.srv.URL
	routeCRLs(t, env.URL)
	return h
}

func sha256hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// routeCRLs answers the demo certificates' CRL address (127.0.0.1:8443, where `make run`
// serves the demo hub) from this test's hub (its API listens at apiURL), so revocation checks
// are "ok" as with the demo. The default transport stays an *http.Transport (hub/client
// clones it), with only the dialling redirected.
func routeCRLs(t testing.TB, apiURL string) {
	u, _ := url.Parse(demo.CRLBaseURL)
	api, _ := url.Parse(apiURL)
	orig := http.DefaultTransport
	tr := orig.(*http.Transport).Clone()
	var d net.Dialer
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if addr == u.Host {
			addr = api.Host
		}
		return d.DialContext(ctx, network, addr)
	}
	http.DefaultTransport = tr
	t.Cleanup(func() { http.DefaultTransport = orig })
}
