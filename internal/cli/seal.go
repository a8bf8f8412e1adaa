package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/emmansun/gmsm/smx509"

	"sealdesk/document"
	"sealdesk/signer"
	"sealdesk/signer/keys"
	"sealdesk/signer/ses"
	"sealdesk/signer/trust"
)

func init() {
	Register(&Command{
		Path:  []string{"seal", "show"},
		Usage: "FILE [--json] [--picture-out FILE] [--check] [--trust ROOTS.pem [--offline]]",
		Short: "show an SES seal (v1 or v4) or the seal inside an SES signature file",
		Run:   runSealShow,
	})
	Register(&Command{
		Path:  []string{"seal", "make"},
		Usage: "--maker-key URI --signer-cert PEM... --name N --esid ID (--picture F | --generate) --out FILE",
		Short: "make an SES seal signed by a seal-maker key",
		Run:   runSealMake,
	})
}

// certJSON is how seal show describes a certificate.
type certJSON struct {
	Subject   string `json:"subject"`
	Issuer    string `json:"issuer"`
	Serial    string `json:"serial"`
	Algorithm string `json:"algorithm"`
	NotBefore string `json:"notBefore"`
	NotAfter  string `json:"notAfter"`
	SHA256    string `json:"sha256"`
	Error     string `json:"error,omitempty"`
}

type sealShowJSON struct {
	File         string         `json:"file"`
	Kind         string         `json:"kind"` // seal | signature
	Version      int            `json:"version"`
	HeaderVer    int            `json:"headerVersion"`
	Vendor       string         `json:"vendor"`
	ESID         string         `json:"esID"`
	Name         string         `json:"name"`
	Type         int            `json:"type"`
	CreateDate   string         `json:"createDate"`
	ValidStart   string         `json:"validStart"`
	ValidEnd     string         `json:"validEnd"`
	CertListType int            `json:"certListType"`
	Certs        []certJSON     `json:"certs"`
	CertDigests  []digestJSON   `json:"certDigests,omitempty"`
	Unrecognised int            `json:"unrecognisedCertListEntries,omitempty"`
	Picture      pictureJSON    `json:"picture"`
	Maker        certJSON       `json:"maker"`
	SignAlg      string         `json:"signAlg"`
	ExtDatas     []extJSON      `json:"extDatas,omitempty"`
	Signature    *signatureJSON `json:"signature,omitempty"`
	Checks       []ses.Check    `json:"checks"`
	Status       ses.Status     `json:"status"`
	// With --trust: the maker's and (for signatures) the signer's certificate against the roots.
	MakerTrust  *trustJSON `json:"makerTrust,omitempty"`
	SignerTrust *trustJSON `json:"signerTrust,omitempty"`
}

type trustJSON struct {
	Status         trust.Status    `json:"status"`
	Chain          trust.Status    `json:"chain"`
	ValidAtSigning trust.Status    `json:"validAtSigning"`
	ValidNow       trust.Status    `json:"validNow"`
	KeyUsage       trust.Status    `json:"keyUsage"`
	Revocation     trust.Status    `json:"revocation"`
	At             string          `json:"at"`
	Problems       []trust.Problem `json:"problems"`
}

func trustResult(r *trust.Result) *trustJSON {
	return &trustJSON{Status: r.Status(), Chain: r.ChainStatus, ValidAtSigning: r.ValidAtSigning, ValidNow: r.ValidNow,
		KeyUsage: r.KeyUsage, Revocation: r.Revocation, At: r.At.UTC().Format(time.RFC3339), Problems: r.Problems}
}

type digestJSON struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

type pictureJSON struct {
	Format   string  `json:"format"`
	Declared string  `json:"declaredType"`
	Bytes    int     `json:"bytes"`
	WidthMM  float64 `json:"widthMM"`
	HeightMM float64 `json:"heightMM"`
	WidthPx  int     `json:"widthPx,omitempty"`
	HeightPx int     `json:"heightPx,omitempty"`
}

type extJSON struct {
	ID       string `json:"id"`
	Critical bool   `json:"critical"`
	Value    string `json:"value"`
}

type signatureJSON struct {
	Version      int      `json:"version"`
	TimeInfo     string   `json:"timeInfo"`
	TimeText     string   `json:"timeText,omitempty"`
	DataHash     string   `json:"dataHash"`
	PropertyInfo string   `json:"propertyInfo"`
	SignAlg      string   `json:"signAlg"`
	Signer       certJSON `json:"signer"`
	TimeStamp    bool     `json:"timeStamp"`
}

