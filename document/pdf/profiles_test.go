package pdf

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"sealdesk/document"
	"sealdesk/signer"
	"sealdesk/signer/trust"
	"sealdesk/signer/tsa"
)

// TestProfilesVerify: every profile and key algorithm signs and verifies with our verifier
// (trust via the test root), and the report describes the signature.
func TestProfilesVerify(t *testing.T) {
	in := GenerateSample(samplePages(1), SampleOptions{Compress: true})
	cases := []struct {
		alg     signer.KeyAlgorithm
		profile document.Profile
		sub     string
	}{
		{signer.RSA, document.ProfilePAdES, SubFilterCAdES},
		{signer.ECDSA, document.ProfilePAdES, SubFilterCAdES},
		{signer.SM2, document.ProfilePAdES, SubFilterCAdES},
		{signer.SM2, document.ProfilePDFGM, SubFilterPKCS7},
		{signer.SM2, document.ProfilePDFSES, SubFilterSES},
		{signer.RSA, document.ProfilePDFSES, SubFilterSES},
	}
	for _, c := range cases {
		req := request(t, c.alg, c.profile, document.Stamp{Page: 0, Rect: document.Rect{X: 50, Y: 50, W: 40, H: 40}})
		out := signBytes(t, in, req)
		if !bytes.Contains(out, []byte("/SubFilter /"+c.sub)) {
			t.Errorf("%s/%s: SubFilter %s not written", c.alg, c.profile, c.sub)
		}
		rep := verifyBytes(t, out, getSigner(t, c.alg).chain.Root.Cert)
		requireValid(t, string(c.alg)+"/"+string(c.profile), rep, 1)
		s := rep.Signatures[0]
		if s.Profile != string(c.profile) {
			t.Errorf("%s/%s: reported profile %s", c.alg, c.profile, s.Profile)
		}
		if !s.CoversWholeDocument || s.ChangesAfter != document.None || s.SignerCertSHA256 == "" || s.SignedAt == "" {
			t.Errorf("%s/%s: report %+v", c.alg, c.profile, s)
		}
		if c.profile == document.ProfilePDFSES && (s.Seal == nil || s.Seal.ESID != "11010000000001") {
			t.Errorf("%s: seal report %+v", c.alg, s.Seal)
		}
		// The reason is stored as UTF-16BE (non-ASCII), read back intact.
		rd, _ := NewReader(bytes.NewReader(out), int64(len(out)))
		sd := rd.Final.Dict(SignatureFields(rd.Final)[0].Value)
		if r, _ := sd["Reason"].(String); TextString(r.B) != "同意" {
			t.Errorf("reason read back as %q", TextString(r.B))
		}
		// Tampering one signed byte breaks integrity.
		bad := append([]byte(nil), out...)
		bad[bytes.Index(bad, []byte(" 842]"))+3]++ // the page's MediaBox: 842 -> 843
		if r := verifyBytes(t, bad, getSigner(t, c.alg).chain.Root.Cert); r.Signatures[0].Integrity != document.Failed {
			t.Errorf("%s/%s: tampered file keeps integrity", c.alg, c.profile)
		}
	}
}

// TestVerifyTrust: without anchors trust is unknown; with a foreign root (the signer's issuer
// is unknown here) it is unknown too — amber, not red: nothing was proven wrong.
func TestVerifyTrust(t *testing.T) {
	in := GenerateSample(samplePages(1), SampleOptions{})
	out := signBytes(t, in, request(t, signer.ECDSA, document.ProfilePAdES))
	if s := verifyBytes(t, out).Signatures[0]; s.Trust != document.Unknown || s.Valid {
		t.Errorf("no anchors: trust %s valid %v", s.Trust, s.Valid)
	}
	if s := verifyBytes(t, out, getSigner(t, signer.RSA).chain.Root.Cert).Signatures[0]; s.Trust != document.Unknown || s.Integrity != document.OK ||
		s.Indication != document.IndicationIndeterminate || !s.HasCode(trust.CodeChain) {
		t.Errorf("foreign root: trust %s integrity %s indication %s %v", s.Trust, s.Integrity, s.Indication, s.Problems)
	}
}

