package document_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"image"
	"image/png"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emmansun/gmsm/smx509"

	"sealdesk/document"
	"sealdesk/document/ofd"
	"sealdesk/document/ofd/ofdsig"
	"sealdesk/document/pdf"
	"sealdesk/signer"
	"sealdesk/signer/pki"
	"sealdesk/signer/ses"
)

// TestSESParity builds SES signatures that fail one check each — the seal maker's signature,
// the seal's validity, a seal that does not bind the signer, the data hash, the signature
// value, the time-stamp — puts each into a PDF (pdf-ses) and an OFD (ofd-ses4), and requires
// the same problem code, the same facts and the same indication from both verifiers (one SES
// → report mapping, ses.Result.Report).
func TestSESParity(t *testing.T) {
	ctx := context.Background()
	chain, err := pki.NewChain(signer.SM2, "SealDesk Parity Test")
	if err != nil {
		t.Fatal(err)
	}
	issue := func(kind pki.Kind, cn string) *pki.Pair {
		p, err := chain.Issue(pki.Template{Kind: kind, CommonName: cn, Org: "SealDesk Parity Test"})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	sp, other, mk := issue(pki.Signer, "Parity Signer"), issue(pki.Signer, "Other Signer"), issue(pki.SealMaker, "Parity Maker")
	id := pki.Identity(sp, chain, "parity")
	var pic bytes.Buffer
	img := image.NewNRGBA(image.Rect(0, 0, 64, 64))
	for i := range img.Pix {
		if i%4 == 0 || i%4 == 3 {
			img.Pix[i] = 0xff
		}
	}
	png.Encode(&pic, img)
	makeSeal := func(esid string, bound *smx509.Certificate, start, end time.Time) []byte {
		der, err := ses.MakeSeal(ses.SealSpec{ESID: esid, Name: "一致性测试章", SignerCerts: []*smx509.Certificate{bound},
			CreateDate: start, ValidStart: start, ValidEnd: end, PictureType: "png", Picture: pic.Bytes(), WidthMM: 40, HeightMM: 40,
			Maker: mk.Key, MakerCert: mk.Cert})
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	now := time.Now()
	good := makeSeal("SD-PARITY-1", sp.Cert, now.AddDate(0, 0, -1), now.AddDate(1, 0, 0))
	// The maker's signature over the seal, one bit flipped (the seal still parses).
	forged := bytes.Clone(good)
	parsed, err := ses.ParseSeal(good)
	if err != nil {
		t.Fatal(err)
	}
	k := bytes.LastIndex(forged, parsed.Value)
	if k < 0 {
		t.Fatal("maker signature not found in the seal")
	}
	forged[k+len(parsed.Value)-1] ^= 1
	expired := makeSeal("SD-PARITY-2", sp.Cert, now.AddDate(-3, 0, 0), now.AddDate(-1, 0, 0))
	othersSeal := makeSeal("SD-PARITY-3", other.Cert, now.AddDate(0, 0, -1), now.AddDate(1, 0, 0))

	// build returns a function that makes the SES_Signature for a data hash.
	build := func(seal []byte, tsa ses.TimeStamper, swapSeal []byte, mutate func(digest, der []byte) ([]byte, []byte)) func([]byte, string) []byte {
		return func(digest []byte, propertyInfo string) []byte {
			c, err := ses.NewContainer(ses.SignOptions{Seal: seal, Identity: id, PropertyInfo: propertyInfo, TSA: tsa})
			if err != nil {
				t.Fatal(err)
			}
			if swapSeal != nil {
				// NewContainer refuses a seal that does not bind the signer; the test signs with
				// one anyway by swapping the seal after the check.
				s, err := ses.ParseSeal(swapSeal)
				if err != nil {
					t.Fatal(err)
				}
				*c.Seal() = *s
			}
			if mutate != nil {
				digest, _ = mutate(bytes.Clone(digest), nil)
			}
			der, err := c.Build(ctx, digest)
			if err != nil {
				t.Fatal(err)
			}
			if mutate != nil {
				_, der = mutate(nil, der)
			}
			return der
		}
	}
	flipHash := func(d, der []byte) ([]byte, []byte) {
		if d != nil {
			d[0] ^= 1
		}
		return d, der
	}
	flipValue := func(d, der []byte) ([]byte, []byte) {
		if der != nil {
			der[len(der)-1] ^= 1 // the last byte of the signature value BIT STRING
		}
		return d, der
	}
	badTSA := func(context.Context, []byte) ([]byte, error) { return []byte("not a time-stamp token"), nil }

	cases := []struct {
		name, code string
		red        bool
		seal       []byte // the seal the signature carries (OFD also stores it as Seal.esl)
		make       func([]byte, string) []byte
	}{
		{"maker signature", "ses.seal-signature-invalid", true, forged, build(forged, nil, nil, nil)},
		{"seal validity", "ses.seal-validity-unproven", false, expired, build(expired, nil, nil, nil)},
		{"signer not bound", "ses.signer-not-in-seal", true, othersSeal, build(good, nil, othersSeal, nil)},
		{"data hash", "ses.data-hash-mismatch", true, good, build(good, nil, nil, flipHash)},
		{"signature value", "ses.signature-invalid", true, good, build(good, nil, nil, flipValue)},
		{"time stamp", "ses.timestamp-invalid", false, good, build(good, badTSA, nil, nil)},
	}
	req := func(p document.Profile, seal []byte) *document.SignRequest {
		return &document.SignRequest{Profile: p, Identity: id, Seal: seal, Picture: img, PictureW: 40, PictureH: 40,
			Stamps: []document.Stamp{{Page: 0, Rect: document.Rect{X: 30, Y: 40, W: 40, H: 40}}}, Time: now}
	}
	pdfIn := signWith(t, document.PDF, pdf.SampleContract(), req(document.ProfilePDFSES, good))
	ofdIn := ofd.SampleContract(1).Bytes()
	opts := &document.VerifyOptions{TrustPEM: pki.PEM(chain.Root.Cert, chain.Intermediate.Cert), Offline: true}

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// PDF: the placeholder of a signed file gets the failing container (the seal is only
			// inside it). OFD: signed through ofdsig with the failing container, so Seal.esl and
			// the references are what a signer with that seal writes.
			p := verify(t, document.PDF, replacePDFContents(t, pdfIn, c.make), opts)
			var ob bytes.Buffer
			err := ofdsig.SignWith(ctx, bytes.NewReader(ofdIn), int64(len(ofdIn)), req(document.ProfileOFDSES4, c.seal),
				&ofdsig.Options{Container: funcContainer(c.make)}, &ob)
			if err != nil {
				t.Fatal(err)
			}
			o := verify(t, document.OFD, ob.Bytes(), opts)
			for _, s := range []*document.SignatureReport{p, o} {
				if !s.HasCode(c.code) {
					t.Errorf("%s: no %s: %v", s.Profile, c.code, s.Problems)
				}
				if c.red != (s.Indication == document.IndicationInvalid) {
					t.Errorf("%s: indication %s (red expected: %v): %v", s.Profile, s.Indication, c.red, s.Problems)
				}
			}
			if p.Indication != o.Indication || p.Integrity != o.Integrity || p.Trust != o.Trust || (p.Seal == nil) != (o.Seal == nil) ||
				(p.Seal != nil && p.Seal.Checks != o.Seal.Checks) {
				t.Errorf("pdf-ses and ofd-ses4 disagree:\n pdf: %s integrity %s trust %s seal %+v\n ofd: %s integrity %s trust %s seal %+v",
					p.Indication, p.Integrity, p.Trust, p.Seal, o.Indication, o.Integrity, o.Trust, o.Seal)
			}
			if sesCodes(p) != sesCodes(o) {
				t.Errorf("different SES codes: pdf %s, ofd %s", sesCodes(p), sesCodes(o))
			}
		})
	}
}

