package cms

import (
	"archive/zip"
	"bytes"
	"compress/zlib"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/emmansun/gmsm/smx509"

	"sealdesk/internal/testenv"
	"sealdesk/signer"
)

// pdfSignature is one signature cut out of a PDF by its /ByteRange: the covered bytes and the
// DER in the gap (the /Contents hex string). It is a test-only stand-in for document/pdf,
// enough to feed real-world CMS to this package.
type pdfSignature struct {
	file   string
	index  int
	signed []byte
	der    []byte
}

var byteRangeRE = regexp.MustCompile(`/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]`)

func pdfSignatures(t testing.TB, path string) []pdfSignature {
	t.Helper()
	d, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var out []pdfSignature
	for _, m := range byteRangeRE.FindAllSubmatch(d, -1) {
		var n [4]int
		for i := range n {
			n[i], _ = strconv.Atoi(string(m[i+1]))
		}
		key := fmt.Sprint(n)
		if seen[key] {
			continue // the same dictionary in an object stream copy or later revision
		}
		seen[key] = true
		a, b, c, e := n[0], n[1], n[2], n[3]
		if a != 0 || b <= 0 || c <= b || c+e > len(d) {
			t.Fatalf("%s: implausible /ByteRange %v", path, n)
		}
		gap := bytes.TrimSpace(d[b:c])
		if len(gap) < 2 || gap[0] != '<' || gap[len(gap)-1] != '>' {
			t.Fatalf("%s: /ByteRange %v gap is not a hex string", path, n)
		}
		hx := bytes.Map(func(r rune) rune {
			if r == ' ' || r == '\n' || r == '\r' || r == '\t' {
				return -1
			}
			return r
		}, gap[1:len(gap)-1])
		der, err := hex.DecodeString(string(hx))
		if err != nil {
			t.Fatalf("%s: /Contents hex: %v", path, err)
		}
		signed := append(append([]byte{}, d[a:a+b]...), d[c:c+e]...)
		out = append(out, pdfSignature{file: path, index: len(out), signed: signed, der: der})
	}
	sort.SliceStable(out, func(i, j int) bool { return len(out[i].signed) < len(out[j].signed) })
	for i := range out {
		out[i].index = i
	}
	return out
}

func corpusDir(t testing.TB) string {
	t.Helper()
	// internal/testenv.Corpus fails in CI and skips elsewhere when the corpus is missing.
	return corpusPath(t)
}

func pdfFiles(t testing.TB) []string {
	files, _ := filepath.Glob(filepath.Join(corpusDir(t), "pdf-signed", "*", "*.pdf"))
	if len(files) == 0 {
		t.Fatal("no PDFs in the corpus")
	}
	sort.Strings(files)
	return files
}

func corpusPath(t testing.TB) string { return testenv.Corpus(t) }

// certPool collects every certificate in the PDF corpus: the CMS certificate sets and the
// (deflated) streams of each PDF, which include the /DSS /Certs of B-LT files. It stands in
// for what document/pdf passes as VerifyOptions.Certificates.
func certPool(t testing.TB, files []string) []*smx509.Certificate {
	var out []*smx509.Certificate
	seen := map[string]bool{}
	add := func(c *smx509.Certificate) {
		if !seen[string(c.Raw)] {
			seen[string(c.Raw)] = true
			out = append(out, c)
		}
	}
	streamRE := regexp.MustCompile(`stream\r?\n`)
	for _, f := range files {
		d, _ := os.ReadFile(f)
		for _, m := range streamRE.FindAllIndex(d, -1) {
			end := bytes.Index(d[m[1]:], []byte("endstream"))
			if end < 0 {
				continue
			}
			raw := d[m[1] : m[1]+end]
			if zr, err := zlib.NewReader(bytes.NewReader(raw)); err == nil {
				if dec, err := io.ReadAll(io.LimitReader(zr, 1<<20)); err == nil {
					raw = dec
				}
			}
			if c, err := parseCertificate(bytes.TrimRight(raw, "\r\n")); err == nil {
				add(c)
			}
		}
		for _, s := range pdfSignatures(t, f) {
			if sd, err := Parse(s.der); err == nil {
				for _, c := range sd.Certificates {
					add(c)
				}
			}
		}
	}
	return out
}

