// Package check is the verification vocabulary every verifier of SealDesk shares: the outcome
// of one fact (Status), one finding (Problem, with a stable code) and the overall verdict of a
// signature or a document (Indication, as EU DSS names them).
//
// It is a leaf package so that signer/cms, signer/ses, signer/trust, document and the hub can
// all speak it without importing each other. The codes themselves, what each means, which fact
// it affects and whether it is red or amber, are listed in one table: document.Codes (and
// docs/CLI.md).
package check

// Status is the outcome of one checked fact.
type Status string

// The values of Status.
const (
	OK      Status = "ok"      // established and passed
	Failed  Status = "failed"  // established and did not pass
	Unknown Status = "unknown" // could not be established
)

// Problem is one finding with a stable, machine-readable code (scheme: "area.name", see
// document.Codes) and an English message naming the object concerned. People read the
// catalogue's text for the code (internal/report), not Message.
type Problem struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Indication is the verdict on a signature or a document, in EU DSS terms.
type Indication string

const (
	// Valid: every fact was established and passed (green).
	Valid Indication = "valid"
	// Invalid: something was proven wrong — integrity, a change that is not allowed, a seal or
	// certificate revoked or out of force at a proven signing time (red).
	Invalid Indication = "invalid"
	// Indeterminate: nothing was proven wrong, but something could not be established — an
	// unknown issuer, no revocation answer, a seal the hub does not know, expiry without proof
	// of the signing time (amber).
	Indeterminate Indication = "indeterminate"
)

// Worse returns the more severe of two indications (invalid > indeterminate > valid).
func Worse(a, b Indication) Indication {
	rank := func(i Indication) int {
		switch i {
		case Invalid:
			return 2
		case Indeterminate:
			return 1
		case Valid:
			return 0
		}
		return 1 // an empty or unknown indication is never green
	}
	if rank(b) > rank(a) {
		return b
	}
	return a
}

// WorseStatus returns the more severe of two outcomes (failed > unknown > ok).
func WorseStatus(a, b Status) Status {
	if a == Failed || b == Failed {
		return Failed
	}
	if a == Unknown || b == Unknown {
		return Unknown
	}
	return OK
}
