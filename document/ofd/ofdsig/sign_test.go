package ofdsig

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/emmansun/gmsm/smx509"

	"sealdesk/document"
	"sealdesk/signer/pki"
	"sealdesk/signer/ses"
)

func TestSignRoundTrip(t *testing.T) {
	f := newFixture(t)
	in := makeOFD(t, 2)
	for _, p := range []document.Profile{document.ProfileOFDSES4, document.ProfileOFDSES1} {
		t.Run(string(p), func(t *testing.T) {
			out := signBytes(t, in, f.request(p, 2), nil)
			if n := independentCheck(t, out); n != 1 {
				t.Fatalf("%d signatures, want 1", n)
			}
			rep := verifyBytes(t, out, &document.VerifyOptions{TrustPEM: f.root})
			if len(rep.Signatures) != 1 {
				t.Fatalf("%d signatures", len(rep.Signatures))
			}
			s := rep.Signatures[0]
			if s.Profile != string(p) || s.Integrity != document.OK || s.ChangesAfter != document.None || !s.CoversWholeDocument {
				t.Errorf("profile %s integrity %s changes %s whole %v; problems %v", s.Profile, s.Integrity, s.ChangesAfter, s.CoversWholeDocument, s.Problems)
			}
			if s.Seal == nil || s.Seal.Checks != document.OK || s.Seal.ESID == "" {
				t.Errorf("seal %+v", s.Seal)
			}
			if s.Trust != document.OK || !s.Valid || !rep.Valid {
				t.Errorf("trust %s valid %v/%v: %v", s.Trust, s.Valid, rep.Valid, s.Problems)
			}
			if s.Signer != "OFD Test Signer" {
				t.Errorf("signer %q", s.Signer)
			}
			if len(rep.Uncovered) != 0 {
				t.Errorf("uncovered %v", rep.Uncovered)
			}
			// Stamps: page 1 full seal, then the two strips of the cross-page seal.
			wantPages := []int{0, 0, 1}
			wantRects := []document.Rect{{X: 30, Y: 40, W: 40, H: 40}, {X: 190, Y: 120, W: 20, H: 40}, {X: 190, Y: 120, W: 20, H: 40}}
			if len(s.Pages) != 3 || len(s.Rects) != 3 {
				t.Fatalf("pages %v rects %v", s.Pages, s.Rects)
			}
			for i := range wantPages {
				if s.Pages[i] != wantPages[i] || s.Rects[i] != wantRects[i] {
					t.Errorf("stamp %d: page %d rect %+v, want %d %+v", i, s.Pages[i], s.Rects[i], wantPages[i], wantRects[i])
				}
			}
			sx := string(entry(t, out, "Doc_0/Signs/Sign_0/Signature.xml"))
			for _, want := range []string{`ProviderName="SealDesk"`, `<ofd:SignatureMethod>1.2.156.10197.1.501</ofd:SignatureMethod>`,
				`PageRef="10" Boundary="30 40 40 40"`, `PageRef="11" Boundary="170 120 40 40" Clip="20 0 20 40"`,
				`<ofd:Seal><ofd:BaseLoc>/Doc_0/Signs/Sign_0/Seal.esl</ofd:BaseLoc></ofd:Seal>`,
				`<ofd:SignedValue>/Doc_0/Signs/Sign_0/SignedValue.dat</ofd:SignedValue>`} {
				if !strings.Contains(sx, want) {
					t.Errorf("Signature.xml lacks %s:\n%s", want, sx)
				}
			}
			checkOnlyInsertions(t, in, out)
		})
	}
}

// checkOnlyInsertions checks that signing kept every original entry's stored bytes (raw,
// compressed) except OFD.xml, which may only have gained the <Signatures> element.
func checkOnlyInsertions(t *testing.T, in, out []byte) {
	t.Helper()
	raw := func(pkg []byte) map[string][]byte {
		zr, err := zip.NewReader(bytes.NewReader(pkg), int64(len(pkg)))
		if err != nil {
			t.Fatal(err)
		}
		m := map[string][]byte{}
		for _, f := range zr.File {
			rc, err := f.OpenRaw()
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(rc)
			m[f.Name] = b
		}
		return m
	}
	a, b := raw(in), raw(out)
	for name, data := range a {
		switch {
		case name == "OFD.xml":
			before, after := string(entry(t, in, name)), string(entry(t, out, name))
			i := strings.Index(after, "<ofd:Signatures>")
			j := strings.Index(after, "</ofd:Signatures>") + len("</ofd:Signatures>")
			if i < 0 || after[:i]+after[j:] != before {
				t.Errorf("OFD.xml changed beyond the inserted <Signatures>:\n%s\n%s", before, after)
			}
		case !bytes.Equal(b[name], data):
			t.Errorf("%s: stored bytes changed", name)
		}
	}
}