// corpusExpect records, per signature that does not verify, the reason checked by the test.
var corpusExpect = map[string]struct {
	parseErr bool   // not CMS at all
	check    string // the failing check
	contains string // in its message
	why      string
}{
	"adbe.x509.rsa_sha1_sample01.pdf#0": {parseErr: true,
		why: "SubFilter adbe.x509.rsa_sha1: /Contents is a bare PKCS#1 signature (OCTET STRING), not CMS; document/pdf handles that legacy form"},
	"dss-1420_PAdES-BpB-att-SHA256-SHA3_256withRSA.pdf#0": {check: CheckSignature, contains: "holds a sha256 DigestInfo while the algorithm says sha3-256",
		why: "DSS test file with a mislabelled signatureAlgorithm: RSA-SHA3-256 declared, the signature value is SHA-256 (checked by recovering the DigestInfo)"},
}

// TestCorpusPDF verifies every CMS in the PDF corpus: detached, adbe.pkcs7.sha1, document
// time-stamps and signature time-stamps. Every one verifies except the two in corpusExpect,
// whose reasons are checked.
func TestCorpusPDF(t *testing.T) {
	files := pdfFiles(t)
	pool := certPool(t, files)
	counts := map[string]int{}
	for _, f := range files {
		name := filepath.Base(f)
		for _, s := range pdfSignatures(t, f) {
			key := fmt.Sprintf("%s#%d", name, s.index)
			exp, hasExp := corpusExpect[key]
			sd, err := Parse(s.der)
			if err != nil {
				if !hasExp || !exp.parseErr {
					t.Errorf("%s: %v", key, err)
				}
				counts["not CMS"]++
				continue
			}
			if sd.EContentType.Equal(OIDTSTInfo) { // ETSI.RFC3161 document time-stamp
				ti, err := VerifyTimestamp(s.der, s.signed, nil, pool)
				if err != nil || !ti.OK {
					t.Errorf("%s: document time-stamp: %v %v", key, err, ti.Err())
				}
				counts["document time-stamp"]++
				continue
			}
			d, err := sd.DigestAlgorithm()
			if err != nil {
				t.Errorf("%s: %v", key, err)
				continue
			}
			var opts VerifyOptions
			opts.Certificates = pool
			var dg []byte
			kind := "detached " + string(d)
			if sd.EContent != nil { // adbe.pkcs7.sha1: content = SHA-1 of the ranges
				opts.ExpectContent, _ = Sum(SHA1, s.signed)
				kind = "adbe.pkcs7.sha1"
			} else {
				dg, _ = Sum(d, s.signed)
			}
			r := sd.Verify(dg, opts)
			if hasExp {
				c := r.Check(exp.check)
				if r.OK || c == nil || c.Status != Failed || !bytes.Contains([]byte(c.Message), []byte(exp.contains)) {
					t.Errorf("%s: expected failure %q (%s), got %+v", key, exp.contains, exp.why, r.Checks)
				}
				counts["expected failure"]++
				continue
			}
			if !r.OK {
				t.Errorf("%s (%s): %v", key, kind, r.Err())
				continue
			}
			counts[kind+" "+r.SignatureAlgorithm]++
			if r.Timestamp != nil {
				counts["signature time-stamp"]++
			}
			if r.Check(CheckAlgorithmProtection) != nil {
				counts["with CMSAlgorithmProtection"]++
			}
			if r.Check(CheckSigningCert) != nil {
				counts["with ESS signing-certificate"]++
			}
		}
	}
	t.Logf("verified: %v", counts)
}

// TestCorpusTimestampWithoutCertificate: the Ukrainian pdfcpu samples' tokens omit the TSA
// certificate; without it the time-stamp is "unknown" (not failed, not ok), and with the
// certificate from the B-LT file's DSS it verifies (see TestCorpusPDF).
func TestCorpusTimestampWithoutCertificate(t *testing.T) {
	f := filepath.Join(corpusDir(t), "pdf-signed", "pdfcpu", "ETSI.CAdES.detached_testPAdES_BT.pdf")
	s := pdfSignatures(t, f)[0]
	sd, err := Parse(s.der)
	if err != nil {
		t.Fatal(err)
	}
	dg, _ := Sum(signer.SHA256, s.signed)
	r := sd.Verify(dg, VerifyOptions{})
	c := r.Check(CheckTimestamp)
	if r.OK || c == nil || c.Status != Unknown {
		t.Fatalf("token without TSA certificate: %+v", c)
	}
	if sig := r.Check(CheckSignature); sig.Status != OK {
		t.Fatalf("the signature itself must still verify: %+v", sig)
	}
}

