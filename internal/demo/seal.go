package demo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/emmansun/gmsm/smx509"

	"sealdesk/signer"
	"sealdesk/signer/ses"
)

func init() {
	RegisterStep(Step{Order: 30, Name: "SES seal", Run: makeSeal})
}

// DemoSealName is the name of the demo workspace's seal.
const DemoSealName = "SealDesk 演示单位 合同专用章"

// makeSeal makes one GB/T 38540 (v4) seal binding the signer certificates of every algorithm,
// signed by the demo seal maker, with a generated 42 mm round picture. It is written to
// seal.esl and next to each signer keystore (keys/signer-<alg>.esl), so whichever key signs
// finds a seal that binds it.
func makeSeal(ctx context.Context, ws *Workspace) error {
	if ws.Maker == nil || len(ws.Signers) == 0 {
		return errors.New("the seal needs the seal maker and signers of the PKI step")
	}
	var certs []*smx509.Certificate
	var algs []signer.KeyAlgorithm
	validEnd := time.Now().AddDate(2, 0, 0)
	for _, a := range []signer.KeyAlgorithm{signer.SM2, signer.ECDSA, signer.RSA} {
		if s := ws.Signers[a]; s != nil {
			certs = append(certs, s.Cert)
			algs = append(algs, a)
			if s.Cert.NotAfter.Before(validEnd) {
				validEnd = s.Cert.NotAfter
			}
		}
	}
	if ws.Signers[ws.Algo] == nil {
		return fmt.Errorf("no %s signer to bind", ws.Algo)
	}
	// A seal must not outlive the certificates it binds or the maker's.
	if ws.Maker.Cert.NotAfter.Before(validEnd) {
		validEnd = ws.Maker.Cert.NotAfter
	}
	pic, err := ses.GeneratePicture(ses.PictureOptions{RingText: "SealDesk 演示单位", BottomText: "合同专用章"})
	if err != nil {
		return err
	}
	now := time.Now()
	der, err := ses.MakeSeal(ses.SealSpec{
		Version: ses.V4,
		// 14 characters like real seal codes (6-digit region + 8); "SD" marks a demo seal.
		ESID: "SD" + now.UTC().Format("060102150405"),
		Type: 1, Name: DemoSealName, Vid: "SealDesk",
		SignerCerts: certs,
		CreateDate:  now, ValidStart: now, ValidEnd: validEnd,
		PictureType: ses.PicturePNG, Picture: pic, WidthMM: 42, HeightMM: 42,
		Maker: ws.Maker.Key, MakerCert: ws.Maker.Cert,
	})
	if err != nil {
		return err
	}
	ws.Seal = der
	if err := os.WriteFile(ws.Path("seal.esl"), der, 0o644); err != nil {
		return err
	}
	ws.Manifest.Seals = append(ws.Manifest.Seals, "seal.esl")
	ws.Manifest.Files["seal"] = "seal.esl"
	for _, a := range algs {
		rel := filepath.Join("keys", "signer-"+string(a)+".esl")
		if err := os.MkdirAll(filepath.Dir(ws.Path(rel)), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(ws.Path(rel), der, 0o644); err != nil {
			return err
		}
		ws.Manifest.Seals = append(ws.Manifest.Seals, filepath.ToSlash(rel))
	}
	return nil
}
