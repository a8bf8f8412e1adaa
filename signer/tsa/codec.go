package tsa

import (
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"golang.org/x/crypto/cryptobyte"
	casn1 "golang.org/x/crypto/cryptobyte/asn1"

	"sealdesk/signer"
	"sealdesk/signer/cms"
)

// Request is a TimeStampReq (RFC 3161 §2.4.1).
type Request struct {
	HashAlgorithm signer.DigestAlgorithm
	HashOID       asn1.ObjectIdentifier
	HashedMessage []byte
	Policy        asn1.ObjectIdentifier // nil: any
	Nonce         *big.Int              // nil: none
	CertReq       bool
}

// Marshal encodes the request as DER.
func (r *Request) Marshal() ([]byte, error) {
	oid, err := cms.DigestOID(r.HashAlgorithm)
	if err != nil {
		return nil, err
	}
	var b cryptobyte.Builder
	b.AddASN1(casn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(1)
		b.AddASN1(casn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1(casn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oid) })
			b.AddASN1OctetString(r.HashedMessage)
		})
		if r.Policy != nil {
			b.AddASN1ObjectIdentifier(r.Policy)
		}
		if r.Nonce != nil {
			b.AddASN1BigInt(r.Nonce)
		}
		if r.CertReq {
			b.AddASN1Boolean(true)
		}
	})
	return b.Bytes()
}

// ParseRequest reads a DER TimeStampReq. An unknown hash algorithm is reported by leaving
// HashAlgorithm empty (the server answers badAlg).
func ParseRequest(der []byte) (*Request, error) {
	r := &Request{}
	in := cryptobyte.String(der)
	var s, mi, alg cryptobyte.String
	var v int
	if !in.ReadASN1(&s, casn1.SEQUENCE) || !in.Empty() {
		return nil, errors.New("tsa: TimeStampReq is not a SEQUENCE")
	}
	if !s.ReadASN1Integer(&v) || v != 1 {
		return nil, errors.New("tsa: TimeStampReq.version is not 1")
	}
	if !s.ReadASN1(&mi, casn1.SEQUENCE) || !mi.ReadASN1(&alg, casn1.SEQUENCE) || !alg.ReadASN1ObjectIdentifier(&r.HashOID) {
		return nil, errors.New("tsa: malformed TimeStampReq.messageImprint")
	}
	r.HashAlgorithm, _ = cms.DigestByOID(r.HashOID)
	var hm cryptobyte.String
	if !mi.ReadASN1(&hm, casn1.OCTET_STRING) || !mi.Empty() {
		return nil, errors.New("tsa: malformed TimeStampReq.messageImprint.hashedMessage")
	}
	r.HashedMessage = append([]byte{}, hm...)
	if s.PeekASN1Tag(casn1.OBJECT_IDENTIFIER) && !s.ReadASN1ObjectIdentifier(&r.Policy) {
		return nil, errors.New("tsa: malformed TimeStampReq.reqPolicy")
	}
	if s.PeekASN1Tag(casn1.INTEGER) {
		r.Nonce = new(big.Int)
		if !s.ReadASN1Integer(r.Nonce) {
			return nil, errors.New("tsa: malformed TimeStampReq.nonce")
		}
	}
	if s.PeekASN1Tag(casn1.BOOLEAN) && !s.ReadASN1Boolean(&r.CertReq) {
		return nil, errors.New("tsa: malformed TimeStampReq.certReq")
	}
	if s.PeekASN1Tag(casn1.Tag(0).Constructed().ContextSpecific()) {
		var ext cryptobyte.String
		s.ReadASN1(&ext, casn1.Tag(0).Constructed().ContextSpecific())
	}
	if !s.Empty() {
		return nil, errors.New("tsa: trailing data in TimeStampReq")
	}
	return r, nil
}

// PKIStatus values (RFC 3161 §2.4.2).
const (
	StatusGranted               = 0
	StatusGrantedWithMods       = 1
	StatusRejection             = 2
	StatusWaiting               = 3
	StatusRevocationWarning     = 4
	StatusRevocationNotificaton = 5
)

// PKIFailureInfo bits.
const (
	FailBadAlg              = 0
	FailBadRequest          = 2
	FailBadDataFormat       = 5
	FailTimeNotAvailable    = 14
	FailUnacceptedPolicy    = 15
	FailUnacceptedExtension = 16
	FailAddInfoNotAvailable = 17
	FailSystemFailure       = 25
)

