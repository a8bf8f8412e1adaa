package pdf

import (
	"bytes"
	"context"
	"image"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/emmansun/gmsm/smx509"

	"sealdesk/document"
	"sealdesk/signer"
	"sealdesk/signer/pki"
	"sealdesk/signer/ses"
)

// testSigner is a test PKI chain with a leaf identity and an SES seal binding it.
type testSigner struct {
	chain *pki.Chain
	leaf  *pki.Pair
	id    *signer.Identity
	seal  []byte
}

var (
	signersMu sync.Mutex
	signers   = map[signer.KeyAlgorithm]*testSigner{}
	picOnce   sync.Once
	picImg    image.Image
	picPNG    []byte
)

func sealPicture(t testing.TB) (image.Image, []byte) {
	picOnce.Do(func() {
		img, err := ses.DrawPicture(ses.PictureOptions{RingText: "测试科技有限公司", BottomText: "合同专用章", SizePx: 300})
		if err != nil {
			t.Fatal(err)
		}
		picImg = img
		picPNG, _ = ses.GeneratePicture(ses.PictureOptions{RingText: "测试科技有限公司", BottomText: "合同专用章", SizePx: 300})
	})
	return picImg, picPNG
}

func getSigner(t testing.TB, a signer.KeyAlgorithm) *testSigner {
	signersMu.Lock()
	defer signersMu.Unlock()
	if s, ok := signers[a]; ok {
		return s
	}
	chain, err := pki.NewChain(a, "SealDesk PDF Test")
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := chain.Issue(pki.Template{Kind: pki.Signer, CommonName: "PDF Signer " + string(a), Org: "SealDesk PDF Test"})
	if err != nil {
		t.Fatal(err)
	}
	s := &testSigner{chain: chain, leaf: leaf, id: pki.Identity(leaf, chain, "test")}
	maker, err := pki.NewChain(signer.SM2, "SealDesk Seal Maker")
	if err != nil {
		t.Fatal(err)
	}
	mk, err := maker.Issue(pki.Template{Kind: pki.SealMaker, CommonName: "Seal Maker"})
	if err != nil {
		t.Fatal(err)
	}
	_, png := sealPicture(t)
	s.seal, err = ses.MakeSeal(ses.SealSpec{ESID: "11010000000001", Name: "测试合同专用章", SignerCerts: []*smx509.Certificate{leaf.Cert},
		ValidEnd: time.Now().AddDate(2, 0, 0), PictureType: "png", Picture: png, WidthMM: 40, HeightMM: 40,
		Maker: mk.Key, MakerCert: mk.Cert})
	if err != nil {
		t.Fatal(err)
	}
	signers[a] = s
	return s
}

// signBytes signs in with the request and returns the output.
func signBytes(t testing.TB, in []byte, req *document.SignRequest) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := Sign(context.Background(), bytes.NewReader(in), int64(len(in)), req, &out); err != nil {
		t.Fatalf("sign: %v", err)
	}
	if !bytes.Equal(out.Bytes()[:len(in)], in) {
		t.Fatal("the signed output does not start with the original bytes")
	}
	return out.Bytes()
}

func request(t testing.TB, a signer.KeyAlgorithm, profile document.Profile, stamps ...document.Stamp) *document.SignRequest {
	s := getSigner(t, a)
	img, _ := sealPicture(t)
	return &document.SignRequest{Profile: profile, Identity: s.id, Seal: s.seal, Picture: img, PictureW: 40, PictureH: 40,
		Stamps: stamps, Reason: "同意", Location: "北京", Time: time.Now()}
}

func writeTemp(t testing.TB, name string, b []byte) string {
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func samplePages(n int) []SamplePage {
	var ps []SamplePage
	for i := 0; i < n; i++ {
		ps = append(ps, SamplePage{W: 595, H: 842, Lines: []SampleLine{{X: 72, Y: 700, Size: 14, Text: "合同正文 page text"}}})
	}
	return ps
}
