package ui

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"
)

// ScriptEnv names the environment variable with a test script for the app to run.
const ScriptEnv = "SEALDESK_TEST_SCRIPT"

// scriptTimeout bounds every wait of a script.
const scriptTimeout = 90 * time.Second

// runScript runs a UI script: one command per line, '#' starts a comment. It drives the same
// functions the menus, the tray drag and the PIN dialog use, and waits for their results, so
// the end-to-end test exercises the real app without clicking pixels. Each command prints
// "script: ok: LINE"; the first failure prints "script: FAIL: ..." and exits with status 1.
//
//	wait-keys N            wait until the key panel lists at least N identities
//	select-key TEXT        choose the identity whose line contains TEXT
//	open FILE              open FILE; waits until it is rendered and verified
//	zoom F                 set the zoom (1 = true size)
//	drag-seal X Y          drag the tray's seal onto the current page, centre at X,Y mm
//	place PAGE X Y         add a placement centred at X,Y mm on PAGE (1-based)
//	nudge DX DY            move the selected placement by DX,DY mm (as the arrow keys do)
//	sign                   press Sign (shows the PIN dialog)
//	pin-file FILE          type the PIN from FILE into the PIN dialog and press OK;
//	                       waits until the signed copy is open and verified
//	expect-sigs N STATES   the open document has N signatures, each in one of STATES
//	                       (comma-separated: valid, invalid, unknown)
//	export-json FILE / export-pdf FILE
//	sync                   sync with the hub; waits for the result
//	shot FILE              screenshot of the screen (ImageMagick's import -window root)
//	mark                   remember the event counts for wait
//	wait EVENT             wait until EVENT (opened, verified, dialog, exported, pin, batch,
//	                       signed, synced) happened after the last mark; prints
//	                       "script: event EVENT VALUE"; a value "error: ..." fails
//	where TEXT             prints "script: where TEXT X Y W H": the window pixels of the
//	                       button or label showing TEXT ("content" for the area below the
//	                       menu bar), so that a test can click it with real X input
//
// A script may be a named pipe: the end-to-end test writes one command at a time and clicks
// and types with xdotool between them, reading the results from stdout.
//
//	sleep MS
//	quit
func (m *MainWindow) runScript(path string) {
	f, err := os.Open(path)
	if err != nil {
		m.scriptFail(0, err)
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if err := m.scriptLine(line); err != nil {
			m.scriptFail(n, fmt.Errorf("%s: %w", line, err))
			return
		}
		fmt.Printf("script: ok: %s\n", line)
	}
}

func (m *MainWindow) scriptFail(n int, err error) {
	fmt.Printf("script: FAIL: line %d: %v\n", n, err)
	os.Exit(1)
}

