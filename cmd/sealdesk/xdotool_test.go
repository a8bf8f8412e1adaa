package main_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"sealdesk/document"
	"sealdesk/internal/testenv"
	"sealdesk/ui"
)

// person drives the real sealdesk window with real X input (xdotool: pointer moves, clicks,
// key presses) as a person at the screen would. The app's script hook, fed one command at a
// time through a named pipe, only reports: where a button is, which events happened (a
// document opened, a report written, a batch signed); it presses nothing.
type person struct {
	t      *testing.T
	ctx    context.Context
	win    string // X window id
	script io.Writer
	out    chan string // the app's stdout, line by line
	log    *strings.Builder
}

// run sends one script command and waits for its "script: ok"; it returns the lines printed
// before it.
func (p *person) run(cmd string) []string {
	p.t.Helper()
	if _, err := fmt.Fprintln(p.script, cmd); err != nil {
		p.t.Fatalf("script %q: %v", cmd, err)
	}
	var got []string
	for {
		select {
		case l, ok := <-p.out:
			if !ok {
				p.t.Fatalf("the app ended during %q:\n%s", cmd, p.log)
			}
			if strings.HasPrefix(l, "script: FAIL") {
				p.t.Fatalf("%s\n%s", l, p.log)
			}
			if l == "script: ok: "+cmd {
				return got
			}
			got = append(got, l)
		case <-p.ctx.Done():
			p.t.Fatalf("%q: %v\n%s", cmd, p.ctx.Err(), p.log)
		}
	}
}

// event waits for event after the last mark and returns its value.
func (p *person) event(name string) string {
	p.t.Helper()
	for _, l := range p.run("wait " + name) {
		if v, ok := strings.CutPrefix(l, "script: event "+name+" "); ok {
			return v
		}
	}
	p.t.Fatalf("no value for %s", name)
	return ""
}

func (p *person) xdo(args ...string) {
	p.t.Helper()
	out, err := exec.CommandContext(p.ctx, "xdotool", args...).CombinedOutput()
	if err != nil {
		p.t.Fatalf("xdotool %v: %v: %s", args, err, out)
	}
}

// click moves the pointer to x,y of the window and clicks the left button.
func (p *person) click(x, y int) {
	p.t.Helper()
	p.xdo("mousemove", "--window", p.win, strconv.Itoa(x), strconv.Itoa(y))
	time.Sleep(150 * time.Millisecond) // hover, as a hand does; fyne sees the move first
	p.xdo("click", "1")
}

// clickText clicks the centre of the button showing text.
func (p *person) clickText(text string) {
	p.t.Helper()
	for _, l := range p.run("where " + text) {
		if rest, ok := strings.CutPrefix(l, "script: where "+text+" "); ok {
			var x, y, w, h int
			if _, err := fmt.Sscan(rest, &x, &y, &w, &h); err != nil {
				p.t.Fatal(err)
			}
			p.click(x+w/2, y+h/2)
			return
		}
	}
	p.t.Fatalf("no position for %q", text)
}

// menu opens the top-level menu at the bar's left end (文件 is the first) with a click and
// chooses its n-th item with the arrow keys and Enter.
func (p *person) menu(n int) {
	p.t.Helper()
	var top int
	for _, l := range p.run("where content") {
		if rest, ok := strings.CutPrefix(l, "script: where content "); ok {
			fmt.Sscan(rest, new(int), &top)
		}
	}
	if top < 10 {
		p.t.Fatalf("no menu bar above the content (content at y=%d)", top)
	}
	p.click(22, top/2)
	time.Sleep(200 * time.Millisecond)
	for i := 0; i < n; i++ {
		p.key("Down")
	}
	p.key("Return")
}

func (p *person) key(keys ...string) {
	p.t.Helper()
	p.xdo(append([]string{"key", "--delay", "60"}, keys...)...)
}

func (p *person) typeText(s string) {
	p.t.Helper()
	p.xdo("type", "--delay", "30", s)
}

func (p *person) shot(path string) {
	p.t.Helper()
	p.run("shot " + path)
}

