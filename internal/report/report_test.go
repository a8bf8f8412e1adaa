package report

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode"

	"sealdesk/document"
	_ "sealdesk/document/ofd/ofdsig"
	_ "sealdesk/document/pdf"
	"sealdesk/internal/testenv"
	"sealdesk/signer"
	"sealdesk/signer/pki"
)

// TestCodesTableIsTheDocs parses the table of problem codes in docs/CLI.md and compares it with
// document.Codes: the same codes, each with the same fact and verdict.
func TestCodesTableIsTheDocs(t *testing.T) {
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(filepath.Join(root, "docs", "CLI.md"))
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `([a-z0-9.-]+)` \\| (.+) \\| ([A-Za-z]+) \\| (red|amber|—) .*\\|$")
	verdicts := map[string]document.Indication{"red": document.IndicationInvalid, "amber": document.IndicationIndeterminate, "—": document.Info}
	inDoc := map[string]bool{}
	for _, m := range row.FindAllStringSubmatch(string(doc), -1) {
		code, fact, verdict := m[1], m[3], verdicts[m[4]]
		inDoc[code] = true
		c, ok := document.LookupCode(code)
		switch {
		case !ok:
			t.Errorf("docs/CLI.md lists %s, which no verifier knows (document.Codes)", code)
		case string(c.Fact) != fact || c.Level != verdict:
			t.Errorf("%s: docs say fact %s verdict %q, the code table %s %q", code, fact, verdict, c.Fact, c.Level)
		}
	}
	if len(inDoc) < 100 {
		t.Fatalf("only %d rows parsed from docs/CLI.md", len(inDoc))
	}
	for _, c := range document.Codes() {
		if !inDoc[c.Code] {
			t.Errorf("%s is missing from the table in docs/CLI.md", c.Code)
		}
		if !document.WellFormedCode(c.Code) {
			t.Errorf("%s does not follow the scheme area.name", c.Code)
		}
		if !HasText(c.Code) {
			t.Errorf("%s has no text in the catalogue", c.Code)
		}
	}
}

// TestCatalogue: every code reads in both languages, the Chinese text is Chinese, and the
// bundled font draws every character of every text the report can print.
func TestCatalogue(t *testing.T) {
	f, err := bundledSFNT()
	if err != nil {
		t.Fatal(err)
	}
	covered := func(s string) {
		for _, r := range s {
			if r != ' ' && f.GlyphIndex(r) == 0 {
				t.Errorf("the bundled font has no glyph for %q (in %q)", r, s)
			}
		}
	}
	for code := range catalogue {
		if _, ok := document.LookupCode(code); !ok {
			t.Errorf("catalogue entry %s is not a known code", code)
		}
		zh, en := Text(code, Chinese), Text(code, English)
		if !strings.ContainsFunc(zh, func(r rune) bool { return unicode.Is(unicode.Han, r) }) {
			t.Errorf("%s: Chinese text %q has no Chinese", code, zh)
		}
		if en == "" || en == zh {
			t.Errorf("%s: English text %q", code, en)
		}
		covered(zh)
		covered(en)
	}
	for _, l := range labels {
		covered(l[0])
		covered(l[1])
	}
}