func describeCert(der []byte) certJSON {
	sum := sha256.Sum256(der)
	cj := certJSON{SHA256: hex.EncodeToString(sum[:])}
	c, nonConforming, err := ses.ParseCertificate(der)
	if err != nil {
		cj.Error = err.Error()
		return cj
	}
	if nonConforming != nil {
		cj.Error = "not RFC 5280-conforming, read leniently: " + nonConforming.Error()
	}
	cj.Subject = c.Subject.String()
	cj.Issuer = c.Issuer.String()
	cj.Serial = c.SerialNumber.Text(16)
	if a, err := signer.AlgorithmOf(c.PublicKey); err == nil {
		cj.Algorithm = string(a)
	}
	cj.NotBefore = c.NotBefore.UTC().Format(time.RFC3339)
	cj.NotAfter = c.NotAfter.UTC().Format(time.RFC3339)
	return cj
}

func printable(b []byte) string {
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			return hex.EncodeToString(b)
		}
	}
	return string(b)
}

func runSealShow(ctx context.Context, env *Env) error {
	fs := FlagSet(env, "seal show", "FILE [--json] [--picture-out FILE] [--check] [--trust ROOTS.pem [--offline]]")
	asJSON := fs.Bool("json", false, "print one JSON object")
	picOut := fs.String("picture-out", "", "also write the seal picture to `file` (png/jpg/gif/bmp/ofd as stored)")
	check := fs.Bool("check", false, "exit 1 when a seal (or signature) check fails")
	trustFile := fs.String("trust", "", "PEM `file` of trust anchors (self-signed) and CA certificates: also check the maker's (and signer's) certificate chain")
	offline := fs.Bool("offline", false, "with --trust: no OCSP/CRL fetches (revocation is then unknown unless cached)")
	pos, err := Parse(fs, env.Args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return Usagef("seal show takes one FILE (an SES seal such as seal.esl, or an SES signature such as SignedValue.dat)")
	}
	der, err := os.ReadFile(pos[0])
	if err != nil {
		return Usagef("cannot read %s: %v", pos[0], err)
	}
	der = pemOrDER(der)
	out := sealShowJSON{File: pos[0], Kind: "seal"}
	var seal *ses.Seal
	var res *ses.Result
	seal, sealErr := ses.ParseSeal(der)
	if sealErr != nil {
		sig, sigErr := ses.ParseSignature(der)
		if sigErr != nil {
			return Usagef("%s is neither an SES seal (%v) nor an SES signature (%v)", pos[0], sealErr, sigErr)
		}
		out.Kind = "signature"
		seal = sig.TBS.Seal
		// The protected data is not at hand: data-hash stays "unknown".
		res = ses.VerifySignature(ctx, sig, ses.VerifyOptions{})
		out.Signature = &signatureJSON{
			Version:      sig.Version(),
			TimeInfo:     sig.TBS.TimeInfo.UTC().Format(time.RFC3339),
			TimeText:     sig.TBS.TimeText,
			DataHash:     hex.EncodeToString(sig.TBS.DataHash),
			PropertyInfo: sig.TBS.PropertyInfo,
			SignAlg:      ses.AlgorithmName(sig.SignAlg),
			Signer:       describeCert(sig.Cert),
			TimeStamp:    len(sig.TimeStamp) > 0,
		}
	} else {
		res = ses.VerifySeal(seal, time.Now())
	}
	info := seal.Info
	p := info.Property
	out.Version, out.HeaderVer, out.Vendor = seal.Version(), info.Header.Version, info.Header.Vid
	out.ESID, out.Name, out.Type = info.ESID, p.Name, p.Type
	out.CreateDate = p.CreateDate.UTC().Format(time.RFC3339)
	out.ValidStart = p.ValidStart.UTC().Format(time.RFC3339)
	out.ValidEnd = p.ValidEnd.UTC().Format(time.RFC3339)
	out.CertListType = p.CertListType
	out.Certs = []certJSON{}
	for _, c := range p.Certs {
		out.Certs = append(out.Certs, describeCert(c))
	}
	for _, d := range p.CertDigests {
		out.CertDigests = append(out.CertDigests, digestJSON{Type: d.Type, Value: hex.EncodeToString(d.Value)})
	}
	out.Unrecognised = len(p.Unrecognised)
	format, data, w, h := ses.Picture(seal)
	out.Picture = pictureJSON{Format: format, Declared: info.Picture.Type, Bytes: len(data), WidthMM: w, HeightMM: h}
	if img, err := ses.DecodePicture(seal); err == nil {
		out.Picture.WidthPx, out.Picture.HeightPx = img.Bounds().Dx(), img.Bounds().Dy()
	}
	out.Maker = describeCert(seal.MakerCert)
	out.SignAlg = ses.AlgorithmName(seal.SignAlg)
	for _, x := range info.ExtDatas {
		out.ExtDatas = append(out.ExtDatas, extJSON{ID: x.ID.String(), Critical: x.Critical, Value: printable(x.Value)})
	}
	out.Checks, out.Status = res.Checks, res.Status()

	if *trustFile != "" {
		roots, err := os.ReadFile(*trustFile)
		if err != nil {
			return Usagef("cannot read trust anchors: %v", err)
		}
		anchors, inter, rejected, err := trust.SplitBundleRejected(roots)
		if err != nil {
			return Usagef("%s: %v", *trustFile, err)
		}
		tv, err := trust.NewVerifier(trust.Config{Roots: anchors, Intermediates: inter, Rejected: rejected, Offline: *offline})
		if err != nil {
			return Usagef("%s: %v", *trustFile, err)
		}
		at := res.SignedAt
		if at.IsZero() {
			at = time.Now()
		}
		if res.MakerCert != nil {
			// The maker signs seals, not documents: its key usage is not the signer's rule.
			out.MakerTrust = trustResult(tv.CheckRequest(ctx, trust.Request{Leaf: res.MakerCert, At: at, SkipKeyUsage: true}))
		}
		if res.SignerCert != nil {
			out.SignerTrust = trustResult(tv.CheckRequest(ctx, trust.Request{Leaf: res.SignerCert, At: at, AtProven: res.TimeSource == "timestamp"}))
		}
	}

	if *picOut != "" {
		if err := document.WriteFileAtomic(*picOut, func(w io.Writer) error { _, err := w.Write(data); return err }); err != nil {
			return Usagef("cannot write the picture: %v", err)
		}
	}
	if *asJSON {
		if err := PrintJSON(env.Stdout, out); err != nil {
			return err
		}
	} else {
		printSeal(env.Stdout, &out)
	}
	failedTrust := (out.MakerTrust != nil && out.MakerTrust.Status == trust.Failed) || (out.SignerTrust != nil && out.SignerTrust.Status == trust.Failed)
	if *check && (out.Status == ses.Failed || failedTrust) {
		return Silent(ExitNo)
	}
	return nil
}

