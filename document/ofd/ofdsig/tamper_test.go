package ofdsig

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"sealdesk/document"
)

// TestTamper changes a package we signed the ways an attacker would and checks that each is
// caught with the right reason.
func TestTamper(t *testing.T) {
	f := newFixture(t)
	signed := signBytes(t, makeOFD(t, 2), f.request(document.ProfileOFDSES4, 2), nil)
	if !verifyBytes(t, signed, &document.VerifyOptions{TrustPEM: f.root}).Valid {
		t.Fatal("untampered file does not verify")
	}
	page0 := "Doc_0/Pages/Page_0/Content.xml"
	docXML := entry(t, signed, "Doc_0/Document.xml")
	sigXML := entry(t, signed, "Doc_0/Signs/Sign_0/Signature.xml")
	value := entry(t, signed, "Doc_0/Signs/Sign_0/SignedValue.dat")
	flip := func(b []byte, i int) []byte { c := bytes.Clone(b); c[i] ^= 0x01; return c }
	newPage := []byte(`<?xml version="1.0" encoding="UTF-8"?><ofd:Page xmlns:ofd="http://www.ofdspec.org/2016"><ofd:Content><ofd:Layer ID="900">` +
		`<ofd:TextObject ID="901" Boundary="20 20 170 10" Font="2" Size="5"><ofd:TextCode X="0" Y="5">付款 1,000,000 元</ofd:TextCode></ofd:TextObject></ofd:Layer></ofd:Content></ofd:Page>`)

	cases := []struct {
		name      string
		edit, add map[string][]byte
		codes     []string // on the signature
		changes   []string // entries of the signature's Changes
		uncovered []string
		sealFail  bool
	}{
		{
			name:    "page byte changed",
			edit:    map[string][]byte{page0: bytes.Replace(entry(t, signed, page0), []byte("合同"), []byte("合伙"), 1)},
			codes:   []string{CodeRefDigest},
			changes: []string{"modified: /" + page0},
		},
		{
			name: "page added",
			edit: map[string][]byte{"Doc_0/Document.xml": bytes.Replace(docXML, []byte("</ofd:Pages>"),
				[]byte(`<ofd:Page ID="99" BaseLoc="Pages/Page_2/Content.xml"/></ofd:Pages>`), 1)},
			add:       map[string][]byte{"Doc_0/Pages/Page_2/Content.xml": newPage},
			codes:     []string{CodeRefDigest, CodeFileAdded},
			changes:   []string{"modified: /Doc_0/Document.xml", "added: /Doc_0/Pages/Page_2/Content.xml"},
			uncovered: []string{"/Doc_0/Pages/Page_2/Content.xml"},
		},
		{
			name: "annotation added",
			edit: map[string][]byte{"Doc_0/Document.xml": bytes.Replace(docXML, []byte("</ofd:Pages>"),
				[]byte(`</ofd:Pages><ofd:Annotations>Annots/Annotations.xml</ofd:Annotations>`), 1)},
			add: map[string][]byte{
				"Doc_0/Annots/Annotations.xml": []byte(`<?xml version="1.0" encoding="UTF-8"?><ofd:Annotations xmlns:ofd="http://www.ofdspec.org/2016">` +
					`<ofd:Page PageID="10"><ofd:FileLoc>Page_0/Annotation.xml</ofd:FileLoc></ofd:Page></ofd:Annotations>`),
				"Doc_0/Annots/Page_0/Annotation.xml": []byte(`<?xml version="1.0" encoding="UTF-8"?><ofd:PageAnnot xmlns:ofd="http://www.ofdspec.org/2016">` +
					`<ofd:Annot ID="950" Type="Stamp"><ofd:Appearance Boundary="100 100 40 40"><ofd:TextObject ID="951" Boundary="0 0 40 10" Font="2" Size="5">` +
					`<ofd:TextCode X="0" Y="5">作废</ofd:TextCode></ofd:TextObject></ofd:Appearance></ofd:Annot></ofd:PageAnnot>`),
			},
			codes:     []string{CodeRefDigest, CodeFileAdded},
			changes:   []string{"modified: /Doc_0/Document.xml", "added: /Doc_0/Annots/Annotations.xml", "added: /Doc_0/Annots/Page_0/Annotation.xml"},
			uncovered: []string{"/Doc_0/Annots/Annotations.xml", "/Doc_0/Annots/Page_0/Annotation.xml"},
		},
		{
			name:     "seal file swapped",
			edit:     map[string][]byte{"Doc_0/Signs/Sign_0/Seal.esl": f.seal[1]},
			codes:    []string{CodeSealFileMismatch, CodeRefDigest},
			changes:  []string{"modified: /Doc_0/Signs/Sign_0/Seal.esl"},
			sealFail: true,
		},
		{
			name:  "Signature.xml edited",
			edit:  map[string][]byte{"Doc_0/Signs/Sign_0/Signature.xml": bytes.Replace(sigXML, []byte(`Boundary="30 40 40 40"`), []byte(`Boundary="130 40 40 40"`), 1)},
			codes: []string{"ses.data-hash-mismatch"},
		},
		{
			name:  "signed value byte flipped",
			edit:  map[string][]byte{"Doc_0/Signs/Sign_0/SignedValue.dat": flip(value, len(value)-5)},
			codes: []string{"ses.signature-invalid"},
		},
		{
			// The attacker changes a page and fixes its CheckValue: now Signature.xml no longer
			// matches the signed dataHash.
			name: "page changed and digest recomputed",
			edit: map[string][]byte{
				page0: bytes.Replace(entry(t, signed, page0), []byte("合同"), []byte("合伙"), 1),
				"Doc_0/Signs/Sign_0/Signature.xml": replaceCheckValue(t, sigXML, "/"+page0,
					sm3Sum(bytes.Replace(entry(t, signed, page0), []byte("合同"), []byte("合伙"), 1))),
			},
			codes:   []string{"ses.data-hash-mismatch"},
			changes: nil,
		},
		{
			name:  "protected file deleted",
			edit:  map[string][]byte{"Doc_0/PublicRes.xml": nil},
			codes: []string{CodeRefMissing},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			bad := rezip(t, signed, c.edit, c.add)
			rep := verifyBytes(t, bad, &document.VerifyOptions{TrustPEM: f.root})
			if rep.Valid || len(rep.Signatures) != 1 {
				t.Fatalf("tampered file valid=%v with %d signatures", rep.Valid, len(rep.Signatures))
			}
			s := rep.Signatures[0]
			if s.Integrity != document.Failed && !c.sealFail {
				t.Errorf("integrity %s", s.Integrity)
			}
			if c.sealFail && (s.Seal == nil || s.Seal.Checks != document.Failed) {
				t.Errorf("seal checks %+v", s.Seal)
			}
			for _, code := range c.codes {
				if !hasCode(s, code) {
					t.Errorf("no problem %s: %v", code, s.Problems)
				}
			}
			for _, ch := range c.changes {
				if !slices.Contains(s.Changes, ch) {
					t.Errorf("changes %v lack %q", s.Changes, ch)
				}
			}
			if len(c.changes) > 0 && s.ChangesAfter != document.Disallowed {
				t.Errorf("changesAfter %s", s.ChangesAfter)
			}
			for _, u := range c.uncovered {
				if !slices.Contains(rep.Uncovered, u) {
					t.Errorf("uncovered %v lacks %s", rep.Uncovered, u)
				}
			}
		})
	}
}

