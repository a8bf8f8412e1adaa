package ofd

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"sealdesk/internal/testenv"
)

// fuzzLimits keep each fuzz input cheap.
var fuzzLimits = &Limits{MaxEntries: 200, MaxEntrySize: 4 << 20, MaxTotalSize: 16 << 20, MaxXMLSize: 1 << 20, MaxXMLElement: 50000}

// addCorpusSeeds adds the smaller corpus OFDs (when the corpus is present; fuzz seeds never
// fail for its absence) and generated documents.
func addCorpusSeeds(f *testing.F) {
	if root, err := testenv.RepoRoot(); err == nil {
		dir := filepath.Join(root, "..", "shared", "corpus", "ofd")
		if p := os.Getenv("SEALDESK_CORPUS"); p != "" {
			dir = filepath.Join(p, "ofd")
		}
		filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
			if err == nil && !info.IsDir() && filepath.Ext(p) == ".ofd" && info.Size() < 16<<10 {
				if b, err := os.ReadFile(p); err == nil {
					f.Add(b)
				}
			}
			return nil
		})
	}
	f.Add(SampleContract(2).Bytes())
	f.Add(SampleLong(1).Bytes())
}

// FuzzOpen feeds arbitrary bytes to the reader: opening, every model part, signatures, text and
// a low-resolution render must return errors, never panic or hang.
func FuzzOpen(f *testing.F) {
	addCorpusSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		rd, err := Open(bytes.NewReader(data), int64(len(data)), fuzzLimits)
		if err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for i := 0; i < min(rd.NumPages(), 2); i++ {
			rd.PageBox(i)
			rd.Text(ctx, i)
			rd.RenderPage(ctx, i, 8, nil)
		}
		if sigs, err := rd.Signatures(); err == nil && sigs != nil {
			for _, ref := range sigs.List {
				rd.Signature(ref)
			}
		}
		rd.Stamps()
	})
}

// FuzzParseXML checks the XML layer alone.
func FuzzParseXML(f *testing.F) {
	f.Add([]byte(okOFD))
	f.Add([]byte(okPage))
	f.Add([]byte(`<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ParseXML("/fuzz.xml", data, fuzzLimits)
	})
}

// FuzzPathData checks the AbbreviatedData parser and that drawing what it returns is safe.
func FuzzPathData(f *testing.F) {
	for _, s := range []string{"M 0 0 L 10 10 C", "S 1 2 B 1 2 3 4 5 6 Q 1 2 3 4 A 5 5 30 1 0 10 10 C", "M1-2L3e2,4", "L 1", "A 0 0 0 0 0 0 0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, _ := ParsePathData(s)
		if p != nil {
			p.Bounds()
		}
	})
}