func signWith(t *testing.T, f document.Format, in []byte, req *document.SignRequest) []byte {
	t.Helper()
	h, err := document.HandlerFor(f)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := h.Sign(context.Background(), bytes.NewReader(in), int64(len(in)), req, &out); err != nil {
		t.Fatalf("%s: %v", f, err)
	}
	return out.Bytes()
}

func verify(t *testing.T, f document.Format, b []byte, opts *document.VerifyOptions) *document.SignatureReport {
	t.Helper()
	h, err := document.HandlerFor(f)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := h.Verify(context.Background(), bytes.NewReader(b), int64(len(b)), opts)
	if err != nil {
		t.Fatal(err)
	}
	rep.Decide()
	if len(rep.Signatures) != 1 {
		t.Fatalf("%s: %d signatures", f, len(rep.Signatures))
	}
	for _, c := range document.UnknownCodes(rep) {
		t.Errorf("problem code %q is not in the table of codes", c)
	}
	return &rep.Signatures[0]
}

// sesCodes lists the report's ses.* codes, sorted.
func sesCodes(s *document.SignatureReport) string {
	var cs []string
	for _, p := range s.Problems {
		if strings.HasPrefix(p.Code, "ses.") {
			cs = append(cs, p.Code)
		}
	}
	return strings.Join(sortedUnique(cs), " ")
}

func sortedUnique(in []string) []string {
	m := map[string]bool{}
	var out []string
	for _, s := range in {
		if !m[s] {
			m[s] = true
			out = append(out, s)
		}
	}
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

var byteRangeRE = regexp.MustCompile(`/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]`)

// replacePDFContents puts make(digest of the signed ranges) into the /Contents placeholder of
// the (only) signature, as a signer would have.
func replacePDFContents(t *testing.T, in []byte, make func([]byte, string) []byte) []byte {
	t.Helper()
	m := byteRangeRE.FindSubmatch(in)
	if m == nil {
		t.Fatal("no /ByteRange")
	}
	var br [4]int
	for i := range br {
		br[i], _ = strconv.Atoi(string(m[i+1]))
	}
	h, _ := signer.SM3.New()
	h.Write(in[:br[1]])
	h.Write(in[br[2] : br[2]+br[3]])
	der := make(h.Sum(nil), "PDF")
	hx := []byte(strings.ToUpper(hex.EncodeToString(der)))
	slot := br[2] - br[1] - 2 // between '<' and '>'
	if len(hx) > slot {
		t.Fatalf("container of %d bytes does not fit the %d-byte placeholder", len(der), slot/2)
	}
	out := bytes.Clone(in)
	copy(out[br[1]+1:], hx)
	for i := br[1] + 1 + len(hx); i < br[2]-1; i++ {
		out[i] = '0'
	}
	return out
}

// funcContainer is an SES container that builds with a test's function; the OFD signer
// names the first signature's Signature.xml as its propertyInfo.
type funcContainer func([]byte, string) []byte

func (funcContainer) Digest() signer.DigestAlgorithm { return signer.SM3 }
func (funcContainer) MaxSize() int                   { return 32 << 10 }
func (f funcContainer) Build(_ context.Context, digest []byte) ([]byte, error) {
	return f(digest, "/Doc_0/Signs/Sign_0/Signature.xml"), nil
}
