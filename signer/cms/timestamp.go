package cms

import (
	"bytes"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/emmansun/gmsm/smx509"
	"golang.org/x/crypto/cryptobyte"
	casn1 "golang.org/x/crypto/cryptobyte/asn1"

	"sealdesk/signer"
)

// RFC 3161 tokens are SignedData whose content is a TSTInfo, so their parsing and
// verification live here and signer/tsa (client, server) builds on them; this also keeps
// signer/tsa → signer/cms the only import direction.

// TSTInfo is the content of an RFC 3161 time-stamp token.
type TSTInfo struct {
	Version       int                    `json:"-"`
	Policy        asn1.ObjectIdentifier  `json:"policy"`
	HashAlgorithm signer.DigestAlgorithm `json:"hashAlgorithm"`
	HashOID       asn1.ObjectIdentifier  `json:"-"`
	HashedMessage []byte                 `json:"-"`
	Serial        *big.Int               `json:"serial"`
	Time          time.Time              `json:"time"`
	Accuracy      time.Duration          `json:"accuracy,omitempty"`
	Ordering      bool                   `json:"-"`
	Nonce         *big.Int               `json:"-"`                 // nil when absent
	TSAName       string                 `json:"tsaName,omitempty"` // directoryName of the tsa field
	Raw           []byte                 `json:"-"`
}

// ParseTSTInfo reads a DER TSTInfo. An unknown imprint algorithm is not an error here
// (HashAlgorithm stays empty and HashOID tells which it was).
func ParseTSTInfo(der []byte) (*TSTInfo, error) {
	t := &TSTInfo{Raw: der, Serial: new(big.Int)}
	in := cryptobyte.String(der)
	var s, mi cryptobyte.String
	if !in.ReadASN1(&s, casn1.SEQUENCE) || !in.Empty() {
		return nil, perr("TSTInfo", "not a SEQUENCE")
	}
	if !s.ReadASN1Integer(&t.Version) || t.Version != 1 {
		return nil, perr("TSTInfo.version", "not v1")
	}
	if !s.ReadASN1ObjectIdentifier(&t.Policy) {
		return nil, perr("TSTInfo.policy", "not an OBJECT IDENTIFIER")
	}
	if !s.ReadASN1(&mi, casn1.SEQUENCE) {
		return nil, perr("TSTInfo.messageImprint", "not a SEQUENCE")
	}
	a, err := readAlgID(&mi, "TSTInfo.messageImprint.hashAlgorithm")
	if err != nil {
		return nil, err
	}
	t.HashOID = a.Algorithm
	t.HashAlgorithm, _ = DigestByOID(a.Algorithm)
	var hm cryptobyte.String
	if !mi.ReadASN1(&hm, casn1.OCTET_STRING) || !mi.Empty() {
		return nil, perr("TSTInfo.messageImprint.hashedMessage", "not an OCTET STRING")
	}
	t.HashedMessage = append([]byte{}, hm...)
	if !readSerial(&s, t.Serial) {
		return nil, perr("TSTInfo.serialNumber", "not an INTEGER")
	}
	var gt cryptobyte.String
	if !s.ReadASN1(&gt, casn1.GeneralizedTime) {
		return nil, perr("TSTInfo.genTime", "not a GeneralizedTime")
	}
	if t.Time, err = parseGeneralizedTime(string(gt)); err != nil {
		return nil, &ParseError{Field: "TSTInfo.genTime", Err: err}
	}
	if s.PeekASN1Tag(casn1.SEQUENCE) {
		var acc cryptobyte.String
		s.ReadASN1(&acc, casn1.SEQUENCE)
		var sec, ms, us int64
		if acc.PeekASN1Tag(casn1.INTEGER) && !acc.ReadASN1Integer(&sec) {
			return nil, perr("TSTInfo.accuracy.seconds", "not an INTEGER")
		}
		if acc.PeekASN1Tag(casn1.Tag(0).ContextSpecific()) { // [0] IMPLICIT INTEGER
			ms = readImplicitInt(&acc, 0)
		}
		if acc.PeekASN1Tag(casn1.Tag(1).ContextSpecific()) {
			us = readImplicitInt(&acc, 1)
		}
		if sec < 0 || ms < 0 || us < 0 || sec > 1<<31 {
			return nil, perr("TSTInfo.accuracy", "out of range")
		}
		t.Accuracy = time.Duration(sec)*time.Second + time.Duration(ms)*time.Millisecond + time.Duration(us)*time.Microsecond
	}
	if s.PeekASN1Tag(casn1.BOOLEAN) {
		if !s.ReadASN1Boolean(&t.Ordering) {
			return nil, perr("TSTInfo.ordering", "not a BOOLEAN")
		}
	}
	if s.PeekASN1Tag(casn1.INTEGER) {
		t.Nonce = new(big.Int)
		if !readSerial(&s, t.Nonce) {
			return nil, perr("TSTInfo.nonce", "not an INTEGER")
		}
	}
	if s.PeekASN1Tag(casn1.Tag(0).Constructed().ContextSpecific()) {
		var gn cryptobyte.String
		s.ReadASN1(&gn, casn1.Tag(0).Constructed().ContextSpecific())
		var dn cryptobyte.String
		if gn.ReadASN1(&dn, casn1.Tag(4).Constructed().ContextSpecific()) {
			if n, err := nameString(dn); err == nil {
				t.TSAName = n
			}
		}
	}
	if s.PeekASN1Tag(casn1.Tag(1).Constructed().ContextSpecific()) {
		var ext cryptobyte.String
		s.ReadASN1(&ext, casn1.Tag(1).Constructed().ContextSpecific())
	}
	if !s.Empty() {
		return nil, perr("TSTInfo", "trailing data")
	}
	return t, nil
}