// TestRealOFDsAmber: the genuine government files of the corpus keep integrity, and whatever
// cannot be established about them (their issuers are not among this machine's roots, no
// revocation answer, expired since) makes them amber with plain Chinese reasons, never red —
// with no trust anchors (sealctl) and with anchors that do not include their issuers (the
// app, which trusts its workspace's root).
func TestRealOFDsAmber(t *testing.T) {
	corpus := testenv.Corpus(t)
	files, _ := filepath.Glob(filepath.Join(corpus, "ofd", "real", "*.ofd"))
	if len(files) < 7 {
		t.Fatalf("only %d real OFD files", len(files))
	}
	anchor, err := pki.New(signer.SM2, pki.Template{Kind: pki.Root, CommonName: "Workspace Root"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, opts := range []*document.VerifyOptions{{Offline: true}, {Offline: true, TrustPEM: pki.PEM(anchor.Cert)}} {
		signed := 0
		for _, f := range files {
			rep, err := document.VerifyFile(context.Background(), f, opts)
			if err != nil {
				t.Fatalf("%s: %v", filepath.Base(f), err)
			}
			for i := range rep.Signatures {
				s := &rep.Signatures[i]
				if s.Integrity != document.OK {
					t.Errorf("%s #%d: integrity %s: %v", filepath.Base(f), i+1, s.Integrity, s.Problems)
					continue
				}
				signed++
				if s.Indication != document.IndicationIndeterminate {
					t.Errorf("%s #%d: indication %s, want indeterminate (anchors given: %v): %v", filepath.Base(f), i+1, s.Indication, len(opts.TrustPEM) > 0, s.Problems)
				}
				reasons := Reasons(s, Chinese)
				if len(reasons) == 0 {
					t.Errorf("%s #%d: amber without a reason: %v", filepath.Base(f), i+1, s.Problems)
				}
				for _, r := range reasons {
					if strings.ContainsFunc(r, func(c rune) bool { return c < 0x80 && unicode.IsLetter(c) }) {
						t.Errorf("%s #%d: reason %q is not plain Chinese", filepath.Base(f), i+1, r)
					}
				}
			}
			if rep.Indication == document.IndicationInvalid {
				t.Errorf("%s: document shown red: %+v", filepath.Base(f), rep.Problems)
			}
		}
		if signed < 9 {
			t.Errorf("only %d signatures verified", signed)
		}
	}
}

// TestCorpusCodesDocumented verifies every signed file of the shared corpus (PDF, PDF attacks,
// OFD) and requires each problem code it emits to be in the table (which the test above keeps
// equal to docs/CLI.md). The verifiers' own attack and tamper tests check the same for the
// files they build.
func TestCorpusCodesDocumented(t *testing.T) {
	corpus := testenv.Corpus(t)
	var files []string
	filepath.WalkDir(corpus, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.HasSuffix(p, ".pdf") || strings.HasSuffix(p, ".ofd")) {
			files = append(files, p)
		}
		return nil
	})
	seen := map[string]bool{}
	for _, f := range files {
		rep, err := document.VerifyFile(context.Background(), f, &document.VerifyOptions{Offline: true})
		if err != nil {
			continue // not readable as a signed document: an error, no codes
		}
		for _, c := range document.UnknownCodes(rep) {
			t.Errorf("%s: problem code %q is not in the table", strings.TrimPrefix(f, corpus), c)
		}
		for _, s := range rep.Signatures {
			for _, p := range s.Problems {
				seen[p.Code] = true
			}
		}
	}
	if len(seen) < 15 {
		t.Errorf("only %d distinct codes over %d corpus files", len(seen), len(files))
	}
	t.Logf("%d files, %d distinct codes", len(files), len(seen))
}

// TestReportPDF writes the report of a real two-signature OFD in Chinese and English and reads
// it back with poppler: the text is extractable (signer, time, file name, verdict), the fonts
// are embedded, and rendering reports no error.
func TestReportPDF(t *testing.T) {
	corpus := testenv.Corpus(t)
	pdftotext := testenv.LookPath(t, "pdftotext")
	pdffonts := testenv.LookPath(t, "pdffonts")
	pdftoppm := testenv.LookPath(t, "pdftoppm")
	in := filepath.Join(corpus, "ofd", "real", "sign-gbt35275-yunnan-2sigs.ofd")
	rep, err := document.VerifyFile(context.Background(), in, &document.VerifyOptions{Offline: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []Lang{Chinese, English} {
		out := filepath.Join(t.TempDir(), "report-"+string(l)+".pdf")
		var b bytes.Buffer
		if err := WritePDF(&b, rep, Options{Lang: l, Now: time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC)}); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(out, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		if b.Len() > 200<<10 {
			t.Errorf("%s report is %d bytes; the font should be embedded as the glyphs used", l, b.Len())
		}
		text, err := exec.Command(pdftotext, "-enc", "UTF-8", out, "-").CombinedOutput()
		if err != nil {
			t.Fatalf("pdftotext: %v: %s", err, text)
		}
		got := string(text)
		s := &rep.Signatures[0]
		for _, want := range []string{filepath.Base(in), s.Signer, TimeText(s, l), IndicationText(s.Indication, l), Label("title", l)} {
			if !strings.Contains(got, want) {
				t.Errorf("%s report: pdftotext output lacks %q:\n%s", l, want, got)
			}
		}
		if strings.ContainsRune(got, '\uFFFD') {
			t.Errorf("%s report: unmapped glyphs in the text:\n%s", l, got)
		}
		fonts, err := exec.Command(pdffonts, out).CombinedOutput()
		if err != nil {
			t.Fatalf("pdffonts: %v: %s", err, fonts)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(fonts)), "\n")[2:] {
			if f := strings.Fields(line); len(f) < 5 || !strings.Contains(line, " yes ") {
				t.Errorf("%s report: font not embedded or without ToUnicode: %s", l, line)
			}
		}
		var stderr bytes.Buffer
		cmd := exec.Command(pdftoppm, "-r", "50", "-png", out, filepath.Join(t.TempDir(), "page"))
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil || stderr.Len() > 0 {
			t.Errorf("%s report: pdftoppm: %v %s", l, err, stderr.String())
		}
	}
}
