package cms

import (
	"context"
	"crypto"
	"crypto/rand"
	"encoding/asn1"
	"strings"
	"testing"

	"sealdesk/signer"
)

// TestVerifyVariants covers the encodings other producers write: SM2 under sigAlg 301.1,
// 501, 301 and id-ecPublicKey; raw r‖s values; SubjectKeyIdentifier signer IDs; attached
// content without signed attributes (GB/T 35275 hash-attached, also RSA/ECDSA).
func TestVerifyVariants(t *testing.T) {
	ctx := context.Background()
	content := []byte("variant content")
	for _, oid := range []asn1.ObjectIdentifier{OIDSM2Sign, OIDSM3WithSM2, oidSM2Curve, oidECPublicKey} {
		id, _ := testIdentity(t, signer.SM2)
		dg := digestOf(t, signer.SM3, content)
		der, err := Sign(ctx, dg, Options{Identity: id, sigAlgOverride: oid})
		if err != nil {
			t.Fatal(err)
		}
		sd, _ := Parse(der)
		if r := sd.Verify(dg, VerifyOptions{}); !r.OK {
			t.Errorf("SM2 with sigAlg %s: %v", oid, r.Err())
		}
	}
	// id-ecPublicKey with a P-256 key is ECDSA; SM2's OIDs with a P-256 key are refused.
	idE, _ := testIdentity(t, signer.ECDSA)
	dgE := digestOf(t, signer.SHA256, content)
	for oid, ok := range map[string]bool{"1.2.840.10045.2.1": true, "1.2.156.10197.1.501": false} {
		o := parseOID(t, oid)
		der, _ := Sign(ctx, dgE, Options{Identity: idE, sigAlgOverride: o})
		sd, _ := Parse(der)
		if r := sd.Verify(dgE, VerifyOptions{}); r.OK != ok {
			t.Errorf("ECDSA key with sigAlg %s: ok=%v, want %v (%v)", oid, r.OK, ok, r.Err())
		}
	}
	for _, a := range allAlgs {
		id, _ := testIdentity(t, a)
		d := signer.DefaultDigest(a)
		dg := digestOf(t, d, content)
		// Raw r‖s.
		if a != signer.RSA {
			der, _ := Sign(ctx, dg, Options{Identity: id, rawECSignature: true})
			sd, _ := Parse(der)
			if n := len(sd.SignerInfos[0].Signature); n != 64 {
				t.Fatalf("raw signature has %d bytes", n)
			}
			if r := sd.Verify(dg, VerifyOptions{}); !r.OK {
				t.Errorf("%s raw r‖s: %v", a, r.Err())
			}
		}
		// Subject key identifier.
		der, err := Sign(ctx, dg, Options{Identity: id, SubjectKeyID: true})
		if err != nil {
			t.Fatal(err)
		}
		sd, _ := Parse(der)
		if sd.Version != 3 || sd.SignerInfos[0].SubjectKeyID == nil {
			t.Fatalf("%s: SKI signer not written", a)
		}
		if r := sd.Verify(dg, VerifyOptions{}); !r.OK || r.Signer == nil {
			t.Errorf("%s SKI: %v", a, r.Err())
		}
		// Attached, no signed attributes: the signature covers the content itself.
		hash := digestOf(t, d, []byte("Signature.xml bytes"))
		der, err = SignEncapsulated(ctx, OIDGMData, hash, Options{Identity: id, Style: GM, noSignedAttrs: true})
		if err != nil {
			t.Fatal(err)
		}
		sd, _ = Parse(der)
		if sd.SignerInfos[0].RawSignedAttrs != nil {
			t.Fatal("signed attributes written")
		}
		if r := sd.Verify(nil, VerifyOptions{ExpectContent: hash}); !r.OK {
			t.Errorf("%s hash-attached: %v", a, r.Err())
		}
		if r := sd.Verify(nil, VerifyOptions{ExpectContent: digestOf(t, d, []byte("other"))}); r.OK {
			t.Errorf("%s hash-attached accepted for other content", a)
		}
	}
}

func parseOID(t *testing.T, s string) asn1.ObjectIdentifier {
	var o asn1.ObjectIdentifier
	for _, part := range splitDots(s) {
		n := 0
		for _, c := range part {
			n = n*10 + int(c-'0')
		}
		o = append(o, n)
	}
	return o
}

func splitDots(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '.' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return out
}

// TestSM2WithoutZ: a signature over SM3(attributes) without Z fails with a message naming it.
func TestSM2WithoutZ(t *testing.T) {
	id, p := testIdentity(t, signer.SM2)
	dg := digestOf(t, signer.SM3, []byte("no z"))
	der, err := Sign(context.Background(), dg, Options{Identity: id})
	if err != nil {
		t.Fatal(err)
	}
	sd, _ := Parse(der)
	si := &sd.SignerInfos[0]
	e := digestOf(t, signer.SM3, si.RawSignedAttrs)
	si.Signature, err = p.leaf.Key.Sign(rand.Reader, e, crypto.Hash(0)) // no Z
	if err != nil {
		t.Fatal(err)
	}
	r := sd.Verify(dg, VerifyOptions{})
	if c := r.Check(CheckSignature); r.OK || c.Status != Failed || !strings.Contains(c.Message, "without Z") {
		t.Fatalf("Z-less SM2 signature: %+v", c)
	}
}