func TestSecondSignatureKeepsFirst(t *testing.T) {
	f := newFixture(t)
	one := signBytes(t, makeOFD(t, 2), f.request(document.ProfileOFDSES4, 2), nil)
	two := signBytes(t, one, f.request(document.ProfileOFDSES1, 1), nil)
	if n := independentCheck(t, two); n != 2 {
		t.Fatalf("%d signatures", n)
	}
	rep := verifyBytes(t, two, &document.VerifyOptions{TrustPEM: f.root})
	if len(rep.Signatures) != 2 {
		t.Fatalf("%d signatures", len(rep.Signatures))
	}
	first, second := rep.Signatures[0], rep.Signatures[1]
	if !first.Valid || !second.Valid || !rep.Valid {
		t.Errorf("valid: %v %v %v", first.Valid, second.Valid, rep.Problems)
	}
	if first.Integrity != document.OK || first.ChangesAfter != document.Allowed {
		t.Errorf("first: integrity %s changes %s %v", first.Integrity, first.ChangesAfter, first.Problems)
	}
	if second.Integrity != document.OK || second.ChangesAfter != document.None || second.Profile != "ofd-ses1" {
		t.Errorf("second: %s integrity %s changes %s %v", second.Profile, second.Integrity, second.ChangesAfter, second.Problems)
	}
	// IDs continue the list; the second covers the first's files.
	if first.Name != "s001" || second.Name != "s002" {
		t.Errorf("IDs %s %s", first.Name, second.Name)
	}
	for _, want := range []string{"/Doc_0/Signs/Sign_0/Signature.xml", "/Doc_0/Signs/Sign_0/SignedValue.dat", "/Doc_0/Signs/Sign_0/Seal.esl"} {
		found := false
		for _, c := range second.Covered {
			found = found || c == want
		}
		if !found {
			t.Errorf("second signature does not cover %s", want)
		}
	}
	// Only Signatures.xml changed among the first package's files.
	zr, _ := zip.NewReader(bytes.NewReader(one), int64(len(one)))
	for _, e := range zr.File {
		if e.Name != "Doc_0/Signs/Signatures.xml" && !bytes.Equal(entry(t, one, e.Name), entry(t, two, e.Name)) {
			t.Errorf("%s changed", e.Name)
		}
	}
}

func TestLockRefusesFurtherSignatures(t *testing.T) {
	f := newFixture(t)
	req := f.request(document.ProfileOFDSES4, 1)
	req.Lock = true // through the request, as document.SignFile passes it
	locked := signBytes(t, makeOFD(t, 1), req, nil)
	rep := verifyBytes(t, locked, nil)
	found := false
	for _, c := range rep.Signatures[0].Covered {
		found = found || c == "/Doc_0/Signs/Signatures.xml"
	}
	if !found || rep.Signatures[0].Integrity != document.OK {
		t.Fatalf("lock: Signatures.xml covered %v, integrity %s %v", found, rep.Signatures[0].Integrity, rep.Signatures[0].Problems)
	}
	var out bytes.Buffer
	err := SignWith(t.Context(), bytes.NewReader(locked), int64(len(locked)), f.request(document.ProfileOFDSES4, 1), nil, &out)
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second signature on a locked document: %v", err)
	}
	if out.Len() != 0 {
		t.Error("output written despite the error")
	}
}

func TestSignRejects(t *testing.T) {
	f := newFixture(t)
	in := makeOFD(t, 1)
	for name, mut := range map[string]func(r *document.SignRequest){
		"no page":    func(r *document.SignRequest) { r.Stamps[0].Page = 5 },
		"no stamps":  func(r *document.SignRequest) { r.Stamps = nil },
		"no seal":    func(r *document.SignRequest) { r.Seal = nil },
		"pdf":        func(r *document.SignRequest) { r.Profile = document.ProfilePAdES },
		"v1 seal v4": func(r *document.SignRequest) { r.Seal = f.seal[1] },
		"empty rect": func(r *document.SignRequest) { r.Stamps[0].Rect.W = 0 },
	} {
		req := f.request(document.ProfileOFDSES4, 1)
		mut(req)
		var out bytes.Buffer
		if err := SignWith(t.Context(), bytes.NewReader(in), int64(len(in)), req, nil, &out); err == nil {
			t.Errorf("%s: signed", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
}

// TestExpiredSignerCertificate: a signature made after the signer certificate expired keeps
// its integrity, and trust fails naming the reason.
func TestExpiredSignerCertificate(t *testing.T) {
	f := newFixture(t)
	old, err := f.chain.Issue(pki.Template{Kind: pki.Signer, CommonName: "Expired Signer",
		NotBefore: time.Now().AddDate(-3, 0, 0), NotAfter: time.Now().AddDate(-1, 0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	mk, err := f.chain.Issue(pki.Template{Kind: pki.SealMaker, CommonName: "Maker"})
	if err != nil {
		t.Fatal(err)
	}
	seal, err := ses.MakeSeal(ses.SealSpec{ESID: "SD-EXPIRED", Name: "过期测试章", SignerCerts: []*smx509.Certificate{old.Cert},
		ValidEnd: time.Now().AddDate(1, 0, 0), PictureType: "png", Picture: f.picture, WidthMM: 40, HeightMM: 40, Maker: mk.Key, MakerCert: mk.Cert})
	if err != nil {
		t.Fatal(err)
	}
	req := f.request(document.ProfileOFDSES4, 1)
	req.Identity, req.Seal = pki.Identity(old, f.chain, "expired"), seal
	out := signBytes(t, makeOFD(t, 1), req, nil)
	rep := verifyBytes(t, out, &document.VerifyOptions{TrustPEM: f.root, Offline: true})
	s := rep.Signatures[0]
	// Signed (by its own claim) after the certificate expired, with no time-stamp: nothing
	// proves when it was really signed, so trust is unknown and the verdict amber.
	if s.Integrity != document.OK || s.Trust != document.Unknown || s.Valid || s.Indication != document.IndicationIndeterminate {
		t.Fatalf("integrity %s trust %s valid %v indication %s", s.Integrity, s.Trust, s.Valid, s.Indication)
	}
	if !hasTrustReason(s) || !strings.Contains(strings.Join(codes(s), " "), "ses.signer-cert-validity-unproven") {
		t.Errorf("no expiry reason: %v", s.Problems)
	}
}
