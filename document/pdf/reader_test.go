package pdf

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"

	"sealdesk/internal/testenv"
)

// corpusFiles lists every PDF of the shared corpus.
func corpusFiles(t testing.TB) []string {
	root := testenv.Corpus(t)
	var out []string
	filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err == nil && strings.HasSuffix(strings.ToLower(p), ".pdf") && strings.Contains(p, "/pdf-") {
			out = append(out, p)
		}
		return nil
	})
	if len(out) == 0 {
		t.Fatalf("no PDF files under %s", root)
	}
	return out
}

func openFile(t testing.TB, p string) (*Reader, *os.File) {
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := f.Stat()
	rd, err := NewReader(f, st.Size())
	if err != nil {
		f.Close()
		t.Fatalf("%s: %v", p, err)
	}
	return rd, f
}

// TestReaderCorpusPageCounts reads every corpus file with our lazy reader and cross-checks the
// page count with pdfcpu (an independent parser) where pdfcpu can read the file.
func TestReaderCorpusPageCounts(t *testing.T) {
	conf := model.NewDefaultConfiguration()
	conf.ValidationMode = model.ValidationRelaxed
	for _, p := range corpusFiles(t) {
		name := filepath.Base(p)
		rd, f := openFile(t, p)
		pages, err := rd.Final.Pages()
		if err != nil {
			t.Errorf("%s: pages: %v", name, err)
			f.Close()
			continue
		}
		if len(rd.Revisions()) == 0 {
			t.Errorf("%s: no revisions found", name)
		}
		f.Seek(0, 0)
		n, perr := api.PageCount(f, conf)
		f.Close()
		if perr == nil && n != len(pages) {
			t.Errorf("%s: %d pages, pdfcpu says %d", name, len(pages), n)
		}
		if rd.Repaired {
			t.Logf("%s: repaired (%v)", name, rd.RepairErr)
		}
	}
}

func testenvCorpus(t testing.TB) string { return testenv.Corpus(t) + "/" }

// corpusRootQuiet returns the shared corpus directory without failing when it is absent (fuzz
// seeds are optional).
func corpusRootQuiet() string {
	if p := os.Getenv("SEALDESK_CORPUS"); p != "" {
		return p
	}
	wd, _ := os.Getwd()
	return filepath.Join(wd, "..", "..", "..", "shared", "corpus")
}
