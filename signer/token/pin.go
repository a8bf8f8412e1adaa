package token

import (
	"errors"
	"fmt"

	"sealdesk/signer"
)

// PKCS#11 token flags for the user PIN (v2.40 §3.2, CK_TOKEN_INFO.flags). Repeated here so
// that the Fake and non-cgo builds share the logic.
const (
	flagUserPINCountLow = 0x00010000
	flagUserPINFinalTry = 0x00020000
	flagUserPINLocked   = 0x00040000
)

// applyPINFlags copies the PIN state flags into t.
func applyPINFlags(t *signer.TokenInfo, flags uint) {
	t.PINCountLow = flags&flagUserPINCountLow != 0
	t.PINFinalTry = flags&flagUserPINFinalTry != 0
	t.PINLocked = flags&flagUserPINLocked != 0
}

// errWrongPIN is what a rejected C_Login wraps.
var errWrongPIN = errors.New("the token rejected the PIN")

// PINErrorFor turns the token's PIN flags, read after a rejected login, into the error the
// user sees. PKCS#11 gives no count, only flags: FINAL_TRY means 1 try left, LOCKED 0, and
// otherwise the count is unknown (-1).
func PINErrorFor(t signer.TokenInfo, cause error) *signer.PINError {
	if cause == nil {
		cause = errWrongPIN
	}
	switch {
	case t.PINLocked:
		return &signer.PINError{Reason: "locked", TriesLeft: 0, Err: errors.Join(cause, signer.ErrPINLocked)}
	case t.PINFinalTry:
		return &signer.PINError{Reason: "final try", TriesLeft: 1, Err: cause}
	case t.PINCountLow:
		return &signer.PINError{Reason: "count low", TriesLeft: -1, Err: cause}
	}
	return &signer.PINError{Reason: "incorrect", TriesLeft: -1, Err: cause}
}

// lockedError is returned before any C_Login when the token says its PIN is locked.
func lockedError(t signer.TokenInfo) error {
	return fmt.Errorf("token %q: %w", t.Label, signer.ErrPINLocked)
}

// tokenPINError wraps a PIN error with the token's name, keeping errors.As(*signer.PINError).
type tokenPINError struct {
	Token string
	PIN   *signer.PINError
}

func (e *tokenPINError) Error() string { return fmt.Sprintf("token %q: %v", e.Token, e.PIN) }
func (e *tokenPINError) Unwrap() error { return e.PIN }
