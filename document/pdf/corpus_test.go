package pdf

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sealdesk/document"
)

func verifyPath(t testing.TB, p string, opts *document.VerifyOptions) *document.VerifyReport {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	rep, err := Verify(context.Background(), f, st.Size(), opts)
	if err != nil {
		t.Fatalf("%s: %v", filepath.Base(p), err)
	}
	rep.Decide()
	return rep
}

func summary(rep *document.VerifyReport) string {
	var b strings.Builder
	for _, s := range rep.Signatures {
		b.WriteString(" [" + s.Profile + " i=" + s.Integrity + " c=" + s.ChangesAfter)
		for _, p := range s.Problems {
			if p.Code == CodeTrustUnknown || p.Code == CodeNotWholeDocument {
				continue
			}
			b.WriteString(" " + p.Code)
		}
		b.WriteString("]")
	}
	return b.String()
}

func TestCorpusSummary(t *testing.T) {
	if os.Getenv("SEALDESK_PDF_SUMMARY") == "" {
		t.Skip("set SEALDESK_PDF_SUMMARY=1 to print the corpus summary")
	}
	for _, p := range corpusFiles(t) {
		rep := verifyPath(t, p, nil)
		t.Logf("%s:%s", strings.TrimPrefix(p, testenvCorpus(t)), summary(rep))
	}
}
