package maker

import (
	"context"
	"crypto/sha256"
	"fmt"

	"github.com/emmansun/gmsm/smx509"

	"sealdesk/signer"
	"sealdesk/signer/pki"
	"sealdesk/signer/token"
)

// Labels of the hub's keys on its token.
const (
	CALabel    = "hub-ca"
	MakerLabel = "hub-maker"
)

// Provisioned names what Provision made.
type Provisioned struct {
	CAURI, MakerURI string
	CACert          *smx509.Certificate
	MakerCert       *smx509.Certificate
}

// Provision makes the hub's keys on its token (C_GenerateKeyPair; ECDSA P-256, as SoftHSM2
// has no SM2): the built-in CA's key with a self-signed CA certificate, and the seal maker's
// key with a certificate that CA issues. Neither private key ever leaves the token. For the
// demo and tests; a production hub gets its maker certificate from its CA.
func Provision(ctx context.Context, st *token.Store, tokenLabel string, pin []byte, org string) (*Provisioned, error) {
	mod := st.Module()
	toks, err := st.Tokens(ctx)
	if err != nil {
		return nil, err
	}
	var info *signer.TokenInfo
	for i := range toks {
		if toks[i].Label == tokenLabel {
			info = &toks[i]
		}
	}
	if info == nil {
		return nil, fmt.Errorf("no token %q in %s", tokenLabel, mod.Path)
	}
	// Generate both keys first and write the certificates last: every write session ends
	// with C_Logout, which logs out the sessions the signers below keep open too.
	type key struct {
		label, uri string
		id         []byte
	}
	var ks [2]key
	for i, label := range []string{CALabel, MakerLabel} {
		sum := sha256.Sum256([]byte(label))
		ks[i] = key{label: label, id: sum[:8], uri: token.KeyURI(mod, *info, label, sum[:8])}
		if _, err := st.GenerateKeyPair(ctx, tokenLabel, pin, label, ks[i].id, signer.ECDSA); err != nil {
			return nil, err
		}
	}
	caKey, err := st.OpenKey(ctx, ks[0].uri, pin)
	if err != nil {
		return nil, err
	}
	defer caKey.Close()
	mk, err := st.OpenKey(ctx, ks[1].uri, pin)
	if err != nil {
		return nil, err
	}
	defer mk.Close()
	ca, err := pki.Certify(caKey, pki.Template{Kind: pki.Root, CommonName: org + " Seal Hub CA", Org: org}, nil)
	if err != nil {
		return nil, err
	}
	mc, err := pki.Certify(mk, pki.Template{Kind: pki.SealMaker, CommonName: org + " Seal Maker", Org: org}, ca)
	if err != nil {
		return nil, err
	}
	caKey.Close()
	mk.Close()
	if err := st.ImportCertificate(ctx, tokenLabel, pin, CALabel, ks[0].id, ca.Cert); err != nil {
		return nil, err
	}
	if err := st.ImportCertificate(ctx, tokenLabel, pin, MakerLabel, ks[1].id, mc.Cert); err != nil {
		return nil, err
	}
	return &Provisioned{CAURI: ks[0].uri, MakerURI: ks[1].uri, CACert: ca.Cert, MakerCert: mc.Cert}, nil
}
