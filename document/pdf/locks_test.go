package pdf

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sealdesk/document"
	"sealdesk/signer"
	"sealdesk/signer/pki"
)

// formDoc returns a one-page sample with a text field "Name", a text field "Other" and empty
// signature fields "A" (with lock, when given) and "B", all with widgets on page 1, written
// with the package's own incremental writer.
func formDoc(t *testing.T, lock Dict) []byte {
	t.Helper()
	in := GenerateSample(samplePages(1), SampleOptions{})
	return appendUpdate(t, in, func(inc *increment, v *View) {
		pages, err := v.Pages()
		if err != nil {
			t.Fatal(err)
		}
		pg := pages[0]
		cat, catRef, _ := v.Catalog()
		var fields, annots Array
		mk := func(d Dict, y float64) {
			d["Type"], d["Subtype"], d["P"], d["F"] = Name("Annot"), Name("Widget"), pg.Ref, Int(4)
			d["Rect"] = Array{Real(72), Real(y), Real(272), Real(y + 20)}
			r := inc.add(d)
			fields, annots = append(fields, r), append(annots, r)
		}
		mk(Dict{"FT": Name("Tx"), "T": EncodeText("Name"), "V": EncodeText("Alice")}, 500)
		mk(Dict{"FT": Name("Tx"), "T": EncodeText("Other"), "V": EncodeText("x")}, 450)
		a := Dict{"FT": Name("Sig"), "T": EncodeText("A")}
		if lock != nil {
			a["Lock"] = inc.add(lock)
		}
		mk(a, 400)
		mk(Dict{"FT": Name("Sig"), "T": EncodeText("B")}, 350)
		pd := copyDict(pg.Dict)
		pd["Annots"] = annots
		inc.set(pg.Ref, pd)
		nc := copyDict(cat)
		nc["AcroForm"] = inc.add(Dict{"Fields": fields})
		inc.set(catRef, nc)
	})
}

func lockDict(action string, fields ...string) Dict {
	d := Dict{"Type": Name("SigFieldLock"), "Action": Name(action)}
	if len(fields) > 0 {
		arr := Array{}
		for _, f := range fields {
			arr = append(arr, EncodeText(f))
		}
		d["Fields"] = arr
	}
	return d
}

func signFieldBytes(t *testing.T, in []byte, req *document.SignRequest, field string) ([]byte, error) {
	t.Helper()
	var out bytes.Buffer
	err := SignField(context.Background(), bytes.NewReader(in), int64(len(in)), req, field, &out)
	return out.Bytes(), err
}

// fieldByName returns the field object of the named field in b's final revision.
func fieldByName(t *testing.T, b []byte, name string) (Ref, Dict, *View) {
	t.Helper()
	rd, err := NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	for num, n := range fieldNames(rd.Final) {
		if d := rd.Final.Dict(Ref{Num: num}); n == name && d != nil && d["T"] != nil {
			return Ref{Num: num}, d, rd.Final
		}
	}
	t.Fatalf("no field %q", name)
	return Ref{}, nil, nil
}

