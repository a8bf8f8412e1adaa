package ses

import (
	"context"
	"crypto"
	encasn1 "encoding/asn1"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/emmansun/gmsm/smx509"
	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"

	"sealdesk/signer"
)

// SealSpec is what MakeSeal needs.
type SealSpec struct {
	// Version is V4 (GB/T 38540, default) or V1 (GM/T 0031).
	Version int
	// ESID is the seal code (电子印章编码), an IA5 (ASCII) string, required.
	ESID string
	// Type is the seal type (application-defined; 1 = official seal is common). Default 1.
	Type int
	// Name is the seal name (e.g. "某单位合同专用章"), required.
	Name string
	// Vid is the vendor id written into the header. Default "SealDesk".
	Vid string
	// SignerCerts are the certificates the seal binds (at least one).
	SignerCerts []*smx509.Certificate
	// CertDigests makes a v4 seal list digests of the certificates (certListType 2) instead of
	// the certificates; DigestType names the hash ("sm3" default, "sha256").
	CertDigests bool
	DigestType  string
	// CreateDate defaults to now; ValidStart to CreateDate; ValidEnd is required.
	CreateDate time.Time
	ValidStart time.Time
	ValidEnd   time.Time
	// PictureType is png, jpg, gif, bmp or ofd; Picture its bytes; WidthMM/HeightMM its size.
	PictureType string
	Picture     []byte
	WidthMM     int
	HeightMM    int
	ExtDatas    []ExtData
	// Maker signs the seal; MakerCert is its certificate (written into the seal).
	Maker     crypto.Signer
	MakerCert *smx509.Certificate
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] > 0x7f {
			return false
		}
	}
	return true
}

