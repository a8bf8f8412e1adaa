package signer

// TokenInfo identifies a hardware token. Tokens are keyed by module, label, serial and
// manufacturer — never by slot ID, which modules may renumber when readers come and go.
type TokenInfo struct {
	Module       string `json:"module"`
	Slot         uint   `json:"slot"`
	Label        string `json:"label"`
	Serial       string `json:"serial"`
	Manufacturer string `json:"manufacturer"`
	Model        string `json:"model"`
	// PIN state from the token flags (CKF_USER_PIN_COUNT_LOW / FINAL_TRY / LOCKED).
	PINCountLow bool `json:"pinCountLow,omitempty"`
	PINFinalTry bool `json:"pinFinalTry,omitempty"`
	PINLocked   bool `json:"pinLocked,omitempty"`
}

// Key returns the identity of the token across polls.
func (t TokenInfo) Key() string {
	return t.Module + "\x00" + t.Label + "\x00" + t.Serial + "\x00" + t.Manufacturer
}

// EventKind says what happened to a token.
type EventKind string

const (
	TokenInserted EventKind = "inserted"
	TokenRemoved  EventKind = "removed"
	TokenChanged  EventKind = "changed"
	// ModuleError reports a module that failed or hung; the watcher keeps going.
	ModuleError EventKind = "error"
)

// Event is one change reported by a token watcher.
type Event struct {
	Kind  EventKind `json:"kind"`
	Token TokenInfo `json:"token"`
	Err   string    `json:"error,omitempty"`
}