func TestSignRefusesLockedField(t *testing.T) {
	for _, tc := range []struct {
		lock    Dict
		bLocked bool
	}{
		{lockDict("Include", "B"), true},
		{lockDict("Include", "Name"), false},
		{lockDict("Exclude", "B"), false},
		{lockDict("Exclude", "Name"), true},
		{lockDict("All"), true},
	} {
		name := fmt.Sprintf("/Action /%s /Fields %v", NameOf(tc.lock["Action"]), tc.lock["Fields"])
		doc := formDoc(t, tc.lock)
		signedA, err := signFieldBytes(t, doc, request(t, signer.ECDSA, document.ProfilePAdES), "A")
		if err != nil {
			t.Fatalf("%s: signing A: %v", name, err)
		}
		// The signature records the lock as a FieldMDP reference.
		_, fa, v := fieldByName(t, signedA, "A")
		sd := v.Dict(fa["V"])
		if locks := sigLocks(v, SigField{Name: "A", Dict: fa}, sd); len(locks) != 2 {
			t.Errorf("%s: %d locks read from field A and its signature, want 2 (/Lock and /Reference FieldMDP)", name, len(locks))
		}
		requireValid(t, name+": A signed", verifyBytes(t, signedA, getSigner(t, signer.ECDSA).chain.Root.Cert), 1)

		signedB, err := signFieldBytes(t, signedA, request(t, signer.ECDSA, document.ProfilePAdES), "B")
		var le *FieldLockedError
		if tc.bLocked {
			if !errors.As(err, &le) || le.Field != "B" || le.LockedBy != "A" {
				t.Errorf("%s: signing B after A locked it: err %v, want a FieldLockedError for B by A", name, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: signing B (not locked): %v", name, err)
			continue
		}
		requireValid(t, name+": A and B signed", verifyBytes(t, signedB, getSigner(t, signer.ECDSA).chain.Root.Cert), 2)
		keep(t, "fieldmdp-filled.pdf", signedB)
		qpdfCheck(t, writeTemp(t, "filled.pdf", signedB))
	}
}

func TestSignFieldErrors(t *testing.T) {
	doc := formDoc(t, nil)
	req := request(t, signer.ECDSA, document.ProfilePAdES)
	if _, err := signFieldBytes(t, doc, req, "Nope"); err == nil || !strings.Contains(err.Error(), `"Nope"`) {
		t.Errorf("unknown field: %v", err)
	}
	signed, err := signFieldBytes(t, doc, req, "B")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := signFieldBytes(t, signed, req, "B"); err == nil || !strings.Contains(err.Error(), "already signed") {
		t.Errorf("signing B twice: %v", err)
	}
	stamped := request(t, signer.ECDSA, document.ProfilePAdES, document.Stamp{Page: 0, Rect: document.Rect{X: 10, Y: 10, W: 30, H: 30}})
	if _, err := signFieldBytes(t, doc, stamped, "A"); err == nil {
		t.Error("a placement with an existing field was accepted")
	}
	// PDF 2.0 lock with /P 1: no further signature at all, not even a new field.
	p1 := lockDict("Include", "Name")
	p1["P"] = Int(1)
	locked, err := signFieldBytes(t, formDoc(t, p1), req, "A")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err = Sign(context.Background(), bytes.NewReader(locked), int64(len(locked)), req, &out)
	var le *FieldLockedError
	if !errors.As(err, &le) || !le.All {
		t.Errorf("signing after a /P 1 lock: %v, want a FieldLockedError (All)", err)
	}
}

// TestVerifyFieldMDP: changes after a locking signature to locked fields are disallowed with
// CodeFieldLocked; the same change to an unlocked field is an allowed form fill (the locking
// signature certifies with P=2, which permits form filling).
func TestVerifyFieldMDP(t *testing.T) {
	root := getSigner(t, signer.ECDSA).chain.Root.Cert
	doc := formDoc(t, lockDict("Include", "Name", "B"))
	req := request(t, signer.ECDSA, document.ProfilePAdES)
	req.Certify = 2
	signed, err := signFieldBytes(t, doc, req, "A")
	if err != nil {
		t.Fatal(err)
	}
	requireValid(t, "certified and locked", verifyBytes(t, signed, root), 1)

	setV := func(field string, val Object) []byte {
		ref, d, _ := fieldByName(t, signed, field)
		return appendUpdate(t, signed, func(inc *increment, v *View) {
			nd := copyDict(d)
			nd["V"] = val
			inc.set(ref, nd)
		})
	}
	// Unlocked field: allowed form fill.
	other := verifyBytes(t, setV("Other", EncodeText("changed")), root)
	if s := other.Signatures[0]; s.ChangesAfter != document.Allowed || hasCode(other, CodeFieldLocked) {
		t.Errorf("filling unlocked field Other: changes %s:%s", s.ChangesAfter, summary(other))
	}
	// Locked text field.
	expectLocked := func(what string, b []byte) {
		t.Helper()
		rep := verifyBytes(t, b, root)
		if rep.Signatures[0].ChangesAfter != document.Disallowed || !hasCode(rep, CodeFieldLocked) || rep.Valid {
			t.Errorf("%s: want a disallowed %s change:%s", what, CodeFieldLocked, summary(rep))
		}
	}
	expectLocked("changing locked field Name", setV("Name", EncodeText("Mallory")))
	// Locked signature field B signed afterwards (bypassing Sign's refusal: a foreign tool).
	expectLocked("signing locked field B", fakeSignB(t, signed))

	// A PDF 2.0 lock with /P 1 freezes the document: even an unlisted field may not be signed.
	p1 := lockDict("Include", "Name")
	p1["P"] = Int(1)
	frozen, err := signFieldBytes(t, formDoc(t, p1), request(t, signer.ECDSA, document.ProfilePAdES), "A")
	if err != nil {
		t.Fatal(err)
	}
	requireValid(t, "locked with /P 1", verifyBytes(t, frozen, root), 1)
	expectLocked("signing B after a /P 1 lock", fakeSignB(t, frozen))
}

// fakeSignB sets field B's /V to a new signature dictionary, as a foreign tool that ignores
// locks would (its own integrity is irrelevant here: the first signature's report is checked).
func fakeSignB(t *testing.T, b []byte) []byte {
	ref, d, _ := fieldByName(t, b, "B")
	return appendUpdate(t, b, func(inc *increment, v *View) {
		nd := copyDict(d)
		nd["V"] = inc.add(Dict{"Type": Name("Sig"), "Filter": Name(FilterPPKLite), "SubFilter": Name(SubFilterCAdES),
			"ByteRange": Array{Int(0), Int(0), Int(0), Int(0)}, "Contents": String{B: make([]byte, 16)}})
		inc.set(ref, nd)
	})
}

// TestSignFileIntoField goes through document.SignFile with SignRequest.Field (what
// `sealctl sign --field` does): the existing field B is signed, no new field appears, and a
// placement given with a field is refused.
func TestSignFileIntoField(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "form.pdf")
	if err := os.WriteFile(in, formDoc(t, nil), 0o644); err != nil {
		t.Fatal(err)
	}
	req := request(t, signer.ECDSA, document.ProfilePAdES)
	req.Placements, req.Stamps = nil, nil
	req.Field = "B"
	out := filepath.Join(dir, "signed.pdf")
	if err := document.SignFile(context.Background(), in, out, req); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if _, f, _ := fieldByName(t, b, "B"); f["V"] == nil {
		t.Fatal("field B has no signature value after signing it")
	}
	rep, err := document.VerifyFile(context.Background(), out, &document.VerifyOptions{
		TrustPEM: pki.PEM(getSigner(t, signer.ECDSA).chain.Root.Cert)})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Signatures) != 1 || rep.Signatures[0].Name != "B" || rep.Signatures[0].Integrity != document.OK {
		t.Fatalf("report: %+v", rep.Signatures)
	}
	req2 := request(t, signer.ECDSA, document.ProfilePAdES)
	req2.Field = "A"
	req2.Placements = []document.Placement{{Page: 0, At: &document.Point{X: 50, Y: 50}}}
	req2.Stamps = nil
	if err := document.SignFile(context.Background(), in, filepath.Join(dir, "x.pdf"), req2); err == nil ||
		!strings.Contains(err.Error(), "give no seal placement") {
		t.Fatalf("placement with a field: %v", err)
	}
}
