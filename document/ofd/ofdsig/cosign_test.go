package ofdsig

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"sealdesk/document"
	"sealdesk/internal/testenv"
)

// TestSignOnTaxInvoice adds our seal to a real tax e-invoice (ContinueSign): the tax bureau's
// signature must stay intact, and ours must cover its files.
func TestSignOnTaxInvoice(t *testing.T) {
	corpus := testenv.Corpus(t)
	f := newFixture(t)
	for _, file := range []string{"real/invoice-vat-zhejiang-2020.ofd", "real/invoice-test-chongqing-kinggrid.ofd", "ofdrw/ofdrw-ses4-continue.ofd"} {
		t.Run(file, func(t *testing.T) {
			in := readCorpus(t, corpus, file)
			before := verifyBytes(t, in, nil)
			out := signBytes(t, in, f.request(document.ProfileOFDSES4, 1), nil)
			if n := independentCheck(t, out); n != 2 {
				t.Fatalf("%d signatures", n)
			}
			rep := verifyBytes(t, out, &document.VerifyOptions{TrustPEM: f.root})
			if len(rep.Signatures) != 2 {
				t.Fatalf("%d signatures", len(rep.Signatures))
			}
			old, ours := rep.Signatures[0], rep.Signatures[1]
			if old.Integrity != document.OK || old.ChangesAfter != document.Allowed {
				t.Errorf("existing signature: integrity %s changes %s %v", old.Integrity, old.ChangesAfter, old.Problems)
			}
			if old.Integrity != before.Signatures[0].Integrity || old.Signer != before.Signatures[0].Signer {
				t.Errorf("existing signature's facts changed")
			}
			if !ours.Valid || ours.Integrity != document.OK || ours.Trust != document.OK || !ours.CoversWholeDocument {
				t.Errorf("our signature: valid %v integrity %s trust %s whole %v %v", ours.Valid, ours.Integrity, ours.Trust, ours.CoversWholeDocument, ours.Problems)
			}
			// Ours covers the earlier signature's files (all three keep them in Sign_0).
			for _, want := range []string{"/Doc_0/Signs/Sign_0/Signature.xml", "/Doc_0/Signs/Sign_0/SignedValue.dat"} {
				if !slices.Contains(ours.Covered, want) {
					t.Errorf("our signature does not cover %s", want)
				}
			}
			if ours.Name == old.Name || ours.Name == "" {
				t.Errorf("new ID %q next to %q", ours.Name, old.Name)
			}
			// Files only the second signature covers are no longer uncovered.
			if len(rep.Uncovered) != 0 {
				t.Errorf("uncovered %v", rep.Uncovered)
			}
			if !bytes.Equal(entry(t, in, "OFD.xml"), entry(t, out, "OFD.xml")) {
				t.Error("OFD.xml rewritten although it already names the signature list")
			}
			t.Logf("%s: signatures %s (%s) + %s; our signature covers %d files", file, old.Name, old.Profile, ours.Name, len(ours.Covered))
		})
	}
}

// TestSignLockedRealFile: BW's invoice protects Signatures.xml, so no signature may be added.
func TestSignLockedRealFile(t *testing.T) {
	corpus := testenv.Corpus(t)
	f := newFixture(t)
	for _, file := range []string{"real/invoice-test-chongqing-bw-5pages.ofd", "ofdrw/ofdrw-ses4-wholeprotected.ofd"} {
		in := readCorpus(t, corpus, file)
		var out bytes.Buffer
		err := SignWith(t.Context(), bytes.NewReader(in), int64(len(in)), f.request(document.ProfileOFDSES4, 1), nil, &out)
		if err == nil || !strings.Contains(err.Error(), "locked") {
			t.Errorf("%s: %v", file, err)
		}
	}
}

// TestSignDanglingList: OFD.xml names a Signatures.xml that is missing; signing creates it at
// the named place and leaves OFD.xml as it is.
func TestSignDanglingList(t *testing.T) {
	corpus := testenv.Corpus(t)
	f := newFixture(t)
	in := readCorpus(t, corpus, "negative/EDGE-dangling-signatures-ref.ofd")
	out := signBytes(t, in, f.request(document.ProfileOFDSES4, 1), nil)
	independentCheck(t, out)
	rep := verifyBytes(t, out, &document.VerifyOptions{TrustPEM: f.root})
	if len(rep.Signatures) != 1 || !rep.Signatures[0].Valid {
		t.Fatalf("%+v", rep)
	}
	if !bytes.Equal(entry(t, in, "OFD.xml"), entry(t, out, "OFD.xml")) {
		t.Error("OFD.xml changed")
	}
	if !slices.Contains(rep.Signatures[0].Covered, "/OFD.xml") {
		t.Error("OFD.xml not covered")
	}
}