func (m *MainWindow) scriptLine(line string) error {
	f := strings.Fields(line)
	args := f[1:]
	num := func(i int) (float64, error) {
		if i >= len(args) {
			return 0, errors.New("missing argument")
		}
		return strconv.ParseFloat(args[i], 64)
	}
	since := m.eventCounts()
	onUI := func(fn func() error) error {
		var err error
		fyne.DoAndWait(func() { err = fn() })
		return err
	}
	switch f[0] {
	case "wait-keys":
		want, err := num(0)
		if err != nil {
			return err
		}
		deadline := time.Now().Add(scriptTimeout)
		for {
			var have int
			fyne.DoAndWait(func() { have = len(m.Keys.Entries()) })
			if have >= int(want) {
				return nil
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%d identities listed", have)
			}
			time.Sleep(50 * time.Millisecond)
		}
	case "select-key":
		return onUI(func() error {
			for i, e := range m.Keys.Entries() {
				if strings.Contains(e.Title(), strings.Join(args, " ")) {
					m.Keys.list.Select(i)
					return nil
				}
			}
			return errors.New("no such identity")
		})
	case "open":
		if len(args) != 1 {
			return errors.New("open FILE")
		}
		fyne.Do(func() { m.Open(args[0]) })
		if v, err := m.waitEvent("opened", since, scriptTimeout); err != nil || strings.HasPrefix(v, "error") {
			return orErr(err, v)
		}
		if _, err := m.waitEvent("rendered", since, scriptTimeout); err != nil {
			return err
		}
		v, err := m.waitEvent("verified", since, scriptTimeout)
		return orErr(err, v)
	case "zoom":
		z, err := num(0)
		if err != nil {
			return err
		}
		fyne.Do(func() { m.setZoom(float32(z)) })
		_, err = m.waitEvent("rendered", since, scriptTimeout)
		return err
	case "drag-seal":
		x, err := num(0)
		y, err2 := num(1)
		if err != nil || err2 != nil {
			return errors.New("drag-seal X Y")
		}
		return onUI(func() error { return m.dragSealTo(x, y) })
	case "place":
		p, err := num(0)
		x, err2 := num(1)
		y, err3 := num(2)
		if err != nil || err2 != nil || err3 != nil {
			return errors.New("place PAGE X Y")
		}
		return onUI(func() error { return m.PlaceAt(int(p)-1, x, y) })
	case "nudge":
		dx, err := num(0)
		dy, err2 := num(1)
		if err != nil || err2 != nil {
			return errors.New("nudge DX DY")
		}
		return onUI(func() error {
			if !m.View.Nudge(dx, dy) {
				return errors.New("no placement selected on this page")
			}
			return nil
		})
	case "sign":
		fyne.Do(m.Sign)
		_, err := m.waitEvent("pin", since, scriptTimeout)
		return err
	case "pin-file":
		if len(args) != 1 {
			return errors.New("pin-file FILE")
		}
		pin, err := os.ReadFile(args[0])
		if err != nil {
			return err
		}
		pin = []byte(strings.TrimSpace(string(pin)))
		err = onUI(func() error {
			if m.pinDialog == nil {
				return errors.New("no PIN dialog")
			}
			for _, b := range pin {
				m.pinDialog.Entry.TypedRune(rune(b))
			}
			m.pinDialog.OK.OnTapped()
			return nil
		})
		clear(pin)
		if err != nil {
			return err
		}
		v, err := m.waitEvent("signed", since, scriptTimeout)
		if err != nil || strings.HasPrefix(v, "error") {
			return orErr(err, v)
		}
		if _, err := m.waitEvent("rendered", since, scriptTimeout); err != nil {
			return err
		}
		v, err = m.waitEvent("verified", since, scriptTimeout)
		return orErr(err, v)
	case "expect-sigs":
		want, err := num(0)
		if err != nil || len(args) != 2 {
			return errors.New("expect-sigs N STATE")
		}
		return onUI(func() error {
			if m.report == nil {
				return errors.New("no report")
			}
			if len(m.report.Signatures) != int(want) {
				return fmt.Errorf("%d signatures", len(m.report.Signatures))
			}
			for i := range m.report.Signatures {
				s := &m.report.Signatures[i]
				if st := stateName(StateOf(s)); !strings.Contains(","+args[1]+",", ","+st+",") {
					return fmt.Errorf("signature %d is %s (integrity %s, changes %s, trust %s, revocation %s, registry %q, problems %v)",
						i+1, st, s.Integrity, s.ChangesAfter, s.Trust, s.Revocation, s.Registry, s.Problems)
				}
			}
			return nil
		})
	case "export-json", "export-pdf":
		if len(args) != 1 {
			return errors.New(f[0] + " FILE")
		}
		return onUI(func() error {
			if f[0] == "export-json" {
				return m.ExportJSON(args[0])
			}
			return m.ExportPDF(args[0])
		})
	case "sync":
		fyne.Do(m.Sync)
		v, err := m.waitEvent("synced", since, scriptTimeout)
		return orErr(err, v)
	case "shot":
		if len(args) != 1 {
			return errors.New("shot FILE")
		}
		time.Sleep(400 * time.Millisecond) // let the last frame reach the X server
		out, err := exec.Command("import", "-window", "root", args[0]).CombinedOutput()
		if err != nil {
			return fmt.Errorf("import: %v: %s", err, out)
		}
		return nil
	case "mark":
		m.scriptMark = since
		return nil
	case "wait":
		if len(args) != 1 {
			return errors.New("wait EVENT")
		}
		v, err := m.waitEvent(args[0], m.scriptMark, scriptTimeout)
		if err != nil {
			return err
		}
		fmt.Printf("script: event %s %s\n", args[0], v)
		return orErr(nil, v)
	case "where":
		if len(args) == 0 {
			return errors.New("where TEXT")
		}
		text := strings.Join(args, " ")
		return onUI(func() error {
			r, ok := m.where(text)
			if !ok {
				return fmt.Errorf("nothing shows %q", text)
			}
			fmt.Printf("script: where %s %d %d %d %d\n", text, r[0], r[1], r[2], r[3])
			return nil
		})
	case "sleep":
		ms, err := num(0)
		if err != nil {
			return err
		}
		time.Sleep(time.Duration(ms) * time.Millisecond)
		return nil
	case "quit":
		fyne.Do(func() { m.App.Quit() })
		return nil
	}
	return errors.New("unknown command")
}

