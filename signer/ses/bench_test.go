package ses

import (
	"context"
	"testing"

	"github.com/emmansun/gmsm/sm3"

	"sealdesk/signer"
	"sealdesk/signer/pki"
)

// BenchmarkSESSign measures building one v4 SES_Signature with an in-memory SM2 key (one SM2
// signature plus the DER assembly; the seal carries a 600 px generated picture).
func BenchmarkSESSign(b *testing.B) {
	p := getPKI(b)
	spec := p.spec(V4, signer.SM2)
	pic, err := GeneratePicture(PictureOptions{RingText: "SealDesk 演示单位", BottomText: "合同专用章"})
	if err != nil {
		b.Fatal(err)
	}
	spec.Picture = pic
	seal, err := MakeSeal(spec)
	if err != nil {
		b.Fatal(err)
	}
	c, err := NewContainer(SignOptions{Seal: seal, Identity: pki.Identity(p.signers[signer.SM2], nil, "sm2"), PropertyInfo: "/Doc_0/Signs/Sign_0/Signature.xml"})
	if err != nil {
		b.Fatal(err)
	}
	h := sm3.Sum([]byte("data"))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.Build(context.Background(), h[:]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSESVerify measures parsing and fully verifying one v4 SM2 signature (two SM2
// verifications: signer and maker; certificate parsing; picture header check).
func BenchmarkSESVerify(b *testing.B) {
	p := getPKI(b)
	spec := p.spec(V4, signer.SM2)
	pic, _ := GeneratePicture(PictureOptions{RingText: "SealDesk 演示单位", BottomText: "合同专用章"})
	spec.Picture = pic
	seal, err := MakeSeal(spec)
	if err != nil {
		b.Fatal(err)
	}
	der := p.sign(b, V4, seal, signer.SM2, []byte("data"))
	h := sm3.Sum([]byte("data"))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s, err := ParseSignature(der)
		if err != nil {
			b.Fatal(err)
		}
		if r := VerifySignature(context.Background(), s, VerifyOptions{DataHash: h[:]}); r.Status() != OK {
			b.Fatal(r.Problems())
		}
	}
}
