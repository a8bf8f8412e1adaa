package ui

import (
	"context"
	"errors"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	flang "fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"

	"sealdesk/internal/session/sessiontest"
	"sealdesk/signer"
	"sealdesk/signer/keys"
)

// latinWord finds Latin words; allowed are the names Chinese users read as they are.
var latinWord = regexp.MustCompile(`[A-Za-z]{2,}`)

var allowedLatin = map[string]bool{"PDF": true, "OFD": true, "JSON": true, "USB": true, "Key": true, "PIN": true,
	"SealDesk": true, "ofd": true, "pdf": true, "json": true,
	"English": true, // the language menu names each language in itself
	"UTC":     true} // internal/report (engineer verdict) writes signing times in UTC for now

// englishIn returns the Latin words of s that are not allowed names. File names and paths
// (the user's own) are not UI text.
func englishIn(s string) []string {
	var bad []string
	for _, field := range strings.Fields(s) {
		if strings.Contains(field, "/") || strings.Contains(field, `\`) {
			continue
		}
		for _, w := range latinWord.FindAllString(field, -1) {
			if !allowedLatin[w] {
				bad = append(bad, w)
			}
		}
	}
	return bad
}

// screenTexts lists every visible text of the window and its dialogs, except the verification
// panel's problem lines (the verifiers' messages: issue 11's message catalogue, item 3, belongs
// to the verification vocabulary and replaces them).
func screenTexts(m *MainWindow) []string {
	var problems []string
	if m.report != nil {
		for _, sg := range m.report.Signatures {
			for _, p := range sg.Problems {
				problems = append(problems, p.Message)
			}
		}
	}
	all := strings.Join(problems, "; ")
	var out []string
	for _, p := range objectsOf(m.Window) {
		s, ok := textOf(p.obj)
		if e, isEntry := p.obj.(*widget.Entry); isEntry {
			s, ok = e.PlaceHolder, true
		}
		if !ok || s == "" {
			continue
		}
		if all != "" && strings.Contains(all, strings.TrimSuffix(s, "…")) {
			continue
		}
		out = append(out, s)
	}
	return out
}

func menuTexts(m *fyne.Menu) []string {
	out := []string{m.Label}
	for _, it := range m.Items {
		out = append(out, it.Label)
		if it.ChildMenu != nil {
			out = append(out, menuTexts(it.ChildMenu)...)
		}
	}
	return out
}

// TestChineseUIShowsNoEnglish walks every screen of the Chinese UI — the main window with a
// document and its signature panel, every menu, and each dialog (file dialogs, PIN, placement,
// errors, information, confirmation) — and fails on any English word.
func TestChineseUIShowsNoEnglish(t *testing.T) {
	r, err := sessiontest.New("测试密钥")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m, root := dialogWindow(t, &keys.Stores{Source: r.Watch(ctx), Stores: []signer.KeyStore{r}})
	// Both key listings (at start, after the token's insert event) are done before the test
	// touches widgets: fyne's test driver runs background updates on their own goroutines.
	waitUI(t, "the key", func() bool { return len(m.Keys.Entries()) == 1 && m.eventCounts()["keys"] >= 2 })
	doc := sampleOFD(t, root, "服务合同.ofd")
	since := m.eventCounts()
	fyne.DoAndWait(func() { m.Open(doc) })
	waitEvent(t, m, "verified", since)

	seen := map[string]bool{}
	check := func(screen string, texts []string) {
		t.Helper()
		for _, s := range texts {
			if bad := englishIn(s); len(bad) > 0 && !seen[s] {
				seen[s] = true
				t.Errorf("%s shows English %v in %q", screen, bad, s)
			}
		}
	}
	closeDialogs := func() {
		fyne.DoAndWait(func() {
			ov := m.Window.Canvas().Overlays()
			for i := 0; i < 10 && ov.Top() != nil; i++ {
				top := ov.Top()
				top.Hide()
				ov.Remove(top)
			}
		})
	}
	shot := func(screen string, open func()) {
		t.Helper()
		fyne.DoAndWait(open)
		var texts []string
		fyne.DoAndWait(func() { texts = screenTexts(m) })
		if len(texts) == 0 {
			t.Fatalf("%s: nothing on screen", screen)
		}
		check(screen, texts)
		closeDialogs()
	}

	shot("the main window", func() {})
	for _, menu := range m.Window.MainMenu().Items {
		check("menu "+menu.Label, menuTexts(menu))
	}
	// fyne's own words (the Quit item the desktop driver adds, dialog buttons) follow the UI.
	for _, w := range []string{"Quit", "OK", "Cancel", "Error", "Yes", "No"} {
		if got := flang.L(w); got == w {
			t.Errorf("fyne's %q is not translated", w)
		}
	}
	shot("the open dialog", m.showOpen)
	shot("the open dialog's error", func() {
		m.showOpen()
		m.chooser.Path.SetText(filepath.Join(root, "无此文件.ofd"))
		m.chooser.Submit()
	})
	shot("the export dialog", func() { m.showExport(".pdf", m.ExportPDF) })
	shot("the replace confirmation", func() {
		m.showExport(".ofd", m.ExportJSON)
		m.chooser.Path.SetText(doc)
		m.chooser.Submit()
	})
	shot("the keystore dialog", m.showAddKeystore)
	shot("the seal file dialog", m.showAddSeal)
	shot("the batch dialog without placements", m.showBatch)
	shot("the coordinates dialog", m.showCoords)
	shot("the keyword dialog", m.showKeyword)
	shot("the cross-page dialog", m.showCross)
	shot("the language dialog", func() { m.setLangPref(Chinese) })
	shot("an error dialog", func() { dialog.ShowError(errors.New(userError(errors.New("x"))), m.Window) })
	fyne.DoAndWait(func() {
		if err := m.PlaceAt(0, 100, 100); err != nil {
			t.Error(err)
		}
	})
	shot("the window with a placed seal", func() {})
	shot("the batch folder dialog", m.showBatch)
	shot("the PIN dialog", m.Sign)
	closeDialogs()
	// Sign, then look at the signed copy's signature panel.
	since = m.eventCounts()
	fyne.DoAndWait(m.Sign)
	waitEvent(t, m, "pin", since)
	typeKeys(t, m.Window, "000000", true) // wrong first: the PIN dialog says so
	waitUI(t, "the second PIN prompt", func() bool { return m.eventCounts()["pin"] >= since["pin"]+2 })
	var texts []string
	fyne.DoAndWait(func() { texts = screenTexts(m) })
	check("the PIN dialog after a wrong PIN", texts)
	typeKeys(t, m.Window, sessiontest.PIN, true)
	waitEvent(t, m, "signed", since)
	waitEvent(t, m, "verified", since)
	shot("the signed document with its signature panel", func() {})
}
