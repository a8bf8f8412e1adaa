package demo

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"sealdesk/hub/api"
	"sealdesk/hub/server"
	"sealdesk/hub/store"
	"sealdesk/signer/ses"
)

// The demo hub: hub.db (SQLite) holding the demo organisation, the demo client's token
// (hub-token.txt, for SEALDESK_HUB_TOKEN_FILE) and the demo seal, filed; hub-key.pem is the
// hub's status-signing key. `sealhub serve --db sqlite:DIR/hub.db --demo DIR` serves it (and
// re-seeds any part that is missing, e.g. when pointed at another database).

// Demo organisation facts.
const (
	DemoOrgID   = "demo-org"
	DemoOrgName = "SealDesk Demo 演示单位"
)

// DemoUSCC is the demo organisation's unified social credit code (valid check digit).
var DemoUSCC = api.USCCWithCheckDigit("91110108MA01K7X3P")

func init() {
	RegisterStep(Step{Order: 60, Name: "hub", Run: makeHub})
}

func makeHub(ctx context.Context, ws *Workspace) error {
	key, err := server.LoadOrCreateKey(ws.Path("hub-key.pem"))
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, "sqlite:"+ws.Path("hub.db"))
	if err != nil {
		return err
	}
	defer st.Close()
	h, err := server.New(server.Options{Store: st, Key: key, ParseSeal: server.SESParser})
	if err != nil {
		return err
	}
	if err := SeedHub(ctx, ws.Dir, h); err != nil {
		return err
	}
	ws.Manifest.Files["hubDB"] = "hub.db"
	ws.Manifest.Files["hubToken"] = "hub-token.txt"
	ws.Manifest.Files["hubKey"] = "hub-key.pem"
	ws.Manifest.Notes = append(ws.Manifest.Notes,
		"hub: sealhub serve --db sqlite:"+ws.Path("hub.db")+" --demo "+ws.Dir+
			"; clients: SEALDESK_HUB=http://127.0.0.1:8443 SEALDESK_HUB_TOKEN_FILE="+ws.Path("hub-token.txt"))
	return nil
}

// SeedHub makes sure the hub holds the demo workspace's organisation, its client token
// (dir/hub-token.txt, made when missing) and its seal (dir/seal.esl, when present), filed.
// Parts already there are left as they are, so it can run at every start.
func SeedHub(ctx context.Context, dir string, h *server.Hub) error {
	_, e := h.CreateOrg(ctx, server.Admin, api.Org{ID: DemoOrgID, Name: DemoOrgName, USCC: DemoUSCC})
	if e != nil && e.Code != api.CodeAlreadyExists {
		return e
	}
	tokPath := filepath.Join(dir, "hub-token.txt")
	b, err := os.ReadFile(tokPath)
	switch {
	case err == nil:
		tok := strings.TrimSpace(string(b))
		e := h.AddCredential(ctx, server.Admin, server.TokenHash(tok), api.TokenRequest{OrgID: DemoOrgID, Role: api.RoleOrg, Label: "demo client"})
		if e != nil && e.Code != api.CodeAlreadyExists {
			return e
		}
	case errors.Is(err, os.ErrNotExist):
		tok, e := h.IssueToken(ctx, server.Admin, api.TokenRequest{OrgID: DemoOrgID, Role: api.RoleOrg, Label: "demo client"})
		if e != nil {
			return e
		}
		if err := os.WriteFile(tokPath, []byte(tok.Token+"\n"), 0o600); err != nil {
			return err
		}
	default:
		return err
	}
	if err := seedStaff(ctx, dir, h); err != nil {
		return err
	}
	sealDER, err := os.ReadFile(filepath.Join(dir, "seal.esl"))
	if errors.Is(err, os.ErrNotExist) {
		return nil // no seal in this workspace: nothing to file
	}
	if err != nil {
		return err
	}
	s, err := ses.ParseSeal(sealDER)
	if err != nil {
		return fmt.Errorf("seal.esl: %w", err)
	}
	req := api.FileSealRequest{Seal: sealDER, FilingNumber: "DEMO-" + s.Info.ESID, OwnerUSCC: DemoUSCC, OrgID: DemoOrgID}
	if len(s.Info.Property.Certs) == 0 {
		// A seal listing only certificate digests: file the workspace's signer certificates.
		files, _ := filepath.Glob(filepath.Join(dir, "certs", "signer-*.pem"))
		for _, f := range files {
			pb, err := os.ReadFile(f)
			if err != nil {
				return err
			}
			if blk, _ := pem.Decode(pb); blk != nil {
				req.Certificates = append(req.Certificates, blk.Bytes)
			}
		}
	}
	if _, e := h.FileSeal(ctx, server.Admin, req); e != nil && e.Code != api.CodeAlreadyExists {
		return fmt.Errorf("filing seal.esl: %w", e)
	}
	return nil
}

// StaffFile holds the demo's web console accounts, one "username password role" a line
// (made with random passwords when missing): the hub operator (admin), a reviewer, an
// auditor, and a clerk of the demo organisation (org).
const StaffFile = "staff.txt"

func seedStaff(ctx context.Context, dir string, h *server.Hub) error {
	path := filepath.Join(dir, StaffFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		pw := func() string {
			r := make([]byte, 12)
			rand.Read(r)
			return base64.RawURLEncoding.EncodeToString(r)
		}
		b = []byte("admin " + pw() + " admin\nreviewer " + pw() + " reviewer\nauditor " + pw() + " auditor\ndemo-clerk " + pw() + " org\n")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			continue
		}
		org := ""
		if f[2] == "org" {
			org = DemoOrgID
		}
		if _, e := h.AddStaff(ctx, server.Admin, f[0], f[1], f[2], org); e != nil && e.Code != api.CodeAlreadyExists {
			return fmt.Errorf("%s: staff account %s: %w", StaffFile, f[0], e)
		}
	}
	return nil
}
