package ofdsig

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/smx509"

	"sealdesk/document"
	"sealdesk/signer"
	"sealdesk/signer/pki"
	"sealdesk/signer/ses"
)

// makeOFD builds a plain n-page OFD (one text line per page) for tests and benchmarks: the
// smallest package that has what signing touches (OFD.xml, Document.xml, a resource file,
// pages).
func makeOFD(t testing.TB, pages int) []byte {
	t.Helper()
	files := map[string]string{}
	var order []string
	add := func(name, body string) {
		files[name] = `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + body
		order = append(order, name)
	}
	add("OFD.xml", `<ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016" Version="1.0" DocType="OFD"><ofd:DocBody>`+
		`<ofd:DocInfo><ofd:DocID>5f3c1b0e2a4d4c6f8e9a0b1c2d3e4f50</ofd:DocID><ofd:Title>SealDesk test</ofd:Title></ofd:DocInfo>`+
		`<ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>`)
	var pg strings.Builder
	for i := 0; i < pages; i++ {
		fmt.Fprintf(&pg, `<ofd:Page ID="%d" BaseLoc="Pages/Page_%d/Content.xml"/>`, 10+i, i)
	}
	add("Doc_0/Document.xml", `<ofd:Document xmlns:ofd="http://www.ofdspec.org/2016"><ofd:CommonData>`+
		fmt.Sprintf(`<ofd:MaxUnitID>%d</ofd:MaxUnitID>`, 1000+pages)+
		`<ofd:PageArea><ofd:PhysicalBox>0 0 210 297</ofd:PhysicalBox></ofd:PageArea>`+
		`<ofd:PublicRes>PublicRes.xml</ofd:PublicRes></ofd:CommonData><ofd:Pages>`+pg.String()+`</ofd:Pages></ofd:Document>`)
	add("Doc_0/PublicRes.xml", `<ofd:Res xmlns:ofd="http://www.ofdspec.org/2016" BaseLoc="Res"><ofd:Fonts>`+
		`<ofd:Font ID="2" FontName="宋体" FamilyName="宋体"/></ofd:Fonts></ofd:Res>`)
	for i := 0; i < pages; i++ {
		add(fmt.Sprintf("Doc_0/Pages/Page_%d/Content.xml", i), `<ofd:Page xmlns:ofd="http://www.ofdspec.org/2016"><ofd:Content><ofd:Layer ID="3">`+
			fmt.Sprintf(`<ofd:TextObject ID="%d" Boundary="20 20 170 10" Font="2" Size="5"><ofd:TextCode X="0" Y="5">第%d页 合同 甲方（盖章）</ofd:TextCode></ofd:TextObject>`, 100+i, i+1)+
			`</ofd:Layer></ofd:Content></ofd:Page>`)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, n := range order {
		w, err := zw.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, files[n])
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// fixture is a signer with an SES seal binding it, issued by a test chain.
type fixture struct {
	chain   *pki.Chain
	id      *signer.Identity
	seal    map[int][]byte // by SES version
	root    []byte         // PEM of the trust anchor and the intermediate (SES carries no chain)
	picture []byte
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	chain, err := pki.NewChain(signer.SM2, "SealDesk OFD Test")
	if err != nil {
		t.Fatal(err)
	}
	sp, err := chain.Issue(pki.Template{Kind: pki.Signer, CommonName: "OFD Test Signer", Org: "SealDesk OFD Test"})
	if err != nil {
		t.Fatal(err)
	}
	mk, err := chain.Issue(pki.Template{Kind: pki.SealMaker, CommonName: "OFD Test Seal Maker", Org: "SealDesk OFD Test"})
	if err != nil {
		t.Fatal(err)
	}
	pic := redSquarePNG()
	f := &fixture{chain: chain, id: pki.Identity(sp, chain, "ofd test"), seal: map[int][]byte{}, picture: pic, root: pki.PEM(chain.Root.Cert, chain.Intermediate.Cert)}
	for _, v := range []int{ses.V4, ses.V1} {
		seal, err := ses.MakeSeal(ses.SealSpec{Version: v, ESID: fmt.Sprintf("SD-OFD-TEST-%d", v), Name: "SealDesk 测试专用章",
			SignerCerts: []*smx509.Certificate{sp.Cert}, ValidEnd: time.Now().AddDate(1, 0, 0),
			PictureType: "png", Picture: pic, WidthMM: 40, HeightMM: 40, Maker: mk.Key, MakerCert: mk.Cert})
		if err != nil {
			t.Fatal(err)
		}
		f.seal[v] = seal
	}
	return f
}

// request signs page 1 at (30,40) with a 40 mm seal, and a cross-page strip pair on pages
// 1–2 when the document has two pages or more.
func (f *fixture) request(profile document.Profile, pages int) *document.SignRequest {
	v := ses.V4
	if profile == document.ProfileOFDSES1 {
		v = ses.V1
	}
	req := &document.SignRequest{Profile: profile, Identity: f.id, Seal: f.seal[v],
		Stamps: []document.Stamp{{Page: 0, Rect: document.Rect{X: 30, Y: 40, W: 40, H: 40}}}}
	if pages >= 2 {
		req.Stamps = append(req.Stamps,
			document.Stamp{Page: 0, Rect: document.Rect{X: 190, Y: 120, W: 40, H: 40}, Clip: document.Rect{X: 0, Y: 0, W: 20, H: 40}},
			document.Stamp{Page: 1, Rect: document.Rect{X: 170, Y: 120, W: 40, H: 40}, Clip: document.Rect{X: 20, Y: 0, W: 20, H: 40}})
	}
	return req
}

func signBytes(t testing.TB, in []byte, req *document.SignRequest, opts *Options) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := SignWith(context.Background(), bytes.NewReader(in), int64(len(in)), req, opts, &out); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func verifyBytes(t testing.TB, in []byte, opts *document.VerifyOptions) *document.VerifyReport {
	t.Helper()
	rep, err := Verify(context.Background(), bytes.NewReader(in), int64(len(in)), opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range document.UnknownCodes(rep) {
		t.Errorf("problem code %q is not in the table of codes (document.Codes, docs/CLI.md)", c)
	}
	return rep
}

func readCorpus(t testing.TB, corpus, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(corpus + "/ofd/" + rel)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// rezip rewrites a package: edit maps an entry name to new bytes (nil deletes it); add
// appends entries. Everything else is copied raw.
func rezip(t testing.TB, in []byte, edit map[string][]byte, add map[string][]byte) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(in), int64(len(in)))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range zr.File {
		if data, ok := edit[f.Name]; ok {
			if data == nil {
				continue
			}
			w, err := zw.Create(f.Name)
			if err != nil {
				t.Fatal(err)
			}
			w.Write(data)
			continue
		}
		if err := zw.Copy(f); err != nil {
			t.Fatal(err)
		}
	}
	names := make([]string, 0, len(add))
	for n := range add {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		w, err := zw.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(add[n])
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// entry returns the bytes of one zip entry.
func entry(t testing.TB, pkg []byte, name string) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(pkg), int64(len(pkg)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		if f.Name == name {
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			b, err := io.ReadAll(rc)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
	}
	t.Fatalf("no entry %s", name)
	return nil
}

// codes lists the problem codes of a signature report.
func codes(r document.SignatureReport) []string {
	var out []string
	for _, p := range r.Problems {
		out = append(out, p.Code)
	}
	return out
}

func hasCode(r document.SignatureReport, code string) bool {
	for _, p := range r.Problems {
		if p.Code == code {
			return true
		}
	}
	return false
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// entryOrNil returns the bytes of one zip entry, or false.
func entryOrNil(pkg []byte, name string) ([]byte, bool) {
	zr, err := zip.NewReader(bytes.NewReader(pkg), int64(len(pkg)))
	if err != nil {
		return nil, false
	}
	for _, f := range zr.File {
		if f.Name == name {
			rc, err := f.Open()
			if err != nil {
				return nil, false
			}
			defer rc.Close()
			b, err := io.ReadAll(rc)
			return b, err == nil
		}
	}
	return nil, false
}

// redSquarePNG is a small seal picture; drawing a real one (ses.GeneratePicture) costs more
// than the rest of a fixture, which fuzz workers rebuild at every start.
func redSquarePNG() []byte {
	img := image.NewNRGBA(image.Rect(0, 0, 16, 16))
	for i := 0; i < 16*16; i++ {
		img.Pix[4*i], img.Pix[4*i+3] = 0xd0, 0xff
	}
	var b bytes.Buffer
	png.Encode(&b, img)
	return b.Bytes()
}

func sm3Sum(b []byte) []byte { s := sm3.Sum(b); return s[:] }
