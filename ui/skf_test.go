//go:build cgo

package ui

import (
	"context"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"github.com/emmansun/gmsm/sm2"

	"sealdesk/signer"
	"sealdesk/signer/keys"
	"sealdesk/signer/pki"
	"sealdesk/signer/skf"
	"sealdesk/signer/skf/skftest"
)

// TestKeyPanelSKF: an SKF USB key (the software SKF library, loaded like a vendor's) shows in
// the key panel as a USB key through the real key layer (keys.Live), goes when it is pulled
// (OnRemoved, which stops a signing on it) and comes back when it is plugged in.
func TestKeyPanelSKF(t *testing.T) {
	f := skftest.Library(t)
	newTestApp(t)
	SetLang(English)
	defer SetLang(Chinese)
	ch, err := pki.NewChain(signer.SM2, "UI SKF Test")
	if err != nil {
		t.Fatal(err)
	}
	p, err := ch.Issue(pki.Template{Kind: pki.Signer, CommonName: "skf signer"})
	if err != nil {
		t.Fatal(err)
	}
	f.Add(t, skftest.Device{Name: "UKey A", Serial: "A-1", Apps: []skftest.App{{Name: "App", PIN: "123456",
		Containers: []skftest.Container{{Name: "Con", SignKey: p.Key.(*sm2.PrivateKey), SignCert: p.Cert.Raw}}}}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	k, err := keys.NewLive(ctx, &keys.Config{SKF: []skf.Library{{Path: f.Path}}, NoDiscovery: true})
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	kp := NewKeyPanel(k)
	var removed []string
	kp.OnRemoved = func(ti signer.TokenInfo) { removed = append(removed, ti.Label) }
	test.NewTempWindow(t, kp.Box).Resize(fyne.NewSize(400, 300))
	kp.Start(ctx)
	waitUI(t, "the SKF key's identity", func() bool { return len(kp.Entries()) == 1 })
	e := kp.Entries()[0]
	if e.Token == nil || e.Token.Label != "UKey A" || !strings.Contains(e.Title(), "USB key: UKey A · skf signer") ||
		!strings.HasPrefix(e.Identity.URI, "skf:") {
		t.Fatalf("entry %+v %q", e.Token, e.Title())
	}
	f.Pull(t, "UKey A")
	// The listing can lose the key before the removal event is handled: wait for both.
	waitUI(t, "the identity to go", func() bool { return len(kp.Entries()) == 0 && len(removed) > 0 })
	if len(removed) != 1 || removed[0] != "UKey A" {
		t.Fatalf("removed events %v", removed)
	}
	f.Plug(t, "UKey A")
	waitUI(t, "the identity to come back", func() bool { return len(kp.Entries()) == 1 })
}