// TestCertification: DocMDP P=1/2/3 — a second signature is refused under P=1, allowed under
// P=2; an annotation is allowed only under P=3; certification must be first.
func TestCertification(t *testing.T) {
	in := GenerateSample(samplePages(1), SampleOptions{})
	root := getSigner(t, signer.ECDSA).chain.Root.Cert
	for _, p := range []int{1, 2, 3} {
		req := request(t, signer.ECDSA, document.ProfilePAdES)
		req.Certify = p
		cert := signBytes(t, in, req)
		if !bytes.Contains(cert, []byte("/TransformMethod /DocMDP")) || !bytes.Contains(cert, []byte("/Perms <</DocMDP")) {
			t.Fatalf("P=%d: no DocMDP reference / Perms written", p)
		}
		requireValid(t, "certified", verifyBytes(t, cert, root), 1)
		var out bytes.Buffer
		// The second signer's seal is visible: signing is what P=2 and P=3 allow.
		err := Sign(context.Background(), bytes.NewReader(cert), int64(len(cert)), request(t, signer.ECDSA, document.ProfilePAdES, document.Stamp{Page: 0, Rect: document.Rect{X: 60, Y: 60, W: 30, H: 30}}), &out)
		if p == 1 {
			var se *SignError
			if !errors.As(err, &se) || !strings.Contains(err.Error(), "P=1") {
				t.Errorf("P=1: second signature not refused: %v", err)
			}
		} else if err != nil {
			t.Errorf("P=%d: second signature: %v", p, err)
		} else {
			requireValid(t, "certified + approval", verifyBytes(t, out.Bytes(), root), 2)
		}
		annotated := appendUpdate(t, cert, func(inc *increment, v *View) {
			pages, _ := v.Pages()
			an := inc.add(Dict{"Type": Name("Annot"), "Subtype": Name("Text"), "Rect": Array{Int(10), Int(10), Int(30), Int(30)}, "Contents": String{B: []byte("note")}})
			pd := copyDict(pages[0].Dict)
			pd["Annots"] = append(append(Array{}, v.Array(pd["Annots"])...), an)
			inc.set(pages[0].Ref, pd)
		})
		s := verifyBytes(t, annotated, root).Signatures[0]
		want := document.Disallowed
		if p == 3 {
			want = document.Allowed
		}
		if s.ChangesAfter != want {
			t.Errorf("P=%d: annotation added: changes %s, want %s (%v)", p, s.ChangesAfter, want, s.Changes)
		}
	}
	// Certification must be the first signature.
	one := signBytes(t, in, request(t, signer.ECDSA, document.ProfilePAdES))
	req := request(t, signer.ECDSA, document.ProfilePAdES)
	req.Certify = 2
	var out bytes.Buffer
	if err := Sign(context.Background(), bytes.NewReader(one), int64(len(one)), req, &out); err == nil || !strings.Contains(err.Error(), "first signature") {
		t.Errorf("certification after a signature: %v", err)
	}
}

