package ofdsig

import (
	"bytes"
	"context"
	"encoding/xml"
	"flag"
	"io"
	"os"
	"testing"

	"sealdesk/document"
)

// FuzzSignaturesEdit: the byte-level editors of OFD.xml and Signatures.xml and the usage
// scanner never panic, and whenever an edit succeeds its output is well-formed XML that holds
// the new entry.
func FuzzSignaturesEdit(f *testing.F) {
	f.Add([]byte(`<?xml version="1.0" encoding="UTF-8"?><ofd:Signatures xmlns:ofd="http://www.ofdspec.org/2016"><ofd:MaxSignId>2</ofd:MaxSignId><ofd:Signature ID="2" BaseLoc="/Doc_0/Signs/Sign_0/Signature.xml"/></ofd:Signatures>`))
	f.Add([]byte(`<Signatures xmlns="http://www.ofdspec.org"><Signature ID="s1" BaseLoc="Sign_0/Signature.xml"/><MaxSignId>s1</MaxSignId></Signatures>`))
	f.Add([]byte(`<ofd:Signatures xmlns:ofd="http://www.ofdspec.org/2016"/>`))
	f.Add([]byte(`<ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016"><ofd:DocBody><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody><ofd:DocBody><ofd:DocRoot>Doc_1/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>`))
	f.Add([]byte(`<a><!-- x --><b c='/d.xml'>e/f.xml</b></a>`))
	e := signaturesEntry{ID: "s009", Type: "Seal", BaseLoc: "/Doc_0/Signs/Sign_9/Signature.xml"}
	f.Fuzz(func(t *testing.T, data []byte) {
		scanValues(data, func(string) {})
		rootElement(data)
		if out, err := appendSignature(data, "s009", e); err == nil {
			if !wellFormed(out) {
				t.Fatalf("appendSignature made malformed XML from %q:\n%q", data, out)
			}
			if !bytes.Contains(out, []byte(`BaseLoc="/Doc_0/Signs/Sign_9/Signature.xml"`)) {
				t.Fatalf("entry missing: %q", out)
			}
		}
		if out, err := addSignaturesRef(data, "/Doc_0/Signs/Signatures.xml"); err == nil {
			if !wellFormed(out) || !bytes.Contains(out, []byte("Signatures>/Doc_0/Signs/Signatures.xml<")) {
				t.Fatalf("addSignaturesRef made %q from %q", out, data)
			}
		}
	})
}

func wellFormed(b []byte) bool {
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = true
	for {
		_, err := d.RawToken()
		if err == io.EOF {
			return true
		}
		if err != nil {
			return false
		}
	}
}

// FuzzVerify replaces the Signature.xml and Signatures.xml of a signed package with fuzzed
// bytes: verification must answer (a report or an error), never panic or hang.
func FuzzVerify(f *testing.F) {
	// A fixed package, so that a failing input reproduces (fresh keys would differ per run).
	signed, err := os.ReadFile(fuzzFixture)
	if err != nil {
		f.Fatalf("%v (regenerate with: go test -run TestFuzzFixture -update-fuzz-fixture)", err)
	}
	f.Add(entry(f, signed, "Doc_0/Signs/Sign_0/Signature.xml"), entry(f, signed, "Doc_0/Signs/Signatures.xml"))
	// Another producer's shapes: relative BaseLoc, Type=Sign, CheckMethod by name, elements
	// out of XSD order.
	f.Add([]byte(`<?xml version="1.0" encoding="UTF-8"?><ofd:Signature xmlns:ofd="http://www.ofdspec.org/2016"><ofd:SignedValue>SignedValue.dat</ofd:SignedValue>`+
		`<ofd:SignedInfo><ofd:Provider ProviderName="x"/><ofd:References CheckMethod="SM3"><ofd:Reference FileRef="Doc_0/Document.xml"><ofd:CheckValue>AAAA</ofd:CheckValue></ofd:Reference></ofd:References>`+
		`<ofd:StampAnnot ID="1" PageRef="10" Boundary="1 2 3 4" Clip="0 0 1 4"/><ofd:Seal><ofd:BaseLoc>Seal.esl</ofd:BaseLoc></ofd:Seal></ofd:SignedInfo></ofd:Signature>`),
		[]byte(`<ofd:Signatures xmlns:ofd="http://www.ofdspec.org/2016"><ofd:Signature ID="1" Type="Sign" BaseLoc="Sign_0/Signature.xml"/><ofd:Signature ID="2" BaseLoc="/Doc_0/Signs/Sign_0/Signature.xml"/><ofd:MaxSignId>2</ofd:MaxSignId></ofd:Signatures>`))
	f.Fuzz(func(t *testing.T, sigXML, sigsXML []byte) {
		pkg := rezip(t, signed, map[string][]byte{"Doc_0/Signs/Sign_0/Signature.xml": sigXML, "Doc_0/Signs/Signatures.xml": sigsXML}, nil)
		rep, err := Verify(context.Background(), bytes.NewReader(pkg), int64(len(pkg)), &document.VerifyOptions{Offline: true})
		if err == nil {
			rep.Decide()
			for _, s := range rep.Signatures {
				if s.Valid && s.Integrity != document.OK {
					t.Fatal("valid without integrity")
				}
			}
		}
	})
}

func tryEntry(pkg []byte, name string) ([]byte, bool) { return entryOrNil(pkg, name) }

const fuzzFixture = "testdata/signed-2pages.ofd"

var updateFuzzFixture = flag.Bool("update-fuzz-fixture", false, "rewrite "+fuzzFixture)

// TestFuzzFixture checks the committed package FuzzVerify mutates (it must verify as
// intact), and rewrites it with -update-fuzz-fixture.
func TestFuzzFixture(t *testing.T) {
	if *updateFuzzFixture {
		fx := newFixture(t)
		signed := signBytes(t, makeOFD(t, 2), fx.request(document.ProfileOFDSES4, 2), nil)
		if err := os.WriteFile(fuzzFixture, signed, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	signed, err := os.ReadFile(fuzzFixture)
	if err != nil {
		t.Fatal(err)
	}
	rep := verifyBytes(t, signed, &document.VerifyOptions{Offline: true})
	if len(rep.Signatures) != 1 || rep.Signatures[0].Integrity != document.OK {
		t.Fatalf("fixture does not verify: %+v", rep)
	}
	independentCheck(t, signed)
}
