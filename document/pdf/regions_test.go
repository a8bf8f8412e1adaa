package pdf

import (
	"testing"

	"sealdesk/document"
	"sealdesk/signer"
)

// regionAt returns the regions of signature sig whose user-space box overlaps box on page.
func regionsAt(rep *document.VerifyReport, sig, page int, box [4]float64) []document.ChangedRegion {
	var out []document.ChangedRegion
	for _, r := range rep.Signatures[sig].ChangedRegions {
		if r.Page == page && !r.InSigned && r.Box[0] < box[2] && box[0] < r.Box[2] && r.Box[1] < box[3] && box[1] < r.Box[3] {
			out = append(out, r)
		}
	}
	return out
}

// TestChangedRegionsFormFillAndSignature: after a certification with P=2, filling a form field
// and signing an empty signature field are drawn as allowed where their widgets are; the same
// fill after a P=1 certification is drawn as disallowed. No rendering is needed: widgets have
// rectangles of their own.
func TestChangedRegionsFormFillAndSignature(t *testing.T) {
	root := getSigner(t, signer.ECDSA).chain.Root.Cert
	certified := func(p int) []byte {
		req := request(t, signer.ECDSA, document.ProfilePAdES)
		req.Certify = p
		b, err := signFieldBytes(t, formDoc(t, nil), req, "A")
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	fill := func(b []byte) []byte {
		ref, d, _ := fieldByName(t, b, "Other")
		return appendUpdate(t, b, func(inc *increment, v *View) {
			nd := copyDict(d)
			nd["V"] = EncodeText("filled later")
			inc.set(ref, nd)
		})
	}
	otherBox := [4]float64{72, 450, 272, 470} // formDoc's widget of "Other"
	p2 := certified(2)
	rep := verifyBytes(t, fill(p2), root)
	rs := regionsAt(rep, 0, 0, otherBox)
	if len(rs) == 0 || !rs[0].Allowed || rs[0].Kind != document.ChangeFormFilled || rs[0].Located != document.LocatedObject {
		t.Errorf("form fill after P=2: want an allowed %s region at the widget, got %+v (all: %+v)", document.ChangeFormFilled, rs, rep.Signatures[0].ChangedRegions)
	}
	for _, r := range rep.Signatures[0].ChangedRegions {
		if !r.Allowed {
			t.Errorf("form fill after P=2: disallowed region %+v", r)
		}
	}

	// A later signature in the empty field B: allowed, at B's widget.
	second, err := signFieldBytes(t, p2, request(t, signer.ECDSA, document.ProfilePAdES), "B")
	if err != nil {
		t.Fatal(err)
	}
	rep = verifyBytes(t, second, root)
	requireValid(t, "certified then signed", rep, 2)
	rs = regionsAt(rep, 0, 0, [4]float64{72, 350, 272, 370})
	if len(rs) == 0 || !rs[0].Allowed || rs[0].Kind != document.ChangeSignatureAdded {
		t.Errorf("later signature: want an allowed %s region at field B, got %+v", document.ChangeSignatureAdded, rep.Signatures[0].ChangedRegions)
	}
	if len(rep.Signatures[1].ChangedRegions) != 0 {
		t.Errorf("the last signature has nothing after it, got %+v", rep.Signatures[1].ChangedRegions)
	}

	// The same fill after P=1: disallowed, same place.
	rep = verifyBytes(t, fill(certified(1)), root)
	rs = regionsAt(rep, 0, 0, otherBox)
	if len(rs) == 0 || rs[0].Allowed {
		t.Errorf("form fill after P=1: want a disallowed region at the widget, got %+v", rep.Signatures[0].ChangedRegions)
	}
	// Rect (mm from the top-left) and Box (user space) describe the same place.
	if len(rs) > 0 {
		r := rs[0]
		if d := r.Rect.X - 72*document.MMPerPoint; d > 0.1 || d < -0.1 || r.Rect.W < 70 || r.Rect.W > 71 {
			t.Errorf("rect %+v does not match box %v", r.Rect, r.Box)
		}
	}
}

// TestChangedRegionsMalformed: broken later revisions never make region finding panic.
func TestChangedRegionsMalformed(t *testing.T) {
	root := getSigner(t, signer.ECDSA).chain.Root.Cert
	signed, _ := signedSample(t, GenerateSample(samplePages(2), SampleOptions{}))
	// A page tree whose kids are garbage, an annotation with a rectangle of strings.
	bad := appendUpdate(t, signed, func(inc *increment, v *View) {
		pages, _ := v.Pages()
		pd := copyDict(pages[0].Dict)
		pd["Annots"] = Array{inc.add(Dict{"Type": Name("Annot"), "Subtype": Name("Square"), "Rect": Array{String{B: []byte("a")}, Int(1), Int(2)}}), Int(7), Ref{Num: 99999}}
		pd["Contents"] = Array{Ref{Num: 88888}, Name("x")}
		inc.set(pages[0].Ref, pd)
	})
	rep := verifyBytes(t, bad, root)
	if rep.Signatures[0].ChangesAfter != document.Disallowed {
		t.Errorf("want disallowed:%s", summary(rep))
	}
	// The changed content is marked on page 1 (by pixels when a renderer is linked into the
	// test binary, as the whole page otherwise).
	whole := false
	for _, r := range rep.Signatures[0].ChangedRegions {
		whole = whole || (r.Page == 0 && !r.Allowed && !r.InSigned && r.Located != document.LocatedObject)
	}
	if !whole {
		t.Errorf("want page 1 marked as changed, got %+v", rep.Signatures[0].ChangedRegions)
	}
}
