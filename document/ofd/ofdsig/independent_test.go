package ofdsig

import (
	"archive/zip"
	"bytes"
	"encoding/asn1"
	"encoding/base64"
	"encoding/xml"
	"io"
	"path"
	"strings"
	"testing"

	"github.com/emmansun/gmsm/sm3"
)

// independentCheck re-reads a package we signed with nothing but archive/zip, encoding/xml
// and sm3 — none of the signing or verifying code — and recomputes every digest: each
// Reference's CheckValue against SM3 of the stored file, and the SES dataHash against SM3 of
// the Signature.xml bytes. It also checks the Signature.xml element order against the XSD.
// Signatures by other producers get the digest checks only. It returns the number of
// signatures checked.
func independentCheck(t *testing.T, pkg []byte) int {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(pkg), int64(len(pkg)))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, "/") {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc) // also checks the CRC
		rc.Close()
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		if _, dup := files["/"+f.Name]; dup {
			t.Fatalf("duplicate entry %s", f.Name)
		}
		files["/"+f.Name] = b
	}
	abs := func(base, loc string) string {
		if strings.HasPrefix(loc, "/") {
			return path.Clean(loc)
		}
		return path.Join(path.Dir(base), loc)
	}
	var root struct {
		DocBody []struct {
			DocRoot    string `xml:"DocRoot"`
			Signatures string `xml:"Signatures"`
		} `xml:"DocBody"`
	}
	if err := xml.Unmarshal(files["/OFD.xml"], &root); err != nil {
		t.Fatal(err)
	}
	sigsPath := abs("/OFD.xml", strings.TrimSpace(root.DocBody[0].Signatures))
	var list struct {
		MaxSignID string `xml:"MaxSignId"`
		Signature []struct {
			ID      string `xml:"ID,attr"`
			Type    string `xml:"Type,attr"`
			BaseLoc string `xml:"BaseLoc,attr"`
		} `xml:"Signature"`
	}
	if err := xml.Unmarshal(files[sigsPath], &list); err != nil {
		t.Fatalf("%s: %v", sigsPath, err)
	}
	if list.MaxSignID != list.Signature[len(list.Signature)-1].ID {
		t.Errorf("MaxSignId %q is not the last signature's ID %q", list.MaxSignID, list.Signature[len(list.Signature)-1].ID)
	}
	for _, s := range list.Signature {
		sigPath := abs(sigsPath, s.BaseLoc)
		raw, ok := files[sigPath]
		if !ok {
			t.Fatalf("signature %s: %s missing", s.ID, sigPath)
		}
		// XSD order of SignedInfo's children and of Signature's.
		d := xml.NewDecoder(bytes.NewReader(raw))
		var order []string
		depth := 0
		for {
			tok, err := d.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			switch tt := tok.(type) {
			case xml.StartElement:
				depth++
				if depth <= 3 && tt.Name.Local != "Reference" {
					order = append(order, tt.Name.Local)
				}
			case xml.EndElement:
				depth--
			}
		}
		got := strings.Join(order, ",")
		ours := bytes.Contains(raw, []byte(`ProviderName="SealDesk"`))
		const wantPrefix = "Signature,SignedInfo,Provider,SignatureMethod,SignatureDateTime,References,StampAnnot"
		if ours && (!strings.HasPrefix(got, wantPrefix) || !strings.HasSuffix(got, "StampAnnot,Seal,SignedValue")) {
			t.Errorf("%s: element order %s is not the XSD's", sigPath, got)
		}
		var sig struct {
			SignedInfo struct {
				SignatureMethod string `xml:"SignatureMethod"`
				References      struct {
					CheckMethod string `xml:"CheckMethod,attr"`
					Reference   []struct {
						FileRef    string `xml:"FileRef,attr"`
						CheckValue string `xml:"CheckValue"`
					} `xml:"Reference"`
				} `xml:"References"`
				Seal struct {
					BaseLoc string `xml:"BaseLoc"`
				} `xml:"Seal"`
			} `xml:"SignedInfo"`
			SignedValue string `xml:"SignedValue"`
		}
		if err := xml.Unmarshal(raw, &sig); err != nil {
			t.Fatal(err)
		}
		if cm := sig.SignedInfo.References.CheckMethod; (ours && cm != "1.2.156.10197.1.401") || (cm != "1.2.156.10197.1.401" && cm != "SM3") {
			t.Errorf("CheckMethod %q", sig.SignedInfo.References.CheckMethod)
		}
		refs := map[string]bool{}
		for _, r := range sig.SignedInfo.References.Reference {
			if ours && !strings.HasPrefix(r.FileRef, "/") {
				t.Errorf("FileRef %q is not absolute", r.FileRef)
			}
			data, ok := files[abs("/", r.FileRef)]
			if !ok {
				t.Errorf("signature %s: %s missing", s.ID, r.FileRef)
				continue
			}
			sum := sm3.Sum(data)
			if base64.StdEncoding.EncodeToString(sum[:]) != r.CheckValue {
				t.Errorf("signature %s: digest of %s differs", s.ID, r.FileRef)
			}
			refs[abs("/", r.FileRef)] = true
		}
		// Every file that existed when this signature was made is covered, except the list
		// and this signature's own Signature.xml and signed value (and later signatures).
		valuePath := abs(sigPath, sig.SignedValue)
		for name := range files {
			if !ours {
				break
			}
			if name == sigsPath || name == sigPath || name == valuePath || refs[name] {
				continue
			}
			if strings.HasPrefix(name, path.Dir(sigsPath)+"/") && !strings.HasPrefix(name, path.Dir(sigPath)+"/") {
				continue // another signature's directory: may be later
			}
			t.Errorf("signature %s does not cover %s", s.ID, name)
		}
		if ours && !refs[abs(sigPath, sig.SignedInfo.Seal.BaseLoc)] {
			t.Errorf("signature %s does not cover its own seal file", s.ID)
		}
		// SES_Signature: toSign is the first element; dataHash the 4th of TBS_Sign (v4) and
		// of v1 alike.
		value := files[valuePath]
		var outer asn1.RawValue
		if _, err := asn1.Unmarshal(value, &outer); err != nil {
			t.Fatalf("signed value: %v", err)
		}
		var tbs asn1.RawValue
		if _, err := asn1.Unmarshal(outer.Bytes, &tbs); err != nil {
			t.Fatalf("TBS_Sign: %v", err)
		}
		rest := tbs.Bytes
		var fields []asn1.RawValue
		for len(rest) > 0 {
			var f asn1.RawValue
			if rest, err = asn1.Unmarshal(rest, &f); err != nil {
				t.Fatalf("TBS_Sign field: %v", err)
			}
			fields = append(fields, f)
		}
		if len(fields) < 5 {
			t.Fatalf("TBS_Sign has %d fields", len(fields))
		}
		var dh asn1.BitString
		if _, err := asn1.Unmarshal(fields[3].FullBytes, &dh); err != nil {
			t.Fatalf("dataHash: %v", err)
		}
		want := sm3.Sum(raw)
		if !bytes.Equal(dh.Bytes, want[:]) {
			t.Errorf("signature %s: dataHash is not SM3(Signature.xml)", s.ID)
		}
		var pi string
		if _, err := asn1.UnmarshalWithParams(fields[4].FullBytes, &pi, "ia5"); err != nil || abs("/", pi) != sigPath {
			t.Errorf("signature %s: propertyInfo %q, want %q (%v)", s.ID, pi, sigPath, err)
		}
	}
	return len(list.Signature)
}
