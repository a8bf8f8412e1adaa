package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"

	"sealdesk/hub/api"
	"sealdesk/hub/ca"
	"sealdesk/hub/client"
	"sealdesk/hub/holder"
	"sealdesk/hub/maker"
	"sealdesk/hub/server"
	"sealdesk/hub/store"
	"sealdesk/signer"
	"sealdesk/signer/keys"
	"sealdesk/signer/pki"
	"sealdesk/signer/token"
	"sealdesk/signer/trust"
)

// The demo's seal lifecycle: the demo hub holds its CA and seal-maker keys on its own
// SoftHSM2 token ("Demo Hub Token"), and the demo organisation obtains a seal the way any
// unit does — a key generated on its token ("Demo Seal Key", object "holder"), an application,
// a reviewer of another organisation (演示审核中心) approving it, the seal fetched onto the
// token (lifecycle-seal.esl) — while a second application is left waiting for review.
// hub-maker.json names the hub's keys, which `sealhub serve --demo DIR` then uses.
//
// seal.esl (the SM2 seal binding the signers of every algorithm, used with the keystores) is
// still made directly by the demo PKI's SM2 seal maker: SoftHSM2 has no SM2, so that maker
// key cannot live on the demo token.

// Demo lifecycle names.
const (
	DemoHubTokenLabel = "Demo Hub Token"
	DemoReviewerOrgID = "demo-review"
	DemoHolderObject  = "holder"
	LifecycleSealFile = "lifecycle-seal.esl"
	HubMakerFile      = "hub-maker.json"
)

// HubMaker is hub-maker.json: the demo hub's keys on its token.
type HubMaker struct {
	MakerKey string `json:"makerKey"`
	CAKey    string `json:"caKey"`
	CACert   string `json:"caCert"` // file name in the workspace
	SoftHSM  string `json:"softhsm2Conf"`
}

func init() {
	RegisterStep(Step{Order: 70, Name: "seal lifecycle", Run: makeLifecycle})
}

func makeLifecycle(ctx context.Context, ws *Workspace) error {
	if ws.Manifest.SoftHSM == "" || ws.Manifest.Module == "" {
		ws.Manifest.Notes = append(ws.Manifest.Notes, "no SoftHSM2 token, so the demo seal was not obtained through an application")
		return nil
	}
	mod := token.Module{Path: ws.Manifest.Module, Env: map[string]string{"SOFTHSM2_CONF": ws.Manifest.SoftHSM}, Reinit: true}
	st, err := token.OpenModule(mod)
	if err != nil {
		return err
	}
	pin := []byte(ws.PIN)
	if err := st.InitToken(ctx, DemoHubTokenLabel, []byte(demoSOPIN), pin); err != nil {
		st.Close()
		return err
	}
	prov, err := maker.Provision(ctx, st, DemoHubTokenLabel, pin, "SealDesk 演示印章中心")
	st.Close()
	if err != nil {
		return err
	}
	if err := os.WriteFile(ws.Path("hub-ca.pem"), pki.PEM(prov.CACert), 0o644); err != nil {
		return err
	}
	hm := HubMaker{MakerKey: prov.MakerURI, CAKey: prov.CAURI, CACert: "hub-ca.pem", SoftHSM: ws.Manifest.SoftHSM}
	b, _ := json.MarshalIndent(hm, "", "  ")
	if err := os.WriteFile(ws.Path(HubMakerFile), b, 0o644); err != nil {
		return err
	}
	cfg := &keys.Config{}
	cfg.SetModule(mod)

	// The hub, with its maker and CA, served on loopback for this step only: the demo
	// organisation goes through the same HTTP API as sealctl and the app.
	key, err := server.LoadOrCreateKey(ws.Path("hub-key.pem"))
	if err != nil {
		return err
	}
	hs, err := store.Open(ctx, "sqlite:"+ws.Path("hub.db"))
	if err != nil {
		return err
	}
	defer hs.Close()
	opt := server.Options{Store: hs, Key: key, ParseSeal: server.SESParser, VerifyBlob: server.SESVerifier}
	closeKeys, err := OpenHubMaker(ctx, ws.Dir, pin, &opt)
	if err != nil {
		return err
	}
	defer closeKeys()
	h, err := server.New(opt)
	if err != nil {
		return err
	}
	if _, e := h.CreateOrg(ctx, server.Admin, api.Org{ID: DemoReviewerOrgID, Name: "SealDesk 演示审核中心", USCC: api.USCCWithCheckDigit("12110000MB0000001")}); e != nil && e.Code != api.CodeAlreadyExists {
		return e
	}
	rev, e := h.IssueToken(ctx, server.Admin, api.TokenRequest{OrgID: DemoReviewerOrgID, Role: api.RoleReviewer, Label: "demo reviewer"})
	if e != nil {
		return e
	}
	if err := os.WriteFile(ws.Path("hub-reviewer-token.txt"), []byte(rev.Token+"\n"), 0o600); err != nil {
		return err
	}
	orgTok, err := os.ReadFile(ws.Path("hub-token.txt"))
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h.Handler()}
	go srv.Serve(ln)
	defer srv.Close()
	url := "http://" + ln.Addr().String()
	applicant, err := client.New(url, client.Options{Token: string(trimNL(orgTok))})
	if err != nil {
		return err
	}
	reviewer, err := client.New(url, client.Options{Token: rev.Token})
	if err != nil {
		return err
	}
	holderURI := token.KeyURI(mod, signer.TokenInfo{Label: DemoTokenLabel}, DemoHolderObject, nil)
	req := api.ApplicationRequest{SealType: "04", SealName: DemoSealName, Contact: "演示联系人 010-00000000"}
	app, err := holder.Apply(ctx, applicant, holder.ApplyOptions{KeyURI: holderURI, PIN: pin, NewKey: true, Algorithm: signer.ECDSA, Config: cfg, Request: withSubmit(req)})
	if err != nil {
		return fmt.Errorf("applying for the demo seal: %w", err)
	}
	if _, err := reviewer.Decide(ctx, app.ID, "approve", "演示：材料齐全"); err != nil {
		return fmt.Errorf("approving the demo application: %w", err)
	}
	if _, err := holder.Fetch(ctx, applicant, app.ID, holder.FetchOptions{Out: ws.Path(LifecycleSealFile), ToToken: true, KeyURI: holderURI, PIN: pin, Config: cfg}); err != nil {
		return fmt.Errorf("fetching the demo seal: %w", err)
	}
	// One more application, waiting for the reviewer (sealhub app list --pending).
	req.SealType, req.SealName = "02", "SealDesk 演示单位 财务专用章"
	if _, err := holder.Apply(ctx, applicant, holder.ApplyOptions{KeyURI: token.KeyURI(mod, signer.TokenInfo{Label: DemoTokenLabel}, "holder-finance", nil),
		PIN: pin, NewKey: true, Algorithm: signer.ECDSA, Config: cfg, Request: withSubmit(req)}); err != nil {
		return fmt.Errorf("the waiting demo application: %w", err)
	}
	ws.Manifest.Seals = append(ws.Manifest.Seals, LifecycleSealFile)
	ws.Manifest.Files["lifecycleSeal"] = LifecycleSealFile
	ws.Manifest.Files["hubMaker"] = HubMakerFile
	ws.Manifest.Files["hubReviewerToken"] = "hub-reviewer-token.txt"
	ws.Manifest.Keys = append(ws.Manifest.Keys, KeyEntry{URI: holderURI, Algorithm: signer.ECDSA, Label: DemoHolderObject, Store: "softhsm"})
	ws.Manifest.Notes = append(ws.Manifest.Notes, "lifecycle: "+LifecycleSealFile+" was applied for, approved by the demo reviewer and fetched onto the token (key "+
		DemoHolderObject+"); one more application waits: SEALDESK_HUB_TOKEN_FILE="+ws.Path("hub-reviewer-token.txt")+" sealhub app list --pending")
	return nil
}

