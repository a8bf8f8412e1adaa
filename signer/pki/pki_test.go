package pki

import (
	"testing"

	"github.com/emmansun/gmsm/smx509"

	"sealdesk/signer"
)

func TestChainsVerify(t *testing.T) {
	for _, a := range []signer.KeyAlgorithm{signer.SM2, signer.ECDSA, signer.RSA} {
		t.Run(string(a), func(t *testing.T) {
			c, err := NewChain(a, "SealDesk")
			if err != nil {
				t.Fatal(err)
			}
			leaf, err := c.Issue(Template{Kind: Signer, CommonName: "测试单位 " + string(a)})
			if err != nil {
				t.Fatal(err)
			}
			roots, inter := smx509.NewCertPool(), smx509.NewCertPool()
			roots.AddCert(c.Root.Cert)
			inter.AddCert(c.Intermediate.Cert)
			if _, err := leaf.Cert.Verify(smx509.VerifyOptions{Roots: roots, Intermediates: inter,
				KeyUsages: []smx509.ExtKeyUsage{smx509.ExtKeyUsageAny}}); err != nil {
				t.Fatalf("chain does not verify: %v", err)
			}
			got, err := signer.AlgorithmOf(leaf.Cert.PublicKey)
			if err != nil || got != a {
				t.Fatalf("algorithm %q, %v; want %q", got, err, a)
			}
			if leaf.Cert.SerialNumber.Cmp(c.Intermediate.Cert.SerialNumber) == 0 {
				t.Fatal("serial numbers repeat")
			}
		})
	}
}