// MakeSeal builds and signs a DER SESeal.
func MakeSeal(spec SealSpec) ([]byte, error) {
	if spec.Version == 0 {
		spec.Version = V4
	}
	if spec.Type == 0 {
		spec.Type = 1
	}
	if spec.Vid == "" {
		spec.Vid = "SealDesk"
	}
	if spec.CreateDate.IsZero() {
		spec.CreateDate = time.Now()
	}
	if spec.ValidStart.IsZero() {
		spec.ValidStart = spec.CreateDate
	}
	if spec.DigestType == "" {
		spec.DigestType = "sm3"
	}
	switch {
	case spec.Version != V4 && spec.Version != V1:
		return nil, fmt.Errorf("ses: seal version %d: only 4 (GB/T 38540) and 1 (GM/T 0031) can be made", spec.Version)
	case spec.ESID == "" || !isASCII(spec.ESID):
		return nil, errors.New("ses: seal esID must be a non-empty ASCII string")
	case spec.Name == "":
		return nil, errors.New("ses: seal name is required")
	case !isASCII(spec.Vid):
		return nil, errors.New("ses: seal vendor id must be ASCII")
	case len(spec.SignerCerts) == 0:
		return nil, errors.New("ses: a seal must bind at least one signer certificate")
	case spec.ValidEnd.IsZero() || !spec.ValidEnd.After(spec.ValidStart):
		return nil, errors.New("ses: seal validEnd must be after validStart")
	case spec.Maker == nil || spec.MakerCert == nil:
		return nil, errors.New("ses: the seal maker key and certificate are required")
	case spec.CertDigests && spec.Version == V1:
		return nil, errors.New("ses: GM/T 0031 (v1) seals cannot list certificate digests")
	case spec.WidthMM <= 0 || spec.HeightMM <= 0 || spec.WidthMM > maxPictureMM || spec.HeightMM > maxPictureMM:
		return nil, fmt.Errorf("ses: picture size %d×%d mm is not sane", spec.WidthMM, spec.HeightMM)
	}
	pt := strings.ToLower(spec.PictureType)
	if err := checkPicture(PictureInfo{Type: pt, Data: spec.Picture, Width: spec.WidthMM, Height: spec.HeightMM}); err != nil {
		return nil, fmt.Errorf("ses: %w", err)
	}
	if pub, ok := spec.MakerCert.PublicKey.(interface{ Equal(crypto.PublicKey) bool }); !ok || !pub.Equal(spec.Maker.Public()) {
		return nil, errors.New("ses: the maker key does not match the maker certificate")
	}
	if spec.Version == V1 {
		pt = strings.ToUpper(pt) // GM/T 0031 names types "GIF", "BMP", "JPG"
	}
	addTime := func(b *cryptobyte.Builder, t time.Time) {
		if spec.Version == V1 {
			b.AddASN1UTCTime(t.UTC().Truncate(time.Second))
		} else {
			b.AddASN1GeneralizedTime(t.UTC().Truncate(time.Second))
		}
	}
	var info cryptobyte.Builder
	info.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1(asn1.IA5String, func(b *cryptobyte.Builder) { b.AddBytes([]byte("ES")) })
			b.AddASN1Int64(int64(spec.Version))
			b.AddASN1(asn1.IA5String, func(b *cryptobyte.Builder) { b.AddBytes([]byte(spec.Vid)) })
		})
		b.AddASN1(asn1.IA5String, func(b *cryptobyte.Builder) { b.AddBytes([]byte(spec.ESID)) })
		b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1Int64(int64(spec.Type))
			b.AddASN1(asn1.UTF8String, func(b *cryptobyte.Builder) { b.AddBytes([]byte(spec.Name)) })
			if spec.Version == V4 {
				if spec.CertDigests {
					b.AddASN1Int64(CertListDigests)
				} else {
					b.AddASN1Int64(CertListCerts)
				}
			}
			b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
				for _, c := range spec.SignerCerts {
					if !spec.CertDigests {
						b.AddASN1OctetString(c.Raw)
						continue
					}
					h, ok := digestByName(spec.DigestType, c.Raw)
					if !ok {
						b.SetError(fmt.Errorf("ses: unsupported certificate digest type %q", spec.DigestType))
						return
					}
					b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddASN1(asn1.PrintableString, func(b *cryptobyte.Builder) { b.AddBytes([]byte(spec.DigestType)) })
						b.AddASN1OctetString(h)
					})
				}
			})
			addTime(b, spec.CreateDate)
			addTime(b, spec.ValidStart)
			addTime(b, spec.ValidEnd)
		})
		b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1(asn1.IA5String, func(b *cryptobyte.Builder) { b.AddBytes([]byte(pt)) })
			b.AddASN1OctetString(spec.Picture)
			b.AddASN1Int64(int64(spec.WidthMM))
			b.AddASN1Int64(int64(spec.HeightMM))
		})
		if len(spec.ExtDatas) > 0 {
			// Untagged, as every real seal writes it.
			addExtDatas(b, spec.ExtDatas)
		}
	})
	infoDER, err := info.Bytes()
	if err != nil {
		return nil, err
	}
	algOID, err := algFor(spec.Maker.Public())
	if err != nil {
		return nil, fmt.Errorf("ses: maker key: %w", err)
	}
	var algDER, certDER cryptobyte.Builder
	algDER.AddASN1ObjectIdentifier(algOID)
	certDER.AddASN1OctetString(spec.MakerCert.Raw)
	signed := infoDER
	if spec.Version == V1 {
		var sb cryptobyte.Builder
		sb.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddBytes(infoDER)
			b.AddBytes(certDER.BytesOrPanic())
			b.AddBytes(algDER.BytesOrPanic())
		})
		signed = sb.BytesOrPanic()
	}
	_, value, err := signValue(spec.Maker, signed)
	if err != nil {
		return nil, fmt.Errorf("ses: maker signature: %w", err)
	}
	var out cryptobyte.Builder
	out.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(infoDER)
		if spec.Version == V1 {
			b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddBytes(certDER.BytesOrPanic())
				b.AddBytes(algDER.BytesOrPanic())
				b.AddASN1BitString(value)
			})
			return
		}
		b.AddBytes(certDER.BytesOrPanic())
		b.AddBytes(algDER.BytesOrPanic())
		b.AddASN1BitString(value)
	})
	return out.Bytes()
}

