package ses

import (
	"time"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"
)

// Context-specific constructed [0], the tag of v4 timeStamp / extDatas when tagged.
var tag0 = asn1.Tag(0).ContextSpecific().Constructed()

// tag0Prim is [0] primitive (IMPLICIT tagging of a BIT STRING), accepted for timeStamp.
var tag0Prim = asn1.Tag(0).ContextSpecific()

// ParseSeal decodes a DER SESeal of version 1 or 4 (and ofdrw's 5).
func ParseSeal(der []byte) (*Seal, error) {
	if len(der) == 0 {
		return nil, &FieldError{Field: "SESeal", Err: errEmpty}
	}
	e, err := splitOne(der, "SESeal")
	if err != nil {
		return nil, err
	}
	return parseSeal(e, "SESeal")
}

func parseSeal(e elem, path string) (*Seal, error) {
	els, err := sequence(e, path)
	if err != nil {
		return nil, err
	}
	s := &Seal{Raw: e.raw}
	switch len(els) {
	case 2: // GM/T 0031: {esealInfo, signInfo}
		s.Format = V1
		if s.Info, err = parseSealInfo(els[0], path+".esealInfo"); err != nil {
			return nil, err
		}
		sp := path + ".signInfo"
		si, err := sequence(els[1], sp)
		if err != nil {
			return nil, err
		}
		if len(si) != 3 {
			return nil, fieldErr(sp, "SES_SignInfo has %d elements, want 3 (cert, signatureAlgorithm, signData)", len(si))
		}
		if s.MakerCert, err = octets(si[0], sp+".cert"); err != nil {
			return nil, err
		}
		if s.SignAlg, err = oid(si[1], sp+".signatureAlgorithm"); err != nil {
			return nil, err
		}
		if s.Value, _, err = bits(si[2], sp+".signData"); err != nil {
			return nil, err
		}
		// GM/T 0031 §… the maker signs SEQUENCE{esealInfo, cert, signatureAlgorithm}: rebuild that
		// SEQUENCE around the original element bytes (only the outer header is new).
		var b cryptobyte.Builder
		b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddBytes(els[0].raw)
			b.AddBytes(si[0].raw)
			b.AddBytes(si[1].raw)
		})
		s.signed = b.BytesOrPanic()
	case 4, 5: // GB/T 38540: {eSealInfo, cert, signAlgID, signedValue[, [0] timeStamp]}
		s.Format = V4
		if s.Info, err = parseSealInfo(els[0], path+".eSealInfo"); err != nil {
			return nil, err
		}
		if s.MakerCert, err = octets(els[1], path+".cert"); err != nil {
			return nil, err
		}
		if s.SignAlg, err = oid(els[2], path+".signAlgID"); err != nil {
			return nil, err
		}
		if s.Value, _, err = bits(els[3], path+".signedValue"); err != nil {
			return nil, err
		}
		if len(els) == 5 {
			if s.TimeStamp, err = timeStampField(els[4], path+".timeStamp"); err != nil {
				return nil, err
			}
		}
		s.signed = s.Info.Raw
	default:
		return nil, fieldErr(path, "SESeal has %d elements; want 2 (GM/T 0031) or 4-5 (GB/T 38540)", len(els))
	}
	return s, nil
}

// timeStampField reads [0] EXPLICIT BIT STRING (ofdrw), [0] IMPLICIT, or an untagged BIT STRING
// (Chingliu's reading of the standard), returning the token bytes.
func timeStampField(e elem, path string) ([]byte, error) {
	switch e.tag {
	case tag0:
		inner, err := children(e, path)
		if err != nil {
			return nil, err
		}
		if len(inner) != 1 {
			return nil, fieldErr(path, "[0] holds %d elements, want 1", len(inner))
		}
		if inner[0].tag == asn1.SEQUENCE { // a bare ContentInfo
			return inner[0].raw, nil
		}
		b, _, err := bits(inner[0], path)
		return b, err
	case tag0Prim:
		if len(e.body) > 0 && e.body[0] == 0 {
			return e.body[1:], nil
		}
		return e.body, nil
	case asn1.BIT_STRING, asn1.OCTET_STRING:
		b, _, err := bits(e, path)
		return b, err
	}
	return nil, fieldErr(path, "expected [0] BIT STRING, got %s", tagName(e.tag))
}

