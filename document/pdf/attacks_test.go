package pdf

import (
	"bytes"
	"fmt"
	"testing"

	"sealdesk/document"
	"sealdesk/signer"
)

// Attack classes built against our own signed files (docs/pdf.md §5): universal signature
// forgery, incremental saving, signature wrapping, shadow hide / replace / xref re-pointing,
// overlay removal. Each must be reported for the right reason: integrity failed or a
// disallowed change, with the expected problem code.

func signedSample(t *testing.T, in []byte) ([]byte, *signer.Identity) {
	t.Helper()
	req := request(t, signer.ECDSA, document.ProfilePAdES, document.Stamp{Page: 0, Rect: document.Rect{X: 20, Y: 20, W: 30, H: 30}})
	return signBytes(t, in, req), req.Identity
}

// appendUpdate appends an incremental update built by edit to b.
func appendUpdate(t *testing.T, b []byte, edit func(inc *increment, v *View)) []byte {
	t.Helper()
	rd, err := NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	inc := newIncrement(rd.Final, int64(len(b)))
	edit(inc, rd.Final)
	lay, err := inc.serialise(b[len(b)-1] != '\n')
	if err != nil {
		t.Fatal(err)
	}
	return append(append([]byte(nil), b...), lay.buf...)
}

func expectCaught(t *testing.T, name string, b []byte, code string) {
	t.Helper()
	rep := verifyBytes(t, b, getSigner(t, signer.ECDSA).chain.Root.Cert)
	if rep.Valid {
		t.Errorf("%s: reported valid", name)
	}
	caught := false
	for _, s := range rep.Signatures {
		if s.Integrity == document.Failed || s.ChangesAfter == document.Disallowed {
			caught = true
		}
	}
	if !caught {
		t.Errorf("%s: not caught for integrity or a disallowed change:%s", name, summary(rep))
	}
	if !hasCode(rep, code) {
		t.Errorf("%s: expected problem %s:%s", name, code, summary(rep))
	}
}

func sigContents(t *testing.T, b []byte) (String, Dict, Ref) {
	rd, err := NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	f := SignatureFields(rd.Final)[0]
	d := rd.Final.Dict(f.Value)
	return d["Contents"].(String), d, f.Value.(Ref)
}

func TestAttackUSF(t *testing.T) {
	signed, _ := signedSample(t, GenerateSample(samplePages(1), SampleOptions{}))
	requireValid(t, "unmodified", verifyBytes(t, signed, getSigner(t, signer.ECDSA).chain.Root.Cert), 1)
	br := bytes.Index(signed, []byte("/ByteRange ["))
	// ByteRange [0 0 0 0] (same width, so every offset stays).
	zero := append([]byte(nil), signed...)
	end := bytes.IndexByte(zero[br:], ']') + br
	copy(zero[br+11:end+1], []byte(fmt.Sprintf("%-*s", end-br-10, "[0 0 0 0]")))
	expectCaught(t, "ByteRange [0 0 0 0]", zero, CodeByteRangeInvalid)
	// No ByteRange at all.
	none := append([]byte(nil), signed...)
	copy(none[br:], "/ByteRangX")
	expectCaught(t, "missing ByteRange", none, CodeByteRangeMissing)
	// Empty (all-zero) /Contents.
	cs, _, _ := sigContents(t, signed)
	empty := append([]byte(nil), signed...)
	for i := cs.Off + 1; i < cs.End-1; i++ {
		empty[i] = '0'
	}
	expectCaught(t, "zeroed Contents", empty, CodeContentsUnparsable)
}

