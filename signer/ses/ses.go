// Package ses reads, builds and verifies the Chinese electronic-seal structures: the SES seal
// (SESeal, 电子印章) and the SES signature (SES_Signature, 电子签章) of GB/T 38540-2020 ("version 4")
// and GM/T 0031-2014 ("version 1"), and reads ofdrw's "version 5" variant.
//
// Contract:
//   - ParseSeal / ParseSignature decode DER strictly where the standards are clear (DER lengths,
//     no trailing bytes, element types) and accept the variants real producers write (untagged or
//     [0] extDatas, OCTET STRING for BIT STRING, UTCTime for GeneralizedTime and back, raw r‖s
//     SM2 values, non-certificate certList entries). Errors are *FieldError values naming the
//     field. Parsed values keep the raw DER of every signed scope; verification hashes those
//     bytes, never a re-encoding.
//   - MakeSeal builds a v4 or v1 seal signed by a maker key; NewContainer returns the
//     signer.Container that the PDF and OFD signers use to turn a digest (dataHash) into a DER
//     SES_Signature. SM2 keys sign following the convention of package signer (e = SM3(Z‖M)).
//   - VerifySeal and VerifySignature return a Result that keeps facts (one Check per fact,
//     each ok / failed / unknown with a stable code) apart from the verdict (Result.Status).
//     They never consult the network; certificate chains and revocation belong to signer/trust.
package ses

import (
	encasn1 "encoding/asn1"
	"time"
)

// Structural versions. A seal or signature of structural version 4 may carry header / TBS
// version 4 (GB/T 38540) or 5 (ofdrw "V5", read-only).
const (
	V1 = 1 // GM/T 0031-2014
	V4 = 4 // GB/T 38540-2020
	V5 = 5 // ofdrw "GM/T 0031-2025" draft (read only)
)

// Object identifiers used in SES structures.
var (
	OIDSM3WithSM2    = encasn1.ObjectIdentifier{1, 2, 156, 10197, 1, 501}
	OIDSM2Sign       = encasn1.ObjectIdentifier{1, 2, 156, 10197, 1, 301, 1}
	oidSM3WithSM2Bad = encasn1.ObjectIdentifier{1, 2, 156, 10197, 501} // alias seen in ofdrw's OID table
	OIDSHA256WithRSA = encasn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
	OIDSHA384WithRSA = encasn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 12}
	OIDSHA512WithRSA = encasn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 13}
	OIDSHA1WithRSA   = encasn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 5}
	OIDECDSASHA256   = encasn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	OIDECDSASHA384   = encasn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}
	OIDECDSASHA512   = encasn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 4}
	OIDECDSASHA1     = encasn1.ObjectIdentifier{1, 2, 840, 10045, 4, 1}
)

// Header is SES_Header.
type Header struct {
	ID      string `json:"id"`      // "ES"
	Version int    `json:"version"` // 1, 4 (5 for ofdrw V5)
	Vid     string `json:"vid"`     // vendor identifier
}

// CertDigest is a CertDigestObj of a v4 certListType 2 list.
type CertDigest struct {
	Type  string `json:"type"` // hash algorithm name as written (e.g. "sm3", "SHA256")
	Value []byte `json:"value"`
}

// CertList types of GB/T 38540.
const (
	CertListCerts   = 1
	CertListDigests = 2
)

// PropertyInfo is SES_ESPropertyInfo.
type PropertyInfo struct {
	Type int    `json:"type"`
	Name string `json:"name"`
	// CertListType is 1 (certificates) or 2 (digests) in v4; 0 in v1 (no such field, always certs).
	CertListType int          `json:"certListType"`
	Certs        [][]byte     `json:"-"` // DER certificates (certListType 1 and v1)
	CertDigests  []CertDigest `json:"certDigests,omitempty"`
	// Unrecognised holds certList entries that are neither certificates nor digests (the dms360
	// v1 seal lists an IA5String "1"), as their raw DER.
	Unrecognised [][]byte  `json:"-"`
	CreateDate   time.Time `json:"createDate"`
	ValidStart   time.Time `json:"validStart"`
	ValidEnd     time.Time `json:"validEnd"`
}