func parseSealInfo(e elem, path string) (SealInfo, error) {
	var si SealInfo
	els, err := sequence(e, path)
	if err != nil {
		return si, err
	}
	if len(els) < 4 || len(els) > 5 {
		return si, fieldErr(path, "SES_SealInfo has %d elements, want 4 or 5 (header, esID, property, picture[, extDatas])", len(els))
	}
	si.Raw = e.raw
	hp := path + ".header"
	h, err := sequence(els[0], hp)
	if err != nil {
		return si, err
	}
	if len(h) != 3 {
		return si, fieldErr(hp, "SES_Header has %d elements, want 3 (ID, version, Vid)", len(h))
	}
	if si.Header.ID, err = str(h[0], hp+".ID"); err != nil {
		return si, err
	}
	if si.Header.ID != "ES" {
		return si, fieldErr(hp+".ID", "is %q, want \"ES\"", clip(si.Header.ID, 20))
	}
	if si.Header.Version, err = smallInt(h[1], hp+".version"); err != nil {
		return si, err
	}
	if si.Header.Vid, err = str(h[2], hp+".Vid"); err != nil {
		return si, err
	}
	if si.ESID, err = str(els[1], path+".esID"); err != nil {
		return si, err
	}
	if si.Property, err = parseProperty(els[2], path+".property"); err != nil {
		return si, err
	}
	if si.Picture, err = parsePicture(els[3], path+".picture"); err != nil {
		return si, err
	}
	if len(els) == 5 {
		if si.ExtDatas, err = parseExtDatas(els[4], path+".extDatas"); err != nil {
			return si, err
		}
	}
	return si, nil
}

func parseProperty(e elem, path string) (PropertyInfo, error) {
	var p PropertyInfo
	els, err := sequence(e, path)
	if err != nil {
		return p, err
	}
	if len(els) != 6 && len(els) != 7 {
		return p, fieldErr(path, "SES_ESPropertyInfo has %d elements, want 7 (GB/T 38540) or 6 (GM/T 0031)", len(els))
	}
	if p.Type, err = smallInt(els[0], path+".type"); err != nil {
		return p, err
	}
	if p.Name, err = str(els[1], path+".name"); err != nil {
		return p, err
	}
	i := 2
	if len(els) == 7 {
		if p.CertListType, err = smallInt(els[2], path+".certListType"); err != nil {
			return p, err
		}
		if p.CertListType != CertListCerts && p.CertListType != CertListDigests {
			return p, fieldErr(path+".certListType", "is %d, want 1 (certificates) or 2 (digests)", p.CertListType)
		}
		i = 3
	}
	lp := path + ".certList"
	list, err := sequence(els[i], lp)
	if err != nil {
		return p, err
	}
	for j, c := range list {
		cp := lp + "[" + itoa(j) + "]"
		switch {
		case p.CertListType == CertListDigests:
			d, err := sequence(c, cp)
			if err != nil {
				return p, err
			}
			if len(d) != 2 {
				return p, fieldErr(cp, "CertDigestObj has %d elements, want 2 (type, value)", len(d))
			}
			var cd CertDigest
			if cd.Type, err = str(d[0], cp+".type"); err != nil {
				return p, err
			}
			if cd.Value, err = octets(d[1], cp+".value"); err != nil {
				return p, err
			}
			p.CertDigests = append(p.CertDigests, cd)
		case c.tag == asn1.OCTET_STRING:
			p.Certs = append(p.Certs, c.body)
		case c.tag == asn1.SEQUENCE: // a certificate written directly, without the OCTET STRING
			p.Certs = append(p.Certs, c.raw)
		default:
			p.Unrecognised = append(p.Unrecognised, c.raw)
		}
	}
	names := []string{".createDate", ".validStart", ".validEnd"}
	dates := []*timePtr{{&p.CreateDate}, {&p.ValidStart}, {&p.ValidEnd}}
	for k := 0; k < 3; k++ {
		t, err := timeValue(els[i+1+k], path+names[k])
		if err != nil {
			return p, err
		}
		*dates[k].t = t
	}
	return p, nil
}