func readImplicitInt(s *cryptobyte.String, tag int) int64 {
	var v cryptobyte.String
	if !s.ReadASN1(&v, casn1.Tag(tag).ContextSpecific()) || len(v) == 0 || len(v) > 4 || v[0]&0x80 != 0 {
		return -1
	}
	var n int64
	for _, c := range v {
		n = n<<8 | int64(c)
	}
	return n
}

// TimestampInfo is a verified (or failed) time-stamp token.
type TimestampInfo struct {
	TSTInfo
	// Certificate is the TSA's certificate; Certificates all certificates in the token.
	Certificate  *smx509.Certificate   `json:"-"`
	Certificates []*smx509.Certificate `json:"-"`
	Token        []byte                `json:"-"`
	Checks       []Check               `json:"checks"`
	// OK: the token's signature, TSA certificate usage and imprint all check out (trust in
	// the TSA's chain is signer/trust's question).
	OK bool `json:"ok"`
}

// Err summarises the first check that did not pass (nil when OK).
func (ti *TimestampInfo) Err() error {
	if ti.OK {
		return nil
	}
	for _, c := range ti.Checks {
		if c.Status != OK {
			return fmt.Errorf("time-stamp %s %s: %s", c.Name, c.Status, c.Message)
		}
	}
	return errors.New("time-stamp not verified")
}

// Check names specific to time-stamp tokens.
const (
	CheckImprint = "message-imprint"
)

