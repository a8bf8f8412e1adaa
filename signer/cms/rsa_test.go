package cms

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"testing"

	"sealdesk/signer"
)

// The big-number RSA path (for exponents crypto/rsa refuses) must agree with crypto/rsa on
// signatures crypto/rsa makes, and reject altered ones.
func TestRSABigPath(t *testing.T) {
	id, _ := testIdentity(t, signer.RSA)
	key := id.Signer.(*rsa.PrivateKey)
	pub := &key.PublicKey
	dg := sha256.Sum256([]byte("big path"))
	v15, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, dg[:])
	if err != nil {
		t.Fatal(err)
	}
	if err := verifyPKCS1Big(pub, signer.SHA256, dg[:], v15); err != nil {
		t.Fatalf("PKCS#1 v1.5: %v", err)
	}
	if err := verifyPKCS1Big(pub, signer.SHA384, dg[:], v15); err == nil {
		t.Fatal("PKCS#1 v1.5 accepted for another digest algorithm")
	}
	for _, salt := range []int{32, 20, 64} {
		pss, err := rsa.SignPSS(rand.Reader, key, crypto.SHA256, dg[:], &rsa.PSSOptions{SaltLength: salt})
		if err != nil {
			t.Fatal(err)
		}
		if err := verifyPSSBig(pub, signer.SHA256, dg[:], pss, salt); err != nil {
			t.Fatalf("PSS salt %d: %v", salt, err)
		}
		if err := verifyPSSBig(pub, signer.SHA256, dg[:], pss, salt+1); err == nil {
			t.Fatalf("PSS salt %d accepted with salt %d", salt, salt+1)
		}
		other := sha256.Sum256([]byte("other"))
		if err := verifyPSSBig(pub, signer.SHA256, other[:], pss, salt); err == nil {
			t.Fatal("PSS accepted for another digest")
		}
	}
	for i := 0; i < len(v15); i += 17 {
		bad := bytes.Clone(v15)
		bad[i] ^= 1
		if verifyPKCS1Big(pub, signer.SHA256, dg[:], bad) == nil {
			t.Fatalf("altered PKCS#1 v1.5 signature (byte %d) accepted", i)
		}
	}
	// A mislabelled algorithm is diagnosed from the signature block.
	if why := describePKCS1Mismatch(pub, SHA3256, v15); why == "" {
		t.Fatal("no diagnosis for a SHA-256 signature labelled SHA3-256")
	}
}

// A certificate with a negative serial parses with its original bytes and serial.
func TestNegativeSerialCertificate(t *testing.T) {
	id, _ := testIdentity(t, signer.ECDSA)
	der := bytes.Clone(id.Certificate.Raw)
	// The serial follows "A0 03 02 01 02" (version v3): 02 len value.
	i := bytes.Index(der, []byte{0xa0, 0x03, 0x02, 0x01, 0x02, 0x02})
	if i < 0 {
		t.Fatal("serial not found")
	}
	der[i+7] |= 0x80 // now negative
	c, err := parseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	if c.SerialNumber.Sign() >= 0 || !bytes.Equal(c.Raw, der) || !bytes.Contains(der, c.RawTBSCertificate) ||
		!bytes.Equal(c.RawIssuer, id.Certificate.RawIssuer) {
		t.Fatalf("serial %v, raw fields not taken from the original", c.SerialNumber)
	}
}
