package ses

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/xml"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/emmansun/gmsm/sm3"

	"sealdesk/internal/testenv"
)

// corpusSig is one signature found in an OFD of the shared corpus.
type corpusSig struct {
	key       string // file (relative to corpus/ofd) + "#" + signature ID
	typ       string // Seal (default) or Sign
	value     []byte // SignedValue.dat
	signedXML []byte // Signature.xml bytes: what dataHash covers
	sealESL   []byte // Seal.esl when the signature names one
}

func readZip(t testing.TB, file string) map[string][]byte {
	t.Helper()
	zr, err := zip.OpenReader(file)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	defer zr.Close()
	out := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatalf("%s: %s: %v", file, f.Name, err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("%s: %s: %v", file, f.Name, err)
		}
		out[strings.TrimPrefix(f.Name, "/")] = b
	}
	return out
}

// resolve applies GB/T 33190 ST_Loc rules: absolute from the package root, else relative to
// the directory of the file that holds the reference.
func resolve(base, loc string) string {
	loc = strings.TrimSpace(loc)
	if strings.HasPrefix(loc, "/") {
		return strings.TrimPrefix(path.Clean(loc), "/")
	}
	return strings.TrimPrefix(path.Clean(path.Join(path.Dir(base), loc)), "/")
}

// xmlTexts returns, for each element with local name `name`, its attributes and its text.
func xmlElements(b []byte, name string) []map[string]string {
	var out []map[string]string
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = false
	var cur map[string]string
	for {
		tok, err := d.Token()
		if err != nil {
			return out
		}
		switch v := tok.(type) {
		case xml.StartElement:
			if v.Name.Local == name {
				cur = map[string]string{}
				for _, a := range v.Attr {
					cur[a.Name.Local] = a.Value
				}
			}
		case xml.CharData:
			if cur != nil {
				cur["#text"] += string(v)
			}
		case xml.EndElement:
			if v.Name.Local == name && cur != nil {
				out = append(out, cur)
				cur = nil
			}
		}
	}
}

// corpusSignatures lists every signature of every OFD under corpus/ofd, following
// Signatures.xml → Signature.xml → SignedValue as an OFD reader does.
func corpusSignatures(t testing.TB) []corpusSig {
	root := filepath.Join(testenv.Corpus(t), "ofd")
	var files []string
	filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err == nil && strings.HasSuffix(p, ".ofd") {
			files = append(files, p)
		}
		return nil
	})
	sort.Strings(files)
	var out []corpusSig
	for _, f := range files {
		rel, _ := filepath.Rel(root, f)
		pkg := readZip(t, f)
		for _, d := range xmlElements(pkg["OFD.xml"], "Signatures") {
			sigsPath := resolve("OFD.xml", d["#text"])
			sigsXML, ok := pkg[sigsPath]
			if !ok {
				continue // dangling reference (negative/EDGE-dangling-signatures-ref.ofd)
			}
			for _, s := range xmlElements(sigsXML, "Signature") {
				sxPath := resolve(sigsPath, s["BaseLoc"])
				sx, ok := pkg[sxPath]
				if !ok {
					t.Errorf("%s: signature %s: %s missing", rel, s["ID"], sxPath)
					continue
				}
				cs := corpusSig{key: rel + "#" + s["ID"], typ: s["Type"], signedXML: sx}
				if cs.typ == "" {
					cs.typ = "Seal"
				}
				if v := xmlElements(sx, "SignedValue"); len(v) == 1 {
					cs.value = pkg[resolve(sxPath, v[0]["#text"])]
				}
				if bl := xmlElements(sx, "BaseLoc"); len(bl) == 1 {
					cs.sealESL = pkg[resolve(sxPath, bl[0]["#text"])]
				}
				out = append(out, cs)
			}
		}
	}
	return out
}

