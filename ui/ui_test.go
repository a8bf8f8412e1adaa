package ui

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"sealdesk/document"
	vreport "sealdesk/internal/report"
	"sealdesk/signer"
	"sealdesk/signer/keys"
	"sealdesk/signer/pki"
	"sealdesk/signer/token"
)

func near(a, b float64) bool { return math.Abs(a-b) < 0.05 }

// placementRig is a tray next to a page view holding an A4 page, at zoom.
func placementRig(t *testing.T, zoom float32) (fyne.Window, *SealTray, *PageView) {
	t.Helper()
	newTestApp(t)
	SetLang(Chinese)
	v := NewPageView()
	v.PageSize = document.Size{W: 210, H: 297}
	v.Zoom = zoom
	tray := NewSealTray(v)
	tray.SetItems([]*SealItem{{Name: "测试专用章", ESID: "x1", Picture: standInPicture(), W: 42, H: 42}})
	w := test.NewTempWindow(t, container.NewBorder(nil, nil, container.NewGridWrap(fyne.NewSize(220, 700), tray.Box), nil, container.NewStack(v)))
	w.Resize(fyne.NewSize(900, 800))
	return w, tray, v
}

func TestDragSealFromTrayLandsAtMM(t *testing.T) {
	for _, zoom := range []float32{0.5, 1, 1.6} {
		t.Run(fmt.Sprint(zoom), func(t *testing.T) {
			w, tray, v := placementRig(t, zoom)
			var got []float64
			tray.OnDrop = func(it *SealItem, page int, cx, cy float64) { got = []float64{float64(page), cx, cy} }
			item := tray.items[0]
			d := fyne.CurrentApp().Driver()
			itemAbs := d.AbsolutePositionForObject(item)
			viewAbs := d.AbsolutePositionForObject(v)
			// Start the drag on the seal picture and move so that its centre reaches (60, 80) mm.
			startCentre := fyne.NewPos(itemAbs.X+32, itemAbs.Y+item.Size().Height/2)
			target := fyne.NewPos(viewAbs.X+MMToUnits(60, zoom), viewAbs.Y+MMToUnits(80, zoom))
			test.Drag(w.Canvas(), startCentre, target.X-startCentre.X, target.Y-startCentre.Y)
			if got == nil {
				t.Fatal("no drop")
			}
			if got[0] != 0 || !near(got[1], 60) || !near(got[2], 80) {
				t.Fatalf("dropped at page %v (%.2f, %.2f) mm, want page 0 (60, 80)", got[0], got[1], got[2])
			}
			if v.Ghost != nil {
				t.Fatal("the drag preview stays after the drop")
			}
		})
	}
}

func TestDragPreviewIsTrueSize(t *testing.T) {
	_, tray, v := placementRig(t, 1)
	item := tray.items[0]
	d := fyne.CurrentApp().Driver()
	from := d.AbsolutePositionForObject(item)
	to := d.AbsolutePositionForObject(v)
	item.Dragged(&fyne.DragEvent{Dragged: fyne.NewDelta(to.X-from.X+200, to.Y-from.Y+200)})
	if v.Ghost == nil {
		t.Fatal("no live preview while dragging over the page")
	}
	if !near(v.Ghost.Rect.W, 42) || !near(v.Ghost.Rect.H, 42) {
		t.Fatalf("preview is %.1f×%.1f mm, want the seal's 42×42", v.Ghost.Rect.W, v.Ghost.Rect.H)
	}
	// 42 mm at 100 % is 42 × 96/25.4 ≈ 158.7 units on screen.
	if u := MMToUnits(v.Ghost.Rect.W, v.Zoom); math.Abs(float64(u)-158.74) > 0.1 {
		t.Fatalf("preview %.2f units wide", u)
	}
	item.DragEnd()
}

