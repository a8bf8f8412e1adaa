package cli

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"sealdesk/document"
	"sealdesk/internal/testenv"
)

// TestVerifyReportAndLanguage: `sealctl verify --report` writes the app's PDF report (its text
// extractable), the JSON carries the indication of each signature and of the document, and a
// Chinese locale prints the catalogue's plain reasons instead of developer English.
func TestVerifyReportAndLanguage(t *testing.T) {
	corpus := testenv.Corpus(t)
	pdftotext := testenv.LookPath(t, "pdftotext")
	in := filepath.Join(corpus, "ofd", "real", "invoice-vat-jiangsu-2020.ofd")
	out := filepath.Join(t.TempDir(), "报告.pdf")
	code, stdout, stderr := sealctl("verify", in, "--offline", "--json", "--report", out)
	if code != ExitNo {
		t.Fatalf("exit %d (want %d: not valid, amber): %s", code, ExitNo, stderr)
	}
	var rep document.VerifyReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Indication != document.IndicationIndeterminate || len(rep.Signatures) != 1 || rep.Signatures[0].Indication != document.IndicationIndeterminate {
		t.Fatalf("indication %q / %+v", rep.Indication, rep.Signatures)
	}
	text, err := exec.Command(pdftotext, "-enc", "UTF-8", out, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v %s", err, text)
	}
	for _, want := range []string{"invoice-vat-jiangsu-2020.ofd", rep.Signatures[0].Signer} {
		if !strings.Contains(string(text), want) {
			t.Errorf("report text lacks %q:\n%s", want, text)
		}
	}
	code, stdout, _ = sealctl("verify", in, "--offline", "--lang", "zh")
	if code != ExitNo || !strings.Contains(stdout, "无法确定") || !strings.Contains(stdout, "未配置可信根证书") || strings.Contains(stdout, "trust.no-roots") {
		t.Errorf("Chinese output:\n%s", stdout)
	}
	if code, _, stderr = sealctl("verify", in, "--lang", "fr"); code != ExitUsage || !strings.Contains(stderr, "--lang") {
		t.Errorf("--lang fr: exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(out); err != nil {
		t.Fatal(err)
	}
}
