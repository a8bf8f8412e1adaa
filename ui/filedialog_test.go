package ui

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"sealdesk/document"
	"sealdesk/document/ofd"
	_ "sealdesk/document/ofd"
	_ "sealdesk/document/ofd/ofdsig"
	"sealdesk/internal/session/sessiontest"
	"sealdesk/signer"
	"sealdesk/signer/keys"
)

// These tests drive the file dialogs as a person does: a click on the toolbar button or menu
// item, clicks on the folder listing, keys typed into the path entry, Enter or the OK button.

func init() { os.Setenv(FileDialogEnv, "app") } // no desktop portal in tests

// placed is a laid-out object with its absolute position on the window's canvas.
type placed struct {
	obj fyne.CanvasObject
	pos fyne.Position
}

// walk lists the visible objects under o (o at pos), widgets through their renderers.
func walk(o fyne.CanvasObject, pos fyne.Position, out *[]placed) {
	if o == nil || !o.Visible() {
		return
	}
	*out = append(*out, placed{o, pos})
	var kids []fyne.CanvasObject
	switch v := o.(type) {
	case *fyne.Container:
		kids = v.Objects
	case fyne.Widget:
		kids = test.WidgetRenderer(v).Objects()
	}
	for _, k := range kids {
		walk(k, pos.Add(k.Position()), out)
	}
}

// objectsOf lists every visible object of the window: its content, then its overlays (dialogs).
func objectsOf(w fyne.Window) []placed {
	var out []placed
	c := w.Canvas()
	walk(c.Content(), c.Content().Position(), &out)
	for _, o := range c.Overlays().List() {
		walk(o, o.Position(), &out)
	}
	return out
}

// textOf returns the visible text of a label, button, entry or canvas text.
func textOf(o fyne.CanvasObject) (string, bool) {
	switch v := o.(type) {
	case *widget.Label:
		return v.Text, v.Visible()
	case *widget.Button:
		return v.Text, v.Visible()
	case *canvas.Text:
		return v.Text, v.Visible()
	case *widget.Check:
		return v.Text, v.Visible()
	}
	return "", false
}

// clickText clicks the centre of the visible object showing text (the last one found: dialogs
// lie above the window), as a mouse click would.
func clickText(t *testing.T, w fyne.Window, text string) {
	t.Helper()
	var hit *placed
	fyne.DoAndWait(func() {
		for _, p := range objectsOf(w) {
			if s, ok := textOf(p.obj); ok && s == text {
				if _, isText := p.obj.(*canvas.Text); isText && hit != nil {
					continue // prefer the widget over its own text
				}
				hit = &p
			}
		}
		if hit == nil {
			return
		}
		sz := hit.obj.Size()
		test.TapCanvas(w.Canvas(), hit.pos.Add(fyne.NewPos(sz.Width/2, sz.Height/2)))
	})
	if hit == nil {
		t.Fatalf("nothing on screen shows %q", text)
	}
}

// typeKeys types text into the focused widget and, with enter, presses Enter.
func typeKeys(t *testing.T, w fyne.Window, text string, enter bool) {
	t.Helper()
	fyne.DoAndWait(func() {
		f := w.Canvas().Focused()
		if f == nil {
			t.Fatal("nothing has the keyboard focus")
		}
		test.Type(f, text)
		if enter {
			f.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
		}
	})
}