// pemOrDER accepts a PEM-armoured seal too (any block type), as some tools export them.
func pemOrDER(b []byte) []byte {
	if blk, _ := pem.Decode(b); blk != nil {
		return blk.Bytes
	}
	return b
}

func printSeal(w io.Writer, s *sealShowJSON) {
	kind := "SES seal"
	if s.Kind == "signature" {
		kind = "SES signature"
	}
	fmt.Fprintf(w, "%s: %s, version %d (header %d), vendor %q\n", s.File, kind, s.Version, s.HeaderVer, s.Vendor)
	fmt.Fprintf(w, "  seal       %s  (esID %s, type %d)\n", s.Name, s.ESID, s.Type)
	fmt.Fprintf(w, "  validity   %s … %s (made %s)\n", s.ValidStart, s.ValidEnd, s.CreateDate)
	fmt.Fprintf(w, "  maker      %s (%s, %s … %s)\n", s.Maker.Subject, s.SignAlg, s.Maker.NotBefore, s.Maker.NotAfter)
	for i, c := range s.Certs {
		if c.Error != "" {
			fmt.Fprintf(w, "  signer %d   unparsable certificate: %s (sha256 %s)\n", i+1, c.Error, c.SHA256)
			continue
		}
		fmt.Fprintf(w, "  signer %d   %s [%s] %s … %s\n", i+1, c.Subject, c.Algorithm, c.NotBefore, c.NotAfter)
	}
	for i, d := range s.CertDigests {
		fmt.Fprintf(w, "  signer %d   certificate digest %s:%s\n", i+1, d.Type, d.Value)
	}
	if s.Unrecognised > 0 {
		fmt.Fprintf(w, "  certList   %d entries that are not certificates\n", s.Unrecognised)
	}
	px := ""
	if s.Picture.WidthPx > 0 {
		px = fmt.Sprintf(", %d×%d px", s.Picture.WidthPx, s.Picture.HeightPx)
	}
	fmt.Fprintf(w, "  picture    %s, %d bytes, %g×%g mm%s\n", s.Picture.Format, s.Picture.Bytes, s.Picture.WidthMM, s.Picture.HeightMM, px)
	for _, x := range s.ExtDatas {
		fmt.Fprintf(w, "  extData    %s critical=%v %s\n", x.ID, x.Critical, x.Value)
	}
	if sg := s.Signature; sg != nil {
		fmt.Fprintf(w, "  signed     %s by %s (%s)\n", sg.TimeInfo, sg.Signer.Subject, sg.SignAlg)
		fmt.Fprintf(w, "  covers     %s, dataHash %s\n", sg.PropertyInfo, sg.DataHash)
		if sg.TimeStamp {
			fmt.Fprintf(w, "  timestamp  present\n")
		}
	}
	fmt.Fprintf(w, "  checks     %s\n", s.Status)
	for _, c := range s.Checks {
		mark := "✓"
		switch c.Status {
		case ses.Failed:
			mark = "✗"
		case ses.Unknown:
			mark = "?"
		}
		fmt.Fprintf(w, "    %s %-32s %s\n", mark, c.Name, c.Message)
	}
	for _, tj := range []struct {
		who string
		r   *trustJSON
	}{{"maker", s.MakerTrust}, {"signer", s.SignerTrust}} {
		if tj.r == nil {
			continue
		}
		fmt.Fprintf(w, "  %-6s trust %s (chain %s, valid at %s %s, now %s, key usage %s, revocation %s)\n", tj.who, tj.r.Status,
			tj.r.Chain, tj.r.At, tj.r.ValidAtSigning, tj.r.ValidNow, tj.r.KeyUsage, tj.r.Revocation)
		for _, p := range tj.r.Problems {
			fmt.Fprintf(w, "    - %s: %s\n", p.Code, p.Message)
		}
	}
}