func addExtDatas(b *cryptobyte.Builder, ext []ExtData) {
	b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for _, x := range ext {
			b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(x.ID)
				if x.Critical { // DEFAULT FALSE: omitted when false (DER)
					b.AddASN1Boolean(true)
				}
				b.AddASN1OctetString(x.Value)
			})
		}
	})
}

func algFor(pub crypto.PublicKey) (encasn1.ObjectIdentifier, error) {
	ka, err := signer.AlgorithmOf(pub)
	if err != nil {
		return nil, err
	}
	switch ka {
	case signer.SM2:
		return OIDSM3WithSM2, nil
	case signer.ECDSA:
		return OIDECDSASHA256, nil
	case signer.RSA:
		return OIDSHA256WithRSA, nil
	}
	return nil, fmt.Errorf("unsupported key algorithm %s", ka)
}

// TimeStamper obtains an RFC 3161 TimeStampToken (DER ContentInfo) over the signature value;
// signer/tsa provides one.
type TimeStamper func(ctx context.Context, signatureValue []byte) ([]byte, error)

// SignOptions configures an SES signature container.
type SignOptions struct {
	// Version is V4 (default) or V1; it must match the seal's version.
	Version int
	// Seal is the DER SESeal to sign with; it must list Identity's certificate.
	Seal []byte
	// Identity holds the signer key and certificate.
	Identity *signer.Identity
	// PropertyInfo names what is signed (OFD: the Signature.xml path); IA5 (ASCII).
	PropertyInfo string
	// Time is the claimed signing time (timeInfo); zero means the time Build runs.
	Time time.Time
	// TSA, when set, adds a v4 timeStamp over the signature value.
	TSA TimeStamper
	// ExtDatas are added to a v4 TBS_Sign as [0] extDatas.
	ExtDatas []ExtData
}

// Container builds SES signatures; it implements signer.Container.
type Container struct {
	opts   SignOptions
	seal   *Seal
	digest signer.DigestAlgorithm
	alg    encasn1.ObjectIdentifier
}

var _ signer.Container = (*Container)(nil)

// NewContainer checks the options (seal parses, versions agree, the seal binds the signer's
// certificate) and returns the container.
func NewContainer(o SignOptions) (*Container, error) {
	if o.Version == 0 {
		o.Version = V4
	}
	if o.Version != V4 && o.Version != V1 {
		return nil, fmt.Errorf("ses: signature version %d: only 4 and 1 can be made", o.Version)
	}
	if o.Identity == nil || o.Identity.Certificate == nil {
		return nil, errors.New("ses: the signer identity and its certificate are required")
	}
	if !isASCII(o.PropertyInfo) {
		return nil, fmt.Errorf("ses: propertyInfo %q must be ASCII (IA5String)", clip(o.PropertyInfo, 40))
	}
	seal, err := ParseSeal(o.Seal)
	if err != nil {
		return nil, err
	}
	if seal.Format != o.Version {
		return nil, fmt.Errorf("ses: a version %d signature needs a version %d seal; seal %q is version %d", o.Version, o.Version, seal.Info.ESID, seal.Version())
	}
	r := &Result{Seal: seal}
	r.checkSignerInSeal(o.Identity.Certificate)
	if c := r.Get(CheckSignerInSeal); c.Status != OK {
		return nil, fmt.Errorf("ses: seal %q does not bind the signer certificate: %s", seal.Info.ESID, c.Message)
	}
	// A key that does not belong to the certificate would make a signature nobody can verify:
	// refuse it before anything is signed (a token may hold several keys).
	if o.Identity.Signer != nil {
		pub, ok := o.Identity.Certificate.PublicKey.(interface{ Equal(crypto.PublicKey) bool })
		if !ok || !pub.Equal(o.Identity.Signer.Public()) {
			return nil, fmt.Errorf("ses: the key of %q does not match its certificate", o.Identity.Label)
		}
	}
	alg, err := algFor(o.Identity.Certificate.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("ses: signer certificate: %w", err)
	}
	ka, _ := signer.AlgorithmOf(o.Identity.Certificate.PublicKey)
	return &Container{opts: o, seal: seal, digest: signer.DefaultDigest(ka), alg: alg}, nil
}

