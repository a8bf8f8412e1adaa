package cms

import (
	"context"
	"testing"

	"sealdesk/signer"
)

var benchAlgs = []struct {
	name string
	alg  signer.KeyAlgorithm
}{{"RSA-2048", signer.RSA}, {"P-256", signer.ECDSA}, {"SM2", signer.SM2}}

// BenchmarkCMSSign: one detached PAdES SignedData from a precomputed digest (attributes,
// signature, assembly with a 3-certificate chain).
func BenchmarkCMSSign(b *testing.B) {
	for _, a := range benchAlgs {
		b.Run(a.name, func(b *testing.B) {
			id, _ := testIdentity(b, a.alg)
			dg := digestOf(b, signer.DefaultDigest(a.alg), []byte("bench"))
			o := Options{Identity: id, PAdES: true}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Sign(context.Background(), dg, o); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCMSVerify: Parse (incl. the 3 certificates) + Verify of the same signature.
func BenchmarkCMSVerify(b *testing.B) {
	for _, a := range benchAlgs {
		b.Run(a.name, func(b *testing.B) {
			id, _ := testIdentity(b, a.alg)
			dg := digestOf(b, signer.DefaultDigest(a.alg), []byte("bench"))
			der, err := Sign(context.Background(), dg, Options{Identity: id, PAdES: true})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				sd, err := Parse(der)
				if err != nil {
					b.Fatal(err)
				}
				if r := sd.Verify(dg, VerifyOptions{PAdES: true}); !r.OK {
					b.Fatal(r.Err())
				}
			}
		})
	}
}