// TestSignInputs: existing AcroForm and annotations, several revisions, hybrid xref, encrypted
// and broken input, profile/key mismatches.
func TestSignInputs(t *testing.T) {
	root := getSigner(t, signer.RSA).chain.Root.Cert
	base := GenerateSample(samplePages(2), SampleOptions{})
	// An existing (indirect) AcroForm with a text field and an indirect /Annots array.
	withForm := appendUpdate(t, base, func(inc *increment, v *View) {
		pages, _ := v.Pages()
		field := inc.add(Dict{"FT": Name("Tx"), "T": String{B: []byte("name")}, "Type": Name("Annot"), "Subtype": Name("Widget"), "Rect": Array{Int(300), Int(300), Int(400), Int(320)}, "P": pages[1].Ref})
		annots := inc.add(Array{field})
		pd := copyDict(pages[1].Dict)
		pd["Annots"] = annots
		inc.set(pages[1].Ref, pd)
		fields := inc.add(Array{field})
		acro := inc.add(Dict{"Fields": fields})
		cat, cref, _ := v.Catalog()
		c := copyDict(cat)
		c["AcroForm"] = acro
		inc.set(cref, c)
	})
	out := signBytes(t, withForm, request(t, signer.RSA, document.ProfilePAdES, document.Stamp{Page: 1, Rect: document.Rect{X: 10, Y: 10, W: 30, H: 30}}))
	qpdfCheck(t, writeTemp(t, "form.pdf", out))
	rep := verifyBytes(t, out, root)
	requireValid(t, "existing AcroForm", rep, 1)
	rd, _ := NewReader(bytes.NewReader(out), int64(len(out)))
	cat, _, _ := rd.Final.Catalog()
	if n := len(rd.Final.Array(rd.Final.Dict(cat["AcroForm"])["Fields"])); n != 2 {
		t.Errorf("AcroForm has %d fields, want 2", n)
	}
	if len(rd.Revisions()) != 3 {
		t.Errorf("%d revisions, want 3", len(rd.Revisions()))
	}
	// Object numbers are never recycled.
	if rd.Final.Size() <= 11 {
		t.Errorf("trailer /Size %d", rd.Final.Size())
	}
	// Encrypted input.
	enc := bytes.Replace(base, []byte("/Root 1 0 R/Info"), []byte("/Root 1 0 R/Encrypt 6 0 R/Info"), 1)
	var sink bytes.Buffer
	if err := Sign(context.Background(), bytes.NewReader(enc), int64(len(enc)), request(t, signer.RSA, document.ProfilePAdES), &sink); !errors.Is(err, ErrEncrypted) {
		t.Errorf("encrypted input: %v", err)
	}
	// Broken xref: refused with a clear error.
	broken := bytes.Replace(base, []byte("startxref\n"), []byte("startxref\n9"), 1)
	if err := Sign(context.Background(), bytes.NewReader(broken), int64(len(broken)), request(t, signer.RSA, document.ProfilePAdES), &sink); err == nil || !strings.Contains(err.Error(), "cross-reference") {
		t.Errorf("broken xref: %v", err)
	}
	// pdf-gm needs SM2.
	if err := Sign(context.Background(), bytes.NewReader(base), int64(len(base)), request(t, signer.RSA, document.ProfilePDFGM), &sink); err == nil || !strings.Contains(err.Error(), "SM2") {
		t.Errorf("pdf-gm with RSA: %v", err)
	}
	// A page that does not exist.
	if err := Sign(context.Background(), bytes.NewReader(base), int64(len(base)), request(t, signer.RSA, document.ProfilePAdES, document.Stamp{Page: 5, Rect: document.Rect{W: 10, H: 10}}), &sink); err == nil || !strings.Contains(err.Error(), "page 6") {
		t.Errorf("missing page: %v", err)
	}
}

// TestPAdESBT: with a TSA the CMS carries a signature time-stamp (PAdES B-T); the report takes
// its time from the token; pdfsig still validates the signature. pdf-ses time-stamps too.
func TestPAdESBT(t *testing.T) {
	ts, err := tsa.StartTest(signer.ECDSA)
	if err != nil {
		t.Fatal(err)
	}
	defer ts.Close()
	in := GenerateSample(samplePages(1), SampleOptions{})
	for _, c := range []struct {
		alg  signer.KeyAlgorithm
		prof document.Profile
	}{{signer.ECDSA, document.ProfilePAdES}, {signer.SM2, document.ProfilePDFSES}} {
		req := request(t, c.alg, c.prof, document.Stamp{Page: 0, Rect: document.Rect{X: 20, Y: 20, W: 30, H: 30}})
		req.TSA = ts.URL
		out := signBytes(t, in, req)
		rep := verifyBytes(t, out, getSigner(t, c.alg).chain.Root.Cert, ts.Root)
		requireValid(t, "B-T "+string(c.prof), rep, 1)
		if s := rep.Signatures[0]; s.TimeSource != "timestamp" {
			t.Errorf("%s: time source %q, want timestamp (%v)", c.prof, s.TimeSource, s.Problems)
		}
	}
}
