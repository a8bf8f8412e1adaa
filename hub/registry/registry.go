// Package registry is mutual recognition (互信互认, issue 14): one filing registry (备案) and
// many seal providers. This package is what a client needs and links no hub server or store:
// the wire formats, the signed trust bundle (bundle.go), the status client (client.go) and the
// client configuration with its bundle cache and refresh (resolver.go). The hub side, the
// provider's filing queue and the registry service, is package registrar beneath it.
//
// A provider (sealhub serve --role provider --registry URL) files every new seal and every
// status change: the filing goes first into a table of the provider's own store, in the same
// transaction as the change, then a loop sends due filings to the registry, retrying with
// exponential backoff while it is unreachable. Each filing has an id the provider chooses
// (seal:ESID, status:ESID:STATUS:MICROS), and the registry stores an id once per provider, so
// a filing whose acknowledgement was lost is sent again and answered with the same filing
// number: every filing lands exactly once.
//
// The registry (sealhub serve --role registry) accepts filings only from accredited
// providers, checked by the provider's signature over the request body (ES256 with the
// provider's hub key, context "sealhub-filing-v1\n"); it answers seal status across all
// providers, now or at a time T (the answer names T in its "at" field, so it can be kept as
// a proof), the status changes since T, and a signed, versioned trust bundle of the
// accredited providers, their seal-maker certificates, CA roots and endpoints.
//
// Stable error codes: provider_not_accredited (unknown or suspended provider),
// bad_provider_signature, invalid_field.
package registry

import (
	"time"
)

// Provider states.
const (
	Accredited = "accredited"
	Suspended  = "suspended"
)

// Error codes of the registry.
const (
	CodeNotAccredited = "provider_not_accredited"
	CodeBadSignature  = "bad_provider_signature"
)

// FilingContext separates a provider's filing signatures from its status answers.
const FilingContext = "sealhub-filing-v1\n"

// Provider is an accredited provider as the registry's admin describes it.
type Provider struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Endpoint string `json:"endpoint,omitempty"`
	// KeyPEM is the provider's hub key (status answers, filing signatures).
	KeyPEM string `json:"keyPem"`
	// MakerCerts are the DER certificates of its seal makers; CARoots the DER roots of
	// its holders' certificates.
	MakerCerts [][]byte  `json:"makerCerts,omitempty"`
	CARoots    [][]byte  `json:"caRoots,omitempty"`
	Status     string    `json:"status"`
	Updated    time.Time `json:"updated"`
}

// FilingMsg is one filing as a provider sends it.
type FilingMsg struct {
	ID        string    `json:"id"`
	Kind      string    `json:"kind"` // seal or status
	ESID      string    `json:"esId"`
	Status    string    `json:"status"`
	Reason    string    `json:"reason,omitempty"`
	At        time.Time `json:"at"`
	OrgID     string    `json:"orgId,omitempty"`
	OwnerUSCC string    `json:"ownerUscc,omitempty"`
	Name      string    `json:"name,omitempty"`
	Type      string    `json:"type,omitempty"`
	Seal      []byte    `json:"seal,omitempty"`
}

// FilingRequest is the body of POST /v1/registry/filings.
type FilingRequest struct {
	Filings []FilingMsg `json:"filings"`
}

// FilingResult acknowledges one filing.
type FilingResult struct {
	ID        string `json:"id"`
	Number    string `json:"number"`
	Duplicate bool   `json:"duplicate,omitempty"`
}

// FilingAnswer is the registry's answer to a FilingRequest.
type FilingAnswer struct {
	Results []FilingResult `json:"results"`
}

// MaxFilings bounds one request.
const MaxFilings = 500