func parsePicture(e elem, path string) (PictureInfo, error) {
	var p PictureInfo
	els, err := sequence(e, path)
	if err != nil {
		return p, err
	}
	if len(els) != 4 {
		return p, fieldErr(path, "SES_ESPictrueInfo has %d elements, want 4 (type, data, width, height)", len(els))
	}
	if p.Type, err = str(els[0], path+".type"); err != nil {
		return p, err
	}
	if p.Data, err = octets(els[1], path+".data"); err != nil {
		return p, err
	}
	if p.Width, err = smallInt(els[2], path+".width"); err != nil {
		return p, err
	}
	if p.Height, err = smallInt(els[3], path+".height"); err != nil {
		return p, err
	}
	return p, nil
}

// parseExtDatas reads ExtensionDatas: an untagged SEQUENCE OF ExtData (real seals) or the same
// wrapped in [0] (EXPLICIT, ofdrw and the Shandong signature) or [0] IMPLICIT.
func parseExtDatas(e elem, path string) ([]ExtData, error) {
	list := e
	if e.tag == tag0 {
		inner, err := children(e, path)
		if err != nil {
			return nil, err
		}
		if len(inner) == 1 && inner[0].tag == asn1.SEQUENCE {
			if sub, err := children(inner[0], path); err == nil && (len(sub) == 0 || sub[0].tag == asn1.SEQUENCE) {
				list = inner[0] // EXPLICIT: [0] { SEQUENCE OF ExtData }
			}
		}
		if list.tag == tag0 { // IMPLICIT: [0] holds the ExtData elements directly
			list = elem{tag: asn1.SEQUENCE, raw: e.raw, body: e.body}
		}
	}
	els, err := sequence(list, path)
	if err != nil {
		return nil, err
	}
	out := make([]ExtData, 0, len(els))
	for j, x := range els {
		xp := path + "[" + itoa(j) + "]"
		f, err := sequence(x, xp)
		if err != nil {
			return nil, err
		}
		if len(f) < 2 || len(f) > 3 {
			return nil, fieldErr(xp, "ExtData has %d elements, want 2 or 3 (extnID, critical, extnValue)", len(f))
		}
		var d ExtData
		if d.ID, err = oid(f[0], xp+".extnID"); err != nil {
			return nil, err
		}
		k := 1
		if len(f) == 3 {
			if d.Critical, err = boolean(f[1], xp+".critical"); err != nil {
				return nil, err
			}
			k = 2
		}
		if d.Value, err = octets(f[k], xp+".extnValue"); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// ParseSignature decodes a DER SES_Signature of version 1 or 4 (and ofdrw's 5).
func ParseSignature(der []byte) (*Signature, error) {
	const path = "SES_Signature"
	if len(der) == 0 {
		return nil, &FieldError{Field: path, Err: errEmpty}
	}
	e, err := splitOne(der, path)
	if err != nil {
		return nil, err
	}
	els, err := sequence(e, path)
	if err != nil {
		return nil, err
	}
	sig := &Signature{Raw: e.raw}
	tp := path + ".toSign"
	switch len(els) {
	case 2:
		sig.Format = V1
		if sig.TBS, err = parseTBS(els[0], tp, V1); err != nil {
			return nil, err
		}
		if sig.Value, _, err = bits(els[1], path+".signature"); err != nil {
			return nil, err
		}
		sig.Cert, sig.SignAlg = sig.TBS.Cert, sig.TBS.SignAlg
	case 4, 5:
		sig.Format = V4
		if sig.TBS, err = parseTBS(els[0], tp, V4); err != nil {
			return nil, err
		}
		if sig.Cert, err = octets(els[1], path+".cert"); err != nil {
			return nil, err
		}
		if sig.SignAlg, err = oid(els[2], path+".signatureAlgID"); err != nil {
			return nil, err
		}
		if sig.Value, _, err = bits(els[3], path+".signature"); err != nil {
			return nil, err
		}
		if len(els) == 5 {
			if sig.TimeStamp, err = timeStampField(els[4], path+".timeStamp"); err != nil {
				return nil, err
			}
		}
	default:
		return nil, fieldErr(path, "SES_Signature has %d elements; want 2 (GM/T 0031) or 4-5 (GB/T 38540)", len(els))
	}
	return sig, nil
}

func parseTBS(e elem, path string, format int) (TBSSign, error) {
	var t TBSSign
	els, err := sequence(e, path)
	if err != nil {
		return t, err
	}
	t.Raw = e.raw
	if format == V1 && len(els) != 7 {
		return t, fieldErr(path, "GM/T 0031 TBS_Sign has %d elements, want 7 (version, eseal, timeInfo, dataHash, propertyInfo, cert, signatureAlgorithm)", len(els))
	}
	if format == V4 && (len(els) < 5 || len(els) > 6) {
		return t, fieldErr(path, "GB/T 38540 TBS_Sign has %d elements, want 5 or 6 (version, eseal, timeInfo, dataHash, propertyInfo[, extDatas])", len(els))
	}
	if t.Version, err = smallInt(els[0], path+".version"); err != nil {
		return t, err
	}
	if t.Seal, err = parseSeal(els[1], path+".eseal"); err != nil {
		return t, err
	}
	tp := path + ".timeInfo"
	switch els[2].tag {
	case asn1.GeneralizedTime, asn1.UTCTime:
		if t.TimeInfo, err = timeValue(els[2], tp); err != nil {
			return t, err
		}
	case asn1.BIT_STRING, asn1.OCTET_STRING:
		// GM/T 0031: "time stamp or UTCTime" in a BIT STRING. Seen: ASCII text; possibly a DER
		// time; anything else is kept as text for the report.
		b, _, err := bits(els[2], tp)
		if err != nil {
			return t, err
		}
		if inner, err := splitOne(b, tp); err == nil && (inner.tag == asn1.UTCTime || inner.tag == asn1.GeneralizedTime) {
			t.TimeInfo, _ = timeValue(inner, tp)
		} else if tm, ok := textTime(string(b)); ok {
			t.TimeInfo = tm
		}
		t.TimeText = printable(b)
	default:
		return t, fieldErr(tp, "expected GeneralizedTime, UTCTime or BIT STRING, got %s", tagName(els[2].tag))
	}
	if t.DataHash, _, err = bits(els[3], path+".dataHash"); err != nil {
		return t, err
	}
	if t.PropertyInfo, err = str(els[4], path+".propertyInfo"); err != nil {
		return t, err
	}
	if format == V1 {
		if t.Cert, err = octets(els[5], path+".cert"); err != nil {
			return t, err
		}
		if t.SignAlg, err = oid(els[6], path+".signatureAlgorithm"); err != nil {
			return t, err
		}
	} else if len(els) == 6 {
		if t.ExtDatas, err = parseExtDatas(els[5], path+".extDatas"); err != nil {
			return t, err
		}
	}
	return t, nil
}

type timePtr struct{ t *time.Time }

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

func printable(b []byte) string {
	out := make([]rune, 0, len(b))
	for _, c := range b {
		if c >= 0x20 && c < 0x7f {
			out = append(out, rune(c))
		} else {
			out = append(out, '.')
		}
	}
	return clip(string(out), 64)
}