// ofdSignedValues returns (Signature.xml, SignedValue.dat) pairs of an OFD package whose
// signed value is CMS (SES values are signer/ses's).
func ofdSignedValues(t testing.TB, path string) map[string][2][]byte {
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	files := map[string][]byte{}
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, "/Signature.xml") || strings.HasSuffix(f.Name, ".dat") {
			rc, _ := f.Open()
			files[f.Name], _ = io.ReadAll(rc)
			rc.Close()
		}
	}
	out := map[string][2][]byte{}
	for name, xml := range files {
		if !strings.HasSuffix(name, "/Signature.xml") {
			continue
		}
		dir := strings.TrimSuffix(name, "Signature.xml")
		m := regexp.MustCompile(`<ofd:SignedValue>\s*([^<]+?)\s*</ofd:SignedValue>`).FindSubmatch(xml)
		if m == nil {
			continue
		}
		loc := string(m[1])
		var sv []byte
		if strings.HasPrefix(loc, "/") {
			sv = files[strings.TrimPrefix(loc, "/")]
		} else {
			sv = files[dir+loc]
		}
		if sv != nil {
			if _, err := Parse(sv); err == nil {
				out[dir] = [2][]byte{xml, sv}
			}
		}
	}
	return out
}

// TestCorpusOFD verifies the GB/T 35275 SignedData of OFD Type=Sign signatures: the
// hash-attached form (ofdrw GBT35275DSContainer; Shandong tongz with raw r‖s) and the
// signed-attributes form (gomain/Yunnan real files, ofdrw's PKCS#9 container).
func TestCorpusOFD(t *testing.T) {
	dir := corpusDir(t)
	cases := []struct {
		file string
		n    int
		form string
	}{
		{"ofd/real/sign-gbt35275-yunnan-2sigs.ofd", 2, "signed-attributes"},
		{"ofd/generated/ofdrwgen-sign-gbt35275.ofd", 1, "hash-attached"},
		{"ofd/generated/ofdrwgen-sign-gbt35275-pkcs9.ofd", 1, "signed-attributes"},
		// The document was modified after signing, but not Signature.xml: the CMS over it is
		// intact (the OFD verifier reports the modified files).
		{"ofd/negative/NEG-shandong-rawrs-content-modified.ofd", 1, "hash-attached"},
	}
	for _, c := range cases {
		vals := ofdSignedValues(t, filepath.Join(dir, c.file))
		if len(vals) != c.n {
			t.Errorf("%s: %d CMS signed values, want %d", c.file, len(vals), c.n)
		}
		for sub, p := range vals {
			sd, _ := Parse(p[1])
			xmlHash, _ := Sum(signer.SM3, p[0])
			var r *Result
			form := "signed-attributes"
			if sd.EContent != nil {
				form = "hash-attached"
				r = sd.Verify(nil, VerifyOptions{ExpectContent: xmlHash})
			} else {
				r = sd.Verify(xmlHash, VerifyOptions{})
			}
			if form != c.form || !r.OK || r.SignatureAlgorithm != "sm2" || sd.Style() != GM {
				t.Errorf("%s %s: form %s (want %s), style %v, %v", c.file, sub, form, c.form, sd.Style(), r.Err())
				continue
			}
			// Another Signature.xml must not verify.
			other, _ := Sum(signer.SM3, append(bytes.Clone(p[0]), ' '))
			if sd.EContent != nil {
				r = sd.Verify(nil, VerifyOptions{ExpectContent: other})
			} else {
				r = sd.Verify(other, VerifyOptions{})
			}
			if r.OK {
				t.Errorf("%s %s: verifies for a changed Signature.xml", c.file, sub)
			}
			t.Logf("%s %s: %s, %d-byte signature value, ok", filepath.Base(c.file), sub, form, len(sd.SignerInfos[0].Signature))
		}
	}
}
