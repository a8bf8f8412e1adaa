package trust

import (
	"context"
	"testing"
	"time"

	"github.com/emmansun/gmsm/smx509"

	"sealdesk/signer"
	"sealdesk/signer/pki"
)

// BenchmarkCheckCached measures a full SM2 check (chain, validity, key usage, OCSP for the leaf
// and CRL for the intermediate) once both answers are cached: the cost of verifying the
// cached OCSP response and CRL signatures, not of the network.
func BenchmarkCheckCached(b *testing.B) {
	ca := newTestCA(b, signer.SM2)
	leaf := ca.leaf(b, "bench", true, false)
	v, err := NewVerifier(Config{Roots: pki.PEM(ca.root.Cert)})
	if err != nil {
		b.Fatal(err)
	}
	inters := []*smx509.Certificate{ca.inter.Cert}
	if r := v.Check(context.Background(), leaf.Cert, inters, time.Now()); r.Status() != OK {
		b.Fatalf("%+v", r)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if r := v.Check(context.Background(), leaf.Cert, inters, time.Now()); r.Status() != OK {
			b.Fatalf("%+v", r)
		}
	}
}
