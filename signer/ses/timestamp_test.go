package ses

import (
	"context"
	"testing"
	"time"

	"sealdesk/signer"
	"sealdesk/signer/pki"
	"sealdesk/signer/tsa"
)

// TestTimeStamp signs a v4 signature with a timeStamp from the in-process test TSA and checks
// that the token is verified, bound to the signature value and used as the signing time.
func TestTimeStamp(t *testing.T) {
	p := getPKI(t)
	ts, err := tsa.StartTest(signer.SM2)
	if err != nil {
		t.Fatal(err)
	}
	defer ts.Close()
	seal, err := MakeSeal(p.spec(V4, signer.SM2))
	if err != nil {
		t.Fatal(err)
	}
	claimed := time.Now().Add(-10 * time.Minute) // the claimed time differs from the TSA's
	c, err := NewContainer(SignOptions{Seal: seal, Identity: pki.Identity(p.signers[signer.SM2], nil, "sm2"),
		PropertyInfo: "/Doc_0/Signs/Sign_0/Signature.xml", Time: claimed, TSA: Stamper(ts.Client, signer.SM3)})
	if err != nil {
		t.Fatal(err)
	}
	content := []byte("stamped")
	der, err := c.Build(context.Background(), hashWith(signer.SM3, content))
	if err != nil {
		t.Fatal(err)
	}
	if len(der) > c.MaxSize() {
		t.Errorf("%d bytes > MaxSize %d", len(der), c.MaxSize())
	}
	sig, err := ParseSignature(der)
	if err != nil {
		t.Fatal(err)
	}
	if len(sig.TimeStamp) == 0 {
		t.Fatal("no timeStamp in the signature")
	}
	r := VerifySignature(context.Background(), sig, VerifyOptions{Content: content})
	requireOK(t, r)
	if r.TimeSource != "timestamp" || time.Since(r.SignedAt) > time.Minute {
		t.Fatalf("signing time %v from %s, want the TSA's time", r.SignedAt, r.TimeSource)
	}

	// A token over another value (here: a different signature's) fails, with a reason.
	other, err := ParseSignature(p.sign(t, V4, seal, signer.SM2, content))
	if err != nil {
		t.Fatal(err)
	}
	other.TimeStamp = sig.TimeStamp
	r = VerifySignature(context.Background(), other, VerifyOptions{Content: content})
	if c := r.Get(CheckTimeStamp); c == nil || c.Status != Failed || c.Code != "ses.timestamp-invalid" {
		t.Fatalf("foreign timestamp: %+v", c)
	}
	if r.TimeSource != "claimed" {
		t.Fatal("a failed timestamp must not supply the signing time")
	}
}
