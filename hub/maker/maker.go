// Package maker makes SES seals for sealhub (制作). The hub holds the seal maker's key on a
// PKCS#11 token (SoftHSM2 in tests and the demo) and never in a file: SES wraps any
// crypto.Signer, and sealhub opens the token through signer/keys, so this package never sees
// key material — only a signer that sends digests to the token.
package maker

import (
	"context"
	"crypto"
	"encoding/asn1"
	"errors"
	"fmt"
	"time"

	"github.com/emmansun/gmsm/smx509"

	"sealdesk/signer/ses"
)

// Spec is one seal to make.
type Spec struct {
	ESID string
	Name string
	// Type is the SES type number (GB/T 38540 leaves its meaning to the application).
	Type int
	// Version is ses.V4 (default) or ses.V1.
	Version int
	// Picture is a PNG drawn at WidthMM × HeightMM.
	Picture           []byte
	WidthMM, HeightMM int
	SignerCerts       []*smx509.Certificate
	ValidStart        time.Time
	ValidEnd          time.Time
	// Replaces names the seal a re-issue replaces; it is written into the seal as the
	// extension ReplacesOID, so the seal itself says which one it replaces.
	Replaces string
}

// Maker signs seals.
type Maker interface {
	Make(ctx context.Context, s Spec) ([]byte, error)
	// Certificate is the maker's certificate, written into every seal.
	Certificate() *smx509.Certificate
}

// ReplacesOID is the SES extension (ExtData, not critical) naming the esID of the seal a
// re-issued seal replaces, as a UTF8String. SealDesk has no registered arc, so it lies under
// 2.25 (UUID-derived OIDs, ITU-T X.667) with random 31-bit arcs (SES parsers, ours included,
// read arcs into 32-bit integers): unregistered, so a clash is unlikely but not impossible.
var ReplacesOID = asn1.ObjectIdentifier{2, 25, 1418747213, 1853390127, 13, 1}

// Replaces returns the esID a seal names in ReplacesOID, or "".
func Replaces(s *ses.Seal) string {
	for _, x := range s.Info.ExtDatas {
		if x.ID.Equal(ReplacesOID) {
			var v string
			if _, err := asn1.UnmarshalWithParams(x.Value, &v, "utf8"); err == nil {
				return v
			}
		}
	}
	return ""
}

// SES makes GB/T 38540 (or GM/T 0031) seals with a maker key held on a token.
type SES struct {
	Key  crypto.Signer
	Cert *smx509.Certificate
}

// Certificate implements Maker.
func (m *SES) Certificate() *smx509.Certificate { return m.Cert }

// Make implements Maker.
func (m *SES) Make(ctx context.Context, s Spec) ([]byte, error) {
	if m == nil || m.Key == nil || m.Cert == nil {
		return nil, errors.New("seal maker: no maker key")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// A seal must not outlive the maker's certificate.
	if s.ValidEnd.After(m.Cert.NotAfter) {
		s.ValidEnd = m.Cert.NotAfter
	}
	spec := ses.SealSpec{
		Version: s.Version, ESID: s.ESID, Type: s.Type, Name: s.Name, Vid: "SealDesk",
		SignerCerts: s.SignerCerts, CreateDate: time.Now(), ValidStart: s.ValidStart, ValidEnd: s.ValidEnd,
		PictureType: ses.PicturePNG, Picture: s.Picture, WidthMM: s.WidthMM, HeightMM: s.HeightMM,
		Maker: m.Key, MakerCert: m.Cert,
	}
	if s.Replaces != "" {
		v, err := asn1.MarshalWithParams(s.Replaces, "utf8")
		if err != nil {
			return nil, err
		}
		spec.ExtDatas = append(spec.ExtDatas, ses.ExtData{ID: ReplacesOID, Value: v})
	}
	der, err := ses.MakeSeal(spec)
	if err != nil {
		return nil, fmt.Errorf("seal maker: %w", err)
	}
	return der, nil
}
