package server_test

import (
	"context"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/emmansun/gmsm/smx509"

	"sealdesk/hub/api"
	"sealdesk/hub/client"
	"sealdesk/hub/hubtest"
	"sealdesk/hub/server"
	"sealdesk/signer"
	"sealdesk/signer/pki"
	"sealdesk/signer/ses"
)

// TestSESFilingAndBlobVerify files a real SES seal by its DER (facts read by signer/ses) and
// verifies real SES signatures made with it, intact and tampered.
func TestSESFilingAndBlobVerify(t *testing.T) {
	env := hubtest.Start(t, "sqlite", server.Options{ParseSeal: server.SESParser, VerifyBlob: server.SESVerifier})
	ctx := context.Background()
	chain, err := pki.NewChain(signer.SM2, "SES Hub Test")
	if err != nil {
		t.Fatal(err)
	}
	maker, err := chain.Issue(pki.Template{Kind: pki.SealMaker, CommonName: "Seal Maker"})
	if err != nil {
		t.Fatal(err)
	}
	signerPair, err := chain.Issue(pki.Template{Kind: pki.Signer, CommonName: "SES Signer", Org: env.A.ID})
	if err != nil {
		t.Fatal(err)
	}
	pic, err := ses.GeneratePicture(ses.PictureOptions{RingText: "Org A", BottomText: "Contract", SizePx: 120})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	sealDER, err := ses.MakeSeal(ses.SealSpec{ESID: "44030000000777", Name: "Org A contract seal", SignerCerts: []*smx509.Certificate{signerPair.Cert},
		ValidStart: now.Add(-time.Hour), ValidEnd: now.AddDate(1, 0, 0), PictureType: "png", Picture: pic, WidthMM: 40, HeightMM: 40,
		Maker: maker.Key, MakerCert: maker.Cert})
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := client.New(env.URL, client.Options{Token: env.A.Token})
	seal, err := ca.FileSeal(ctx, api.FileSealRequest{Seal: sealDER, FilingNumber: "F-SES-1", OwnerUSCC: env.A.USCC})
	if err != nil {
		t.Fatal(err)
	}
	if seal.ESID != "44030000000777" || seal.Name != "Org A contract seal" || len(seal.CertSHA256) != 1 || !seal.HasSealObject ||
		!seal.ValidEnd.Equal(now.AddDate(1, 0, 0)) {
		t.Fatalf("filed from the seal object: %+v", seal)
	}
	_, err = ca.FileSeal(ctx, api.FileSealRequest{Seal: sealDER, ESID: "other", FilingNumber: "F-SES-2", OwnerUSCC: env.A.USCC})
	if he, ok := err.(*api.Error); !ok || he.Code != api.CodeInvalidField {
		t.Fatalf("esId disagreeing with the seal object: %v", err)
	}
	_, err = ca.FileSeal(ctx, api.FileSealRequest{Seal: []byte("not a seal"), FilingNumber: "F-SES-3", OwnerUSCC: env.A.USCC})
	if he, ok := err.(*api.Error); !ok || he.Code != api.CodeInvalidField {
		t.Fatalf("garbage seal object: %v", err)
	}

	cont, err := ses.NewContainer(ses.SignOptions{Seal: sealDER, Identity: pki.Identity(signerPair, chain, "signer"), PropertyInfo: "Doc_0/Signs/Sign_0/Signature.xml"})
	if err != nil {
		t.Fatal(err)
	}
	h, _ := cont.Digest().New()
	h.Write([]byte("the protected data"))
	blob, err := cont.Build(ctx, h.Sum(nil))
	if err != nil {
		t.Fatal(err)
	}
	res, err := ca.Verify(ctx, api.VerifyRequest{Signature: blob})
	if err != nil {
		t.Fatal(err)
	}
	if res.Crypto.Result != api.VerdictOK || res.Crypto.SealID != "44030000000777" || res.Verdict != api.VerdictOK ||
		res.Seal == nil || res.StatusAtSigning != api.StatusActive {
		t.Fatalf("intact SES blob: %+v", res)
	}
	bad := append([]byte(nil), blob...)
	bad[len(bad)-5] ^= 0xff // inside the signer's signature value
	res, err = ca.Verify(ctx, api.VerifyRequest{Signature: bad})
	if err != nil {
		t.Fatal(err)
	}
	if res.Crypto.Result != api.VerdictFailed || res.Verdict != api.VerdictFailed {
		t.Fatalf("tampered SES blob: %+v", res.Crypto)
	}
	d := sha256.Sum256([]byte("x"))
	res, err = ca.Verify(ctx, api.VerifyRequest{Signature: d[:], SealID: env.A.SealID})
	if err != nil || res.Crypto.Result != api.VerdictUnknown {
		t.Fatalf("non-SES blob: %+v %v", res, err)
	}
}
