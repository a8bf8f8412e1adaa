package cli

import (
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestErrorsNameTheFile (issue 12, defect 8): every error of verify, render, info and find on a
// malformed or unreadable input names the file and says what is wrong in one line, exits 2,
// and is no Go crash or raw library dump.
func TestErrorsNameTheFile(t *testing.T) {
	dir := t.TempDir()
	zipOf := func(files map[string]string) []byte {
		var b bytes.Buffer
		zw := zip.NewWriter(&b)
		for n, c := range files {
			w, _ := zw.Create(n)
			w.Write([]byte(c))
		}
		zw.Close()
		return b.Bytes()
	}
	inputs := map[string][]byte{
		"empty.pdf":          {},
		"garbage.pdf":        []byte("this is not a PDF at all"),
		"truncated.pdf":      []byte("%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R"),
		"noxref.pdf":         []byte("%PDF-1.4\n" + strings.Repeat("\x00", 4096)),
		"garbage.ofd":        []byte("PK\x03\x04 not really a zip"),
		"empty-zip.ofd":      zipOf(nil),
		"no-ofdxml.ofd":      zipOf(map[string]string{"Doc_0/Document.xml": "<ofd:Document/>"}),
		"bad-ofdxml.ofd":     zipOf(map[string]string{"OFD.xml": "<ofd:OFD><unclosed"}),
		"no-docbody.ofd":     zipOf(map[string]string{"OFD.xml": `<ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016" Version="1.0" DocType="OFD"></ofd:OFD>`}),
		"missing-doc.ofd":    zipOf(map[string]string{"OFD.xml": `<ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016" Version="1.0" DocType="OFD"><ofd:DocBody><ofd:DocInfo><ofd:DocID>x</ofd:DocID></ofd:DocInfo><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>`}),
		"unknown-format.txt": []byte("hello"),
	}
	for name, data := range inputs {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.Mkdir(filepath.Join(dir, "folder.pdf"), 0o755)
	inputs["folder.pdf"] = nil
	inputs["missing.pdf"] = nil
	for name := range inputs {
		path := filepath.Join(dir, name)
		for _, cmd := range [][]string{
			{"verify", path},
			{"render", path, "--page", "1", "-o", filepath.Join(dir, "out.png")},
			{"info", path},
			{"find", path, "--text", "合同"},
		} {
			code, stdout, stderr := hubRun(t, "sealctl", cmd...)
			msg := strings.TrimSpace(stderr)
			switch {
			case code == 0:
				// A file that is readable but has nothing wrong for this command is fine.
				continue
			case strings.Contains(stderr, "goroutine") || strings.Contains(stderr, "panic"):
				t.Errorf("sealctl %s %s crashed: %s", cmd[0], name, stderr)
			case !strings.Contains(msg, name):
				t.Errorf("sealctl %s %s: the error does not name the file: %q (exit %d, stdout %q)", cmd[0], name, msg, code, stdout)
			case strings.Count(msg, "\n") > 0:
				t.Errorf("sealctl %s %s: the error takes more than one line: %q", cmd[0], name, msg)
			case code != ExitUsage:
				t.Errorf("sealctl %s %s: exit %d, want %d: %q", cmd[0], name, code, ExitUsage, msg)
			}
			if _, err := os.Stat(filepath.Join(dir, "out.png")); err == nil {
				t.Errorf("sealctl %s %s wrote an output", cmd[0], name)
				os.Remove(filepath.Join(dir, "out.png"))
			}
		}
	}
}