func TestMoveAndNudgePlacedSeal(t *testing.T) {
	w, _, v := placementRig(t, 0.5)
	var moved document.Rect
	v.OnMarkMoved = func(i int, r document.Rect) { moved = r }
	v.Marks = []Mark{{Page: 0, Rect: rectAround(100, 100, 40, 40), Picture: standInPicture(), Placement: 0}}
	v.Refresh()
	abs := fyne.CurrentApp().Driver().AbsolutePositionForObject(v)
	centre := fyne.NewPos(abs.X+MMToUnits(100, 0.5), abs.Y+MMToUnits(100, 0.5))
	test.Drag(w.Canvas(), centre, MMToUnits(25, 0.5), MMToUnits(-10, 0.5))
	if cx, cy := moved.Center(); !near(cx, 125) || !near(cy, 90) {
		t.Fatalf("moved to (%.2f, %.2f) mm, want (125, 90)", cx, cy)
	}
	if v.Selected != 0 {
		t.Fatalf("selected %d", v.Selected)
	}
	if !v.Nudge(1, -2) {
		t.Fatal("nudge found no selected seal")
	}
	if cx, cy := moved.Center(); !near(cx, 126) || !near(cy, 88) {
		t.Fatalf("nudged to (%.2f, %.2f) mm, want (126, 88)", cx, cy)
	}
	// Dragging far off the page keeps the centre on the page.
	centre = fyne.NewPos(abs.X+MMToUnits(126, 0.5), abs.Y+MMToUnits(88, 0.5))
	test.Drag(w.Canvas(), centre, 2000, 2000)
	if cx, cy := moved.Center(); !near(cx, 210) || !near(cy, 297) {
		t.Fatalf("clamped to (%.2f, %.2f) mm, want the page corner (210, 297)", cx, cy)
	}
}

func TestPINDialogTriesLeftAndZeroing(t *testing.T) {
	newTestApp(t)
	SetLang(Chinese)
	w := test.NewTempWindow(t, widget.NewLabel(""))
	w.Resize(fyne.NewSize(600, 500))

	cases := []struct {
		tok    *signer.TokenInfo
		err    error
		want   string
		locked bool
	}{
		{nil, nil, "", false},
		{&signer.TokenInfo{PINCountLow: true}, nil, "上次输入的 PIN 错误", false},
		{&signer.TokenInfo{PINFinalTry: true}, nil, "最后一次尝试：再错将锁定", false},
		{nil, &signer.PINError{Reason: "incorrect", TriesLeft: 2}, "PIN 错误，还可尝试 2 次", false},
		{nil, fmt.Errorf("token: %w", &signer.PINError{Reason: "final try", TriesLeft: 1}), "最后一次尝试：再错将锁定", false},
		{&signer.TokenInfo{PINLocked: true}, nil, "PIN 已锁定，请联系管理员", true},
		{nil, fmt.Errorf("token %q: %w", "k", signer.ErrPINLocked), "PIN 已锁定，请联系管理员", true},
	}
	for i, c := range cases {
		d := ShowPINDialog(w, "合同.pdf", c.tok, c.err, func([]byte) {}, nil)
		if d.Status.Text != c.want {
			t.Errorf("case %d: status %q, want %q", i, d.Status.Text, c.want)
		}
		if d.OK.Disabled() != c.locked {
			t.Errorf("case %d: OK disabled = %v, want %v", i, d.OK.Disabled(), c.locked)
		}
		d.d.Hide()
	}

	var got []byte
	d := ShowPINDialog(w, "合同.pdf", &signer.TokenInfo{Label: "k"}, nil, func(pin []byte) { got = append([]byte(nil), pin...); clear(pin) }, nil)
	test.Type(d.Entry, "12345x")
	d.Entry.TypedKey(&fyne.KeyEvent{Name: fyne.KeyBackspace})
	if d.Entry.Len() != 5 || string(d.Entry.buffer()[:5]) != "12345" {
		t.Fatalf("entry holds %q", d.Entry.buffer()[:d.Entry.Len()])
	}
	if d.Entry.buffer()[5] != 0 {
		t.Fatal("backspace left the deleted byte in the buffer")
	}
	test.Tap(d.OK)
	if string(got) != "12345" {
		t.Fatalf("dialog gave %q", got)
	}
	for i, b := range d.Entry.buffer() {
		if b != 0 {
			t.Fatalf("byte %d of the PIN buffer not zeroed after submit", i)
		}
	}
	// No paste (the entry handles no shortcuts) and no text to reveal or undo.
	if _, ok := any(d.Entry).(fyne.Shortcutable); ok {
		t.Fatal("PIN entry accepts shortcuts (paste)")
	}
	// Cancelling wipes what was typed.
	d = ShowPINDialog(w, "x", nil, nil, func([]byte) { t.Fatal("PIN passed on cancel") }, nil)
	test.Type(d.Entry, "9999")
	for _, o := range test.LaidOutObjects(w.Canvas().Overlays().Top()) {
		if b, ok := o.(*widget.Button); ok && b.Text == T("action.cancel") {
			test.Tap(b)
		}
	}
	for _, b := range d.Entry.buffer() {
		if b != 0 {
			t.Fatal("PIN buffer not zeroed on cancel")
		}
	}
	// Empty submit does not call back.
	d = ShowPINDialog(w, "x", nil, nil, func([]byte) { t.Fatal("empty PIN passed on") }, nil)
	test.Tap(d.OK)
	if d.Status.Text != T("pin.empty") {
		t.Fatalf("status %q", d.Status.Text)
	}
}