func withSubmit(r api.ApplicationRequest) api.ApplicationRequest { r.Submit = true; return r }

func trimNL(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// OpenHubMaker opens the demo hub's maker and CA keys named by dir/hub-maker.json into opt
// (nothing when the file is missing) and returns what closes them.
func OpenHubMaker(ctx context.Context, dir string, pin []byte, opt *server.Options) (func(), error) {
	none := func() {}
	b, err := os.ReadFile(filepath.Join(dir, HubMakerFile))
	if errors.Is(err, os.ErrNotExist) {
		return none, nil
	}
	if err != nil {
		return none, err
	}
	var hm HubMaker
	if err := json.Unmarshal(b, &hm); err != nil {
		return none, fmt.Errorf("%s: %w", HubMakerFile, err)
	}
	u, err := token.ParseURI(hm.MakerKey)
	if err != nil {
		return none, err
	}
	mod := token.Module{Path: u.ModulePath, Env: map[string]string{"SOFTHSM2_CONF": hm.SoftHSM}}
	cfg := &keys.Config{}
	cfg.SetModule(mod)
	mk, err := keys.OpenWith(ctx, cfg, hm.MakerKey, pin)
	if err != nil {
		return none, fmt.Errorf("the demo hub's maker key: %w", err)
	}
	st, _, err := keys.TokenStore(ctx, cfg, hm.CAKey)
	if err != nil {
		mk.Close()
		return none, err
	}
	ck, err := st.OpenKey(ctx, hm.CAKey, pin)
	if err != nil {
		st.Close()
		mk.Close()
		return none, fmt.Errorf("the demo hub's CA key: %w", err)
	}
	pemText, err := os.ReadFile(filepath.Join(dir, hm.CACert))
	certs, perr := trust.ParseCertificates(pemText)
	if err != nil || perr != nil || len(certs) == 0 {
		ck.Close()
		st.Close()
		mk.Close()
		return none, fmt.Errorf("%s: %v %v", hm.CACert, err, perr)
	}
	opt.Maker = &maker.SES{Key: mk.Signer, Cert: mk.Certificate}
	opt.CA = &ca.Local{Key: ck.Signer, Cert: certs[0], Chain: certs[1:]}
	return func() { ck.Close(); st.Close(); mk.Close() }, nil
}
