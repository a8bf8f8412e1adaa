package ofdsig

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/emmansun/gmsm/smx509"

	"sealdesk/document"
	"sealdesk/document/ofd"
	"sealdesk/signer"
	"sealdesk/signer/pki"
	"sealdesk/signer/ses"
)

// TestNonSM2Refused: an ECDSA or RSA key signs an OFD only when asked for explicitly; the
// refusal says why (other OFD readers hash with SM3 and would call the file tampered), in
// Chinese and English, and writes nothing. Allowed explicitly, the signature verifies here.
func TestNonSM2Refused(t *testing.T) {
	in := ofd.SampleContract(1).Bytes()
	for _, alg := range []signer.KeyAlgorithm{signer.ECDSA, signer.RSA} {
		t.Run(string(alg), func(t *testing.T) {
			chain, err := pki.NewChain(alg, "SealDesk OFD NonSM2 Test")
			if err != nil {
				t.Fatal(err)
			}
			sp, err := chain.Issue(pki.Template{Kind: pki.Signer, CommonName: "OFD " + string(alg) + " Signer"})
			if err != nil {
				t.Fatal(err)
			}
			// The seal maker is SM2 (as GB/T 38540 wants); the seal binds the non-SM2 signer.
			sm2, err := pki.NewChain(signer.SM2, "SealDesk OFD NonSM2 Maker")
			if err != nil {
				t.Fatal(err)
			}
			mk, err := sm2.Issue(pki.Template{Kind: pki.SealMaker, CommonName: "Maker"})
			if err != nil {
				t.Fatal(err)
			}
			seal, err := ses.MakeSeal(ses.SealSpec{Version: ses.V4, ESID: fmt.Sprintf("SD-NONSM2-%s", alg), Name: "测试章",
				SignerCerts: []*smx509.Certificate{sp.Cert}, ValidEnd: time.Now().AddDate(1, 0, 0),
				PictureType: "png", Picture: redSquarePNG(), WidthMM: 40, HeightMM: 40, Maker: mk.Key, MakerCert: mk.Cert})
			if err != nil {
				t.Fatal(err)
			}
			req := &document.SignRequest{Profile: document.ProfileOFDSES4, Identity: pki.Identity(sp, chain, "k"), Seal: seal,
				Stamps: []document.Stamp{{Page: 0, Rect: document.Rect{X: 30, Y: 40, W: 40, H: 40}}}}
			var out bytes.Buffer
			err = SignWith(context.Background(), bytes.NewReader(in), int64(len(in)), req, nil, &out)
			var ne *document.NonSM2Error
			if !errors.As(err, &ne) || ne.Algorithm != alg {
				t.Fatalf("signing an OFD with %s: got %v, want a NonSM2Error", alg, err)
			}
			if out.Len() != 0 {
				t.Errorf("the refusal wrote %d bytes", out.Len())
			}
			for _, want := range []string{"SM3", "tampered", "--allow-non-sm2"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("English reason lacks %q: %s", want, err)
				}
			}
			for _, want := range []string{"SM3", "篡改", "SM2 密钥", "--allow-non-sm2"} {
				if !strings.Contains(ne.Text(true), want) {
					t.Errorf("Chinese reason lacks %q: %s", want, ne.Text(true))
				}
			}
			req.AllowNonSM2 = true
			signed := signBytes(t, in, req, nil)
			rep := verifyBytes(t, signed, &document.VerifyOptions{TrustPEM: append(pki.PEM(chain.Root.Cert, chain.Intermediate.Cert), pki.PEM(sm2.Root.Cert, sm2.Intermediate.Cert)...), Offline: true})
			if len(rep.Signatures) != 1 || rep.Signatures[0].Integrity != document.OK {
				t.Fatalf("explicitly allowed %s signature: %+v", alg, rep.Signatures)
			}
		})
	}
}
