package pdf

import (
	"crypto/sha1"
	"crypto/sha3"
	"fmt"
	"hash"

	"sealdesk/signer"
)

// newHash extends signer.DigestAlgorithm with the digests that only verification of other
// producers' signatures needs (SHA-1 of legacy signatures, SHA-3).
func newHash(a signer.DigestAlgorithm) (hash.Hash, error) {
	switch a {
	case "sha1", "sha-1":
		return sha1.New(), nil
	case "sha3-256", "sha3_256":
		return sha3.New256(), nil
	case "sha3-384", "sha3_384":
		return sha3.New384(), nil
	case "sha3-512", "sha3_512":
		return sha3.New512(), nil
	}
	h, err := a.New()
	if err != nil {
		return nil, fmt.Errorf("digest %q is not supported", string(a))
	}
	return h, nil
}