const sealMakeUsage = `--maker-key URI --signer-cert PEM [--signer-cert PEM ...] --name NAME --esid ID
        (--picture FILE | --generate [--ring-text T] [--bottom-text T]) --out FILE
        [--size MM] [--height MM] [--valid-days N] [--v1] [--cert-digests] [--type N] [--vid V] [--pin-file F]`

func runSealMake(ctx context.Context, env *Env) error {
	fs := FlagSet(env, "seal make", sealMakeUsage)
	makerKey := fs.String("maker-key", "", "seal maker (制章人) key: pkcs11:… URI or file:KEYSTORE")
	signerCerts := StringList(fs, "signer-cert", "PEM `file` with signer certificate(s) the seal binds; CA certificates in it are skipped (repeatable)")
	name := fs.String("name", "", "seal name, e.g. 某单位合同专用章")
	esid := fs.String("esid", "", "seal code (esID), ASCII")
	picture := fs.String("picture", "", "seal picture `file` (png, jpg, gif, bmp, or an OFD)")
	generate := fs.Bool("generate", false, "draw a round red seal picture instead of --picture")
	ringText := fs.String("ring-text", "", "with --generate: text along the ring (default: the part of --name before the last 4 characters)")
	bottomText := fs.String("bottom-text", "", "with --generate: text under the star (default: the last characters of --name ending in 章)")
	size := fs.Int("size", 42, "picture width in `mm`")
	height := fs.Int("height", 0, "picture height in `mm` (default: --size)")
	validDays := fs.Int("valid-days", 365, "validity in `days` from now")
	v1 := fs.Bool("v1", false, "make a GM/T 0031-2014 (version 1) seal instead of GB/T 38540 (version 4)")
	digests := fs.Bool("cert-digests", false, "v4: list SM3 digests of the signer certificates instead of the certificates")
	typ := fs.Int("type", 1, "seal type (application-defined; 1 = official seal)")
	vid := fs.String("vid", "SealDesk", "vendor id in the seal header")
	out := fs.String("out", "", "output `file` (DER, e.g. seal.esl)")
	pinFile := fs.String("pin-file", "", "read the maker key's PIN or keystore password from `file`")
	pos, err := Parse(fs, env.Args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) > 0:
		return Usagef("seal make takes no positional arguments (got %q)", pos[0])
	case *makerKey == "":
		return Usagef("no maker key: give --maker-key pkcs11:… or file:KEYSTORE")
	case len(*signerCerts) == 0:
		return Usagef("no signer certificate: give --signer-cert PEM (repeatable)")
	case *name == "":
		return Usagef("no seal name: give --name")
	case *esid == "":
		return Usagef("no seal code: give --esid")
	case (*picture == "") == !*generate:
		return Usagef("give exactly one of --picture FILE and --generate")
	case *out == "":
		return Usagef("no output: give --out FILE")
	case *validDays <= 0:
		return Usagef("--valid-days must be positive")
	}
	if *height == 0 {
		*height = *size
	}
	var certs []*smx509.Certificate
	for _, f := range *signerCerts {
		cs, err := readCerts(f)
		if err != nil {
			return err
		}
		certs = append(certs, cs...)
	}
	var pic []byte
	picType := ""
	if *generate {
		ring, bottom := splitSealName(*name)
		if *ringText != "" {
			ring = *ringText
		}
		if *bottomText != "" {
			bottom = *bottomText
		}
		if pic, err = ses.GeneratePicture(ses.PictureOptions{RingText: ring, BottomText: bottom}); err != nil {
			return err
		}
		picType = ses.PicturePNG
	} else {
		if pic, err = os.ReadFile(*picture); err != nil {
			return Usagef("cannot read the picture: %v", err)
		}
		picType = strings.TrimPrefix(strings.ToLower(filepath.Ext(*picture)), ".")
		if picType == "jpeg" {
			picType = ses.PictureJPG
		}
	}

	pin, err := ReadPIN(env, *pinFile, "maker key PIN")
	if err != nil {
		return err
	}
	id, err := keys.Open(ctx, *makerKey, pin)
	clear(pin)
	if err != nil {
		return Usagef("maker key: %v", err)
	}
	if id.Close != nil {
		defer id.Close()
	}
	version := ses.V4
	if *v1 {
		version = ses.V1
	}
	now := time.Now()
	der, err := ses.MakeSeal(ses.SealSpec{
		Version: version, ESID: *esid, Type: *typ, Name: *name, Vid: *vid,
		SignerCerts: certs, CertDigests: *digests,
		CreateDate: now, ValidStart: now, ValidEnd: now.AddDate(0, 0, *validDays),
		PictureType: picType, Picture: pic, WidthMM: *size, HeightMM: *height,
		Maker: id.Signer, MakerCert: id.Certificate,
	})
	if err != nil {
		return Usagef("%v", err)
	}
	if err := document.WriteFileAtomic(*out, func(w io.Writer) error { _, err := w.Write(der); return err }); err != nil {
		return Usagef("cannot write %s: %v", *out, err)
	}
	fmt.Fprintf(env.Stdout, "%s: SES v%d seal %q (esID %s), %d signer certificate(s), valid until %s\n",
		*out, version, *name, *esid, len(certs), now.AddDate(0, 0, *validDays).UTC().Format("2006-01-02"))
	return nil
}

