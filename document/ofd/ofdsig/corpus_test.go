package ofdsig

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"sealdesk/document"
	"sealdesk/internal/testenv"
)

// sigFacts is what a corpus file's signature must show. Empty fields are not checked.
type sigFacts struct {
	name      string
	profile   string
	integrity string
	changes   string
	trust     string
	whole     *bool
	pages     []int
	codes     []string // problem codes that must be present (the reason)
	okFiles   []string // covered files whose digest must verify (no problem names them)
}

type fileFacts struct {
	file      string
	withCert  bool // verify with --cert ofdrw/ofdrw-test-USER-cert.pem
	sigs      []sigFacts
	uncovered []string
	codes     []string // report-level problem codes
}

var (
	yes = func() *bool { b := true; return &b }()
	no  = func() *bool { b := false; return &b }()
)

// The expected facts come from the corpus's SOURCES.md (origin, what is wrong with each
// negative file) and docs/ofd.md §4; the test checks them per file.
var corpusFacts = []fileFacts{
	// real/: every signature keeps integrity ok.
	{file: "real/invoice-vat-zhejiang-2020.ofd", sigs: []sigFacts{{name: "2", profile: "ofd-ses4", integrity: "ok", changes: "none", whole: yes, pages: []int{0},
		okFiles: []string{"/OFD.xml", "/Doc_0/Res/image_78.jb2", "/Doc_0/Attachs/original_invoice.xml"}}}},
	{file: "real/invoice-vat-jiangsu-2020.ofd", sigs: []sigFacts{{name: "2", profile: "ofd-ses4", integrity: "ok", changes: "none", whole: yes, pages: []int{0}}}},
	{file: "real/invoice-vat-special-guizhou-2022.ofd", sigs: []sigFacts{{name: "2", profile: "ofd-ses4", integrity: "ok", changes: "none", whole: yes, pages: []int{0}}}},
	{file: "real/einvoice-platform-zhejiang-2022-antchain.ofd", sigs: []sigFacts{{name: "1", profile: "ofd-ses4", integrity: "ok", changes: "none", whole: yes, pages: []int{0}}}},
	// KingGrid leaves /OFD.xml outside its References.
	{file: "real/invoice-test-chongqing-kinggrid.ofd", uncovered: []string{"/OFD.xml"},
		sigs: []sigFacts{{name: "1", profile: "ofd-ses4", integrity: "ok", changes: "none", whole: no, pages: []int{0}, codes: []string{CodeFileUnprotected}}}},
	// BW leaves both template pages outside its References.
	{file: "real/invoice-test-chongqing-bw-5pages.ofd", uncovered: []string{"/Doc_0/TPLS/TPL_0/Content.xml", "/Doc_0/TPLS/TPL_1/Content.xml"},
		sigs: []sigFacts{{name: "2", profile: "ofd-ses4", integrity: "ok", changes: "none", whole: no, pages: []int{0}, codes: []string{CodeFileUnprotected}}}},
	{file: "real/license-suzhou-dianju-nonstd-paths.ofd", sigs: []sigFacts{{name: "1", profile: "ofd-ses4", integrity: "ok", changes: "none", whole: yes, pages: []int{0}}}},
	// Two GB/T 35275 Type=Sign signatures; the second covers the first's files and Signatures.xml.
	{file: "real/sign-gbt35275-yunnan-2sigs.ofd", sigs: []sigFacts{
		{name: "1", profile: "ofd-sign-gbt35275", integrity: "ok", changes: "allowed", whole: no},
		{name: "2", profile: "ofd-sign-gbt35275", integrity: "ok", changes: "none", whole: yes,
			okFiles: []string{"/Doc_0/Signs/Signatures.xml", "/Doc_0/Signs/Sign_0/Signature.xml"}}}},
	{file: "real/invoice-digital-2024-unsigned.ofd"},

	// negative/: each caught for the reason SOURCES.md gives.
	{file: "negative/NEG-seals-yunnan-pages-modified.ofd", sigs: []sigFacts{
		{name: "2", integrity: "failed", changes: "disallowed", codes: []string{CodeRefDigest}},
		{name: "4", integrity: "failed", changes: "disallowed", codes: []string{CodeRefDigest}}}},
	{file: "negative/NEG-invoice-chongqing-document-modified.ofd", sigs: []sigFacts{
		{name: "1", integrity: "failed", changes: "disallowed", codes: []string{CodeRefDigest}}}},
	{file: "negative/NEG-shandong-rawrs-content-modified.ofd", uncovered: []string{"/Doc_0/DocumentRes.xml", "/Doc_0/PublicRes.xml", "/Doc_0/Res/Font7.ttf"}, sigs: []sigFacts{
		{name: "2", profile: "ofd-ses4", integrity: "failed", changes: "disallowed", codes: []string{CodeRefDigest}},
		{name: "4", profile: "ofd-sign-gbt35275", integrity: "failed", changes: "disallowed", codes: []string{CodeRefDigest}}}},
	// Re-serialised v1: every XML digest (SM3 with Z, …401.2) fails; the binary seal file
	// still matches that way, which shows the …401.2 digest is computed right.
	{file: "negative/NEG-sesv1-dms360-reserialized.ofd", sigs: []sigFacts{
		{name: "0", profile: "ofd-ses1", integrity: "failed", changes: "disallowed", codes: []string{CodeRefDigest, "ses.signature-over-datahash-variant"},
			okFiles: []string{"/Doc_0/Signs/Sign_0/Seal.esl"}}}},
	// The first seal protected Signatures.xml; adding the second broke it.
	{file: "negative/NEG-ofdrw-two-seals-first-broken.ofd", sigs: []sigFacts{
		{name: "s001", integrity: "failed", codes: []string{CodeLockedBroken}, pages: []int{0, 1, 2, 3, 4}},
		{name: "s007", integrity: "ok", changes: "none"}}},
	// OFD.xml names a Signatures.xml that does not exist: a clear "not signed" answer.
	{file: "negative/EDGE-dangling-signatures-ref.ofd", codes: []string{CodeSignaturesMissing}},

	// ofdrw/: ofdrw's own output; test certificates expired before some files were made.
	{file: "ofdrw/ofdrw-ses4-continue.ofd", sigs: []sigFacts{{profile: "ofd-ses4", integrity: "ok", changes: "none", whole: yes, trust: "unknown",
		codes: []string{"ses.signer-cert-validity-unproven", "ses.seal-validity-unproven"}}}},
	{file: "ofdrw/ofdrw-ses4-wholeprotected.ofd", sigs: []sigFacts{{profile: "ofd-ses4", integrity: "ok", changes: "none", whole: yes,
		okFiles: []string{"/Doc_0/Signs/Signatures.xml"}}}},
	{file: "ofdrw/ofdrw-ses4-riding-seal.ofd", sigs: []sigFacts{{profile: "ofd-ses4", integrity: "ok", changes: "none", pages: []int{0, 1, 2, 3, 4}}}},
	{file: "ofdrw/ofdrw-sign-raw-sm2.ofd", withCert: true, sigs: []sigFacts{{profile: "ofd-sign-raw", integrity: "ok", changes: "none"}}},
	{file: "ofdrw/ofdrw-sign-raw-sm2.ofd", sigs: []sigFacts{{profile: "ofd-sign-raw", integrity: "unknown", codes: []string{"ofd.sign.cert-needed"}}}},

	// generated/: made with ofdrw's signer in 2026 with certificates that expired in 2022–2023.
	{file: "generated/ofdrwgen-v1-continue.ofd", sigs: []sigFacts{{profile: "ofd-ses1", integrity: "ok", changes: "none", whole: yes, trust: "unknown", pages: []int{0},
		codes: []string{"ses.signer-cert-validity-unproven", "ses.seal-validity-unproven"}}}},
	{file: "generated/ofdrwgen-v4-continue.ofd", sigs: []sigFacts{{profile: "ofd-ses4", integrity: "ok", changes: "none", whole: yes, trust: "unknown",
		codes: []string{"ses.signer-cert-validity-unproven", "ses.seal-validity-unproven"}}}},
	{file: "generated/ofdrwgen-v4-whole.ofd", sigs: []sigFacts{{profile: "ofd-ses4", integrity: "ok", changes: "none", trust: "unknown",
		codes: []string{"ses.signer-cert-validity-unproven"}}}},
	{file: "generated/ofdrwgen-v5-continue.ofd", sigs: []sigFacts{{profile: "ofd-ses5", integrity: "ok", changes: "none", trust: "unknown",
		codes: []string{"ses.signer-cert-validity-unproven"}}}},
	{file: "generated/ofdrwgen-v4-then-v1.ofd", sigs: []sigFacts{
		{profile: "ofd-ses4", integrity: "ok", changes: "allowed", trust: "unknown", codes: []string{"ses.signer-cert-validity-unproven"}},
		{profile: "ofd-ses1", integrity: "ok", changes: "none", trust: "unknown", codes: []string{"ses.signer-cert-validity-unproven"}}}},
	{file: "generated/ofdrwgen-sign-gbt35275.ofd", sigs: []sigFacts{{profile: "ofd-sign-gbt35275", integrity: "ok", changes: "none", trust: "unknown",
		codes: []string{"trust.cert-validity-unproven"}}}},
	{file: "generated/ofdrwgen-sign-gbt35275-pkcs9.ofd", sigs: []sigFacts{{profile: "ofd-sign-gbt35275", integrity: "ok", changes: "none", trust: "unknown",
		codes: []string{"trust.cert-validity-unproven"}}}},
	{file: "generated/ofdrwgen-sign-raw.ofd", withCert: true, sigs: []sigFacts{{profile: "ofd-sign-raw", integrity: "ok", changes: "none", trust: "unknown",
		codes: []string{"trust.cert-validity-unproven"}}}},
}

