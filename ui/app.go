// Package ui is the SealDesk desktop app: fyne windows and widgets that wire the user's actions
// to the core packages (signer/keys, document, hub). It holds no crypto or format logic, and it
// never imports fyne's app package (only cmd/sealdesk does), so every widget is testable with
// fyne's test driver without cgo or a display.
//
// Threading: work that takes time (opening, rendering, signing, verifying, syncing, listing keys)
// runs on goroutines; their results reach widgets through fyne.Do. Widget callbacks run on the
// UI goroutine.
//
// Geometry: positions are kept in millimetres from the page's visible top-left corner (the
// document package's space); the page view converts to screen units with UnitsPerMM × zoom, so
// 100 % zoom previews a seal at its true size.
//
// Test hook: when Options.Script (env SEALDESK_TEST_SCRIPT) names a file, the app runs its
// commands after the window shows (see script.go); the end-to-end test signs a PDF that way.
package ui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"

	"sealdesk/document"
	"sealdesk/hub/api"
	"sealdesk/hub/client"
	"sealdesk/hub/holder"
	"sealdesk/hub/outbox"
	"sealdesk/internal/session"
	"sealdesk/signer"
	"sealdesk/signer/keys"
)

// Options configures the main window.
type Options struct {
	// Workspace is a demo workspace directory (workspace.json), or "".
	Workspace string
	// Open is a file to open at start, or "".
	Open string
	// Lang is the UI language; "" takes the saved preference (Chinese by default).
	Lang Lang
	Dark bool
	// Keys is the key layer; nil starts the real one (signer/keys).
	Keys Keys
	// Hub is the seal registry client; nil reads the environment (SEALDESK_HUB).
	Hub *client.Client
	// NoHub forces standalone mode (tests).
	NoHub bool
	// Outbox is the signing-record outbox path; "" = sealctl's ($SEALDESK_OUTBOX or the default).
	Outbox string
	// Script is a test script to run after start (SEALDESK_TEST_SCRIPT).
	Script string
	// Started is when the process started, for the startup time report.
	Started time.Time
}

// MainWindow is the app's one window.
type MainWindow struct {
	App    fyne.App
	Window fyne.Window
	opts   Options
	ctx    context.Context
	cancel context.CancelFunc

	keys   Keys
	Keys   *KeyPanel
	Tray   *SealTray
	View   *PageView
	Sigs   *SigPanel
	scroll *container.Scroll
	thumbs *widget.List

	keyStatus, hubStatus, outboxStatus, msg *widget.Label
	pageLabel                               *widget.Label

	// core is the application core (internal/session): configuration, registry, outbox,
	// signing and verification. Everything here is widgets and wiring around it.
	core     *session.Core
	hubState string
	// the View menu's theme (light, dark) and language items, checked by state
	themeItems, langItems [2]*fyne.MenuItem
	dark                  bool
	// hubDown: the last sync could not reach the hub; the app tries again by itself every
	// hubRetry (retrying: one try is scheduled), so the status recovers without 同步.
	hubDown, retrying, syncing bool
	sealFiles                  []string

	// Document state (UI goroutine only).
	doc        document.Document
	docPath    string
	report     *document.VerifyReport
	placements []document.Placement
	placeSeal  *SealItem
	renderGen  int
	renderStop context.CancelFunc
	thumbCache map[int]image.Image

	// Signing state.
	signMu     sync.Mutex
	signCancel context.CancelFunc
	signToken  *signer.TokenInfo
	signing    bool

	// events for the script runner: "opened", "verified", "signed", "keys".
	waitMu     sync.Mutex
	counts     map[string]int
	last       map[string]string
	scriptMark map[string]int // the script's last mark

	pinDialog *PINDialog
	// notice is the information or error dialog on screen: Enter or Escape closes it.
	notice dialog.Dialog
	// chooser is the app's own file dialog last shown (tests drive it).
	chooser *FileChooser
	// lastSigned says where the last signed copy went; it stays in the status bar after the
	// copy opens.
	lastSigned string
}

// NewMainWindow builds the main window of app.
func NewMainWindow(app fyne.App, opts Options) *MainWindow {
	if opts.Lang == "" {
		opts.Lang = Lang(app.Preferences().StringWithFallback("lang", string(Chinese)))
	}
	if !opts.Dark {
		opts.Dark = app.Preferences().Bool("dark")
	}
	SetLang(opts.Lang)
	app.Settings().SetTheme(NewTheme(opts.Dark, false))
	w := app.NewWindow(T("app.title"))
	ctx, cancel := context.WithCancel(context.Background())
	m := &MainWindow{App: app, Window: w, opts: opts, ctx: ctx, cancel: cancel, dark: opts.Dark,
		thumbCache: map[int]image.Image{}, counts: map[string]int{}, last: map[string]string{}}
	m.trace("window created")
	m.openCore()
	m.build()
	m.trace("widgets built")
	m.startCore()
	m.trace("core started")
	w.SetOnClosed(func() { m.Close() })
	return m
}

// Run shows the window and runs the app; it returns when the window closes.
func (m *MainWindow) Run() {
	m.App.Lifecycle().SetOnStarted(func() {
		if !m.opts.Started.IsZero() {
			fmt.Fprintf(os.Stderr, "sealdesk: window visible %d ms after start (process CPU time %d ms)\n",
				time.Since(m.opts.Started).Milliseconds(), processCPU().Milliseconds())
		}
		if m.opts.Script != "" {
			go m.runScript(m.opts.Script)
		}
	})
	m.Window.ShowAndRun()
}

// trace prints how long start-up took so far, when SEALDESK_STARTUP_TRACE is set.
func (m *MainWindow) trace(phase string) {
	if os.Getenv("SEALDESK_STARTUP_TRACE") != "" && !m.opts.Started.IsZero() {
		fmt.Fprintf(os.Stderr, "sealdesk: %s after %d ms\n", phase, time.Since(m.opts.Started).Milliseconds())
	}
}

// Close stops background work.
func (m *MainWindow) Close() {
	m.cancel()
	if m.keys != nil {
		m.keys.Close()
	}
	m.core.Close()
	if m.doc != nil {
		m.doc.Close()
	}
}

// openCore opens the configuration: the workspace's own (its key configuration, outbox and
// trust roots) with --workspace, else the user's. Problems that leave the app usable go to the
// status bar once it is built.
func (m *MainWindow) openCore() {
	cfg := session.Config{Workspace: m.opts.Workspace, Outbox: m.opts.Outbox, NoHub: m.opts.NoHub || m.opts.Hub != nil}
	c, warns, err := session.Open(cfg)
	if err != nil && cfg.Workspace != "" {
		fmt.Fprintf(os.Stderr, "sealdesk: %v\n", err)
		cfg.Workspace = ""
		c, warns, err = session.Open(cfg)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "sealdesk: %v\n", err)
		c = &session.Core{}
	}
	for _, w := range warns {
		fmt.Fprintf(os.Stderr, "sealdesk: %v\n", w)
	}
	if m.opts.Hub != nil && !m.opts.NoHub {
		c.Hub = m.opts.Hub
	}
	m.core = c
	m.sealFiles = append(m.sealFiles, c.SealFiles...)
}

