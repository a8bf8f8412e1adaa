package ofdsig

import (
	"crypto/ecdsa"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"fmt"
	"hash"
	"strings"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"

	"sealdesk/signer"
)

// OIDs written by Sign.
const (
	// OIDSM3 is the CheckMethod SealDesk writes (GM/T 0006 SM3): every real producer that uses
	// an OID writes this one, and readers that only know names still accept it via the OID.
	OIDSM3 = "1.2.156.10197.1.401"
	// OIDSM3WithSM2 is the SignatureMethod of SES and SM2 signatures.
	OIDSM3WithSM2 = "1.2.156.10197.1.501"
)

// checkMethod is a parsed References@CheckMethod.
type checkMethod struct {
	// Name is the canonical name shown in reports: sm3, sm3-z (SM3 over Z‖file), md5, sha1,
	// sha256, sha384, sha512.
	Name string
	// withZ: the digest is SM3(Z‖file), Z from the signer's SM2 public key (GM/T 0006
	// "SM3 with key", OID …401.2; measured on the dms360 v1 file).
	withZ   bool
	newHash func() hash.Hash
}

// parseCheckMethod maps the CheckMethod spellings seen in real files to a digest. An absent
// attribute means the XSD default MD5. Unknown names return an error: such a reference cannot
// be verified and must never count as valid.
func parseCheckMethod(s string) (checkMethod, error) {
	v := strings.TrimSpace(s)
	switch strings.ToLower(v) {
	case "":
		return checkMethod{Name: "md5", newHash: md5.New}, nil
	case OIDSM3, OIDSM3 + ".1", "sm3":
		return checkMethod{Name: "sm3", newHash: sm3.New}, nil
	case OIDSM3 + ".2":
		return checkMethod{Name: "sm3-z", withZ: true, newHash: sm3.New}, nil
	case "md5", "1.2.840.113549.2.5":
		return checkMethod{Name: "md5", newHash: md5.New}, nil
	case "sha1", "sha-1", "1.3.14.3.2.26":
		return checkMethod{Name: "sha1", newHash: sha1.New}, nil
	case "sha256", "sha-256", "2.16.840.1.101.3.4.2.1":
		return checkMethod{Name: "sha256", newHash: sha256.New}, nil
	case "sha384", "sha-384", "2.16.840.1.101.3.4.2.2":
		return checkMethod{Name: "sha384", newHash: sha512.New384}, nil
	case "sha512", "sha-512", "2.16.840.1.101.3.4.2.3":
		return checkMethod{Name: "sha512", newHash: sha512.New}, nil
	}
	return checkMethod{}, fmt.Errorf("unknown CheckMethod %q", v)
}

// hasher returns a fresh hash for one file. For …401.2 the hash is primed with Z of pub; pub
// must then be an SM2 key.
func (c checkMethod) hasher(pub any) (hash.Hash, error) {
	h := c.newHash()
	if c.withZ {
		k, ok := pub.(*ecdsa.PublicKey)
		if !ok || k == nil || k.Curve != sm2.P256() {
			return nil, fmt.Errorf("CheckMethod %s needs the signer's SM2 public key, which the signature does not provide", OIDSM3+".2")
		}
		z, err := sm2.CalculateZA(k, signer.SM2DefaultUID)
		if err != nil {
			return nil, err
		}
		h.Write(z)
	}
	return h, nil
}