// VerifyTimestamp parses and verifies an RFC 3161 TimeStampToken: its CMS signature (content
// type id-ct-TSTInfo, message-digest, ESS signing-certificate), that the signer certificate is
// a TSA certificate (extended key usage timeStamping), and the message imprint: equal to the
// hash of data when data is non-nil, equal to digest when digest is non-nil (one of the two
// should be given; with neither the imprint is "unknown"). extra supplies certificates the
// token lacks. It returns an error only when the token cannot be parsed at all.
func VerifyTimestamp(token, data, digest []byte, extra []*smx509.Certificate) (*TimestampInfo, error) {
	sd, err := Parse(token)
	if err != nil {
		return nil, err
	}
	if !sd.EContentType.Equal(OIDTSTInfo) {
		return nil, perr("TimeStampToken.encapContentInfo", "content type %s is not id-ct-TSTInfo", sd.EContentType)
	}
	if sd.EContent == nil {
		return nil, perr("TimeStampToken.encapContentInfo", "no TSTInfo content")
	}
	tst, err := ParseTSTInfo(sd.EContent)
	if err != nil {
		return nil, err
	}
	ti := &TimestampInfo{TSTInfo: *tst, Certificates: sd.Certificates, Token: sd.Raw}
	// The TSTInfo is bound by the imprint check below, so the content is "expected" as is.
	res := sd.Verify(nil, VerifyOptions{Certificates: extra, SkipTimestamp: true, ExpectContent: sd.EContent})
	ti.Certificate = res.Signer
	if res.Signer == nil {
		// Tokens may omit the TSA certificate (certReq=false; PAdES B-LT files keep it in the
		// DSS): that makes the token undecidable until the caller supplies it, not forged.
		for i := range res.Checks {
			if res.Checks[i].Name == CheckSigner || res.Checks[i].Name == CheckSignature {
				res.Checks[i].Status = Unknown
				res.Checks[i].Code = "tsa.cert-missing"
				if res.Checks[i].Name == CheckSigner {
					res.Checks[i].Message = "the TSA certificate is neither in the token nor supplied: " + res.Checks[i].Message
				}
			}
		}
	}
	ti.Checks = append(ti.Checks, res.Checks...)
	if len(sd.SignerInfos) != 1 {
		ti.add(CheckSigner, Failed, "tsa.signer-count", "a time-stamp token has exactly one signer, this one %d", len(sd.SignerInfos))
	}
	if res.Check(CheckSigningCert) == nil && res.Signer != nil {
		ti.add(CheckSigningCert, Failed, "tsa.signing-cert-missing", "the token lacks the ESS signing-certificate attribute RFC 3161/5816 require")
	}
	if c := res.Signer; c != nil {
		has := false
		for _, u := range c.ExtKeyUsage {
			if u == smx509.ExtKeyUsageTimeStamping {
				has = true
			}
		}
		if has {
			ti.add(CheckTimestampEKU, OK, "", "%s has extended key usage timeStamping", c.Subject.CommonName)
		} else {
			ti.add(CheckTimestampEKU, Failed, "tsa.eku-missing", "TSA certificate %q lacks extended key usage timeStamping", c.Subject.CommonName)
		}
	}
	switch {
	case tst.HashAlgorithm == "":
		ti.add(CheckImprint, Unknown, "tsa.imprint-alg", "message imprint uses an unsupported hash %s", tst.HashOID)
	case data != nil:
		h, err := Sum(tst.HashAlgorithm, data)
		if err != nil {
			ti.add(CheckImprint, Unknown, "tsa.imprint-alg", "%v", err)
		} else if bytes.Equal(h, tst.HashedMessage) {
			ti.add(CheckImprint, OK, "", "%s imprint matches", tst.HashAlgorithm)
		} else {
			ti.add(CheckImprint, Failed, "tsa.imprint-mismatch", "the token's %s imprint %x is not the hash of the time-stamped data (%x)", tst.HashAlgorithm, tst.HashedMessage, h)
		}
	case digest != nil:
		if bytes.Equal(digest, tst.HashedMessage) {
			ti.add(CheckImprint, OK, "", "%s imprint matches", tst.HashAlgorithm)
		} else {
			ti.add(CheckImprint, Failed, "tsa.imprint-mismatch", "the token's imprint %x differs from the given digest %x", tst.HashedMessage, digest)
		}
	default:
		ti.add(CheckImprint, Unknown, "tsa.imprint-unchecked", "no data or digest given to check the imprint against")
	}
	ti.OK = true
	for _, c := range ti.Checks {
		if c.Status != OK {
			ti.OK = false
		}
	}
	return ti, nil
}