// TestDesktopByMouseAndKeyboard opens the real file dialogs of the real binary under Xvfb by
// mouse and keyboard and goes through each to its result: 打开 (toolbar click, a full path
// typed, Enter) opens the sample; 文件 → 批量签章 (menu click, arrow keys, Enter; a folder
// typed; the PIN typed) signs three files; 打开 again shows a signed copy verified;
// 文件 → 导出验证报告 (PDF) writes the report at the path typed into the save dialog.
func TestDesktopByMouseAndKeyboard(t *testing.T) {
	if os.Getenv("DISPLAY") == "" {
		testenv.Missing(t, "an X display (make test runs the tests under xvfb-run)")
	}
	testenv.LookPath(t, "import")
	testenv.LookPath(t, "xdotool")
	app := testenv.Binary(t, "sealdesk")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	dir, ws, shots, env := desktopRig(t, ctx)

	batch := filepath.Join(dir, "batch")
	os.Mkdir(batch, 0o755)
	sampleBytes, err := os.ReadFile(filepath.Join(ws, "sample.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, n := range []string{"a.pdf", "b.pdf", "c.pdf"} {
		f := filepath.Join(batch, n)
		os.WriteFile(f, sampleBytes, 0o644)
		files = append(files, f)
	}
	pin, err := os.ReadFile(filepath.Join(ws, "pin.txt"))
	if err != nil {
		t.Fatal(err)
	}

	fifo := filepath.Join(dir, "script.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, app, "--workspace", ws)
	// No desktop portal under Xvfb: the app's own dialog, which this test is about.
	cmd.Env = append(env, ui.ScriptEnv+"="+fifo, ui.FileDialogEnv+"=app")
	stdout, _ := cmd.StdoutPipe()
	var errLog strings.Builder
	cmd.Stderr = &errLog
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	p := &person{t: t, ctx: ctx, out: make(chan string, 100), log: &errLog}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			t.Log(sc.Text())
			p.out <- sc.Text()
		}
		close(p.out)
	}()
	w, err := os.OpenFile(fifo, os.O_WRONLY, 0) // blocks until the app's window is up and reads
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	p.script = w
	out, err := exec.CommandContext(ctx, "xdotool", "search", "--sync", "--onlyvisible", "--name", "SealDesk").Output()
	if err != nil || len(strings.Fields(string(out))) == 0 {
		t.Fatalf("no sealdesk window: %v %s", err, out)
	}
	p.win = strings.Fields(string(out))[0]
	p.xdo("windowfocus", p.win)
	p.run("wait-keys 2")
	p.run("select-key signer-sm2")

	// 打开: click the toolbar button, type the file's full path, Enter.
	p.run("mark")
	p.clickText("打开")
	p.event("dialog")
	sample := filepath.Join(ws, "sample.pdf")
	p.typeText(sample)
	p.shot(filepath.Join(shots, "6-open-dialog.png"))
	p.key("Return")
	if v := p.event("opened"); v != sample {
		t.Fatalf("opened %q, want %q", v, sample)
	}
	p.event("verified")
	p.run("drag-seal 150 60")

	// 文件 → 批量签章: the folder typed over whatever the entry holds, Enter; the PIN typed, Enter.
	p.run("mark")
	p.menu(5)
	p.event("dialog")
	p.key("ctrl+a")
	p.typeText(batch)
	p.shot(filepath.Join(shots, "7-batch-dialog.png"))
	p.key("Return")
	p.event("pin")
	p.typeText(strings.TrimSpace(string(pin)))
	p.shot(filepath.Join(shots, "8-batch-pin.png"))
	p.key("Return")
	if v := p.event("batch"); v != "3/0" {
		t.Fatalf("batch result %q, want 3 signed and 0 failed", v)
	}
	p.shot(filepath.Join(shots, "8-batch-done.png"))
	p.key("Return") // closes the result
	for _, f := range files {
		signed := strings.TrimSuffix(f, ".pdf") + "-signed.pdf"
		rep, err := document.VerifyFile(ctx, signed, &document.VerifyOptions{})
		if err != nil || len(rep.Signatures) != 1 || rep.Signatures[0].Integrity != document.OK {
			t.Fatalf("%s: %v %+v", signed, err, rep)
		}
		// With the chosen key (signer-sm2), not the one listed at its place before the
		// listing changed order.
		if s := rep.Signatures[0]; !strings.Contains(s.Signer, "(sm2)") {
			t.Fatalf("%s signed by %q, not the chosen key signer-sm2", signed, s.Signer)
		}
	}

	// 打开 a signed copy: it shows verified with its signature panel.
	p.run("mark")
	p.clickText("打开")
	p.event("dialog")
	p.key("ctrl+a")
	signedA := filepath.Join(batch, "a-signed.pdf")
	p.typeText(signedA)
	p.key("Return")
	if v := p.event("opened"); v != signedA {
		t.Fatalf("opened %q, want %q", v, signedA)
	}
	if v := p.event("verified"); v != "1" {
		t.Fatalf("verified %q, want 1 signature", v)
	}
	p.shot(filepath.Join(shots, "9-verified-panel.png"))

	// 文件 → 导出验证报告 (PDF): the suggested name replaced by a full path elsewhere, Enter.
	p.run("mark")
	p.menu(7)
	p.event("dialog")
	p.shot(filepath.Join(shots, "10-export-dialog.png"))
	p.key("ctrl+a")
	report := filepath.Join(dir, "reports", "a-report.pdf")
	os.Mkdir(filepath.Dir(report), 0o755)
	p.typeText(report)
	p.key("Return")
	if v := p.event("exported"); v != report {
		t.Fatalf("exported to %q, want %q", v, report)
	}
	b, err := os.ReadFile(report)
	if err != nil || !strings.HasPrefix(string(b), "%PDF-") {
		t.Fatalf("report at the typed path: %v", err)
	}
	if txt, err := exec.CommandContext(ctx, "pdftotext", report, "-").Output(); err == nil && !strings.Contains(string(txt), "a-signed.pdf") {
		t.Errorf("the report does not name the file:\n%s", txt)
	}
	if os.Getenv("SEALDESK_SCREENSHOTS") != "" { // page 1 of the report, for docs/screenshots
		png := filepath.Join(shots, "11-report")
		if out, err := exec.CommandContext(ctx, "pdftoppm", "-r", "80", "-f", "1", "-l", "1", "-singlefile", "-png", report, png).CombinedOutput(); err != nil {
			t.Errorf("pdftoppm: %v: %s", err, out)
		}
	}
	p.run("quit")
}
