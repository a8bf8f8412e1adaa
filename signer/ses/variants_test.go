package ses

import (
	"context"
	"encoding/asn1"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm3"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"sealdesk/signer"
)

// TestVariants builds v4 signatures the way other producers encode them (UTCTime timeInfo,
// OCTET STRING dataHash and value, untagged / [0] EXPLICIT / [0] IMPLICIT extDatas, raw r‖s),
// signs them properly and requires that they parse and verify.
func TestVariants(t *testing.T) {
	p := getPKI(t)
	spec := p.spec(V4, signer.SM2)
	spec.ExtDatas = []ExtData{{ID: asn1.ObjectIdentifier{1, 2, 156, 10197, 6, 7, 2, 2, 1}, Value: []byte("2.1")},
		{ID: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 54706, 1}, Critical: true, Value: []byte("x")}}
	seal, err := MakeSeal(spec)
	if err != nil {
		t.Fatal(err)
	}
	if s, err := ParseSeal(seal); err != nil || len(s.Info.ExtDatas) != 2 || !s.Info.ExtDatas[1].Critical || string(s.Info.ExtDatas[0].Value) != "2.1" {
		t.Fatalf("seal extDatas not preserved: %v %+v", err, s)
	}
	content := []byte("variant content")
	h := sm3.Sum(content)
	ext := func(b *cryptobyte.Builder) {
		addExtDatas(b, []ExtData{{ID: asn1.ObjectIdentifier{1, 2, 3}, Value: []byte("v")}})
	}
	type variant struct {
		name     string
		utc      bool
		octets   bool // OCTET STRING for dataHash and signature
		ext      string
		rawRS    bool
		wantCode string
	}
	for _, v := range []variant{
		{name: "standard"},
		{name: "utctime", utc: true},
		{name: "octet-strings", octets: true},
		{name: "extdatas-untagged", ext: "untagged"},
		{name: "extdatas-explicit", ext: "explicit"},
		{name: "extdatas-implicit", ext: "implicit"},
		{name: "raw-rs", rawRS: true, wantCode: "ses.raw-rs-variant"},
	} {
		t.Run(v.name, func(t *testing.T) {
			var tbs cryptobyte.Builder
			tbs.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1Int64(4)
				b.AddBytes(seal)
				if v.utc {
					b.AddASN1UTCTime(time.Now().UTC().Truncate(time.Second))
				} else {
					b.AddASN1GeneralizedTime(time.Now().UTC().Truncate(time.Second))
				}
				if v.octets {
					b.AddASN1OctetString(h[:])
				} else {
					b.AddASN1BitString(h[:])
				}
				b.AddASN1(cbasn1.IA5String, func(b *cryptobyte.Builder) { b.AddBytes([]byte("/Doc_0/Signs/Sign_0/Signature.xml")) })
				switch v.ext {
				case "untagged":
					ext(b)
				case "explicit":
					b.AddASN1(tag0, ext)
				case "implicit":
					b.AddASN1(tag0, func(b *cryptobyte.Builder) {
						b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
							b.AddASN1ObjectIdentifier(asn1.ObjectIdentifier{1, 2, 3})
							b.AddASN1OctetString([]byte("v"))
						})
					})
				}
			})
			tbsDER := tbs.BytesOrPanic()
			value, err := signer.SignSM2Message(p.signers[signer.SM2].Key, tbsDER)
			if err != nil {
				t.Fatal(err)
			}
			if v.rawRS {
				value = derToRaw(t, value)
			}
			var out cryptobyte.Builder
			out.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddBytes(tbsDER)
				b.AddASN1OctetString(p.signers[signer.SM2].Cert.Raw)
				b.AddASN1ObjectIdentifier(OIDSM3WithSM2)
				if v.octets {
					b.AddASN1OctetString(value)
				} else {
					b.AddASN1BitString(value)
				}
			})
			sig, err := ParseSignature(out.BytesOrPanic())
			if err != nil {
				t.Fatal(err)
			}
			if v.ext != "" && (len(sig.TBS.ExtDatas) != 1 || string(sig.TBS.ExtDatas[0].Value) != "v") {
				t.Fatalf("extDatas: %+v", sig.TBS.ExtDatas)
			}
			r := VerifySignature(context.Background(), sig, VerifyOptions{Content: content})
			requireOK(t, r)
			if c := r.Get(CheckSignatureValue); c.Code != v.wantCode {
				t.Fatalf("code %q, want %q", c.Code, v.wantCode)
			}
		})
	}
}

// TestFieldErrors checks that malformed input is rejected with the path of the field.
func TestFieldErrors(t *testing.T) {
	p := getPKI(t)
	seal, err := MakeSeal(p.spec(V4, signer.SM2))
	if err != nil {
		t.Fatal(err)
	}
	sigDER := p.sign(t, V4, seal, signer.SM2, []byte("x"))
	sig, _ := ParseSignature(sigDER)
	end := sig.TBS.Seal.Info.Property.ValidEnd.UTC()
	gt := []byte(end.Format("20060102150405Z"))

	replace := func(der, old, new []byte) []byte {
		i := strings.Index(string(der), string(old))
		if i < 0 {
			t.Fatalf("%q not found", old)
		}
		out := append([]byte{}, der[:i]...)
		out = append(out, new...)
		return append(out, der[i+len(old):]...)
	}
	// validEnd: GeneralizedTime (tag 0x18) turned into an INTEGER of the same length.
	bad := replace(sigDER, append([]byte{0x18, byte(len(gt))}, gt...), append([]byte{0x02, byte(len(gt))}, gt...))
	_, err = ParseSignature(bad)
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != "SES_Signature.toSign.eseal.eSealInfo.property.validEnd" {
		t.Fatalf("got %v", err)
	}
	if !strings.HasPrefix(err.Error(), "ses: SES_Signature.toSign.eseal.eSealInfo.property.validEnd: expected GeneralizedTime") {
		t.Fatalf("message %q", err)
	}
	// Header ID other than "ES".
	if _, err := ParseSeal(replace(seal, []byte{0x16, 2, 'E', 'S'}, []byte{0x16, 2, 'E', 'X'})); err == nil ||
		!strings.Contains(err.Error(), "SESeal.eSealInfo.header.ID") {
		t.Fatalf("header ID: %v", err)
	}
	// Truncation and trailing data.
	if _, err := ParseSeal(seal[:len(seal)-1]); err == nil {
		t.Fatal("truncated seal accepted")
	}
	if _, err := ParseSeal(append(append([]byte{}, seal...), 0)); err == nil || !strings.Contains(err.Error(), "trailing") {
		t.Fatalf("trailing byte: %v", err)
	}
	if _, err := ParseSignature(nil); err == nil {
		t.Fatal("empty input accepted")
	}
}