var failNames = map[int]string{
	FailBadAlg: "badAlg", FailBadRequest: "badRequest", FailBadDataFormat: "badDataFormat",
	FailTimeNotAvailable: "timeNotAvailable", FailUnacceptedPolicy: "unacceptedPolicy",
	FailUnacceptedExtension: "unacceptedExtension", FailAddInfoNotAvailable: "addInfoNotAvailable",
	FailSystemFailure: "systemFailure",
}

// Response is a TimeStampResp.
type Response struct {
	Status     int
	StatusText []string
	FailInfo   []int  // set PKIFailureInfo bit numbers
	Token      []byte // DER TimeStampToken (ContentInfo); nil unless granted
}

// StatusError is a TSA's refusal.
type StatusError struct {
	Status   int
	Text     string
	FailInfo []int
}

func (e *StatusError) Error() string {
	msg := fmt.Sprintf("tsa: request refused (status %d", e.Status)
	for _, f := range e.FailInfo {
		if n, ok := failNames[f]; ok {
			msg += ", " + n
		} else {
			msg += fmt.Sprintf(", failure bit %d", f)
		}
	}
	msg += ")"
	if e.Text != "" {
		msg += ": " + e.Text
	}
	return msg
}

// Err returns a *StatusError unless the response grants a token.
func (r *Response) Err() error {
	if (r.Status == StatusGranted || r.Status == StatusGrantedWithMods) && r.Token != nil {
		return nil
	}
	if r.Status == StatusGranted || r.Status == StatusGrantedWithMods {
		return &StatusError{Status: r.Status, Text: "granted, but no token in the response"}
	}
	return &StatusError{Status: r.Status, Text: strings.Join(r.StatusText, "; "), FailInfo: r.FailInfo}
}

// maxResponse bounds what ParseResponse (and the client) accept.
const maxResponse = 1 << 20

// ParseResponse reads a DER TimeStampResp. It does not verify the token (see Verify).
func ParseResponse(der []byte) (*Response, error) {
	if len(der) > maxResponse {
		return nil, fmt.Errorf("tsa: response of %d bytes is larger than %d", len(der), maxResponse)
	}
	r := &Response{}
	in := cryptobyte.String(der)
	var s, si cryptobyte.String
	if !in.ReadASN1(&s, casn1.SEQUENCE) || !in.Empty() {
		return nil, errors.New("tsa: TimeStampResp is not a single DER SEQUENCE")
	}
	if !s.ReadASN1(&si, casn1.SEQUENCE) || !si.ReadASN1Integer(&r.Status) {
		return nil, errors.New("tsa: malformed TimeStampResp.status")
	}
	if si.PeekASN1Tag(casn1.SEQUENCE) {
		var texts cryptobyte.String
		si.ReadASN1(&texts, casn1.SEQUENCE)
		for !texts.Empty() {
			var t cryptobyte.String
			if !texts.ReadASN1(&t, casn1.UTF8String) {
				return nil, errors.New("tsa: malformed TimeStampResp.status.statusString")
			}
			r.StatusText = append(r.StatusText, string(t))
		}
	}
	if si.PeekASN1Tag(casn1.BIT_STRING) {
		var bs asn1.BitString
		if !si.ReadASN1BitString(&bs) {
			return nil, errors.New("tsa: malformed TimeStampResp.status.failInfo")
		}
		for i := 0; i < bs.BitLength; i++ {
			if bs.At(i) == 1 {
				r.FailInfo = append(r.FailInfo, i)
			}
		}
	}
	if !si.Empty() {
		return nil, errors.New("tsa: trailing data in TimeStampResp.status")
	}
	if !s.Empty() {
		var tok cryptobyte.String
		if !s.ReadASN1Element(&tok, casn1.SEQUENCE) || !s.Empty() {
			return nil, errors.New("tsa: malformed TimeStampResp.timeStampToken")
		}
		r.Token = append([]byte{}, tok...)
	}
	return r, nil
}

// marshalResponse encodes a TimeStampResp.
func marshalResponse(status int, text string, failBit int, token []byte) []byte {
	var b cryptobyte.Builder
	b.AddASN1(casn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(casn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1Int64(int64(status))
			if text != "" {
				b.AddASN1(casn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1(casn1.UTF8String, func(b *cryptobyte.Builder) { b.AddBytes([]byte(text)) })
				})
			}
			if failBit >= 0 {
				// A named bit list in DER ends at its last set bit.
				bits := make([]byte, 1+failBit/8+1)
				bits[0] = byte(7 - failBit%8)
				bits[1+failBit/8] = 0x80 >> (failBit % 8)
				b.AddASN1(casn1.BIT_STRING, func(b *cryptobyte.Builder) { b.AddBytes(bits) })
			}
		})
		if token != nil {
			b.AddBytes(token)
		}
	})
	return b.BytesOrPanic()
}