func TestAttackISA(t *testing.T) {
	signed, _ := signedSample(t, GenerateSample(samplePages(1), SampleOptions{}))
	// A new revision replacing the page's content stream.
	isa := appendUpdate(t, signed, func(inc *increment, v *View) {
		pages, _ := v.Pages()
		pd := copyDict(pages[0].Dict)
		pd["Contents"] = inc.add(&Stream{Dict: Dict{}, Data: []byte("BT /F1 30 Tf 72 500 Td (FORGED) Tj ET")})
		inc.set(pages[0].Ref, pd)
	})
	expectCaught(t, "page content replaced", isa, CodePageChanged)
	// The same object redefined (same number) with new content.
	isa2 := appendUpdate(t, signed, func(inc *increment, v *View) {
		pages, _ := v.Pages()
		inc.set(pages[0].Dict["Contents"].(Ref), &Stream{Dict: Dict{}, Data: []byte("BT /F1 30 Tf 72 500 Td (FORGED) Tj ET")})
	})
	expectCaught(t, "content stream redefined", isa2, CodePageContentChanged)
	// Objects appended after %%EOF without any cross-reference section.
	raw := append(append([]byte(nil), signed...), []byte("8 0 obj\n<</Length 10>>\nstream\nBT ET q Q \nendstream\nendobj\n")...)
	expectCaught(t, "objects after %%EOF", raw, CodeTrailingBytes)
	// A new page appended to the page tree.
	added := appendUpdate(t, signed, func(inc *increment, v *View) {
		cat, _, _ := v.Catalog()
		pr := cat["Pages"].(Ref)
		pt := copyDict(v.Dict(pr))
		np := inc.add(Dict{"Type": Name("Page"), "Parent": pr, "MediaBox": Array{Int(0), Int(0), Int(200), Int(200)}})
		pt["Kids"] = append(append(Array{}, v.Array(pt["Kids"])...), np)
		pt["Count"] = Int(2)
		inc.set(pr, pt)
	})
	expectCaught(t, "page added", added, CodePageChanged)
	// A later allowed change (a second signature) stays allowed.
	second := signBytes(t, signed, request(t, signer.ECDSA, document.ProfilePAdES, document.Stamp{Page: 0, Rect: document.Rect{X: 80, Y: 20, W: 30, H: 30}}))
	requireValid(t, "second signature", verifyBytes(t, second, getSigner(t, signer.ECDSA).chain.Root.Cert), 2)
}

func TestAttackSWA(t *testing.T) {
	signed, _ := signedSample(t, GenerateSample(samplePages(1), SampleOptions{}))
	// Wrap: a copy of the signature dictionary in a new revision, the field re-pointed to it.
	_, sd, sref := sigContents(t, signed)
	wrapped := appendUpdate(t, signed, func(inc *increment, v *View) {
		copyRef := inc.add(copyDict(sd))
		for _, f := range SignatureFields(v) {
			fd := copyDict(f.Dict)
			fd["V"] = copyRef
			fd["TU"] = String{B: []byte("moved")}
			inc.set(f.Ref, fd)
		}
	})
	expectCaught(t, "signature dictionary moved", wrapped, CodeSigDictMissing)
	// Spoofing: the signature dictionary redefined with another /Reason, same ByteRange and
	// Contents.
	spoof := appendUpdate(t, signed, func(inc *increment, v *View) {
		d := copyDict(sd)
		d["Reason"] = String{B: []byte("Approved by the CEO")}
		inc.set(sref, d)
	})
	expectCaught(t, "signature dictionary spoofed", spoof, CodeSigDictRedefined)
	// The gap made larger than /Contents: ByteRange patched in a later redefinition.
	cs, _, _ := sigContents(t, signed)
	gap := appendUpdate(t, signed, func(inc *increment, v *View) {
		d := copyDict(sd)
		d["ByteRange"] = Array{Int(0), Int(cs.Off - 100), Int(cs.End), Int(int64(len(signed)) - cs.End)}
		inc.set(sref, d)
	})
	expectCaught(t, "ByteRange gap larger than Contents", gap, CodeContentsGap)
}

// shadowBase makes an unsigned document that carries a prepared, unreferenced content stream:
// once inside the object table (object 20) and once as a second body of the page's own
// content object 8 that no xref lists.
func shadowBase(t *testing.T) ([]byte, int64) {
	base := GenerateSample(samplePages(1), SampleOptions{})
	prepared := appendUpdate(t, base, func(inc *increment, v *View) {
		inc.add(&Stream{Dict: Dict{}, Data: []byte("BT /F1 30 Tf 72 500 Td (SHADOW) Tj ET")})
	})
	off := int64(len(prepared))
	body := "8 0 obj\n<</Length 37>>\nstream\nBT /F1 30 Tf 72 500 Td (SHADOW) Tj ET\nendstream\nendobj\n"
	return append(prepared, body...), off
}