func orErr(err error, v string) error {
	if err != nil {
		return err
	}
	if strings.HasPrefix(v, "error") {
		return errors.New(v)
	}
	return nil
}

func stateName(s SigState) string {
	switch s {
	case SigValid:
		return "valid"
	case SigInvalid:
		return "invalid"
	}
	return "unknown"
}

// dragSealTo drags the tray's selected seal onto the current page so that its centre lands at
// (x, y) mm, in steps as a pointer would, through the tray item's Draggable methods.
func (m *MainWindow) dragSealTo(x, y float64) error {
	var item *trayItem
	for _, t := range m.Tray.items {
		if t.item == m.Tray.Selected || item == nil && t.item.Usable() {
			item = t
		}
	}
	if item == nil {
		return errors.New(T("place.noSeal"))
	}
	start, ok := item.dropPoint()
	if !ok {
		return errors.New(T("place.noDoc"))
	}
	target := fyne.NewPos(MMToUnits(x, m.View.Zoom), MMToUnits(y, m.View.Zoom))
	const steps = 8
	dx, dy := (target.X-start.X)/steps, (target.Y-start.Y)/steps
	for i := 0; i < steps; i++ {
		item.Dragged(&fyne.DragEvent{Dragged: fyne.NewDelta(dx, dy)})
	}
	item.DragEnd()
	return nil
}

// where finds the button or label showing text in the window's content (containers only, as
// the toolbar and panels are built) and returns its rectangle in window pixels.
func (m *MainWindow) where(text string) ([4]int, bool) {
	c := m.Window.Canvas()
	px := func(pos fyne.Position, size fyne.Size) [4]int {
		sc := c.Scale()
		return [4]int{int(pos.X * sc), int(pos.Y * sc), int(size.Width * sc), int(size.Height * sc)}
	}
	content := c.Content()
	if text == "content" {
		return px(content.Position(), content.Size()), true
	}
	var found fyne.CanvasObject
	var walk func(o fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		if o == nil || !o.Visible() || found != nil {
			return
		}
		switch v := o.(type) {
		case *widget.Button:
			if v.Text == text {
				found = v
			}
		case *widget.Label:
			if v.Text == text {
				found = v
			}
		case *fyne.Container:
			for _, k := range v.Objects {
				walk(k)
			}
		}
	}
	walk(content)
	if found == nil {
		return [4]int{}, false
	}
	return px(m.App.Driver().AbsolutePositionForObject(found), found.Size()), true
}
