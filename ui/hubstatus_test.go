package ui

import (
	"io"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"sealdesk/hub/client"
	"sealdesk/hub/hubtest"
	"sealdesk/hub/server"
	"sealdesk/signer/keys"
)

// flakyLink is a loopback TCP link to target that can be cut (the port refuses connections,
// as for a hub that is down) and restored on the same port.
type flakyLink struct {
	t      *testing.T
	addr   string
	target string
	mu     sync.Mutex
	l      net.Listener
}

func (f *flakyLink) up() {
	l, err := net.Listen("tcp", f.addr)
	if err != nil {
		f.t.Fatal(err)
	}
	f.mu.Lock()
	f.l, f.addr = l, l.Addr().String()
	f.mu.Unlock()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				h, err := net.Dial("tcp", f.target)
				if err != nil {
					return
				}
				defer h.Close()
				go io.Copy(h, c)
				io.Copy(c, h)
			}()
		}
	}()
}

func (f *flakyLink) down() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.l.Close()
}

// TestHubStatusRecoversByItself: the hub goes away, a sync says it is unreachable; when the
// hub is back the status bar says synced again without anyone pressing 同步.
func TestHubStatusRecoversByItself(t *testing.T) {
	env := hubtest.Start(t, "sqlite", server.Options{})
	u, _ := url.Parse(env.URL)
	link := &flakyLink{t: t, addr: "127.0.0.1:0", target: u.Host}
	link.up()
	t.Cleanup(link.down)
	c, _ := client.New("http://"+link.addr, client.Options{Token: env.A.Token})
	defer func(d time.Duration) { hubRetry = d }(hubRetry)
	hubRetry = 200 * time.Millisecond

	a := newTestApp(t)
	SetLang(Chinese)
	_, k := fakeKeys(t)
	m := NewMainWindow(a, Options{Keys: k, Hub: c, Outbox: filepath.Join(t.TempDir(), "outbox.db"), Lang: Chinese})
	t.Cleanup(m.Close)

	link.down()
	since := m.eventCounts()
	test.Tap(buttonNamed(t, m, T("action.sync")))
	if v := waitEvent(t, m, "synced", since); !strings.HasPrefix(v, "error") {
		t.Fatalf("a sync with the hub down gave %q", v)
	}
	if !strings.Contains(m.hubStatus.Text, "不可达") {
		t.Fatalf("hub status with the hub down: %q", m.hubStatus.Text)
	}
	// It keeps trying quietly while the hub is down.
	since = m.eventCounts()
	if v := waitEvent(t, m, "synced", since); !strings.HasPrefix(v, "error") || !strings.Contains(m.hubStatus.Text, "不可达") {
		t.Fatalf("retry with the hub still down: %q, status %q", v, m.hubStatus.Text)
	}
	link.up()
	waitUI(t, "the hub status to recover by itself", func() bool {
		return strings.HasPrefix(m.hubStatus.Text, "中心：已同步")
	})
	if !strings.Contains(m.msg.Text, "已重新连上登记中心") {
		t.Fatalf("message after the hub came back: %q", m.msg.Text)
	}
}

// TestViewMenuChecksThemeAndLanguage: the View menu's theme and language items show which is
// in use, and follow a change.
func TestViewMenuChecksThemeAndLanguage(t *testing.T) {
	a := newTestApp(t)
	SetLang(Chinese)
	m := NewMainWindow(a, Options{Keys: &keys.Stores{}, NoHub: true, Outbox: filepath.Join(t.TempDir(), "outbox.db"), Lang: Chinese})
	t.Cleanup(m.Close)
	light, dark := menuItemNamed(t, m, T("menu.light")), menuItemNamed(t, m, T("menu.dark"))
	zh, en := menuItemNamed(t, m, "简体中文"), menuItemNamed(t, m, "English")
	if !light.Checked || dark.Checked || !zh.Checked || en.Checked {
		t.Fatalf("at start: light %v dark %v 中文 %v English %v", light.Checked, dark.Checked, zh.Checked, en.Checked)
	}
	dark.Action()
	en.Action()
	if light.Checked || !dark.Checked || zh.Checked || !en.Checked {
		t.Fatalf("after choosing dark and English: light %v dark %v 中文 %v English %v", light.Checked, dark.Checked, zh.Checked, en.Checked)
	}
	if m.notice == nil {
		t.Fatal("no word that the language changes at the next start")
	}
}
