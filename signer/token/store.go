package token

import (
	"fmt"

	"sealdesk/signer"
)

// TokenContents is one token with what can be read from it without logging in.
type TokenContents struct {
	Info       signer.TokenInfo
	Identities []*signer.Identity
	// Seals counts the seal data objects visible without login.
	Seals int
	// Err is set when the token's objects could not be read (the token itself is listed).
	Err error
}

// ModuleError names a PKCS#11 module that cannot be used and why.
type ModuleError struct {
	Path   string
	Reason string
	Err    error
}

func (e *ModuleError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("PKCS#11 module %s: %s: %v", e.Path, e.Reason, e.Err)
	}
	return fmt.Sprintf("PKCS#11 module %s: %s", e.Path, e.Reason)
}

func (e *ModuleError) Unwrap() error { return e.Err }

// Seal data objects on a token: CKO_DATA with this label or this application.
const (
	SealLabel       = "seal"
	SealApplication = "SealDesk"
)

// Compile-time checks: both token sources serve the same interfaces.
var (
	_ signer.KeyStore = (*Store)(nil)
	_ Lister          = (*Store)(nil)
	_ signer.KeyStore = (*Fake)(nil)
	_ Lister          = (*Fake)(nil)
	_ Source          = (*Watcher)(nil)
)