func (m *MainWindow) build() {
	w := m.Window
	m.View = NewPageView()
	m.View.OnMarkMoved = func(i int, r document.Rect) {
		if i >= 0 && i < len(m.placements) {
			rr := r
			m.placements[i].Rect = &rr
			m.setMsg(Tf("status.place", m.placements[i].Page+1, r.X+r.W/2, r.Y+r.H/2))
		}
	}
	m.scroll = container.NewScroll(container.NewCenter(m.View))
	m.Tray = NewSealTray(m.View)
	m.Tray.OnDrop = func(it *SealItem, page int, cx, cy float64) {
		r := rectAround(cx, cy, it.W, it.H)
		m.addPlacement(it, document.Placement{Page: page, Rect: &r})
	}
	m.Sigs = NewSigPanel()
	m.Sigs.OnSelect = m.showPage

	m.keyStatus = widget.NewLabel(T("status.noKey"))
	m.hubStatus = widget.NewLabel(T("status.hubNone"))
	m.outboxStatus = widget.NewLabel(Tf("status.outbox", 0))
	m.msg = widget.NewLabel("")
	m.msg.Truncation = fyne.TextTruncateEllipsis
	m.pageLabel = widget.NewLabel("")

	m.thumbs = widget.NewList(func() int {
		if m.doc == nil {
			return 0
		}
		return m.doc.NumPages()
	}, func() fyne.CanvasObject {
		img := newThumb()
		return container.NewBorder(nil, widget.NewLabel(""), nil, nil, img)
	}, func(i widget.ListItemID, o fyne.CanvasObject) {
		c := o.(*fyne.Container)
		c.Objects[1].(*widget.Label).SetText(fmt.Sprint(i + 1))
		m.fillThumb(i, c.Objects[0].(*thumb))
	})
	m.thumbs.OnSelected = func(i widget.ListItemID) { m.showPage(i) }

	// The real key layer loads PKCS#11 modules (C_Initialize can take a second): it starts
	// after the window shows (startCore), so the panel begins empty.
	m.keys = m.opts.Keys
	m.Keys = NewKeyPanel(m.keys)
	m.Keys.OnChange = func([]KeyEntry) { m.keysChanged() }
	m.Keys.OnRemoved = m.tokenRemoved
	m.Keys.OnEvent = func(ev signer.Event) {
		switch ev.Kind {
		case signer.TokenInserted:
			m.setMsg(Tf("keys.inserted", ev.Token.Label))
		case signer.TokenRemoved:
			m.setMsg(Tf("keys.removed", ev.Token.Label))
		case signer.ModuleError:
			m.setMsg(Tf("keys.moduleErr", filepath.Base(ev.Token.Module), ev.Err))
		}
	}
	keyPanel := m.Keys.Box

	signBtn := widget.NewButton(T("action.sign"), m.Sign)
	signBtn.Importance = widget.HighImportance
	toolbar := container.NewHBox(
		widget.NewButton(T("action.open"), m.showOpen),
		widget.NewButton("−", func() { m.setZoom(m.View.Zoom / 1.25) }),
		widget.NewButton("+", func() { m.setZoom(m.View.Zoom * 1.25) }),
		widget.NewButton("◀", func() { m.showPage(m.View.Page - 1) }),
		m.pageLabel,
		widget.NewButton("▶", func() { m.showPage(m.View.Page + 1) }),
		widget.NewSeparator(),
		signBtn,
		widget.NewButton(T("action.verify"), func() { m.verify(m.docPath) }),
		widget.NewButton(T("action.sync"), m.Sync),
	)
	left := container.NewVSplit(keyPanel, m.Tray.Box)
	left.SetOffset(0.4)
	right := container.NewBorder(widget.NewLabelWithStyle(T("panel.sigs"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		nil, nil, nil, container.NewVScroll(m.Sigs.Box))
	thumbs := container.NewBorder(widget.NewLabelWithStyle(T("panel.pages"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), nil, nil, nil, m.thumbs)
	center := container.NewBorder(nil, nil, thumbs, nil, m.scroll)
	split := container.NewHSplit(left, container.NewHSplit(center, right))
	split.SetOffset(0.2)
	split.Trailing.(*container.Split).SetOffset(0.72)
	status := container.NewBorder(nil, nil,
		container.NewHBox(m.keyStatus, widget.NewSeparator(), m.hubStatus, widget.NewSeparator(), m.outboxStatus, widget.NewSeparator()),
		nil, m.msg)
	w.SetContent(container.NewBorder(toolbar, status, nil, nil, split))
	w.SetMainMenu(m.menu())
	m.shortcuts()
	w.SetOnDropped(func(_ fyne.Position, uris []fyne.URI) {
		for _, u := range uris {
			if isDocument(u.Path()) {
				m.Open(u.Path())
				return
			}
		}
	})
	// Fits a 1366×768 laptop screen with its panel and title bar.
	w.Resize(fyne.NewSize(1200, 680))
}

func isDocument(p string) bool {
	switch strings.ToLower(filepath.Ext(p)) {
	case ".pdf", ".ofd":
		return true
	}
	return false
}

func (m *MainWindow) startCore() {
	if m.keys != nil {
		m.Keys.Start(m.ctx)
	} else {
		go func() {
			k, err := m.core.Keys(m.ctx)
			m.trace("key watcher started")
			fyne.Do(func() {
				if err != nil {
					m.setMsg(Tf("keys.unavailable", err))
					m.keys = &keys.Stores{}
				} else {
					m.keys = k
				}
				m.Keys.SetKeys(m.keys)
				m.Keys.Start(m.ctx)
			})
		}()
	}
	m.updateHubStatus("")
	if m.opts.Open != "" {
		m.Open(m.opts.Open)
	}
}

// --- status bar ---

func (m *MainWindow) setMsg(s string) { m.msg.SetText(s) }

// updateHubStatus shows the hub's state (state "" keeps the last one) and the outbox count.
func (m *MainWindow) updateHubStatus(state string) {
	if state != "" {
		m.hubState = state
	}
	switch {
	case m.core.Hub == nil:
		m.hubStatus.SetText(T("status.hubNone"))
	case m.hubState != "":
		m.hubStatus.SetText(m.hubState)
	default:
		m.hubStatus.SetText(T("status.hubIdle"))
	}
	if ob := m.core.Outbox; ob != nil {
		if c, err := ob.Counts(); err == nil {
			waiting := c[outbox.StateReady] + c[outbox.StatePending] + c[outbox.StateHeld]
			if refused := c[outbox.StateHeld] + c[outbox.StateRejected]; refused > 0 {
				m.outboxStatus.SetText(Tf("status.outboxRefused", waiting, refused))
			} else {
				m.outboxStatus.SetText(Tf("status.outbox", waiting))
			}
		}
	}
}

// --- keys and seals ---

func (m *MainWindow) keysChanged() {
	if e, ok := m.Keys.Current(); ok {
		m.keyStatus.SetText(Tf("status.key", e.Identity.Label))
	} else {
		m.keyStatus.SetText(T("status.noKey"))
	}
	m.reloadSeals()
	m.notify("keys", fmt.Sprint(len(m.Keys.Entries())))
}

// reloadSeals fills the tray: the seals of the chosen identity (or of every identity), then the
// workspace's seal files, each with the hub's cached status.
func (m *MainWindow) reloadSeals() {
	var items []*SealItem
	seen := map[string]bool{}
	add := func(der []byte, uri string) {
		it, err := NewSealItem(der, uri)
		if err != nil || seen[it.ESID] {
			return
		}
		seen[it.ESID] = true
		if ob := m.core.Outbox; ob != nil {
			if st, _, err := ob.CachedStatus(it.ESID); err == nil {
				it.Status = st.Status
			}
		}
		items = append(items, it)
	}
	if e, ok := m.Keys.Current(); ok {
		for _, der := range e.Identity.Seals {
			add(der, e.Identity.URI)
		}
	}
	for _, e := range m.Keys.Entries() {
		for _, der := range e.Identity.Seals {
			add(der, e.Identity.URI)
		}
	}
	for _, f := range m.sealFiles {
		if der, err := os.ReadFile(f); err == nil {
			add(der, "")
		}
	}
	m.Tray.SetItems(items)
}

func (m *MainWindow) tokenRemoved(t signer.TokenInfo) {
	m.signMu.Lock()
	defer m.signMu.Unlock()
	if m.signing && m.signToken != nil && m.signToken.Key() == t.Key() {
		m.signCancel()
		m.signing = false
		m.showError(errors.New(T("sign.removed")))
		m.setMsg(T("sign.removed"))
		m.notify("signed", "error: "+T("sign.removed"))
	}
}

// --- documents ---

// Open opens a document off the UI goroutine and shows its first page and its signatures.
func (m *MainWindow) Open(path string) {
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	m.setMsg(Tf("status.opening", filepath.Base(path)))
	go func() {
		doc, err := document.OpenFile(path)
		var size document.Size
		if err == nil {
			size, err = doc.PageSize(0)
		}
		fyne.Do(func() {
			if err != nil {
				if doc != nil {
					doc.Close()
				}
				m.setMsg(Tf("doc.openErr", filepath.Base(path), err))
				m.showError(fmt.Errorf("%s", Tf("doc.openErr", filepath.Base(path), err)))
				m.notify("opened", "error: "+err.Error())
				return
			}
			if m.doc != nil {
				m.doc.Close()
			}
			m.doc, m.docPath, m.report = doc, path, nil
			m.placements = nil
			m.thumbCache = map[int]image.Image{}
			m.View.Marks, m.View.Overlays, m.View.Selected = nil, nil, -1
			m.View.PageSize = size
			m.fitWidth()
			m.Window.SetTitle(filepath.Base(path) + " — " + T("app.title"))
			m.addRecent(path)
			m.thumbs.Refresh()
			m.showPage(0)
			m.setMsg(Tf("status.opened", filepath.Base(path), doc.NumPages()))
			m.notify("opened", path)
			m.verify(path)
		})
	}()
}

// showPage shows page i (clamped) and renders it in the background.
func (m *MainWindow) showPage(i int) {
	if m.doc == nil {
		return
	}
	n := m.doc.NumPages()
	if i < 0 || i >= n {
		return
	}
	size, err := m.doc.PageSize(i)
	if err != nil {
		m.setMsg(Tf("doc.renderErr", i+1, err))
		return
	}
	m.View.Page, m.View.PageSize, m.View.Image = i, size, nil
	m.pageLabel.SetText(Tf("doc.page", i+1, n))
	m.refreshMarks()
	m.render()
	m.scroll.ScrollToTop()
}

// fitWidth picks the zoom at which the page fills the document area's width (at most 100 %,
// i.e. true size).
func (m *MainWindow) fitWidth() {
	avail := m.scroll.Size().Width - 24
	if avail <= 0 || m.View.PageSize.W <= 0 {
		return
	}
	z := avail / MMToUnits(m.View.PageSize.W, 1)
	if z > 1 {
		z = 1
	}
	m.View.SetZoom(z)
}

func (m *MainWindow) setZoom(z float32) {
	m.View.SetZoom(z)
	m.scroll.Refresh()
	m.setMsg(Tf("status.zoom", int(m.View.Zoom*100+0.5)))
	m.render()
}

// render draws the current page at the current zoom off the UI goroutine; a newer request
// cancels an older one.
func (m *MainWindow) render() {
	if m.doc == nil {
		return
	}
	if m.renderStop != nil {
		m.renderStop()
	}
	ctx, stop := context.WithCancel(m.ctx)
	m.renderStop = stop
	m.renderGen++
	gen, page, doc := m.renderGen, m.View.Page, m.doc
	dpi := RenderDPI(m.View.Zoom, m.Window.Canvas().Scale())
	go func() {
		img, err := doc.Render(ctx, page, dpi)
		fyne.Do(func() {
			if gen != m.renderGen {
				return
			}
			if err != nil {
				if ctx.Err() == nil {
					m.setMsg(Tf("doc.renderErr", page+1, err))
				}
				return
			}
			m.View.Image = img
			m.View.Refresh()
			m.notify("rendered", fmt.Sprint(page))
		})
	}()
}

// --- placement ---

func (m *MainWindow) addPlacement(it *SealItem, p document.Placement) {
	if m.placeSeal != nil && m.placeSeal != it && m.placeSeal.ESID != it.ESID {
		// One signing uses one seal: switching seals starts the placements over.
		m.placements = nil
	}
	m.placeSeal = it
	m.placements = append(m.placements, p)
	if p.Rect != nil {
		m.View.Selected = len(m.placements) - 1
		cx, cy := p.Rect.Center()
		m.setMsg(Tf("status.place", p.Page+1, cx, cy) + " · " + Tf("status.placements", len(m.placements)))
	} else {
		m.setMsg(Tf("status.placements", len(m.placements)))
	}
	m.refreshMarks()
}

// Placements returns the pending placements.
func (m *MainWindow) Placements() []document.Placement { return m.placements }

// refreshMarks rebuilds the page view's seals from the placements: rectangles stay draggable;
// cross-page seals are resolved by the core into their strips.
func (m *MainWindow) refreshMarks() {
	var marks []Mark
	if m.placeSeal != nil && m.doc != nil {
		it := m.placeSeal
		for i, p := range m.placements {
			if p.Rect != nil {
				marks = append(marks, Mark{Page: p.Page, Rect: *p.Rect, Picture: it.Picture, Placement: i})
				continue
			}
			stamps, err := document.ResolvePlacements(m.ctx, m.doc, []document.Placement{p}, it.W, it.H)
			if err != nil {
				m.setMsg(err.Error())
				continue
			}
			for _, s := range stamps {
				marks = append(marks, stampMark(s, it.Picture))
			}
		}
	}
	m.View.Marks = marks
	m.View.Refresh()
}

// stampMark turns a resolved stamp into a fixed mark, cropping the picture to a strip's clip.
func stampMark(s document.Stamp, pic image.Image) Mark {
	mk := Mark{Page: s.Page, Rect: s.Rect, Picture: pic, Placement: -1}
	c := s.Clip
	if c.W <= 0 || c.H <= 0 || pic == nil || s.Rect.W <= 0 || s.Rect.H <= 0 {
		return mk
	}
	b := pic.Bounds()
	sx, sy := float64(b.Dx())/s.Rect.W, float64(b.Dy())/s.Rect.H
	r := image.Rect(b.Min.X+int(c.X*sx), b.Min.Y+int(c.Y*sy), b.Min.X+int((c.X+c.W)*sx+0.5), b.Min.Y+int((c.Y+c.H)*sy+0.5)).Intersect(b)
	if si, ok := pic.(interface {
		SubImage(image.Rectangle) image.Image
	}); ok && !r.Empty() {
		mk.Picture = si.SubImage(r)
	}
	mk.Rect = document.Rect{X: s.Rect.X + c.X, Y: s.Rect.Y + c.Y, W: c.W, H: c.H}
	return mk
}

// ClearPlacements forgets the pending placements.
func (m *MainWindow) ClearPlacements() {
	m.placements = nil
	m.View.Selected = -1
	m.refreshMarks()
	m.setMsg(Tf("status.placements", 0))
}

// PlaceAt adds a placement centred at (cx, cy) mm on page (0-based) with the tray's seal.
func (m *MainWindow) PlaceAt(page int, cx, cy float64) error {
	it := m.Tray.Selected
	if m.doc == nil {
		return errors.New(T("place.noDoc"))
	}
	if it == nil {
		return errors.New(T("place.noSeal"))
	}
	if page < 0 || page >= m.doc.NumPages() {
		return errors.New(Tf("place.badPage", m.doc.NumPages()))
	}
	r := rectAround(cx, cy, it.W, it.H)
	if page != m.View.Page {
		m.showPage(page)
	}
	m.addPlacement(it, document.Placement{Page: page, Rect: &r})
	return nil
}

// PlaceCrossPage adds a cross-page seal over pages first..last (0-based).
func (m *MainWindow) PlaceCrossPage(first, last int, y float64) error {
	it := m.Tray.Selected
	if m.doc == nil {
		return errors.New(T("place.noDoc"))
	}
	if it == nil {
		return errors.New(T("place.noSeal"))
	}
	n := m.doc.NumPages()
	if first < 0 || last >= n || last < first {
		return errors.New(Tf("place.badPage", n))
	}
	m.addPlacement(it, document.Placement{CrossPage: true, FirstPage: first, LastPage: last, CrossPageY: y})
	return nil
}

// PlaceHits adds one placement centred on each hit.
func (m *MainWindow) PlaceHits(hits []document.Hit) error {
	it := m.Tray.Selected
	if it == nil {
		return errors.New(T("place.noSeal"))
	}
	for _, h := range hits {
		cx, cy := h.Rect.Center()
		r := rectAround(cx, cy, it.W, it.H)
		m.addPlacement(it, document.Placement{Page: h.Page, Rect: &r})
	}
	if len(hits) > 0 && hits[0].Page != m.View.Page {
		m.showPage(hits[0].Page)
	}
	return nil
}

// --- signing ---

// Sign asks for the PIN and signs the open document with the pending placements.
func (m *MainWindow) Sign() {
	if m.doc == nil {
		m.showInfo(T("action.sign"), T("place.noDoc"))
		return
	}
	if len(m.placements) == 0 || m.placeSeal == nil {
		m.showInfo(T("action.sign"), T("place.none"))
		return
	}
	m.signFiles([]string{m.docPath}, m.placements)
}

// signFiles signs each file with the placements through the core (session.Core.Run): the seal
// is checked first, then the PIN dialog asks (again after a wrong PIN, with the tries left),
// then every file is signed after that one login, with a progress dialog for a batch.
func (m *MainWindow) signFiles(files []string, placements []document.Placement) {
	e, ok := m.Keys.Current()
	if !ok {
		m.showInfo(T("action.sign"), T("sign.noKey"))
		return
	}
	seal := m.placeSeal
	if seal == nil {
		seal = m.Tray.Selected
	}
	if seal == nil {
		m.showInfo(T("action.sign"), T("place.noSeal"))
		return
	}
	subject := e.Identity.Label
	if e.Identity.Certificate != nil {
		subject = certName(e.Identity.Certificate.Subject.CommonName, e.Identity.Certificate.Subject.String())
	}
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = filepath.Base(f)
	}
	what := Tf("sign.what", strings.Join(names, "、"), seal.Name, subject, e.Title())
	tok := e.Token
	ctx, cancel := context.WithCancel(m.ctx)
	m.signMu.Lock()
	m.signing, m.signCancel, m.signToken = true, cancel, e.Token
	m.signMu.Unlock()

	ask := func(lastErr error) ([]byte, bool) {
		ch := make(chan []byte, 1)
		fyne.Do(func() {
			t := tok
			if t != nil {
				if cur, ok := m.Keys.tokens[t.Key()]; ok {
					t = &cur
				}
			}
			m.pinDialog = ShowPINDialog(m.Window, what, t, lastErr, func(pin []byte) { ch <- pin }, func() { ch <- nil })
			m.notify("pin", "shown")
		})
		select {
		case pin := <-ch:
			return pin, pin != nil
		case <-ctx.Done():
			return nil, false
		}
	}
	var progress *widget.ProgressBar
	var progDlg dialog.Dialog
	var progLabel *widget.Label
	finished := false // UI goroutine only
	job := session.Job{KeyURI: e.Identity.URI, Seal: seal.DER, Files: files,
		Request: func(string) *document.SignRequest {
			return &document.SignRequest{Placements: append([]document.Placement(nil), placements...)}
		},
		Progress: func(p session.Progress) {
			fyne.Do(func() {
				if p.Index == 0 && !p.Done {
					m.setMsg(T("status.signing"))
				}
				if len(files) < 2 {
					return
				}
				if progDlg == nil {
					progress = widget.NewProgressBar()
					progress.Max = float64(len(files))
					progLabel = widget.NewLabel("")
					progDlg = dialog.NewCustom(T("sign.batchTitle"), T("action.cancel"), container.NewVBox(progLabel, progress), m.Window)
					progDlg.SetOnClosed(func() {
						if !finished {
							cancel() // the dialog's Cancel button
						}
					})
					progDlg.Show()
				}
				progLabel.SetText(Tf("sign.batchItem", p.Index+1, len(files), filepath.Base(p.File)))
				if p.Done {
					progress.SetValue(float64(p.Index + 1))
				}
			})
		}}
	go func() {
		defer cancel()
		res, err := m.core.Run(ctx, m.keys, job, ask)
		fyne.Do(func() {
			finished = true
			if progDlg != nil {
				progDlg.Hide()
			}
			m.signDone(files, res, err)
		})
	}()
}

// signDone shows how a signing ended.
func (m *MainWindow) signDone(files []string, res *session.Result, err error) {
	removed := !m.endSigning()
	m.updateHubStatus("")
	if res != nil && res.Stopped != nil && err == nil {
		err = res.Stopped
	}
	if removed || session.Classify(err) == session.KindKeyRemoved {
		if !removed {
			m.showError(errors.New(T("sign.removed")))
		}
		m.setMsg(T("sign.removed"))
		m.notify("signed", "error: "+T("sign.removed"))
		if res != nil && len(files) > 1 {
			m.notify("batch", fmt.Sprintf("%d/%d", len(res.Signed), len(files)-len(res.Signed)))
		}
		return
	}
	if res == nil || (len(files) == 1 && len(res.Failed) > 0) {
		if session.Classify(err) == session.KindCancelled {
			m.setMsg(T("sign.cancelled"))
			m.notify("signed", "error: cancelled")
			return
		}
		if res != nil {
			err = res.Failed[0].Err
		}
		m.failSign(err)
		return
	}
	if len(files) > 1 {
		msg := Tf("sign.batchDone", len(res.Signed), len(files)-len(res.Signed))
		for _, f := range res.Failed {
			msg += "\n" + filepath.Base(f.File) + "：" + userError(f.Err)
		}
		m.showInfo(T("sign.batchTitle"), msg)
		m.setMsg(Tf("sign.batchDone", len(res.Signed), len(files)-len(res.Signed)))
		m.notify("batch", fmt.Sprintf("%d/%d", len(res.Signed), len(files)-len(res.Signed)))
	}
	if len(res.Signed) == 0 {
		return
	}
	last := res.Signed[len(res.Signed)-1]
	m.notify("signed", last)
	if len(files) == 1 {
		// The copy is named so that the original is never overwritten; say where it went.
		m.lastSigned = Tf("status.signed", filepath.Base(last))
		m.setMsg(m.lastSigned)
		m.Open(last) // shows the new seal, verified
	}
}

// endSigning clears the signing state; false means it was stopped already (token removed).
func (m *MainWindow) endSigning() bool {
	m.signMu.Lock()
	defer m.signMu.Unlock()
	was := m.signing
	m.signing, m.signCancel, m.signToken = false, nil, nil
	return was
}

func (m *MainWindow) failSign(err error) {
	msg := Tf("sign.failed", userError(err))
	var pe *signer.PINError
	if errors.Is(err, signer.ErrPINLocked) || (errors.As(err, &pe) && pe.TriesLeft == 0) {
		msg = T("pin.locked")
	}
	m.setMsg(msg)
	m.showError(errors.New(msg))
	m.notify("signed", "error: "+msg)
}

// --- verification ---

func (m *MainWindow) verify(path string) {
	if path == "" {
		return
	}
	m.setMsg(T("status.verifying"))
	go func() {
		rep, err := m.core.Verify(m.ctx, path)
		fyne.Do(func() {
			if path != m.docPath {
				return
			}
			if err != nil {
				m.Sigs.SetMessage(Tf("verify.failed", err))
				m.setMsg(Tf("verify.failed", err))
				m.notify("verified", "error: "+err.Error())
				return
			}
			m.report = rep
			m.View.Overlays = OverlaysOf(rep)
			m.View.Refresh()
			m.Sigs.SetReport(rep)
			if len(rep.Signatures) > 0 {
				m.setMsg(Tf("verify.overallIs", verdict(rep)))
			} else {
				m.setMsg(T("verify.none"))
			}
			m.notify("verified", fmt.Sprint(len(rep.Signatures)))
		})
	}()
}

func verdict(r *document.VerifyReport) string {
	st := SigValid
	for i := range r.Signatures {
		switch s := StateOf(&r.Signatures[i]); {
		case s == SigInvalid:
			st = SigInvalid
		case s == SigUnknown && st == SigValid:
			st = SigUnknown
		}
	}
	return st.Text()
}

// ExportJSON writes the report as `sealctl verify --json` would.
func (m *MainWindow) ExportJSON(path string) error {
	if m.report == nil {
		return errors.New(T("verify.none"))
	}
	return document.WriteFileAtomic(path, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(m.report)
	})
}

// ExportPDF writes the report as a PDF.
func (m *MainWindow) ExportPDF(path string) error {
	if m.report == nil {
		return errors.New(T("verify.none"))
	}
	return document.WriteFileAtomic(path, func(w io.Writer) error { return WriteReportPDF(w, m.report) })
}

// --- sync ---

// hubRetry is how long the app waits before trying an unreachable hub again by itself.
var hubRetry = 20 * time.Second

// Sync pushes the outbox to the hub and refreshes the seals' statuses.
func (m *MainWindow) Sync() { m.sync(false) }

// sync is Sync; auto is a retry the app makes by itself after the hub was unreachable: it
// keeps the status bar quiet until the hub answers.
func (m *MainWindow) sync(auto bool) {
	if m.core.Hub == nil || m.core.Outbox == nil {
		m.updateHubStatus("")
		m.notify("synced", "none")
		return
	}
	if auto && m.syncing {
		return
	}
	m.syncing = true
	if !auto {
		m.updateHubStatus(T("status.hubBusy"))
	}
	var ids []string
	for _, it := range m.Tray.Items {
		ids = append(ids, it.ESID)
	}
	go func() {
		res, err := m.core.Sync(m.ctx, 1, ids...)
		fyne.Do(func() {
			m.syncing = false
			if err != nil {
				m.hubDown = true
				m.updateHubStatus(Tf("status.hubDown", shortErr(err)))
				if !auto {
					m.setMsg(Tf("sync.failed", shortErr(err)))
				}
				m.notify("synced", "error: "+err.Error())
				m.retryHub()
				return
			}
			back := m.hubDown
			m.hubDown = false
			m.updateHubStatus(Tf("status.hubOK", time.Now().Format("15:04:05")))
			m.setMsg(Tf("sync.done", res.Sent))
			if back && auto {
				m.setMsg(Tf("sync.back", res.Sent))
			}
			if reason := m.refusedReason(); reason != "" {
				// Records the hub refused stay in the outbox (held ones are sent again by
				// themselves); the person sees why and can send them again from the menu.
				m.setMsg(Tf("sync.refused", res.Sent, res.Held+res.Rejected, reason))
			}
			m.reloadSeals()
			m.notify("synced", fmt.Sprint(res.Sent))
		})
	}()
}

// retryHub schedules one sync by the app itself after hubRetry, while the hub is unreachable.
func (m *MainWindow) retryHub() {
	if m.retrying {
		return
	}
	m.retrying = true
	go func() {
		select {
		case <-m.ctx.Done():
			return
		case <-time.After(hubRetry):
		}
		fyne.Do(func() {
			m.retrying = false
			if m.hubDown {
				m.sync(true)
			}
		})
	}()
}

// ShowMySeals opens "my applications and seals" (ui/lifecycle.go) on the configured hub: the
// organisation's applications with the reviewers' reasons, and its seals with suspend / resume /
// report-lost behind a confirmation.
func (m *MainWindow) ShowMySeals() {
	if m.core.Hub == nil {
		m.setMsg(T("status.hubNone"))
		return
	}
	svc := &holder.Service{Hub: m.core.Hub}
	v := NewSealsView(func() ([]api.Application, []api.Seal, error) { return svc.Overview(m.ctx) },
		func(esID, status, reason string) error {
			_, err := svc.SetStatus(m.ctx, esID, status, reason)
			return err
		})
	d := dialog.NewCustom(T("lc.mine.title"), T("action.close"), container.NewVScroll(v.Box), m.Window)
	d.Resize(fyne.NewSize(760, 520))
	d.Show()
	v.Refresh()
}

// RetryRefused sends the records the hub refused (held and rejected) again now, as
// `sealctl sync --retry-rejected` does.
func (m *MainWindow) RetryRefused() {
	if ob := m.core.Outbox; ob != nil {
		if _, err := ob.Requeue(); err != nil {
			m.setMsg(Tf("sync.failed", shortErr(err)))
			return
		}
	}
	m.Sync()
}

// refusedReason is the hub's reason for the first refused record still in the outbox, in a
// short form ("" when none is refused).
func (m *MainWindow) refusedReason() string {
	ob := m.core.Outbox
	if ob == nil {
		return ""
	}
	for _, st := range []string{outbox.StateRejected, outbox.StateHeld} {
		if es, err := ob.Entries(st); err == nil && len(es) > 0 {
			code, _, _ := strings.Cut(es[0].LastError, ":")
			return es[0].Record.DocName + " — " + refusalText(code)
		}
	}
	return ""
}

// refusalText says a hub's per-record refusal code in the UI language.
func refusalText(code string) string {
	switch code {
	case api.CodeSealNotFiled:
		return T("refused.notFiled")
	case api.CodeForbidden, api.CodeUnauthenticated:
		return T("refused.credential")
	case api.CodeInvalidField, api.CodeMalformed, api.CodeTooLarge:
		return T("refused.malformed")
	}
	return T("refused.other")
}

func shortErr(err error) string {
	var ae *api.Error
	if errors.As(err, &ae) {
		return ae.Code
	}
	s := err.Error()
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return s
}

// --- menus, dialogs, shortcuts ---

func (m *MainWindow) menu() *fyne.MainMenu {
	recent := fyne.NewMenuItem(T("menu.recent"), nil)
	recent.ChildMenu = m.recentMenu()
	file := fyne.NewMenu(T("menu.file"),
		fyne.NewMenuItem(T("menu.open"), m.showOpen),
		recent,
		fyne.NewMenuItemSeparator(),
		fyne.NewMenuItem(T("menu.addKeystore"), m.showAddKeystore),
		fyne.NewMenuItem(T("menu.addSeal"), m.showAddSeal),
		fyne.NewMenuItem(T("menu.batch"), m.showBatch),
		fyne.NewMenuItemSeparator(),
		fyne.NewMenuItem(T("menu.exportJSON"), func() { m.showExport(".json", m.ExportJSON) }),
		fyne.NewMenuItem(T("menu.exportPDF"), func() { m.showExport(".pdf", m.ExportPDF) }),
	)
	m.themeItems = [2]*fyne.MenuItem{
		fyne.NewMenuItem(T("menu.light"), func() { m.SetDark(false) }),
		fyne.NewMenuItem(T("menu.dark"), func() { m.SetDark(true) }),
	}
	m.langItems = [2]*fyne.MenuItem{
		fyne.NewMenuItem("简体中文", func() { m.setLangPref(Chinese) }),
		fyne.NewMenuItem("English", func() { m.setLangPref(English) }),
	}
	m.setMenuChecks()
	view := fyne.NewMenu(T("menu.view"),
		fyne.NewMenuItem(T("menu.zoomIn"), func() { m.setZoom(m.View.Zoom * 1.25) }),
		fyne.NewMenuItem(T("menu.zoomOut"), func() { m.setZoom(m.View.Zoom / 1.25) }),
		fyne.NewMenuItem(T("menu.zoom100"), func() { m.setZoom(1) }),
		fyne.NewMenuItem(T("menu.prevPage"), func() { m.showPage(m.View.Page - 1) }),
		fyne.NewMenuItem(T("menu.nextPage"), func() { m.showPage(m.View.Page + 1) }),
		fyne.NewMenuItemSeparator(),
		m.themeItems[0], m.themeItems[1], m.langItems[0], m.langItems[1],
	)
	seal := fyne.NewMenu(T("menu.seal"),
		fyne.NewMenuItem(T("menu.coords"), m.showCoords),
		fyne.NewMenuItem(T("menu.keyword"), m.showKeyword),
		fyne.NewMenuItem(T("menu.cross"), m.showCross),
		fyne.NewMenuItem(T("menu.clear"), m.ClearPlacements),
		fyne.NewMenuItemSeparator(),
		fyne.NewMenuItem(T("action.sign"), m.Sign),
		fyne.NewMenuItem(T("action.verify"), func() { m.verify(m.docPath) }),
		fyne.NewMenuItem(T("action.sync"), m.Sync),
		fyne.NewMenuItem(T("action.retryRefused"), m.RetryRefused),
		fyne.NewMenuItem(T("lc.mine.title"), m.ShowMySeals),
	)
	return fyne.NewMainMenu(file, view, seal)
}

// SetDark switches between the light and dark theme and remembers the choice.
func (m *MainWindow) SetDark(dark bool) {
	m.dark = dark
	m.App.Preferences().SetBool("dark", dark)
	m.App.Settings().SetTheme(NewTheme(dark, false))
	m.menuState()
}

func (m *MainWindow) setLangPref(l Lang) {
	m.App.Preferences().SetString("lang", string(l))
	m.menuState()
	m.showInfo(T("menu.language"), T("menu.restart"))
}

// setMenuChecks checks the theme in use and the language chosen (the one the next start uses).
func (m *MainWindow) setMenuChecks() {
	l := Lang(m.App.Preferences().String("lang"))
	if l != Chinese && l != English {
		l = CurrentLang()
	}
	m.themeItems[0].Checked, m.themeItems[1].Checked = !m.dark, m.dark
	m.langItems[0].Checked, m.langItems[1].Checked = l == Chinese, l == English
}

// menuState shows a changed theme or language in the menu.
func (m *MainWindow) menuState() {
	if m.themeItems[0] == nil {
		return
	}
	m.setMenuChecks()
	if mm := m.Window.MainMenu(); mm != nil {
		mm.Refresh()
	}
}

func (m *MainWindow) recentMenu() *fyne.Menu {
	var items []*fyne.MenuItem
	for _, p := range m.recent() {
		p := p
		items = append(items, fyne.NewMenuItem(p, func() { m.Open(p) }))
	}
	if len(items) == 0 {
		it := fyne.NewMenuItem(T("menu.noRecent"), nil)
		it.Disabled = true
		items = append(items, it)
	}
	return fyne.NewMenu(T("menu.recent"), items...)
}

func (m *MainWindow) recent() []string {
	return m.App.Preferences().StringListWithFallback("recent", nil)
}

func (m *MainWindow) addRecent(p string) {
	list := []string{p}
	for _, q := range m.recent() {
		if q != p && len(list) < 10 {
			list = append(list, q)
		}
	}
	m.App.Preferences().SetStringList("recent", list)
	m.Window.SetMainMenu(m.menu())
}

var docExts = []string{".pdf", ".ofd"}

func (m *MainWindow) showOpen() {
	m.chooseFile(fileRequest{Mode: ChooseOpen, Title: T("file.open"), Exts: docExts}, m.Open)
}

func (m *MainWindow) showAddKeystore() {
	m.chooseFile(fileRequest{Mode: ChooseOpen, Title: T("menu.addKeystore"), Exts: []string{".p12", ".pfx", ".pem", ".sm2", ".key"}}, func(p string) {
		if m.keys == nil {
			m.showError(errors.New(T("sign.noKey")))
			return
		}
		if err := m.keys.AddKeystore(p); err != nil {
			m.showError(err)
			return
		}
		m.Keys.Refresh(m.ctx)
	})
}

func (m *MainWindow) showAddSeal() {
	m.chooseFile(fileRequest{Mode: ChooseOpen, Title: T("menu.addSeal"), Exts: []string{".esl", ".seal", ".der"}}, func(p string) {
		m.sealFiles = append(m.sealFiles, p)
		m.reloadSeals()
	})
}

// showBatch signs every PDF/OFD file of a folder with the pending placements.
func (m *MainWindow) showBatch() {
	if len(m.placements) == 0 {
		m.showInfo(T("sign.batchTitle"), T("place.none"))
		return
	}
	m.chooseFile(fileRequest{Mode: ChooseFolder, Title: T("sign.batchFolder")}, func(dir string) {
		files, err := BatchFiles(dir)
		if err != nil {
			m.showError(err)
			return
		}
		m.SignBatch(files)
	})
}

// BatchFiles lists the PDF and OFD files of dir that are not signed copies made by SealDesk.
func BatchFiles(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, e := range ents {
		p := filepath.Join(dir, e.Name())
		if !e.IsDir() && isDocument(p) && !strings.Contains(e.Name(), "-signed") {
			files = append(files, p)
		}
	}
	return files, nil
}

// SignBatch signs files with the pending placements after one PIN entry, with a progress bar.
func (m *MainWindow) SignBatch(files []string) {
	if len(files) == 0 || len(m.placements) == 0 {
		m.showInfo(T("sign.batchTitle"), T("place.none"))
		return
	}
	m.signFiles(files, append([]document.Placement(nil), m.placements...))
}

func (m *MainWindow) showExport(ext string, write func(string) error) {
	if m.report == nil {
		m.showInfo(T("verify.report"), T("verify.none"))
		return
	}
	base := strings.TrimSuffix(filepath.Base(m.docPath), filepath.Ext(m.docPath))
	m.chooseFile(fileRequest{Mode: ChooseSave, Title: T("verify.report"), Dir: filepath.Dir(m.docPath),
		Name: base + T("file.reportSuffix") + ext, Exts: []string{ext}}, func(p string) {
		if err := write(p); err != nil {
			m.showError(err)
			m.notify("exported", "error: "+err.Error())
			return
		}
		m.setMsg(Tf("verify.exported", p))
		m.notify("exported", p)
	})
}

func (m *MainWindow) showCoords() {
	if m.doc == nil {
		m.showInfo(T("menu.coords"), T("place.noDoc"))
		return
	}
	page, x, y := widget.NewEntry(), widget.NewEntry(), widget.NewEntry()
	page.SetText(fmt.Sprint(m.View.Page + 1))
	x.SetText(fmt.Sprintf("%.1f", m.View.PageSize.W/2))
	y.SetText(fmt.Sprintf("%.1f", m.View.PageSize.H/2))
	dialog.ShowForm(T("menu.coords"), T("action.ok"), T("action.cancel"), []*widget.FormItem{
		widget.NewFormItem(T("place.page"), page), widget.NewFormItem(T("place.x"), x), widget.NewFormItem(T("place.y"), y),
	}, func(ok bool) {
		if !ok {
			return
		}
		var pg int
		var cx, cy float64
		if _, err := fmt.Sscan(page.Text, &pg); err != nil {
			m.showError(errors.New(Tf("place.badNum", page.Text)))
			return
		}
		if _, err := fmt.Sscan(x.Text, &cx); err != nil {
			m.showError(errors.New(Tf("place.badNum", x.Text)))
			return
		}
		if _, err := fmt.Sscan(y.Text, &cy); err != nil {
			m.showError(errors.New(Tf("place.badNum", y.Text)))
			return
		}
		if err := m.PlaceAt(pg-1, cx, cy); err != nil {
			m.showError(err)
		}
	}, m.Window)
}

func (m *MainWindow) showKeyword() {
	if m.doc == nil {
		m.showInfo(T("menu.keyword"), T("place.noDoc"))
		return
	}
	word := widget.NewEntry()
	dialog.ShowForm(T("menu.keyword"), T("action.ok"), T("action.cancel"), []*widget.FormItem{
		widget.NewFormItem(T("place.keyword"), word)}, func(ok bool) {
		if !ok || strings.TrimSpace(word.Text) == "" {
			return
		}
		q, doc := strings.TrimSpace(word.Text), m.doc
		go func() {
			hits, err := doc.FindText(m.ctx, q)
			fyne.Do(func() {
				if err != nil {
					m.showError(err)
					return
				}
				if len(hits) == 0 {
					m.showInfo(T("menu.keyword"), Tf("place.noHits", q))
					return
				}
				m.chooseHits(hits)
			})
		}()
	}, m.Window)
}

// chooseHits lets the user keep every hit or pick some.
func (m *MainWindow) chooseHits(hits []document.Hit) {
	checks := make([]*widget.Check, len(hits))
	box := container.NewVBox()
	every := widget.NewCheck(T("place.every"), func(on bool) {
		for _, c := range checks {
			c.SetChecked(on)
		}
	})
	box.Add(widget.NewLabel(Tf("place.hits", len(hits))))
	box.Add(every)
	for i, h := range hits {
		checks[i] = widget.NewCheck(Tf("place.hit", h.Page+1, h.Text), nil)
		box.Add(checks[i])
	}
	every.SetChecked(true)
	d := dialog.NewCustomConfirm(T("menu.keyword"), T("action.ok"), T("action.cancel"), container.NewVScroll(box), func(ok bool) {
		if !ok {
			return
		}
		var chosen []document.Hit
		for i, c := range checks {
			if c.Checked {
				chosen = append(chosen, hits[i])
			}
		}
		if err := m.PlaceHits(chosen); err != nil {
			m.showError(err)
		}
	}, m.Window)
	d.Resize(fyne.NewSize(420, 400))
	d.Show()
}

func (m *MainWindow) showCross() {
	if m.doc == nil {
		m.showInfo(T("menu.cross"), T("place.noDoc"))
		return
	}
	first, last, y := widget.NewEntry(), widget.NewEntry(), widget.NewEntry()
	first.SetText("1")
	last.SetText(fmt.Sprint(m.doc.NumPages()))
	y.SetText(fmt.Sprintf("%.1f", m.View.PageSize.H/2))
	dialog.ShowForm(T("menu.cross"), T("action.ok"), T("action.cancel"), []*widget.FormItem{
		widget.NewFormItem(T("place.first"), first), widget.NewFormItem(T("place.last"), last), widget.NewFormItem(T("place.y"), y),
	}, func(ok bool) {
		if !ok {
			return
		}
		var a, b int
		var cy float64
		if _, err := fmt.Sscan(first.Text, &a); err != nil {
			m.showError(errors.New(Tf("place.badNum", first.Text)))
			return
		}
		if _, err := fmt.Sscan(last.Text, &b); err != nil {
			m.showError(errors.New(Tf("place.badNum", last.Text)))
			return
		}
		if _, err := fmt.Sscan(y.Text, &cy); err != nil {
			m.showError(errors.New(Tf("place.badNum", y.Text)))
			return
		}
		if err := m.PlaceCrossPage(a-1, b-1, cy); err != nil {
			m.showError(err)
		}
	}, m.Window)
}

// showInfo and showError show a message that Enter or Escape closes, as users of desktop apps
// expect (fyne's own dialogs close only by a click).
func (m *MainWindow) showInfo(title, msg string) {
	m.showNotice(dialog.NewInformation(title, msg, m.Window))
}

func (m *MainWindow) showError(err error) {
	m.showNotice(dialog.NewError(err, m.Window))
}

func (m *MainWindow) showNotice(d dialog.Dialog) {
	if m.notice != nil {
		m.notice.Hide()
	}
	m.notice = d
	d.SetOnClosed(func() {
		if m.notice == d {
			m.notice = nil
		}
	})
	m.Window.Canvas().Unfocus() // the keys go to the window, which closes the notice
	d.Show()
}

func (m *MainWindow) shortcuts() {
	c := m.Window.Canvas()
	add := func(k fyne.KeyName, mod fyne.KeyModifier, f func()) {
		c.AddShortcut(&desktop.CustomShortcut{KeyName: k, Modifier: mod}, func(fyne.Shortcut) { f() })
	}
	add(fyne.KeyO, fyne.KeyModifierShortcutDefault, m.showOpen)
	add(fyne.KeyS, fyne.KeyModifierShortcutDefault, m.Sign)
	add(fyne.KeyE, fyne.KeyModifierShortcutDefault, func() { m.verify(m.docPath) })
	add(fyne.KeyR, fyne.KeyModifierShortcutDefault, m.Sync)
	add(fyne.KeyEqual, fyne.KeyModifierShortcutDefault, func() { m.setZoom(m.View.Zoom * 1.25) })
	add(fyne.KeyMinus, fyne.KeyModifierShortcutDefault, func() { m.setZoom(m.View.Zoom / 1.25) })
	add(fyne.Key0, fyne.KeyModifierShortcutDefault, func() { m.setZoom(1) })
	add(fyne.KeyK, fyne.KeyModifierShortcutDefault, m.showKeyword)
	// Shift+arrows nudge by 5 mm; plain arrows (below) by 1 mm.
	add(fyne.KeyLeft, fyne.KeyModifierShift, func() { m.View.Nudge(-5, 0) })
	add(fyne.KeyRight, fyne.KeyModifierShift, func() { m.View.Nudge(5, 0) })
	add(fyne.KeyUp, fyne.KeyModifierShift, func() { m.View.Nudge(0, -5) })
	add(fyne.KeyDown, fyne.KeyModifierShift, func() { m.View.Nudge(0, 5) })
	c.SetOnTypedKey(func(k *fyne.KeyEvent) {
		if m.notice != nil && (k.Name == fyne.KeyReturn || k.Name == fyne.KeyEnter || k.Name == fyne.KeyEscape) {
			m.notice.Hide()
			return
		}
		switch k.Name {
		case fyne.KeyLeft:
			m.View.Nudge(-1, 0)
		case fyne.KeyRight:
			m.View.Nudge(1, 0)
		case fyne.KeyUp:
			m.View.Nudge(0, -1)
		case fyne.KeyDown:
			m.View.Nudge(0, 1)
		case fyne.KeyPageDown:
			m.showPage(m.View.Page + 1)
		case fyne.KeyPageUp:
			m.showPage(m.View.Page - 1)
		case fyne.KeyDelete:
			m.ClearPlacements()
		}
	})
}

// --- notifications for the script runner and tests ---

// notify records that event happened (opened, rendered, verified, pin, signed, synced, keys)
// with a value; the script runner and tests wait on the counts.
func (m *MainWindow) notify(event, value string) {
	m.waitMu.Lock()
	defer m.waitMu.Unlock()
	m.counts[event]++
	m.last[event] = value
}

// eventCounts snapshots how often each event happened.
func (m *MainWindow) eventCounts() map[string]int {
	m.waitMu.Lock()
	defer m.waitMu.Unlock()
	out := make(map[string]int, len(m.counts))
	for k, v := range m.counts {
		out[k] = v
	}
	return out
}

// waitEvent waits until event happened more often than in since, and returns its last value.
func (m *MainWindow) waitEvent(event string, since map[string]int, timeout time.Duration) (string, error) {
	deadline := time.Now().Add(timeout)
	for {
		m.waitMu.Lock()
		n, v := m.counts[event], m.last[event]
		m.waitMu.Unlock()
		if n > since[event] {
			return v, nil
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("timed out after %v waiting for %s", timeout, event)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