// PictureInfo is SES_ESPictrueInfo (sic in the standards).
type PictureInfo struct {
	Type   string `json:"type"` // "png", "jpg", "gif", "bmp", "ofd" (case as written)
	Data   []byte `json:"-"`
	Width  int    `json:"width"` // millimetres
	Height int    `json:"height"`
}

// ExtData is one entry of ExtensionDatas.
type ExtData struct {
	ID       encasn1.ObjectIdentifier `json:"id"`
	Critical bool                     `json:"critical"`
	Value    []byte                   `json:"value"`
}

// SealInfo is SES_SealInfo. Raw is its DER as found, the v4 maker-signature scope.
type SealInfo struct {
	Raw      []byte       `json:"-"`
	Header   Header       `json:"header"`
	ESID     string       `json:"esID"`
	Property PropertyInfo `json:"property"`
	Picture  PictureInfo  `json:"picture"`
	ExtDatas []ExtData    `json:"extDatas,omitempty"`
}

// Seal is an SESeal of either version.
type Seal struct {
	Raw []byte `json:"-"`
	// Format is the structural version: V1 (SESeal = {info, SES_SignInfo}) or V4 ({info, cert,
	// alg, value[, timeStamp]}). Info.Header.Version says what the producer claims.
	Format    int                      `json:"format"`
	Info      SealInfo                 `json:"info"`
	MakerCert []byte                   `json:"-"` // DER maker (制章人) certificate
	SignAlg   encasn1.ObjectIdentifier `json:"signAlg"`
	Value     []byte                   `json:"-"` // maker signature value
	TimeStamp []byte                   `json:"-"` // V5 only: optional [0] timeStamp
	// signed is what the maker signature covers: DER(SES_SealInfo) in v4, the DER of
	// SEQUENCE{esealInfo, cert, signatureAlgorithm} built from the raw elements in v1.
	signed []byte
}

// Version is the seal's version as the verifier reports it: the header version, except that a
// structural v1 seal is always 1 (ofdrw issue #249 shows header version 2 in v1 seals).
func (s *Seal) Version() int {
	if s.Format == V1 {
		return V1
	}
	if s.Info.Header.Version == V5 {
		return V5
	}
	return V4
}

// SignedBytes returns the bytes the maker signature covers.
func (s *Seal) SignedBytes() []byte { return s.signed }

// TBSSign is TBS_Sign. Raw is its DER as found: the signer-signature scope in both versions.
type TBSSign struct {
	Raw     []byte `json:"-"`
	Version int    `json:"version"`
	Seal    *Seal  `json:"seal"`
	// TimeInfo is the claimed signing time. In v1 timeInfo is a BIT STRING whose contents
	// producers fill with text; TimeText holds that text (and TimeInfo is zero if it is no
	// recognisable time).
	TimeInfo     time.Time `json:"timeInfo"`
	TimeText     string    `json:"timeText,omitempty"`
	DataHash     []byte    `json:"dataHash"`
	PropertyInfo string    `json:"propertyInfo"`
	ExtDatas     []ExtData `json:"extDatas,omitempty"`
	// v1 only: the signer certificate and algorithm inside TBS_Sign.
	Cert    []byte                   `json:"-"`
	SignAlg encasn1.ObjectIdentifier `json:"signAlg,omitempty"`
}

// Signature is an SES_Signature of either version.
type Signature struct {
	Raw    []byte  `json:"-"`
	Format int     `json:"format"` // V1 or V4 (structure); TBS.Version says 1, 4 or 5
	TBS    TBSSign `json:"toSign"`
	// Cert is the signer certificate (v4: outside TBS_Sign; v1: the one inside it).
	Cert      []byte                   `json:"-"`
	SignAlg   encasn1.ObjectIdentifier `json:"signAlg"`
	Value     []byte                   `json:"-"`
	TimeStamp []byte                   `json:"-"` // v4 optional RFC 3161 token over Value
}

// Version is the signature's version: 1, 4 or 5.
func (s *Signature) Version() int {
	if s.Format == V1 {
		return V1
	}
	if s.TBS.Version == V5 {
		return V5
	}
	return V4
}