func report(sigs ...document.SignatureReport) *document.VerifyReport {
	r := &document.VerifyReport{File: "x.pdf", Format: document.PDF, Signatures: sigs}
	r.Decide()
	return r
}

// sig is a signature report with these facts; a failed fact carries the (red) problem code a
// verifier gives it, since the verdict is decided by codes (document.SignatureVerdict).
func sig(page int, x float64, integrity, trust, revocation, registry document.Status) document.SignatureReport {
	s := document.SignatureReport{Profile: "pades", Integrity: integrity, ChangesAfter: document.None, Trust: trust,
		Revocation: revocation, Registry: registry, Signer: "CN=test", Pages: []int{page},
		Rects: []document.Rect{{X: x, Y: 50, W: 40, H: 40}}}
	for _, f := range []struct {
		st   document.Status
		code string
	}{{integrity, "pdf.digest-mismatch"}, {trust, "trust.key-usage"}, {revocation, "trust.revoked"}, {registry, "registry.seal-revoked"}} {
		if f.st == document.Failed {
			s.AddProblem(f.code, "test")
		}
	}
	return s
}

func TestStateOf(t *testing.T) {
	cases := []struct {
		s    document.SignatureReport
		want SigState
	}{
		{sig(0, 0, "ok", "ok", "ok", "ok"), SigValid},
		{sig(0, 0, "ok", "ok", "ok", ""), SigValid},
		{sig(0, 0, "failed", "ok", "ok", "ok"), SigInvalid},
		{sig(0, 0, "ok", "failed", "ok", ""), SigInvalid},
		{sig(0, 0, "ok", "ok", "failed", ""), SigInvalid},
		{sig(0, 0, "ok", "ok", "ok", "failed"), SigInvalid},
		{sig(0, 0, "ok", "ok", "unknown", ""), SigUnknown}, // offline revocation
		{sig(0, 0, "ok", "unknown", "unknown", ""), SigUnknown},
		{sig(0, 0, "ok", "ok", "ok", "unknown"), SigUnknown},
		// An issuer this machine does not know: amber with its reason, never red.
		{func() document.SignatureReport {
			s := sig(0, 0, "ok", "unknown", "unknown", "")
			s.AddProblem("trust.chain", "test")
			return s
		}(), SigUnknown},
	}
	for i, c := range cases {
		r := report(c.s)
		if got := StateOf(&r.Signatures[0]); got != c.want {
			t.Errorf("case %d: %v, want %v", i, got, c.want)
		}
	}
	dis := sig(0, 0, "ok", "ok", "ok", "")
	dis.ChangesAfter = document.Disallowed
	if r := report(dis); StateOf(&r.Signatures[0]) != SigInvalid {
		t.Error("disallowed changes are not red")
	}
}