func (ti *TimestampInfo) add(name string, st Status, code, format string, args ...any) {
	ti.Checks = append(ti.Checks, Check{Name: name, Status: st, Code: code, Message: fmt.Sprintf(format, args...)})
}

// checkTimestamp verifies a signature-time-stamp unsigned attribute: a valid token whose
// imprint is the hash of this SignerInfo's signature value.
func (sd *SignedData) checkTimestamp(r *Result, si *SignerInfo, opts VerifyOptions) {
	v, ok := si.UnsignedAttr(OIDAttrTimeStampToken)
	if !ok {
		return
	}
	if len(v) == 0 {
		r.add(CheckTimestamp, Failed, "cms.timestamp-empty", "signature-time-stamp attribute has no value")
		return
	}
	extra := append(append([]*smx509.Certificate{}, sd.Certificates...), opts.Certificates...)
	ti, err := VerifyTimestamp(v[0], si.Signature, nil, extra)
	if err != nil {
		r.add(CheckTimestamp, Failed, "cms.timestamp-malformed", "signature-time-stamp: %v", err)
		return
	}
	r.Timestamp = ti
	if ti.OK {
		r.add(CheckTimestamp, OK, "", "time-stamped %s by %s", ti.Time.UTC().Format(time.RFC3339), tsaName(ti))
		return
	}
	st := Failed
	for _, c := range ti.Checks {
		if c.Status == Failed {
			st = Failed
			break
		}
		if c.Status == Unknown {
			st = Unknown
		}
	}
	r.add(CheckTimestamp, st, "cms.timestamp-invalid", "signature-time-stamp: %v", ti.Err())
}

func tsaName(ti *TimestampInfo) string {
	if ti.Certificate != nil {
		return ti.Certificate.Subject.CommonName
	}
	return ti.TSAName
}

// parseGeneralizedTime accepts YYYYMMDDHHMMSS[.fraction](Z|±hhmm), as TSAs write it
// (fractions are common; cryptobyte rejects them).
func parseGeneralizedTime(s string) (time.Time, error) {
	for _, layout := range []string{"20060102150405Z0700", "20060102150405Z07", "200601021504Z0700"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("GeneralizedTime %q not understood", s)
}

// parseUTCTime reads YYMMDDHHMM[SS](Z|±hhmm) with the RFC 5280 century rule.
func parseUTCTime(s string) (time.Time, error) {
	for _, layout := range []string{"060102150405Z0700", "0601021504Z0700"} {
		if t, err := time.Parse(layout, s); err == nil {
			if t.Year() >= 2050 {
				t = t.AddDate(-100, 0, 0)
			}
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("UTCTime %q not understood", s)
}

// parseTime reads a DER UTCTime or GeneralizedTime element.
func parseTime(der []byte) (time.Time, error) {
	in := cryptobyte.String(der)
	var v cryptobyte.String
	switch {
	case in.PeekASN1Tag(casn1.UTCTime):
		in.ReadASN1(&v, casn1.UTCTime)
		return parseUTCTime(string(v))
	case in.PeekASN1Tag(casn1.GeneralizedTime):
		in.ReadASN1(&v, casn1.GeneralizedTime)
		return parseGeneralizedTime(string(v))
	}
	return time.Time{}, errors.New("neither UTCTime nor GeneralizedTime")
}

type pkixName struct{ seq pkix.RDNSequence }

func (n pkixName) String() string {
	var name pkix.Name
	name.FillFromRDNSequence(&n.seq)
	return name.String()
}

// nameString renders a DER Name for comparisons and messages.
func nameString(der []byte) (string, error) {
	var n pkixName
	rest, err := asn1.Unmarshal(der, &n.seq)
	if err != nil {
		return "", err
	}
	if len(rest) > 0 {
		return "", errors.New("trailing data after Name")
	}
	return n.String(), nil
}
