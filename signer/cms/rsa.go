package cms

import (
	"bytes"
	"crypto/rsa"
	"crypto/subtle"
	"errors"
	"math/big"

	"golang.org/x/crypto/cryptobyte"
	casn1 "golang.org/x/crypto/cryptobyte/asn1"

	"sealdesk/signer"
)

// Go's crypto/rsa refuses public exponents above 2^31-1, but real qualified certificates
// carry them (a German D-Trust certificate in the corpus has e = 0x875d8fa3), and the
// signatures are valid. Verification only uses public values, so when crypto/rsa refuses the
// key the public operation is done with math/big and the encodings are checked here
// (RFC 8017 §8.2.2 and §9.1.2).

func rsaKeyTooUnusual(pub *rsa.PublicKey) bool {
	return pub.E > 1<<31-1 || pub.E < 2 || pub.N.BitLen() > 16384
}

// rsaRecover returns s^e mod n as a k-byte string (k = modulus length), or nil when s is out
// of range.
func rsaRecover(pub *rsa.PublicKey, sig []byte) []byte {
	k := (pub.N.BitLen() + 7) / 8
	if len(sig) != k || pub.N.Sign() <= 0 {
		return nil
	}
	s := new(big.Int).SetBytes(sig)
	if s.Cmp(pub.N) >= 0 {
		return nil
	}
	m := new(big.Int).Exp(s, big.NewInt(int64(pub.E)), pub.N)
	return m.FillBytes(make([]byte, k))
}

// pkcs1DigestInfo parses EMSA-PKCS1-v1_5 (00 01 FF.. 00 DigestInfo) and returns the
// DigestInfo's algorithm and digest.
func pkcs1DigestInfo(em []byte) (signer.DigestAlgorithm, []byte, error) {
	if len(em) < 11 || em[0] != 0 || em[1] != 1 {
		return "", nil, errors.New("not a PKCS#1 v1.5 signature block")
	}
	i := 2
	for i < len(em) && em[i] == 0xff {
		i++
	}
	if i < 10 || i >= len(em) || em[i] != 0 {
		return "", nil, errors.New("bad PKCS#1 v1.5 padding")
	}
	in := cryptobyte.String(em[i+1:])
	var di cryptobyte.String
	if !in.ReadASN1(&di, casn1.SEQUENCE) || !in.Empty() {
		return "", nil, errors.New("no DigestInfo in the signature block")
	}
	a, err := readAlgID(&di, "DigestInfo")
	if err != nil {
		return "", nil, err
	}
	var d cryptobyte.String
	if !di.ReadASN1(&d, casn1.OCTET_STRING) || !di.Empty() {
		return "", nil, errors.New("malformed DigestInfo")
	}
	if a.Parameters != nil && !bytes.Equal(a.Parameters, []byte{5, 0}) {
		return "", nil, errors.New("DigestInfo parameters are not NULL")
	}
	alg, err := DigestByOID(a.Algorithm)
	if err != nil {
		return "", nil, err
	}
	return alg, d, nil
}

// verifyPKCS1Big verifies a PKCS#1 v1.5 signature with the big-number public operation.
func verifyPKCS1Big(pub *rsa.PublicKey, d signer.DigestAlgorithm, digest, sig []byte) error {
	em := rsaRecover(pub, sig)
	if em == nil {
		return errors.New("signature out of range")
	}
	alg, got, err := pkcs1DigestInfo(em)
	if err != nil {
		return err
	}
	if alg != d {
		return errors.New("signature holds a " + string(alg) + " digest, not " + string(d))
	}
	if subtle.ConstantTimeCompare(got, digest) != 1 {
		return rsa.ErrVerification
	}
	return nil
}

// verifyPSSBig is EMSA-PSS-VERIFY (RFC 8017 §9.1.2) over the big-number public operation.
func verifyPSSBig(pub *rsa.PublicKey, d signer.DigestAlgorithm, mHash, sig []byte, sLen int) error {
	em := rsaRecover(pub, sig)
	if em == nil {
		return errors.New("signature out of range")
	}
	emBits := pub.N.BitLen() - 1
	emLen := (emBits + 7) / 8
	if len(em) > emLen { // leading octet must be zero when emBits is a multiple of 8
		if em[0] != 0 {
			return rsa.ErrVerification
		}
		em = em[1:]
	}
	h, err := NewHash(d)
	if err != nil {
		return err
	}
	hLen := h.Size()
	if len(mHash) != hLen || emLen < hLen+sLen+2 || em[emLen-1] != 0xbc {
		return rsa.ErrVerification
	}
	maskedDB, hh := em[:emLen-hLen-1], em[emLen-hLen-1:emLen-1]
	topBits := uint(8*emLen - emBits)
	if maskedDB[0]&^(0xff>>topBits) != 0 {
		return rsa.ErrVerification
	}
	db := mgf1(d, hh, len(maskedDB))
	for i := range db {
		db[i] ^= maskedDB[i]
	}
	db[0] &= 0xff >> topBits
	ps := emLen - hLen - sLen - 2
	for _, c := range db[:ps] {
		if c != 0 {
			return rsa.ErrVerification
		}
	}
	if db[ps] != 1 {
		return rsa.ErrVerification
	}
	h.Reset()
	h.Write(make([]byte, 8))
	h.Write(mHash)
	h.Write(db[len(db)-sLen:])
	if subtle.ConstantTimeCompare(h.Sum(nil), hh) != 1 {
		return rsa.ErrVerification
	}
	return nil
}

func mgf1(d signer.DigestAlgorithm, seed []byte, n int) []byte {
	var out []byte
	for c := uint32(0); len(out) < n; c++ {
		h, _ := NewHash(d)
		h.Write(seed)
		h.Write([]byte{byte(c >> 24), byte(c >> 16), byte(c >> 8), byte(c)})
		out = h.Sum(out)
	}
	return out[:n]
}

// describePKCS1Mismatch explains a failed PKCS#1 v1.5 check when the signature block holds a
// valid DigestInfo for another algorithm (a mislabelled signatureAlgorithm).
func describePKCS1Mismatch(pub *rsa.PublicKey, claimed signer.DigestAlgorithm, sig []byte) string {
	em := rsaRecover(pub, sig)
	if em == nil {
		return ""
	}
	alg, _, err := pkcs1DigestInfo(em)
	if err != nil || alg == claimed {
		return ""
	}
	return "the signature value holds a " + string(alg) + " DigestInfo while the algorithm says " + string(claimed)
}