// waitEvent yields to the UI (queued callbacks run: uitest_test.go) until event happened more
// often than in since, and returns its last value.
func waitEvent(t *testing.T, m *MainWindow, event string, since map[string]int) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		fyne.DoAndWait(func() {})
		if v, err := m.waitEvent(event, since, 0); err == nil {
			return v
		}
		if time.Now().After(deadline) {
			var msg string
			fyne.DoAndWait(func() { msg = m.msg.Text })
			t.Fatalf("timed out after 30s waiting for %s (status bar: %q)", event, msg)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func sampleOFD(t *testing.T, dir, name string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, ofd.SampleContract(2).Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func dialogWindow(t *testing.T, k Keys) (*MainWindow, string) {
	t.Helper()
	a := newTestApp(t)
	SetLang(Chinese)
	if k == nil {
		_, k = fakeKeys(t)
	}
	root := t.TempDir()
	m := NewMainWindow(a, Options{Keys: k, NoHub: true, Outbox: filepath.Join(t.TempDir(), "outbox.db"), Lang: Chinese})
	t.Cleanup(m.Close)
	a.Preferences().SetString("lastDir", root)
	waitUI(t, "the key listings", func() bool { return m.eventCounts()["keys"] >= 2 })
	return m, root
}

func TestOpenDialogByMouse(t *testing.T) {
	m, root := dialogWindow(t, nil)
	docs := filepath.Join(root, "合同")
	os.Mkdir(docs, 0o755)
	want := sampleOFD(t, docs, "服务合同.ofd")
	os.WriteFile(filepath.Join(docs, "notes.txt"), []byte("x"), 0o644)

	since := m.eventCounts()
	clickText(t, m.Window, T("action.open")) // the toolbar button
	waitEvent(t, m, "dialog", since)
	c := m.chooser
	if got := strings.Join(c.Items(), ","); got != "合同/" {
		t.Fatalf("the dialog lists %q in %s", got, c.Dir)
	}
	clickText(t, m.Window, "合同")
	if got := strings.Join(c.Items(), ","); got != "服务合同.ofd" {
		t.Fatalf("after a click on the folder the dialog lists %q (only PDF and OFD files belong there)", got)
	}
	clickText(t, m.Window, "服务合同.ofd")
	if c.Path.Text != want {
		t.Fatalf("the path entry says %q after a click on the file", c.Path.Text)
	}
	clickText(t, m.Window, T("action.open")) // the dialog's own button lies above the toolbar's
	if v := waitEvent(t, m, "opened", since); v != want {
		t.Fatalf("opened %q, want %q", v, want)
	}
	if !c.Closed() {
		t.Fatal("the dialog stays open")
	}
}

func TestOpenDialogTypedPathAndErrors(t *testing.T) {
	m, root := dialogWindow(t, nil)
	elsewhere := t.TempDir()
	want := sampleOFD(t, elsewhere, "invoice.ofd")

	since := m.eventCounts()
	fyne.DoAndWait(m.showOpen) // 文件 → 打开…
	waitEvent(t, m, "dialog", since)
	c := m.chooser
	if c.Dir != root {
		t.Fatalf("the dialog starts in %s, want the last folder %s", c.Dir, root)
	}
	// A wrong path says so in Chinese and keeps the dialog open.
	typeKeys(t, m.Window, filepath.Join(elsewhere, "missing.ofd"), true)
	if c.Closed() || !strings.Contains(c.Status.Text, "找不到文件") {
		t.Fatalf("a missing file gives %q (closed %v)", c.Status.Text, c.Closed())
	}
	// A full path typed (or pasted) into the entry, then Enter, opens the file.
	fyne.DoAndWait(func() { c.Path.SetText("") })
	typeKeys(t, m.Window, want, true)
	if v := waitEvent(t, m, "opened", since); v != want {
		t.Fatalf("opened %q, want %q", v, want)
	}
	if got := m.App.Preferences().String("lastDir"); got != elsewhere {
		t.Fatalf("last folder remembered as %q", got)
	}
}

func TestExportDialogTakesAFullPath(t *testing.T) {
	m, root := dialogWindow(t, nil)
	doc := sampleOFD(t, root, "contract.ofd")
	since := m.eventCounts()
	fyne.DoAndWait(func() { m.Open(doc) })
	waitEvent(t, m, "verified", since)

	outDir := t.TempDir()
	want := filepath.Join(outDir, "报告.json")
	since = m.eventCounts()
	fyne.DoAndWait(func() { m.showExport(".json", m.ExportJSON) }) // 文件 → 导出验证报告 (JSON)…
	waitEvent(t, m, "dialog", since)
	c := m.chooser
	if c.Path.Text != "contract-验证报告.json" || c.Dir != root {
		t.Fatalf("the save dialog suggests %q in %s", c.Path.Text, c.Dir)
	}
	// Select the suggested name, type an absolute path elsewhere, press Enter.
	fyne.DoAndWait(func() { c.Path.TypedShortcut(&fyne.ShortcutSelectAll{}) })
	typeKeys(t, m.Window, want, true)
	if v := waitEvent(t, m, "exported", since); v != want {
		t.Fatalf("exported to %q, want %q", v, want)
	}
	b, err := os.ReadFile(want)
	if err != nil {
		t.Fatal(err)
	}
	var rep document.VerifyReport
	if err := json.Unmarshal(b, &rep); err != nil || filepath.Base(rep.File) != "contract.ofd" {
		t.Fatalf("report %s: %v", b, err)
	}
	// A second export to the same name asks before replacing it.
	since = m.eventCounts()
	fyne.DoAndWait(func() { m.showExport(".json", m.ExportJSON) })
	waitEvent(t, m, "dialog", since)
	fyne.DoAndWait(func() { m.chooser.Path.SetText(strings.TrimSuffix(want, ".json")) }) // the extension is added
	clickText(t, m.Window, T("file.saveBtn"))
	clickText(t, m.Window, T("file.overwrite"))
	if v := waitEvent(t, m, "exported", since); v != want {
		t.Fatalf("exported to %q after replacing, want %q", v, want)
	}
}

// TestBatchDialogSignsAFolder chooses a folder in the batch dialog by mouse and signs its three
// documents after one PIN.
func TestBatchDialogSignsAFolder(t *testing.T) {
	r, err := sessiontest.New("Batch Key")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m, root := dialogWindow(t, &keys.Stores{Source: r.Watch(ctx), Stores: []signer.KeyStore{r}})
	waitUI(t, "the token's key", func() bool {
		if m.eventCounts()["keys"] < 2 {
			return false // the listing at start and the one after the insert event
		}
		for _, e := range m.Keys.Entries() {
			if e.Token != nil && e.Token.Label == "Batch Key" {
				return true
			}
		}
		return false
	})
	fyne.DoAndWait(func() {
		for i, e := range m.Keys.Entries() {
			if e.Token != nil && e.Token.Label == "Batch Key" {
				m.Keys.list.Select(i)
			}
		}
	})
	batch := filepath.Join(root, "待盖章")
	os.Mkdir(batch, 0o755)
	var files []string
	for _, n := range []string{"a.ofd", "b.ofd", "c.ofd"} {
		files = append(files, sampleOFD(t, batch, n))
	}
	since := m.eventCounts()
	fyne.DoAndWait(func() {
		m.Open(files[0])
	})
	waitEvent(t, m, "verified", since)
	fyne.DoAndWait(func() {
		if err := m.PlaceAt(0, 150, 240); err != nil {
			t.Error(err)
		}
	})

	since = m.eventCounts()
	fyne.DoAndWait(m.showBatch) // 文件 → 批量签章…
	waitEvent(t, m, "dialog", since)
	clickText(t, m.Window, "待盖章")
	if got := strings.Join(m.chooser.Items(), ","); got != "" {
		t.Fatalf("the folder dialog lists files: %q", got)
	}
	clickText(t, m.Window, T("file.choose"))
	waitEvent(t, m, "pin", since)
	typeKeys(t, m.Window, "123456", true)
	v := waitEvent(t, m, "batch", since)
	if v != "3/0" {
		t.Fatalf("batch result %q, want 3 signed, 0 failed", v)
	}
	for _, f := range files {
		out := strings.TrimSuffix(f, ".ofd") + "-signed.ofd"
		rep, err := document.VerifyFile(context.Background(), out, &document.VerifyOptions{})
		if err != nil || len(rep.Signatures) != 1 || rep.Signatures[0].Integrity != "ok" {
			t.Fatalf("%s: %v %+v", out, err, rep)
		}
	}
	if r.Logins() != 1 {
		t.Fatalf("the batch logged in %d times, want once", r.Logins())
	}
}