// readCerts reads the signer certificates of a PEM file (CA certificates skipped) or one DER
// certificate.
func readCerts(path string) ([]*smx509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, Usagef("cannot read signer certificate: %v", err)
	}
	all, err := trust.ParseCertificates(b)
	if err != nil {
		return nil, Usagef("%s: %v", path, err)
	}
	var out []*smx509.Certificate
	for _, c := range all {
		// Files often carry the chain after the leaf; a seal binds signers, not their CAs.
		if !c.IsCA {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return nil, Usagef("%s holds only CA certificates, no signer certificate", path)
	}
	return out, nil
}

// splitSealName splits "某单位合同专用章" into ring text "某单位" and bottom text "合同专用章": the
// bottom line is a trailing "…专用章" / "…章" purpose when the name has one, else empty.
func splitSealName(name string) (ring, bottom string) {
	name = strings.TrimSpace(name)
	if i := strings.LastIndexAny(name, " \u3000"); i > 0 && strings.HasSuffix(name, "章") {
		return strings.TrimSpace(name[:i]), strings.TrimSpace(name[i+1:])
	}
	r := []rune(name)
	for _, suffix := range []string{"合同专用章", "财务专用章", "发票专用章", "业务专用章", "专用章", "公章"} {
		if strings.HasSuffix(name, suffix) && len(r) > len([]rune(suffix)) {
			return string(r[:len(r)-len([]rune(suffix))]), suffix
		}
	}
	return name, ""
}
