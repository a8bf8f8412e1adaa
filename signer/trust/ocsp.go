package trust

import (
	"bytes"
	"crypto/sha1"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/emmansun/gmsm/smx509"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// OCSP (RFC 6960) request and response, encoded here because x/crypto/ocsp only knows RSA and
// ECDSA keys; SM2 responders sign with SM3withSM2 (1.2.156.10197.1.501) the same way.

var (
	oidSHA1          = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidOCSPBasic     = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 1}
	oidEKUOCSPSigner = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 9}
)

// certID is the CertID of RFC 6960 with SHA-1 hashes (what every responder supports).
type certID struct {
	HashAlgorithm  algorithmIdentifier
	IssuerNameHash []byte
	IssuerKeyHash  []byte
	SerialNumber   *big.Int
}

type algorithmIdentifier struct {
	Algorithm  asn1.ObjectIdentifier
	Parameters asn1.RawValue `asn1:"optional"`
}

func newCertID(c, issuer *smx509.Certificate) (certID, error) {
	var spki struct {
		Algorithm algorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(issuer.RawSubjectPublicKeyInfo, &spki); err != nil {
		return certID{}, fmt.Errorf("issuer public key: %v", err)
	}
	nh := sha1.Sum(issuer.RawSubject)
	kh := sha1.Sum(spki.PublicKey.RightAlign())
	return certID{
		HashAlgorithm:  algorithmIdentifier{Algorithm: oidSHA1, Parameters: asn1.NullRawValue},
		IssuerNameHash: nh[:], IssuerKeyHash: kh[:], SerialNumber: c.SerialNumber,
	}, nil
}

// ocspRequest encodes a one-certificate request and returns it with a cache identifier.
func ocspRequest(c, issuer *smx509.Certificate) ([]byte, []byte, error) {
	id, err := newCertID(c, issuer)
	if err != nil {
		return nil, nil, err
	}
	type request struct{ Cert certID }
	type tbsRequest struct{ RequestList []request }
	type ocspReq struct{ TBSRequest tbsRequest }
	der, err := asn1.Marshal(ocspReq{tbsRequest{[]request{{id}}}})
	if err != nil {
		return nil, nil, err
	}
	key := append(append(append([]byte{}, id.IssuerNameHash...), id.IssuerKeyHash...), id.SerialNumber.Bytes()...)
	return der, key, nil
}

const (
	ocspGood = iota
	ocspRevoked
	ocspUnknown
)

type ocspResponse struct {
	Status     int
	RevokedAt  time.Time
	Reason     int
	ThisUpdate time.Time
	NextUpdate time.Time
}

var ocspStatusNames = map[int]string{1: "malformedRequest", 2: "internalError", 3: "tryLater", 5: "sigRequired", 6: "unauthorized"}

// parseOCSPResponse decodes a response, checks it answers for c and that it is signed by the
// issuer or by a responder certificate the issuer delegated (EKU id-kp-OCSPSigning).
func parseOCSPResponse(der []byte, c, issuer *smx509.Certificate) (*ocspResponse, error) {
	in := cryptobyte.String(der)
	var resp, rb, basic cryptobyte.String
	var status int
	if !in.ReadASN1(&resp, cbasn1.SEQUENCE) || !resp.ReadASN1Enum(&status) {
		return nil, errors.New("malformed OCSP response")
	}
	if status != 0 {
		n := ocspStatusNames[status]
		if n == "" {
			n = fmt.Sprint(status)
		}
		return nil, fmt.Errorf("responder answered %s", n)
	}
	var typ asn1.ObjectIdentifier
	var inner cryptobyte.String
	if !resp.ReadASN1(&rb, cbasn1.Tag(0).ContextSpecific().Constructed()) || !rb.ReadASN1(&inner, cbasn1.SEQUENCE) ||
		!inner.ReadASN1ObjectIdentifier(&typ) || !inner.ReadASN1(&basic, cbasn1.OCTET_STRING) {
		return nil, errors.New("malformed OCSP responseBytes")
	}
	if !typ.Equal(oidOCSPBasic) {
		return nil, fmt.Errorf("unsupported OCSP response type %s", typ)
	}
	var b, tbs, sigAlg cryptobyte.String
	var tbsRaw cryptobyte.String
	var sig asn1.BitString
	if !basic.ReadASN1(&b, cbasn1.SEQUENCE) || !b.ReadASN1Element(&tbsRaw, cbasn1.SEQUENCE) ||
		!b.ReadASN1(&sigAlg, cbasn1.SEQUENCE) || !b.ReadASN1BitString(&sig) {
		return nil, errors.New("malformed BasicOCSPResponse")
	}
	var algOID asn1.ObjectIdentifier
	if !sigAlg.ReadASN1ObjectIdentifier(&algOID) {
		return nil, errors.New("malformed OCSP signature algorithm")
	}
	var certs []*smx509.Certificate
	var certsSeq cryptobyte.String
	var hasCerts bool
	if !b.ReadOptionalASN1(&certsSeq, &hasCerts, cbasn1.Tag(0).ContextSpecific().Constructed()) {
		return nil, errors.New("malformed OCSP certs")
	}
	if hasCerts {
		var list cryptobyte.String
		if !certsSeq.ReadASN1(&list, cbasn1.SEQUENCE) {
			return nil, errors.New("malformed OCSP certs")
		}
		for !list.Empty() {
			var cd cryptobyte.String
			if !list.ReadASN1Element(&cd, cbasn1.SEQUENCE) {
				return nil, errors.New("malformed OCSP certificate")
			}
			rc, err := smx509.ParseCertificate(cd)
			if err != nil {
				return nil, fmt.Errorf("OCSP responder certificate: %v", err)
			}
			certs = append(certs, rc)
		}
	}

	// The signer: the issuer itself or a delegated responder.
	alg, ok := sigAlgorithms[algOID.String()]
	if !ok {
		return nil, fmt.Errorf("unsupported OCSP signature algorithm %s", algOID)
	}
	signed := false
	var sigErr error
	for _, cand := range append([]*smx509.Certificate{issuer}, certs...) {
		if cand != issuer {
			if cand.CheckSignatureFrom(issuer) != nil || !hasEKU(cand, oidEKUOCSPSigner) {
				continue
			}
		}
		if err := cand.CheckSignature(alg, tbsRaw, sig.RightAlign()); err == nil {
			signed = true
			break
		} else {
			sigErr = err
		}
	}
	if !signed {
		return nil, fmt.Errorf("OCSP response not signed by %q or a responder it delegated: %v", name(issuer), sigErr)
	}

	// ResponseData.
	tbsIn := tbsRaw
	if !tbsIn.ReadASN1(&tbs, cbasn1.SEQUENCE) {
		return nil, errors.New("malformed ResponseData")
	}
	tbs.SkipOptionalASN1(cbasn1.Tag(0).ContextSpecific().Constructed()) // version
	var rid cryptobyte.String
	var ridTag cbasn1.Tag
	var produced time.Time
	var responses cryptobyte.String
	if !tbs.ReadAnyASN1(&rid, &ridTag) || !tbs.ReadASN1GeneralizedTime(&produced) || !tbs.ReadASN1(&responses, cbasn1.SEQUENCE) {
		return nil, errors.New("malformed ResponseData")
	}
	want, err := newCertID(c, issuer)
	if err != nil {
		return nil, err
	}
	for !responses.Empty() {
		var single, cid cryptobyte.String
		if !responses.ReadASN1(&single, cbasn1.SEQUENCE) || !single.ReadASN1(&cid, cbasn1.SEQUENCE) {
			return nil, errors.New("malformed SingleResponse")
		}
		var hashAlg cryptobyte.String
		var nameHash, keyHash []byte
		serial := new(big.Int)
		if !cid.ReadASN1(&hashAlg, cbasn1.SEQUENCE) || !cid.ReadASN1Bytes(&nameHash, cbasn1.OCTET_STRING) ||
			!cid.ReadASN1Bytes(&keyHash, cbasn1.OCTET_STRING) || !cid.ReadASN1Integer(serial) {
			return nil, errors.New("malformed CertID")
		}
		var ha asn1.ObjectIdentifier
		if !hashAlg.ReadASN1ObjectIdentifier(&ha) || !ha.Equal(oidSHA1) {
			continue // we asked with SHA-1
		}
		if !bytes.Equal(nameHash, want.IssuerNameHash) || !bytes.Equal(keyHash, want.IssuerKeyHash) || serial.Cmp(want.SerialNumber) != 0 {
			continue
		}
		out := &ocspResponse{}
		var st cryptobyte.String
		var stTag cbasn1.Tag
		if !single.ReadAnyASN1(&st, &stTag) {
			return nil, errors.New("malformed certStatus")
		}
		switch stTag {
		case cbasn1.Tag(0).ContextSpecific():
			out.Status = ocspGood
		case cbasn1.Tag(1).ContextSpecific().Constructed():
			out.Status = ocspRevoked
			if !st.ReadASN1GeneralizedTime(&out.RevokedAt) {
				return nil, errors.New("malformed revocationTime")
			}
			var rs cryptobyte.String
			var has bool
			if st.ReadOptionalASN1(&rs, &has, cbasn1.Tag(0).ContextSpecific().Constructed()) && has {
				rs.ReadASN1Enum(&out.Reason)
			}
		default:
			out.Status = ocspUnknown
		}
		if !single.ReadASN1GeneralizedTime(&out.ThisUpdate) {
			return nil, errors.New("malformed thisUpdate")
		}
		var nu cryptobyte.String
		var hasNU bool
		if single.ReadOptionalASN1(&nu, &hasNU, cbasn1.Tag(0).ContextSpecific().Constructed()) && hasNU {
			if !nu.ReadASN1GeneralizedTime(&out.NextUpdate) {
				return nil, errors.New("malformed nextUpdate")
			}
		}
		return out, nil
	}
	return nil, errNotForCert
}

// errNotForCert: a well-formed, correctly signed OCSP response about other certificates.
var errNotForCert = errors.New("OCSP response does not answer for this certificate")

func hasEKU(c *smx509.Certificate, eku asn1.ObjectIdentifier) bool {
	for _, u := range c.ExtKeyUsage {
		if u == smx509.ExtKeyUsageOCSPSigning && eku.Equal(oidEKUOCSPSigner) {
			return true
		}
	}
	return false
}

// sigAlgorithms maps the signature OIDs responders use to smx509's algorithms.
var sigAlgorithms = map[string]smx509.SignatureAlgorithm{
	"1.2.156.10197.1.501":   smx509.SM2WithSM3,
	"1.2.840.113549.1.1.11": smx509.SHA256WithRSA,
	"1.2.840.113549.1.1.12": smx509.SHA384WithRSA,
	"1.2.840.113549.1.1.13": smx509.SHA512WithRSA,
	"1.2.840.113549.1.1.5":  smx509.SHA1WithRSA,
	"1.2.840.10045.4.3.2":   smx509.ECDSAWithSHA256,
	"1.2.840.10045.4.3.3":   smx509.ECDSAWithSHA384,
	"1.2.840.10045.4.3.4":   smx509.ECDSAWithSHA512,
	"1.2.840.10045.4.1":     smx509.ECDSAWithSHA1,
}
