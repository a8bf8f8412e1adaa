//go:build cgo

package token

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"encoding/asn1"
	"math/big"
	"strings"
	"testing"

	"github.com/emmansun/gmsm/sm2"
	"github.com/miekg/pkcs11"

	"sealdesk/signer"
	"sealdesk/signer/pki"
)

// TestSM2Plumbing checks the SM2 path as far as SoftHSM2 allows. SoftHSM2 has no SM2
// mechanism, but it stores an EC key on the SM2 curve and signs with CKM_ECDSA over it; with
// CKM_ECDSA configured as the "vendor SM2 mechanism" this proves that the configured number
// is used, that e goes in unchanged and that r‖s comes back as DER — everything but the SM2
// algorithm itself, which needs a real SM2 token.
func TestSM2Plumbing(t *testing.T) {
	mod := softHSM(t)
	ctx := context.Background()
	plain, err := OpenModule(mod)
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	if err := plain.InitToken(ctx, "SM2 Key", []byte("12345678"), []byte(testPIN)); err != nil {
		t.Fatal(err)
	}
	ch, err := pki.NewChain(signer.SM2, "SM2 Plumbing")
	if err != nil {
		t.Fatal(err)
	}
	p, err := ch.Issue(pki.Template{Kind: pki.Signer, CommonName: "sm2 on token"})
	if err != nil {
		t.Fatal(err)
	}
	k := p.Key.(*sm2.PrivateKey)
	curveOID, _ := asn1.Marshal(asn1.ObjectIdentifier{1, 2, 156, 10197, 1, 301})
	err = plain.withUserSession(ctx, "SM2 Key", []byte(testPIN), func(c *pkcs11.Ctx, sess pkcs11.SessionHandle) error {
		if _, err := c.CreateObject(sess, []*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_PRIVATE_KEY),
			pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true),
			pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, true),
			pkcs11.NewAttribute(pkcs11.CKA_SIGN, true),
			pkcs11.NewAttribute(pkcs11.CKA_ID, []byte{9}),
			pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_EC),
			pkcs11.NewAttribute(pkcs11.CKA_EC_PARAMS, curveOID),
			pkcs11.NewAttribute(pkcs11.CKA_VALUE, k.D.FillBytes(make([]byte, 32))),
		}); err != nil {
			return err
		}
		return createCert(c, sess, "signer-sm2", []byte{9}, p.Cert)
	})
	if err != nil {
		t.Fatal(err)
	}
	ids, err := plain.Identities(ctx)
	if err != nil || len(ids) != 1 || ids[0].Algorithm != signer.SM2 {
		t.Fatalf("identities %v %v", ids, err)
	}
	e, err := signer.SM2Digest(p.Cert.PublicKey, []byte("document"))
	if err != nil {
		t.Fatal(err)
	}

	// Without a configured mechanism: a clear error, nothing sent to the token.
	id, err := plain.Open(ctx, ids[0].URI, []byte(testPIN))
	if err != nil {
		t.Fatal(err)
	}
	_, err = id.Signer.Sign(rand.Reader, e, nil)
	if err == nil || !strings.Contains(err.Error(), "no SM2 mechanism configured") {
		t.Fatalf("unconfigured SM2: %v", err)
	}
	id.Close()

	mod.SM2 = &SM2Mechanisms{Sign: pkcs11.CKM_ECDSA}
	st, err := OpenModule(mod)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	id, err = st.Open(ctx, ids[0].URI, []byte(testPIN))
	if err != nil {
		t.Fatal(err)
	}
	defer id.Close()
	if _, err := id.Signer.Sign(rand.Reader, e[:20], nil); err == nil {
		t.Fatal("a 20-byte e was accepted")
	}
	sig, err := id.Signer.Sign(rand.Reader, e, nil)
	if err != nil {
		t.Fatal(err)
	}
	var rs struct{ R, S *big.Int }
	if rest, err := asn1.Unmarshal(sig, &rs); err != nil || len(rest) > 0 {
		t.Fatalf("not a DER SEQUENCE{r, s}: %x", sig)
	}
	if !ecdsaVerifyGeneric(p.Cert.PublicKey.(*ecdsa.PublicKey), e, rs.R, rs.S) {
		t.Fatal("the token's r‖s over e does not verify (as ECDSA on the SM2 curve)")
	}
	other := append([]byte{}, e...)
	other[0] ^= 1
	if ecdsaVerifyGeneric(p.Cert.PublicKey.(*ecdsa.PublicKey), other, rs.R, rs.S) {
		t.Fatal("the check accepts a signature over another digest")
	}
}

// ecdsaVerifyGeneric is textbook ECDSA verification on any elliptic.Curve (the SM2 curve
// here), for the stand-in mechanism above.
func ecdsaVerifyGeneric(pub *ecdsa.PublicKey, digest []byte, r, s *big.Int) bool {
	c := pub.Curve
	n := c.Params().N
	if r.Sign() <= 0 || s.Sign() <= 0 || r.Cmp(n) >= 0 || s.Cmp(n) >= 0 {
		return false
	}
	e := new(big.Int).SetBytes(digest)
	w := new(big.Int).ModInverse(s, n)
	u1 := new(big.Int).Mod(new(big.Int).Mul(e, w), n)
	u2 := new(big.Int).Mod(new(big.Int).Mul(r, w), n)
	x1, y1 := c.ScalarBaseMult(u1.Bytes())
	x2, y2 := c.ScalarMult(pub.X, pub.Y, u2.Bytes())
	x, _ := c.Add(x1, y1, x2, y2)
	return new(big.Int).Mod(x, n).Cmp(r) == 0
}
