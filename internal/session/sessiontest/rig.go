// Package sessiontest builds what tests of the application core and the app need: a fake
// PKCS#11 token (signer/token.Fake) holding an SM2 signer, its chain, and an SES seal that binds
// it, made by a test seal maker — the same shapes as a real USB key, without a device.
package sessiontest

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/emmansun/gmsm/smx509"

	"sealdesk/signer"
	"sealdesk/signer/pki"
	"sealdesk/signer/ses"
	"sealdesk/signer/token"
)

var _ signer.KeyStore = (*Rig)(nil)

// PIN is the rig token's user PIN.
const PIN = "123456"

// Rig is a fake token with a signer, its chain and a seal.
type Rig struct {
	Fake    *token.Fake
	Token   *token.FakeToken
	Label   string
	Chain   *pki.Chain
	Signer  *pki.Pair
	Seal    []byte // DER SES v4 seal binding Signer
	SealID  string
	RootPEM []byte
	opens   atomic.Int32
}

// New makes a rig whose token is labelled label.
func New(label string) (*Rig, error) {
	ch, err := pki.NewChain(signer.SM2, "Session Test")
	if err != nil {
		return nil, err
	}
	sp, err := ch.Issue(pki.Template{Kind: pki.Signer, CommonName: "测试签章人", Org: "Session Test"})
	if err != nil {
		return nil, err
	}
	maker, err := ch.Issue(pki.Template{Kind: pki.SealMaker, CommonName: "测试制章人", Org: "Session Test"})
	if err != nil {
		return nil, err
	}
	pic, err := ses.GeneratePicture(ses.PictureOptions{RingText: "会话测试单位", BottomText: "合同专用章"})
	if err != nil {
		return nil, err
	}
	now := time.Now()
	// 14 digits, like the registry's seal codes.
	esid := fmt.Sprintf("99%012d", now.UnixNano()%1e12)
	der, err := ses.MakeSeal(ses.SealSpec{
		Version: ses.V4, ESID: esid, Type: 1, Name: "会话测试 合同专用章", Vid: "SealDesk",
		SignerCerts: []*smx509.Certificate{sp.Cert},
		CreateDate:  now, ValidStart: now.Add(-time.Hour), ValidEnd: now.AddDate(1, 0, 0),
		PictureType: ses.PicturePNG, Picture: pic, WidthMM: 40, HeightMM: 40,
		Maker: maker.Key, MakerCert: maker.Cert,
	})
	if err != nil {
		return nil, err
	}
	f := token.NewFake("fake-module")
	tok := f.AddToken(label, []byte(PIN))
	tok.AddIdentity("合同签章", []byte{1}, sp.Key, sp.Cert, ch.Certs())
	tok.AddSeal(der)
	return &Rig{Fake: f, Token: tok, Label: label, Chain: ch, Signer: sp, Seal: der, SealID: esid,
		RootPEM: pki.PEM(ch.Root.Cert)}, nil
}

// Identities lists the token's identity (a signer.KeyStore over the fake module).
func (r *Rig) Identities(ctx context.Context) ([]*signer.Identity, error) {
	return r.Fake.Identities(ctx)
}

// Open logs in, counting the logins (a batch must log in once).
func (r *Rig) Open(ctx context.Context, uri string, pin []byte) (*signer.Identity, error) {
	r.opens.Add(1)
	return r.Fake.Open(ctx, uri, pin)
}

// Logins counts the calls of Open.
func (r *Rig) Logins() int { return int(r.opens.Load()) }

// Watch starts a token watcher over the fake module, polling every 20 ms until ctx ends.
func (r *Rig) Watch(ctx context.Context) token.Source {
	return token.NewWatcher(ctx, []token.Lister{r.Fake}, token.WatchOptions{Interval: 20 * time.Millisecond})
}

// URI is the token identity's key URI.
func (r *Rig) URI(ctx context.Context) (string, error) {
	ids, err := r.Fake.Identities(ctx)
	if err != nil {
		return "", err
	}
	if len(ids) == 0 {
		return "", fmt.Errorf("the fake token %q lists no identity", r.Label)
	}
	return ids[0].URI, nil
}
