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
	for _, c := range document.UnknownCodes(rep) {
		t.Errorf("problem code %q is not in the table of codes (document.Codes, docs/CLI.md)", c)
	}
	return rep
}

func summary(rep *document.VerifyReport) string {
	var b strings.Builder
	for _, s := range rep.Signatures {
		b.WriteString(" [" + s.Profile + " i=" + string(s.Integrity) + " c=" + s.ChangesAfter)
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

func hasCode(rep *document.VerifyReport, code string) bool {
	for _, s := range rep.Signatures {
		for _, p := range s.Problems {
			if p.Code == code {
				return true
			}
		}
	}
	return false
}

// integrityExceptions are corpus signatures whose integrity is rightly "failed".
var integrityExceptions = map[string]string{
	// The signature value holds a SHA-256 DigestInfo while its algorithm identifier says
	// SHA3-256withRSA: the signature does not verify as declared (BouncyCastle rejects it too).
	"dss-1420_PAdES-BpB-att-SHA256-SHA3_256withRSA.pdf": "algorithm mismatch",
}

// TestCorpusSignedSamplesKeepIntegrity: every signature of every real signed sample verifies
// (digest and signature) and no later revision is classified as a disallowed change.
func TestCorpusSignedSamplesKeepIntegrity(t *testing.T) {
	root := testenvCorpus(t) + "pdf-signed"
	files, _ := filepath.Glob(root + "/*/*.pdf")
	if len(files) == 0 {
		t.Fatal("no signed samples")
	}
	for _, p := range files {
		name := filepath.Base(p)
		rep := verifyPath(t, p, nil)
		if _, ok := integrityExceptions[name]; ok {
			continue
		}
		if name == "adbe.pkcs7.detached_usageRights.pdf" {
			if len(rep.Signatures) != 0 {
				t.Errorf("%s: a usage-rights signature is not a document signature", name)
			}
			continue
		}
		if len(rep.Signatures) == 0 {
			t.Errorf("%s: no signatures found", name)
		}
		for _, s := range rep.Signatures {
			if s.Integrity != document.OK || s.ChangesAfter == document.Disallowed {
				t.Errorf("%s: signature %d (%s): integrity %s, changes %s: %s", name, s.Index, s.Name, s.Integrity, s.ChangesAfter, summary(rep))
			}
		}
	}
}

// attackExpect names, for each attack sample, a problem code that must be reported: the
// right reason (integrity or a disallowed change), never an untrusted root.
var attackExpect = map[string]string{
	"certification-rub/1_03_Test_cert_p2_sign_manipulate.pdf":     CodeSigFieldChanged,
	"certification-rub/2_03_NDA_cert_p2_sign_manipulate.pdf":      CodeSSA,
	"certification-rub/2_04_NDA_cert_p2_sign_sign_manipulate.pdf": CodeSSA,
	"certification-rub/minimal_cert_invalid.pdf":                  "cms.digest-mismatch",
	"dss/dss-2236_annotation-and-visible-change.pdf":              CodeAnnotationAdded,
	"dss/dss-2236_hide.pdf":                                       CodePageContentChanged,
	"dss/dss-2236_replace.pdf":                                    CodeFormFilled,
	"dss/pades-signed-annot-added.pdf":                            CodeAnnotationAdded,
	"dss/pades-spoofing-replaced-reason.pdf":                      CodeSigDictRedefined,
	"dss/pdf-byterange-overlap.pdf":                               CodeContentsGap,
	"dss/pdf-eof.pdf":                                             CodeByteRangeInvalid,
	"dss/pdf-removed-pages.pdf":                                   CodePageChanged,
	"dss/pdf-signed-added-page.pdf":                               CodePageChanged,
	"dss/pdf-signed-out-of-byteRange.pdf":                         CodeByteRangeInvalid,
	"dss/pdf-spoofing-attack.pdf":                                 CodeSigDictMissing,
	"shadow-rub/hide-and-replace-v1--ATTACK.pdf":                  CodeShadowPrepared,
	"shadow-rub/hide-and-replace-v2--ATTACK.pdf":                  CodeShadowPrepared,
	"shadow-rub/hide-v1--ATTACK.pdf":                              CodePageContentChanged,
	"shadow-rub/hide-v2-formviaform--ATTACK.pdf":                  CodeFormFieldChanged,
	"shadow-rub/hide-v2-textviaform--ATTACK.pdf":                  CodeAnnotationChanged,
	"shadow-rub/replace-v1--ATTACK.pdf":                           CodeFormFieldChanged,
	"shadow-rub/replace-v2--ATTACK.pdf":                           CodePageContentChanged,
}

// TestCorpusAttacksCaught: every attack sample has a signature whose integrity failed or whose
// later changes are disallowed (with the expected reason), and every benign sibling keeps all
// its signatures intact.
func TestCorpusAttacksCaught(t *testing.T) {
	root := filepath.Clean(testenvCorpus(t) + "pdf-attacks")
	files, _ := filepath.Glob(root + "/*/*.pdf")
	if len(files) == 0 {
		t.Fatal("no attack samples")
	}
	seen := 0
	for _, p := range files {
		rel, _ := filepath.Rel(root, p)
		rep := verifyPath(t, p, nil)
		code, isAttack := attackExpect[rel]
		if !isAttack {
			for _, s := range rep.Signatures {
				if s.Integrity != document.OK || s.ChangesAfter == document.Disallowed {
					t.Errorf("benign %s: signature %d: integrity %s, changes %s:%s", rel, s.Index, s.Integrity, s.ChangesAfter, summary(rep))
				}
			}
			if len(rep.Signatures) == 0 {
				t.Errorf("benign %s: no signatures", rel)
			}
			continue
		}
		seen++
		caught := false
		for _, s := range rep.Signatures {
			if s.Integrity == document.Failed || s.ChangesAfter == document.Disallowed {
				caught = true
			}
		}
		if !caught || rep.Valid {
			t.Errorf("attack %s not caught:%s", rel, summary(rep))
		}
		if !hasCode(rep, code) {
			t.Errorf("attack %s: expected problem %s:%s", rel, code, summary(rep))
		}
	}
	if seen != len(attackExpect) {
		t.Errorf("found %d of the %d attack samples", seen, len(attackExpect))
	}
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
