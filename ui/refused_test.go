package ui

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"sealdesk/hub/api"
	"sealdesk/hub/client"
	"sealdesk/hub/hubtest"
	"sealdesk/hub/outbox"
	"sealdesk/hub/server"
)

// TestRefusedRecordsShownAndSentAgain (issue 12): a signing record the hub refuses for a reason
// that can change (its seal is not filed yet) stays in the outbox; the app's status bar counts
// it as refused and says why in Chinese after a sync; once the seal is filed, the menu's
// "重新发送被拒记录" sends it, and the hub holds it once.
func TestRefusedRecordsShownAndSentAgain(t *testing.T) {
	env := hubtest.Start(t, "sqlite", server.Options{})
	obPath := filepath.Join(t.TempDir(), "outbox.db")
	ob, err := outbox.Open(obPath, outbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	late := "11010007777777"
	sum := sha256.Sum256(env.A.Signer.Cert.Raw)
	out := filepath.Join(t.TempDir(), "合同-signed.pdf")
	rec, err := ob.Record(context.Background(), api.Record{SealID: late, SignerCertSHA256: hex.EncodeToString(sum[:])}, out,
		func() error { return os.WriteFile(out, []byte("signed"), 0o644) })
	if err != nil {
		t.Fatal(err)
	}
	ob.Close()
	c, _ := client.New(env.URL, client.Options{Token: env.A.Token})
	a := newTestApp(t)
	SetLang(Chinese)
	_, k := fakeKeys(t)
	m := NewMainWindow(a, Options{Keys: k, Hub: c, Outbox: obPath, Lang: Chinese})
	t.Cleanup(m.Close)

	since := m.eventCounts()
	test.Tap(buttonNamed(t, m, T("action.sync")))
	waitUI(t, "the sync", func() bool { return m.eventCounts()["synced"] > since["synced"] })
	waitUI(t, "the refusal shown", func() bool {
		return strings.Contains(m.msg.Text, "1 条被登记中心拒收") && strings.Contains(m.msg.Text, "印章尚未在登记中心备案")
	})
	if !strings.Contains(m.outboxStatus.Text, "被拒收 1") {
		t.Fatalf("status bar: %q", m.outboxStatus.Text)
	}

	if _, e := env.Hub.FileSeal(context.Background(), server.Admin, hubtest.SealRequest(env.A.ID, late, env.A.USCC, env.A.Signer)); e != nil {
		t.Fatal(e)
	}
	since = m.eventCounts()
	menuItemNamed(t, m, "重新发送被拒记录").Action() // what a click on the menu item runs
	waitUI(t, "the second sync", func() bool { return m.eventCounts()["synced"] > since["synced"] })
	waitUI(t, "the record sent", func() bool { return strings.Contains(m.msg.Text, "上传 1 条记录") })
	page, err := c.Records(context.Background(), "", "", 0)
	if err != nil || len(page.Records) != 1 || page.Records[0].ID != rec.ID {
		t.Fatalf("hub records: %+v %v", page, err)
	}
	if strings.Contains(m.outboxStatus.Text, "被拒收") {
		t.Fatalf("status bar still counts a refusal: %q", m.outboxStatus.Text)
	}
}

func buttonNamed(t *testing.T, m *MainWindow, text string) *widget.Button {
	t.Helper()
	for _, p := range objectsOf(m.Window) {
		if b, ok := p.obj.(*widget.Button); ok && b.Text == text {
			return b
		}
	}
	t.Fatalf("no button %q on the window", text)
	return nil
}

func menuItemNamed(t *testing.T, m *MainWindow, label string) *fyne.MenuItem {
	t.Helper()
	for _, menu := range m.Window.MainMenu().Items {
		for _, it := range menu.Items {
			if it.Label == label {
				return it
			}
		}
	}
	t.Fatalf("no menu item %q", label)
	return nil
}
