package pdf

import (
	"fmt"
	"strings"
)

// FieldMDP (ISO 32000-1 12.8.2.4, 12.7.4.5): a signature can lock form fields — by the signed
// field's /Lock dictionary or by a signature reference with /TransformMethod /FieldMDP — with
// /Action /All (every field), /Include (the fields named in /Fields) or /Exclude (every field
// but those). Names are fully qualified; locking a field locks its descendants. PDF 2.0's /P in
// a lock dictionary works like DocMDP's P; P=1 forbids any further change.

// CodeFieldLocked: a field that a signature locked (FieldMDP) changed or was signed afterwards.
const CodeFieldLocked = "pdf.field-locked"

// FieldLockedError is Sign's refusal to change what an earlier signature locked.
type FieldLockedError struct {
	Field    string // the field to be filled ("" with All)
	LockedBy string // the locking signature's field name
	All      bool   // the lock forbids every change (/P 1)
}

func (e *FieldLockedError) Error() string {
	if e.All {
		return fmt.Sprintf("signature %q locked the document (FieldMDP /Lock with /P 1); no further signature can be added without breaking it", e.LockedBy)
	}
	return fmt.Sprintf("signature field %q is locked by signature %q (FieldMDP); signing it would break that signature", e.Field, e.LockedBy)
}

type fieldLock struct {
	by     string // field name of the locking signature
	action Name
	fields map[string]bool
	p      int // /P of a PDF 2.0 lock dictionary (0: none)
}

// covers reports whether the lock applies to the fully qualified field name.
func (l fieldLock) covers(name string) bool {
	listed := false
	for f := range l.fields {
		if name == f || strings.HasPrefix(name, f+".") {
			listed = true
			break
		}
	}
	switch l.action {
	case "All":
		return true
	case "Include":
		return listed
	case "Exclude":
		return !listed
	}
	// An unknown action: treat as All so that an unreadable lock is never ignored.
	return true
}

// lockFrom reads a lock or transform-parameters dictionary (same keys).
func lockFrom(v *View, d Dict, by string) fieldLock {
	l := fieldLock{by: by, action: NameOf(v.Resolve(d["Action"])), fields: map[string]bool{}}
	for _, f := range v.Array(d["Fields"]) {
		if s, ok := v.Resolve(f).(String); ok {
			l.fields[TextString(s.B)] = true
		}
	}
	if n, ok := v.Num(d["P"]); ok && n >= 1 && n <= 3 {
		l.p = int(n)
	}
	return l
}

// sigLocks returns the locks a signed field sets: its /Lock (which takes effect once the field
// is signed) and the FieldMDP references of its signature dictionary sd.
func sigLocks(v *View, f SigField, sd Dict) []fieldLock {
	var out []fieldLock
	if ld := v.Dict(f.Dict["Lock"]); ld != nil {
		out = append(out, lockFrom(v, ld, f.Name))
	}
	for _, r := range v.Array(sd["Reference"]) {
		rd := v.Dict(r)
		if rd == nil || NameOf(v.Resolve(rd["TransformMethod"])) != "FieldMDP" {
			continue
		}
		tp := v.Dict(rd["TransformParams"])
		if tp == nil {
			tp = Dict{"Action": Name("All")}
		}
		out = append(out, lockFrom(v, tp, f.Name))
	}
	return out
}

// documentLocks returns the locks of every signed signature field of v.
func documentLocks(v *View) []fieldLock {
	var out []fieldLock
	for _, f := range SignatureFields(v) {
		if f.Value == nil {
			continue
		}
		if sd := v.Dict(f.Value); sd != nil {
			out = append(out, sigLocks(v, f, sd)...)
		}
	}
	return out
}

// fieldNames maps the object numbers of every field, widget and indirect field value in v's
// AcroForm to the fully qualified name of the field they belong to.
func fieldNames(v *View) map[int]string {
	out := map[int]string{}
	cat, _, err := v.Catalog()
	if err != nil {
		return out
	}
	acro := v.Dict(cat["AcroForm"])
	if acro == nil {
		return out
	}
	var walk func(o Object, prefix string, depth int)
	walk = func(o Object, prefix string, depth int) {
		r, isRef := o.(Ref)
		if depth > 32 || (isRef && out[r.Num] != "") {
			return
		}
		d := v.Dict(o)
		if d == nil {
			return
		}
		name := prefix
		if t, ok := d["T"].(String); ok {
			if name != "" {
				name += "."
			}
			name += TextString(t.B)
		}
		if name == "" {
			name = "?" // keeps the walk from revisiting; no lock names it
		}
		if isRef {
			out[r.Num] = name
		}
		if vr, ok := d["V"].(Ref); ok && NameOf(v.Resolve(d["FT"])) != "Sig" {
			out[vr.Num] = name
		}
		// Appearance streams, so that redrawing a locked field is caught too.
		if ap := v.Dict(d["AP"]); ap != nil {
			for _, k := range []Name{"N", "R", "D"} {
				if sr, ok := ap[k].(Ref); ok {
					out[sr.Num] = name
				} else if states, ok := ap[k].(Dict); ok {
					for _, st := range states {
						if sr, ok := st.(Ref); ok {
							out[sr.Num] = name
						}
					}
				}
			}
		}
		for _, k := range v.Array(d["Kids"]) {
			walk(k, name, depth+1)
		}
	}
	for _, f := range v.Array(acro["Fields"]) {
		walk(f, "", 0)
	}
	return out
}

// lockedBy returns the signature that locked the field object num belongs to (as named in the
// signed revision, else in the final document).
func (c *classifier) lockedBy(num int) (field, by string, ok bool) {
	if len(c.locks) == 0 {
		return "", "", false
	}
	name, found := c.namesS[num]
	if !found {
		if c.namesF == nil {
			c.namesF = fieldNames(c.final)
		}
		if name, found = c.namesF[num]; !found {
			return "", "", false
		}
	}
	for _, l := range c.locks {
		if l.covers(name) {
			return name, l.by, true
		}
	}
	return "", "", false
}