func TestAttackShadow(t *testing.T) {
	base, bodyOff := shadowBase(t)
	signed, _ := signedSample(t, base)
	requireValid(t, "shadowed but untouched", verifyBytes(t, signed, getSigner(t, signer.ECDSA).chain.Root.Cert), 1)
	// Hide-and-replace: the page re-pointed to the prepared stream.
	rd, _ := NewReader(bytes.NewReader(signed), int64(len(signed)))
	prepNum := 0
	for n := range rd.Final.chain[len(rd.Final.chain)-2].Entries {
		if o, err := rd.Final.Get(Ref{Num: n}); err == nil {
			if st, ok := o.(*Stream); ok && st.Length == 37 {
				prepNum = n
			}
		}
	}
	if prepNum == 0 {
		t.Fatal("prepared object not found")
	}
	repl := appendUpdate(t, signed, func(inc *increment, v *View) {
		pages, _ := v.Pages()
		pd := copyDict(pages[0].Dict)
		pd["Contents"] = Ref{Num: prepNum}
		inc.set(pages[0].Ref, pd)
	})
	expectCaught(t, "shadow hide-and-replace", repl, CodeShadowPrepared)
	// Xref-only re-pointing: a revision with no objects, only an xref entry moving object 8
	// to its second body inside the signed bytes.
	var x bytes.Buffer
	x.Write(signed)
	xoff := x.Len()
	fmt.Fprintf(&x, "xref\n8 1\n%010d 00000 n\r\ntrailer\n<</Size %d/Root 1 0 R/Prev %d>>\nstartxref\n%d\n%%%%EOF\n", bodyOff, rd.Final.Size(), rd.Final.StartXref, xoff)
	expectCaught(t, "xref-only re-pointing", x.Bytes(), CodeXrefRepointed)
	// Overlay removal: a signed page with an opaque annotation; a later revision removes it.
	over := appendUpdate(t, GenerateSample(samplePages(1), SampleOptions{}), func(inc *increment, v *View) {
		pages, _ := v.Pages()
		ap := inc.add(&Stream{Dict: Dict{"Type": Name("XObject"), "Subtype": Name("Form"), "BBox": Array{Int(0), Int(0), Int(300), Int(50)}}, Data: []byte("1 g 0 0 300 50 re f")})
		an := inc.add(Dict{"Type": Name("Annot"), "Subtype": Name("Square"), "Rect": Array{Int(60), Int(680), Int(360), Int(730)}, "AP": Dict{"N": ap}, "F": Int(4)})
		pd := copyDict(pages[0].Dict)
		pd["Annots"] = Array{an}
		inc.set(pages[0].Ref, pd)
	})
	osigned, _ := signedSample(t, over)
	requireValid(t, "overlay signed", verifyBytes(t, osigned, getSigner(t, signer.ECDSA).chain.Root.Cert), 1)
	removed := appendUpdate(t, osigned, func(inc *increment, v *View) {
		pages, _ := v.Pages()
		pd := copyDict(pages[0].Dict)
		var keep Array
		for _, a := range v.Array(pd["Annots"]) {
			if NameOf(v.Dict(a)["Subtype"]) != "Square" {
				keep = append(keep, a)
			}
		}
		pd["Annots"] = keep
		inc.set(pages[0].Ref, pd)
	})
	expectCaught(t, "overlay removed", removed, CodeAnnotationRemoved)
}

// TestUncovered: later revisions that change what pages show are listed as uncovered;
// a later signature is not.
func TestUncovered(t *testing.T) {
	signed, _ := signedSample(t, GenerateSample(samplePages(1), SampleOptions{}))
	root := getSigner(t, signer.ECDSA).chain.Root.Cert
	if u := verifyBytes(t, signed, root).Uncovered; len(u) != 0 {
		t.Errorf("fully signed: uncovered %v", u)
	}
	isa := appendUpdate(t, signed, func(inc *increment, v *View) {
		pages, _ := v.Pages()
		inc.set(pages[0].Dict["Contents"].(Ref), &Stream{Dict: Dict{}, Data: []byte("BT ET")})
	})
	if u := verifyBytes(t, isa, root).Uncovered; len(u) == 0 {
		t.Error("a content change after the signature is not listed as uncovered")
	}
}

// TestSignedVersion: the signed version of a modified document is the original signed file.
func TestSignedVersion(t *testing.T) {
	signed, _ := signedSample(t, GenerateSample(samplePages(1), SampleOptions{}))
	later := appendUpdate(t, signed, func(inc *increment, v *View) {
		pages, _ := v.Pages()
		inc.set(pages[0].Dict["Contents"].(Ref), &Stream{Dict: Dict{}, Data: []byte("BT ET")})
	})
	sr, err := SignedVersion(bytes.NewReader(later), int64(len(later)), 0)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]byte, sr.Size())
	sr.ReadAt(got, 0)
	if !bytes.Equal(got, signed) {
		t.Errorf("signed version is %d bytes, the signed file %d", len(got), len(signed))
	}
	if _, err := SignedVersion(bytes.NewReader(later), int64(len(later)), 1); err == nil {
		t.Error("signature 2 does not exist")
	}
}