// corpusExpect is what verification of each corpus signature must find: every check not
// listed must be ok; every listed check must have exactly this status and reason code. The
// reasons were checked against the files (dates and certificates printed by the test when run
// with -v), not assumed.
var corpusExpect = map[string]map[string]string{
	// Real tax and vendor seals not listed here pass every SES check: signed within the seal's
	// validity and the signer certificate's, maker signature and signer signature good, dataHash
	// = SM3(Signature.xml). Their certificates have expired since, which is signer/trust's
	// matter (validity now vs at signing). The NEG- files were tampered at the OFD level (page
	// or Document.xml changes): their SES structures are intact, and the OFD verifier finds the
	// file digests that fail.
	//
	// ofdrw's own test seal (validity 2020-04-22 … 2022-04-22; its USER certificate expired
	// 2022-04-21), used by ofdrw's tests in 2026 and by the corpus generator: a strict verifier
	// must refuse the seal and the certificate at that signing time.
	"ofdrw/ofdrw-ses4-continue.ofd#1":      ofdrwExpired,
	"generated/ofdrwgen-v4-continue.ofd#1": ofdrwExpired,
	"generated/ofdrwgen-v4-whole.ofd#1":    ofdrwExpired,
	"generated/ofdrwgen-v4-then-v1.ofd#1":  ofdrwExpired,
	"generated/ofdrwgen-v4-then-v1.ofd#3":  ofdrwExpired,
	"generated/ofdrwgen-v1-continue.ofd#1": ofdrwExpired,
	"generated/ofdrwgen-v5-continue.ofd#1": {
		// The V5 test seal claims validity 2026-04-24 … 2028-04-24, but it was made (2026-04-24)
		// with the maker certificate that expired 2022-04-21, and signs with the expired USER cert.
		CheckSealFormat:     "ok/seal-v5",
		CheckSealMakerCert:  "failed/maker-cert-expired-before-creation",
		CheckSignerValidity: "unknown/signer-cert-validity-unproven",
	},
	// The dms360 GM/T 0031 file: its value signs dataHash directly (e = dataHash, not over
	// TBS_Sign), its certList holds IA5String "1" instead of a certificate, its certificates
	// have malformed subjectAltNames, and its Signature.xml was re-serialized after signing so
	// dataHash matches neither SM3(Signature.xml) nor SM3(Z‖Signature.xml).
	"negative/NEG-sesv1-dms360-reserialized.ofd#0": {
		CheckSealFormat:     "failed/seal-certlist-entry",
		CheckSealMakerCert:  "ok/cert-nonconforming",
		CheckSignerCert:     "ok/cert-nonconforming",
		CheckSignatureValue: "failed/signature-over-datahash-variant",
		CheckSignerInSeal:   "failed/certlist-unrecognised",
		CheckDataHash:       "failed/data-hash-mismatch",
	},
	// Shandong tongz: the signer signature is a raw r‖s value (the maker's is DER); it verifies.
	"negative/NEG-shandong-rawrs-content-modified.ofd#2": {
		CheckSignatureValue: "ok/raw-rs-variant",
	},
	// Yunnan: the signer certificate has a non-ASCII byte in an IA5String name attribute, which
	// Go's x509 parser rejects; read leniently, everything verifies.
	"negative/NEG-seals-yunnan-pages-modified.ofd#2": {CheckSignerCert: "ok/cert-nonconforming"},
	"negative/NEG-seals-yunnan-pages-modified.ofd#4": {CheckSignerCert: "ok/cert-nonconforming"},
}

// ofdrwExpired: signed in 2026 with a seal and a certificate that expired in 2022, and no
// time-stamp: the claimed signing time is outside both, which proves nothing either way.
var ofdrwExpired = map[string]string{
	CheckSealValidity:   "unknown/seal-validity-unproven",
	CheckSignerValidity: "unknown/signer-cert-validity-unproven",
}

// TestCorpus parses and verifies every SES signature in the shared corpus and compares each
// check with corpusExpect. Type="Sign" signatures (GB/T 35275 SignedData or bare values) are
// signer/cms's; the test only confirms they are not SES.
func TestCorpus(t *testing.T) {
	sigs := corpusSignatures(t)
	if len(sigs) < 20 {
		t.Fatalf("found only %d signatures in the corpus", len(sigs))
	}
	seen := map[string]bool{}
	var nSES int
	for _, cs := range sigs {
		t.Run(cs.key, func(t *testing.T) {
			if cs.typ == "Sign" {
				if _, err := ParseSignature(cs.value); err == nil {
					t.Fatalf("Type=Sign value parses as SES")
				}
				t.Logf("Type=Sign: GB/T 35275 or bare signature, not SES (signer/cms)")
				return
			}
			nSES++
			sig, err := ParseSignature(cs.value)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if cs.sealESL != nil && !bytes.Equal(cs.sealESL, sig.TBS.Seal.Raw) {
				t.Errorf("Seal.esl differs from the seal inside SignedValue")
			}
			if cs.sealESL != nil {
				if _, err := ParseSeal(cs.sealESL); err != nil {
					t.Errorf("Seal.esl: %v", err)
				}
			}
			h := sm3.Sum(cs.signedXML)
			r := VerifySignature(context.Background(), sig, VerifyOptions{DataHash: h[:]})
			if cs.key == "negative/NEG-sesv1-dms360-reserialized.ofd#0" {
				// Content instead of a digest, so the SM3(Z‖data) variant gets its chance.
				r = VerifySignature(context.Background(), sig, VerifyOptions{Content: cs.signedXML})
			}
			want := corpusExpect[cs.key]
			seen[cs.key] = true
			si := sig.TBS.Seal.Info
			t.Logf("v%d seal %q %q vid=%s validity %s…%s signed %s", sig.Version(), si.ESID, si.Property.Name, si.Header.Vid,
				day(si.Property.ValidStart), day(si.Property.ValidEnd), stamp(r.SignedAt))
			if r.SignerCert != nil {
				t.Logf("signer %q valid %s…%s", subjectName(r.SignerCert.Subject), day(r.SignerCert.NotBefore), day(r.SignerCert.NotAfter))
			}
			for _, c := range r.Checks {
				got := string(c.Status) + "/" + strings.TrimPrefix(c.Code, "ses.")
				exp, listed := want[c.Name]
				if !listed {
					if c.Status != OK {
						t.Errorf("%s: %s (%s)", c.Name, got, c.Message)
					}
					continue
				}
				if got != exp {
					t.Errorf("%s: got %s (%s), want %s", c.Name, got, c.Message, exp)
				} else {
					t.Logf("%s: %s as expected: %s", c.Name, got, c.Message)
				}
			}
		})
	}
	for k := range corpusExpect {
		if !seen[k] {
			t.Errorf("expected signature %s not found in the corpus", k)
		}
	}
	t.Logf("%d signatures, %d SES", len(sigs), nSES)
}