func TestVerificationOverlayColours(t *testing.T) {
	newTestApp(t)
	v := NewPageView()
	v.PageSize = document.Size{W: 210, H: 297}
	v.Zoom = 1
	white := image.NewNRGBA(image.Rect(0, 0, 210, 297))
	for i := range white.Pix {
		white.Pix[i] = 0xff
	}
	v.Image = white
	r := report(
		sig(0, 10, "ok", "ok", "ok", "ok"),     // green
		sig(0, 80, "failed", "ok", "ok", "ok"), // red
		sig(0, 150, "ok", "ok", "unknown", ""), // amber
		sig(1, 10, "ok", "ok", "ok", "ok"),     // other page: not drawn on page 0
	)
	v.Overlays = OverlaysOf(r)
	w := test.NewTempWindow(t, container.NewWithoutLayout(v))
	v.Resize(v.MinSize())
	w.Resize(v.MinSize().AddWidthHeight(20, 20))
	img := w.Canvas().Capture()
	sc := float64(img.Bounds().Dx()) / float64(w.Canvas().Size().Width)
	at := func(xmm, ymm float64) color.NRGBA {
		pos := fyne.CurrentApp().Driver().AbsolutePositionForObject(v)
		x := (float64(pos.X) + xmm*UnitsPerMM) * sc
		y := (float64(pos.Y) + ymm*UnitsPerMM) * sc
		return color.NRGBAModel.Convert(img.At(int(x), int(y))).(color.NRGBA)
	}
	close := func(a color.NRGBA, b color.Color) bool {
		c := color.NRGBAModel.Convert(b).(color.NRGBA)
		d := func(x, y uint8) int { return int(x) - int(y) }
		return abs(d(a.R, c.R)) < 40 && abs(d(a.G, c.G)) < 40 && abs(d(a.B, c.B)) < 40
	}
	// The outline runs along each rectangle's left edge (x = rect.X), 3 units wide.
	for _, c := range []struct {
		x    float64
		want color.Color
		name string
	}{{10, colorValid, "green"}, {80, colorInvalid, "red"}, {150, colorUnknown, "amber"}} {
		got := at(c.x+0.1, 70)
		if !close(got, c.want) {
			t.Errorf("%s outline at x=%v mm is %v", c.name, c.x, got)
		}
		inside := at(c.x+20, 70)
		if close(inside, c.want) || inside.R < 0xc0 {
			t.Errorf("%s box is filled opaquely: %v", c.name, inside)
		}
	}
	if n := len(v.pageOverlays()); n != 3 {
		t.Fatalf("%d overlays on page 1, want 3", n)
	}
	// The panel lists the facts of each signature.
	p := NewSigPanel()
	p.SetReport(r)
	var texts []string
	for _, o := range test.LaidOutObjects(p.Box) {
		if l, ok := o.(*widget.Label); ok {
			texts = append(texts, l.Text)
		}
	}
	all := strings.Join(texts, "|")
	// The panel speaks the catalogue's words (internal/report), with the plain reason of the red one.
	l := reportLang()
	for _, want := range []string{"CN=test", vreport.FactText("failed", l), vreport.FactText("unknown", l), vreport.FactText("", l), vreport.Text("pdf.digest-mismatch", l)} {
		if !strings.Contains(all, want) {
			t.Errorf("panel lacks %q: %s", want, all)
		}
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// waitUI polls cond on the UI goroutine until it holds.
func waitUI(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var ok bool
		fyne.DoAndWait(func() { ok = cond() })
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func fakeKeys(t *testing.T) (*token.Fake, *keys.Stores) {
	t.Helper()
	ch, err := pki.NewChain(signer.ECDSA, "UI Test")
	if err != nil {
		t.Fatal(err)
	}
	p, err := ch.Issue(pki.Template{Kind: pki.Signer, CommonName: "ui signer"})
	if err != nil {
		t.Fatal(err)
	}
	f := token.NewFake("fake-module")
	tok := f.AddToken("Seal Key", []byte("123456"))
	tok.AddIdentity("signer", []byte{1}, p.Key, p.Cert, ch.Certs())
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	w := token.NewWatcher(ctx, []token.Lister{f}, token.WatchOptions{Interval: 20 * time.Millisecond})
	return f, &keys.Stores{Source: w, Stores: []signer.KeyStore{f}}
}

func TestKeyPanelFollowsInsertAndRemove(t *testing.T) {
	newTestApp(t)
	SetLang(English)
	defer SetLang(Chinese)
	f, k := fakeKeys(t)
	defer k.Close()
	p := NewKeyPanel(k)
	var removed []string
	p.OnRemoved = func(ti signer.TokenInfo) { removed = append(removed, ti.Label) }
	test.NewTempWindow(t, p.Box).Resize(fyne.NewSize(400, 300))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p.Start(ctx)
	waitUI(t, "the token's identity", func() bool { return len(p.Entries()) == 1 })
	e := p.Entries()[0]
	if e.Token == nil || e.Token.Label != "Seal Key" || !strings.Contains(e.Title(), "USB key: Seal Key · signer") {
		t.Fatalf("entry %+v %q", e.Token, e.Title())
	}
	f.Unplug("Seal Key")
	// The listing can lose the key before the removal event is handled: wait for both.
	waitUI(t, "the identity to go", func() bool { return len(p.Entries()) == 0 && len(removed) > 0 })
	if len(removed) != 1 || removed[0] != "Seal Key" {
		t.Fatalf("removed events %v", removed)
	}
	f.Plug("Seal Key")
	waitUI(t, "the identity to come back", func() bool { return len(p.Entries()) == 1 })
}

func TestSigningStopsWhenTokenRemoved(t *testing.T) {
	a := newTestApp(t)
	f, k := fakeKeys(t)
	m := NewMainWindow(a, Options{Keys: k, NoHub: true, Outbox: t.TempDir() + "/outbox.db", Lang: Chinese})
	defer m.Close()
	waitUI(t, "the key", func() bool { return len(m.Keys.Entries()) == 1 })
	e, _ := m.Keys.Current()
	cancelled := make(chan struct{})
	fyne.DoAndWait(func() {
		m.signMu.Lock()
		m.signing, m.signToken = true, e.Token
		m.signCancel = func() { close(cancelled) }
		m.signMu.Unlock()
	})
	f.Unplug("Seal Key")
	waitUI(t, "the signing stopped when the token was removed", func() bool {
		select {
		case <-cancelled:
			return true
		default:
			return false
		}
	})
	waitUI(t, "the message", func() bool { return m.msg.Text == T("sign.removed") })
	waitUI(t, "the key status to say no key", func() bool { return m.keyStatus.Text == T("status.noKey") })
}

func TestPINRetryFlowWithFakeToken(t *testing.T) {
	// A wrong PIN through the real Keys.Open path yields the error the dialog turns into text.
	_, k := fakeKeys(t)
	defer k.Close()
	ids, _ := k.Identities(context.Background())
	_, err := k.Open(context.Background(), ids[0].URI, []byte("000000"))
	var pe *signer.PINError
	if !errors.As(err, &pe) {
		t.Fatalf("wrong PIN gave %v", err)
	}
	_, err = k.Open(context.Background(), ids[0].URI, []byte("000000"))
	if txt, locked := PINStatus(nil, err); txt != T("pin.finalTry") || locked {
		t.Fatalf("after two wrong PINs of three: %q locked=%v", txt, locked)
	}
	_, err = k.Open(context.Background(), ids[0].URI, []byte("000000"))
	if txt, locked := PINStatus(nil, err); txt != T("pin.locked") || !locked {
		t.Fatalf("after three wrong PINs: %q locked=%v (%v)", txt, locked, err)
	}
}

func TestEveryStringTranslated(t *testing.T) {
	for _, k := range messageKeys() {
		m := messages[k]
		if m[Chinese] == "" || m[English] == "" {
			t.Errorf("%s lacks a language: %v", k, m)
		}
	}
	SetLang(English)
	defer SetLang(Chinese)
	if T("action.sign") != "Sign" || T("no.such.key") != "no.such.key" {
		t.Fatal("lookup")
	}
}

func TestReportPDF(t *testing.T) {
	r := report(sig(0, 10, "ok", "ok", "unknown", "ok"), sig(1, 10, "failed", "ok", "ok", ""))
	r.Signatures[0].Signer = "CN=张三,O=测试单位"
	var b strings.Builder
	if err := WriteReportPDF(&b, r); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !strings.HasPrefix(out, "%PDF-") || !strings.Contains(out, "%%EOF") || len(out) > 200000 {
		t.Fatalf("report PDF of %d bytes, starts %q", len(out), out[:min(len(out), 20)])
	}
}