func TestCorpus(t *testing.T) {
	corpus := testenv.Corpus(t)
	cert, err := os.ReadFile(filepath.Join(corpus, "ofd/ofdrw/ofdrw-test-USER-cert.pem"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, ff := range corpusFacts {
		seen[ff.file] = true
		name := ff.file
		if ff.withCert {
			name += "+cert"
		}
		t.Run(name, func(t *testing.T) {
			opts := &document.VerifyOptions{}
			if ff.withCert {
				opts.SignerCertPEM = cert
			}
			data := readCorpus(t, corpus, ff.file)
			rep := verifyBytes(t, data, opts)
			rep.Decide()
			if len(rep.Signatures) != len(ff.sigs) {
				t.Fatalf("%d signatures, want %d (%v)", len(rep.Signatures), len(ff.sigs), rep.Problems)
			}
			if !slices.Equal(rep.Uncovered, ff.uncovered) && !(len(rep.Uncovered) == 0 && len(ff.uncovered) == 0) {
				t.Errorf("uncovered %v, want %v", rep.Uncovered, ff.uncovered)
			}
			for _, c := range ff.codes {
				found := false
				for _, p := range rep.Problems {
					found = found || p.Code == c
				}
				if !found {
					t.Errorf("report lacks problem %s: %v", c, rep.Problems)
				}
			}
			for i, want := range ff.sigs {
				s := rep.Signatures[i]
				check := func(what, got, want string) {
					if want != "" && got != want {
						t.Errorf("signature %d (%s): %s = %s, want %s; problems %v", i, s.Name, what, got, want, s.Problems)
					}
				}
				check("name", s.Name, want.name)
				check("profile", s.Profile, want.profile)
				check("integrity", string(s.Integrity), want.integrity)
				check("changesAfter", s.ChangesAfter, want.changes)
				check("trust", string(s.Trust), want.trust)
				if want.whole != nil && s.CoversWholeDocument != *want.whole {
					t.Errorf("signature %s: coversWholeDocument %v", s.Name, s.CoversWholeDocument)
				}
				if want.pages != nil && !slices.Equal(s.Pages, want.pages) {
					t.Errorf("signature %s: pages %v, want %v", s.Name, s.Pages, want.pages)
				}
				for _, c := range want.codes {
					if !hasCode(s, c) {
						t.Errorf("signature %s lacks problem %s: %v", s.Name, c, codes(s))
					}
				}
				for _, f := range want.okFiles {
					if !slices.Contains(s.Covered, f) {
						t.Errorf("signature %s does not cover %s", s.Name, f)
					}
					for _, p := range s.Problems {
						if strings.Contains(p.Message, " "+f+" ") && (p.Code == CodeRefDigest || p.Code == CodeRefMissing) {
							t.Errorf("signature %s: %s: %s", s.Name, f, p.Message)
						}
					}
				}
				// Where trust or the seal fails, the report says why.
				if s.Trust == document.Failed && !hasTrustReason(s) {
					t.Errorf("signature %s: trust failed without a reason: %v", s.Name, s.Problems)
				}
				if s.Seal != nil && s.Seal.Checks == document.Failed && len(s.Seal.Problems) == 0 {
					t.Errorf("signature %s: seal failed without a reason", s.Name)
				}
				if s.Integrity == document.Failed && len(s.Problems) == 0 {
					t.Errorf("signature %s: integrity failed without a reason", s.Name)
				}
				if s.Valid && (s.Integrity != document.OK || s.Trust != document.OK) {
					t.Errorf("signature %s valid with integrity %s trust %s", s.Name, s.Integrity, s.Trust)
				}
				if len(s.Pages) != len(s.Rects) {
					t.Errorf("signature %s: %d pages, %d rects", s.Name, len(s.Pages), len(s.Rects))
				}
			}
			// Nothing in the corpus is trusted without anchors.
			if rep.Valid {
				t.Errorf("report valid without trust anchors")
			}
		})
	}
	// Every signed or negative corpus file has a row.
	for _, dir := range []string{"real", "negative", "ofdrw", "generated"} {
		files, _ := filepath.Glob(filepath.Join(corpus, "ofd", dir, "*.ofd"))
		for _, f := range files {
			if rel := dir + "/" + filepath.Base(f); !seen[rel] {
				t.Errorf("%s has no expected facts in corpusFacts", rel)
			}
		}
	}
}

func hasTrustReason(s document.SignatureReport) bool {
	for _, p := range s.Problems {
		if strings.Contains(p.Code, "cert") || strings.Contains(p.Code, "trust") || strings.Contains(p.Code, "expired") {
			return true
		}
	}
	return false
}

// TestCorpusUnsignedRender: files without signatures verify as "not signed", without error.
func TestCorpusUnsigned(t *testing.T) {
	corpus := testenv.Corpus(t)
	files, _ := filepath.Glob(filepath.Join(corpus, "ofd", "render", "*.ofd"))
	if len(files) == 0 {
		testenv.Missing(t, "corpus render/ files")
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := Verify(context.Background(), bytes.NewReader(data), int64(len(data)), nil)
		if err != nil {
			t.Errorf("%s: %v", filepath.Base(f), err)
			continue
		}
		rep.Decide()
		if len(rep.Signatures) != 0 || rep.Valid {
			t.Errorf("%s: %d signatures, valid %v", filepath.Base(f), len(rep.Signatures), rep.Valid)
		}
	}
}