// replaceCheckValue sets the CheckValue of one Reference in Signature.xml.
func replaceCheckValue(t *testing.T, sigXML []byte, fileRef string, digest []byte) []byte {
	t.Helper()
	s := string(sigXML)
	i := strings.Index(s, `FileRef="`+fileRef+`"`)
	if i < 0 {
		t.Fatalf("no reference %s", fileRef)
	}
	a := i + strings.Index(s[i:], "<ofd:CheckValue>") + len("<ofd:CheckValue>")
	b := i + strings.Index(s[i:], "</ofd:CheckValue>")
	return []byte(s[:a] + b64(digest) + s[b:])
}

// TestAddedPageFileOnly: a page file dropped into the package without being referenced is not
// shown by any reader; it is listed as uncovered and leaves the signature intact.
func TestAddedUnreferencedFile(t *testing.T) {
	f := newFixture(t)
	signed := signBytes(t, makeOFD(t, 1), f.request(document.ProfileOFDSES4, 1), nil)
	bad := rezip(t, signed, nil, map[string][]byte{"Doc_0/Pages/Page_9/Content.xml": []byte("<x/>")})
	rep := verifyBytes(t, bad, &document.VerifyOptions{TrustPEM: f.root})
	if !slices.Equal(rep.Uncovered, []string{"/Doc_0/Pages/Page_9/Content.xml"}) {
		t.Errorf("uncovered %v", rep.Uncovered)
	}
	s := rep.Signatures[0]
	if s.Integrity != document.OK || s.CoversWholeDocument {
		t.Errorf("integrity %s whole %v", s.Integrity, s.CoversWholeDocument)
	}
}