// Digest is the algorithm the format hashes the protected data with: SM3 for SM2 keys,
// SHA-256 otherwise.
func (c *Container) Digest() signer.DigestAlgorithm { return c.digest }

// Seal returns the parsed seal the container signs with.
func (c *Container) Seal() *Seal { return c.seal }

// MaxSize bounds the DER size of the SES_Signature Build returns (for placeholders).
func (c *Container) MaxSize() int {
	n := len(c.opts.Seal) + 2*len(c.opts.Identity.Certificate.Raw) + len(c.opts.PropertyInfo) + 1024
	for _, x := range c.opts.ExtDatas {
		n += len(x.Value) + 64
	}
	if c.opts.TSA != nil {
		n += 16384 // a token with its TSA certificate chain
	}
	return n
}

// Build signs digest (the dataHash, computed with Digest()) and returns the DER SES_Signature.
func (c *Container) Build(ctx context.Context, digest []byte) ([]byte, error) {
	o := c.opts
	if h, err := c.digest.New(); err == nil && len(digest) != h.Size() {
		return nil, fmt.Errorf("ses: dataHash is %d bytes, a %s digest is %d", len(digest), c.digest, h.Size())
	}
	if o.Identity.Signer == nil {
		return nil, errors.New("ses: the signer key is not open (log in first)")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	t := o.Time
	if t.IsZero() {
		t = time.Now()
	}
	t = t.UTC().Truncate(time.Second)
	var tbs cryptobyte.Builder
	tbs.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(int64(o.Version))
		b.AddBytes(c.seal.Raw)
		if o.Version == V1 {
			// GM/T 0031 timeInfo is a BIT STRING ("time stamp or UTCTime"): the UTCTime text.
			b.AddASN1BitString([]byte(t.Format("060102150405Z")))
		} else {
			b.AddASN1GeneralizedTime(t)
		}
		b.AddASN1BitString(digest)
		b.AddASN1(asn1.IA5String, func(b *cryptobyte.Builder) { b.AddBytes([]byte(o.PropertyInfo)) })
		if o.Version == V1 {
			b.AddASN1OctetString(o.Identity.Certificate.Raw)
			b.AddASN1ObjectIdentifier(c.alg)
		} else if len(o.ExtDatas) > 0 {
			b.AddASN1(tag0, func(b *cryptobyte.Builder) { addExtDatas(b, o.ExtDatas) })
		}
	})
	tbsDER, err := tbs.Bytes()
	if err != nil {
		return nil, err
	}
	alg, value, err := signValue(o.Identity.Signer, tbsDER)
	if err != nil {
		return nil, fmt.Errorf("ses: signing with %s: %w", o.Identity.Label, err)
	}
	if !alg.Equal(c.alg) {
		return nil, fmt.Errorf("ses: the signer key (%s) does not match the signer certificate", AlgorithmName(alg))
	}
	var token []byte
	if o.TSA != nil && o.Version == V4 {
		if token, err = o.TSA(ctx, value); err != nil {
			return nil, fmt.Errorf("ses: timestamp: %w", err)
		}
	}
	var out cryptobyte.Builder
	out.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(tbsDER)
		if o.Version == V4 {
			b.AddASN1OctetString(o.Identity.Certificate.Raw)
			b.AddASN1ObjectIdentifier(c.alg)
		}
		b.AddASN1BitString(value)
		if token != nil {
			// [0] EXPLICIT BIT STRING, as ofdrw writes it.
			b.AddASN1(tag0, func(b *cryptobyte.Builder) { b.AddASN1BitString(token) })
		}
	})
	return out.Bytes()
}
