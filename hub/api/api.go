// Package api is the wire contract of sealhub, the central e-seal verification endpoint: the
// JSON types of every /v1 request and response, the stable error codes, validation of what
// clients send (including the check digit of the unified social credit code), and the signed
// envelope in which the hub answers status questions so that clients may trust a cached answer
// offline. hub/openapi.yaml (next to this file) documents the same contract for other languages.
//
// Both the server (hub/server) and the client (hub/client, hub/outbox) use these types, so a
// field can only change in one place.
package api

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Seal statuses, as the provincial and national e-seal status services name them.
const (
	StatusActive    = "active"    // in force
	StatusSuspended = "suspended" // temporarily out of force (may return to active)
	StatusRevoked   = "revoked"   // 撤销: permanently out of force
	StatusWithdrawn = "withdrawn" // 注销/缴销: handed back by the owner, permanently out of force
	StatusLost      = "lost"      // 挂失: reported lost, permanently out of force
	StatusUnknown   = "unknown"   // not filed on this hub (status answers only)
)

// Terminal reports whether a status can never change again.
func Terminal(status string) bool {
	return status == StatusRevoked || status == StatusWithdrawn || status == StatusLost
}

// ValidStatus reports whether s is a status a seal can be set to.
func ValidStatus(s string) bool {
	switch s {
	case StatusActive, StatusSuspended, StatusRevoked, StatusWithdrawn, StatusLost:
		return true
	}
	return false
}

// Roles of a credential.
const (
	RoleAdmin = "admin" // the hub operator: every organisation, creates organisations and tokens
	RoleOrg   = "org"   // a client organisation: only its own seals and records
)

// Principal is who a request acts as.
type Principal struct {
	OrgID string `json:"orgId,omitempty"` // empty for admin
	Role  string `json:"role"`
	Label string `json:"label,omitempty"`
}

// IsAdmin reports whether p may act on every organisation.
func (p Principal) IsAdmin() bool { return p.Role == RoleAdmin }

// Org is a client organisation.
type Org struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	USCC    string    `json:"uscc"` // 统一社会信用代码
	Created time.Time `json:"created"`
}

// TokenRequest asks for a new bearer token (admin only).
type TokenRequest struct {
	OrgID string `json:"orgId,omitempty"` // empty with role admin
	Role  string `json:"role"`
	Label string `json:"label"`
}

// TokenResponse carries a new token; the hub keeps only its SHA-256, so it is shown once.
type TokenResponse struct {
	Token string `json:"token"`
	OrgID string `json:"orgId,omitempty"`
	Role  string `json:"role"`
	Label string `json:"label"`
}

// FileSealRequest files (registers) an SES seal.
type FileSealRequest struct {
	// Seal is the DER SES seal (GB/T 38540 or GM/T 0031), base64 in JSON. When the hub has a
	// seal parser, ESID, Name, validity and Certificates are taken from it and any value given
	// below must agree.
	Seal         []byte    `json:"seal,omitempty"`
	ESID         string    `json:"esId"`
	Name         string    `json:"name"`
	FilingNumber string    `json:"filingNumber"` // 备案号 given by the registry
	OwnerUSCC    string    `json:"ownerUscc"`
	OrgID        string    `json:"orgId,omitempty"` // admin only: the owner organisation
	ValidStart   time.Time `json:"validStart"`
	ValidEnd     time.Time `json:"validEnd"`
	// Certificates are the DER signer certificates the seal binds (base64 in JSON).
	Certificates [][]byte `json:"certificates"`
}

// Seal is a filed seal as the owner (or admin) sees it.
type Seal struct {
	ESID          string        `json:"esId"`
	OrgID         string        `json:"orgId"`
	Name          string        `json:"name"`
	FilingNumber  string        `json:"filingNumber"`
	OwnerUSCC     string        `json:"ownerUscc"`
	ValidStart    time.Time     `json:"validStart"`
	ValidEnd      time.Time     `json:"validEnd"`
	CertSHA256    []string      `json:"certSha256"`
	Status        string        `json:"status"`
	StatusReason  string        `json:"statusReason,omitempty"`
	StatusAt      time.Time     `json:"statusAt"`
	FiledAt       time.Time     `json:"filedAt"`
	HasSealObject bool          `json:"hasSealObject"`
	StatusHistory []StatusEvent `json:"statusHistory,omitempty"`
	// ApplicationID is the application the seal was made for ("" for a seal filed directly);
	// Replaces is the seal a re-issue replaces.
	ApplicationID string `json:"applicationId,omitempty"`
	Replaces      string `json:"replaces,omitempty"`
}

// StatusEvent is one change of a seal's status.
type StatusEvent struct {
	Status string    `json:"status"`
	Reason string    `json:"reason,omitempty"`
	At     time.Time `json:"at"`
	Actor  string    `json:"actor,omitempty"`
}

// StatusChange changes a seal's status (revoke, suspend, withdraw, report lost, reactivate).
type StatusChange struct {
	Status string `json:"status"`
	Reason string `json:"reason"`
	// At is when the change takes effect; zero means now. It may not lie in the future, nor
	// before the seal's last status change (the history is append-only).
	At time.Time `json:"at,omitempty"`
}

// RenewRequest extends a seal's validity and optionally replaces its certificates.
type RenewRequest struct {
	ValidEnd     time.Time `json:"validEnd"`
	Certificates [][]byte  `json:"certificates,omitempty"`
	Seal         []byte    `json:"seal,omitempty"`
}

// SealStatus is the public registry fact about one seal: what anyone verifying a document
// needs, without the owner's private details.
type SealStatus struct {
	ESID       string    `json:"esId"`
	Status     string    `json:"status"`
	Reason     string    `json:"reason,omitempty"`
	StatusAt   time.Time `json:"statusAt,omitzero"`
	ValidStart time.Time `json:"validStart,omitzero"`
	ValidEnd   time.Time `json:"validEnd,omitzero"`
	OwnerUSCC  string    `json:"ownerUscc,omitempty"`
	Name       string    `json:"name,omitempty"`
	CertSHA256 []string  `json:"certSha256,omitempty"`
}

// StatusPayload is what the hub signs in a status answer.
type StatusPayload struct {
	Type       string       `json:"type"` // "status" or "revocations"
	ProducedAt time.Time    `json:"producedAt"`
	Since      time.Time    `json:"since,omitzero"` // revocation lists: changes after this time
	Statuses   []SealStatus `json:"statuses"`
	// At is the time the statuses are answered for: a registry's "status at T" answer
	// (issue 14) names T, so the signed answer can be kept as a proof. Zero: at ProducedAt.
	At time.Time `json:"at,omitzero"`
}

// StatusBatchRequest asks for the status of several seals.
type StatusBatchRequest struct {
	IDs []string `json:"ids"`
}

// Record is a signing record: one use of a seal. Clients choose ID (so a retried push is
// recognised); the hub stores it once per organisation and never changes it.
type Record struct {
	ID               string    `json:"id"`
	SealID           string    `json:"sealId"`
	SignerCertSHA256 string    `json:"signerCertSha256"`
	DocDigestAlg     string    `json:"docDigestAlg"` // sha256 or sm3
	DocDigest        string    `json:"docDigest"`    // lowercase hex, of the signed output file
	DocName          string    `json:"docName"`
	Pages            []int     `json:"pages"`
	SignedAt         time.Time `json:"signedAt"`
	Client           string    `json:"client"`
}

// BodyHash is the SHA-256 of the record's canonical JSON; the hub compares it to tell a
// harmless retry (same body) from a clash (same id, different body).
func (r *Record) BodyHash() string {
	c := *r
	c.SignedAt = c.SignedAt.UTC()
	c.DocDigest = strings.ToLower(c.DocDigest)
	c.SignerCertSHA256 = strings.ToLower(c.SignerCertSHA256)
	b, _ := json.Marshal(&c) // a struct of strings, ints and a time cannot fail
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// StoredRecord is a record as the hub holds it.
type StoredRecord struct {
	Record
	OrgID      string    `json:"orgId"`
	ReceivedAt time.Time `json:"receivedAt"`
}

// RecordBatch pushes several records at once.
type RecordBatch struct {
	Records []Record `json:"records"`
}

// Outcomes of pushing one record.
const (
	ResultCreated   = "created"   // stored now
	ResultDuplicate = "duplicate" // already stored with the same body: nothing changed
	ResultConflict  = "conflict"  // already stored with a different body: refused
	ResultRejected  = "rejected"  // invalid or not allowed: refused (see Error)
)

// RecordResult is the outcome for one record of a batch.
type RecordResult struct {
	ID     string     `json:"id"`
	Result string     `json:"result"`
	Error  *ErrorBody `json:"error,omitempty"`
}

// RecordBatchResult lists one result per pushed record, in order.
type RecordBatchResult struct {
	Results []RecordResult `json:"results"`
}

// RecordPage is a page of records; Next is the cursor for the next page ("" at the end).
type RecordPage struct {
	Records []StoredRecord `json:"records"`
	Next    string         `json:"next,omitempty"`
}

// VerifyRequest asks the hub what it knows about a signature. Give at least one of DocDigest,
// Signature, SealID.
type VerifyRequest struct {
	DocDigestAlg     string    `json:"docDigestAlg,omitempty"`
	DocDigest        string    `json:"docDigest,omitempty"`
	Signature        []byte    `json:"signature,omitempty"` // a signature blob (SES_Signature or CMS), base64
	SealID           string    `json:"sealId,omitempty"`
	SignerCertSHA256 string    `json:"signerCertSha256,omitempty"`
	SignedAt         time.Time `json:"signedAt,omitzero"`
}

// Verdicts of a verify answer.
const (
	VerdictOK      = "ok"
	VerdictFailed  = "failed"
	VerdictUnknown = "unknown"
)

// CryptoResult is the cryptographic check of a signature blob.
type CryptoResult struct {
	Result           string    `json:"result"` // ok | failed | unknown | not_checked
	Format           string    `json:"format,omitempty"`
	SealID           string    `json:"sealId,omitempty"`
	SignerCertSHA256 string    `json:"signerCertSha256,omitempty"`
	SignedAt         time.Time `json:"signedAt,omitzero"`
	Detail           string    `json:"detail,omitempty"`
}

// RecordFact is what the hub tells about a matching signing record. DocName and Client are
// given only to the record's own organisation.
type RecordFact struct {
	SealID           string    `json:"sealId"`
	SignerCertSHA256 string    `json:"signerCertSha256"`
	SignedAt         time.Time `json:"signedAt"`
	Pages            []int     `json:"pages"`
	Own              bool      `json:"own"`
	ID               string    `json:"id,omitempty"`
	DocName          string    `json:"docName,omitempty"`
	Client           string    `json:"client,omitempty"`
}

// VerifyResult is the hub's answer: registry facts, the cryptographic result, and a verdict
// on the registry side ("failed" when the seal was not in force when the document was signed).
type VerifyResult struct {
	Verdict         string       `json:"verdict"` // ok | failed | unknown
	Seal            *SealStatus  `json:"seal,omitempty"`
	StatusAtSigning string       `json:"statusAtSigning,omitempty"`
	SignedAt        time.Time    `json:"signedAt,omitzero"`
	Records         []RecordFact `json:"records"`
	Crypto          CryptoResult `json:"crypto"`
	Problems        []ErrorBody  `json:"problems"`
	CheckedAt       time.Time    `json:"checkedAt"`
}

// AuditEvent is one entry of an organisation's audit trail.
type AuditEvent struct {
	Seq    int64     `json:"seq"`
	OrgID  string    `json:"orgId"`
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"`
	Target string    `json:"target,omitempty"`
	Detail string    `json:"detail,omitempty"`
	// Role, Reason and EffectiveAt (the time the change is in force) are given for
	// lifecycle transitions. Prev is the Link of the event before this one; Signature is
	// the hub's ES256 signature over SignedBytes (see lifecycle.go).
	Role        string    `json:"role,omitempty"`
	Reason      string    `json:"reason,omitempty"`
	EffectiveAt time.Time `json:"effectiveAt,omitzero"`
	Prev        string    `json:"prev,omitempty"`
	KeyID       string    `json:"keyId,omitempty"`
	Signature   []byte    `json:"signature,omitempty"`
}

// AuditPage is a page of audit events; Next is the cursor (a sequence number) or "".
type AuditPage struct {
	Events []AuditEvent `json:"events"`
	Next   string       `json:"next,omitempty"`
}

// HubKey is the hub's public key for status answers. Asked with ?challenge=HEX (16-64 random
// bytes), the hub also proves it holds the key: Proof is its signature over the challenge
// (see SignIdentity), which a client checks before it sends a record or a credential.
type HubKey struct {
	KeyID        string `json:"keyId"`
	Algorithm    string `json:"algorithm"` // ES256
	PublicKeyPEM string `json:"publicKeyPem"`
	Challenge    string `json:"challenge,omitempty"`
	Proof        []byte `json:"proof,omitempty"` // ASN.1 DER ECDSA signature, base64 in JSON
}

var (
	idPattern    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}$`)
	hex64Pattern = regexp.MustCompile(`^[0-9a-fA-F]{64}$`)
	orgIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9\-]{0,62}$`)
)

// ValidID reports whether s is acceptable as a client-chosen record id or a seal esID:
// 1–128 characters of letters, digits and ._:- starting with a letter or digit.
func ValidID(s string) bool { return idPattern.MatchString(s) }

// ValidOrgID reports whether s is acceptable as an organisation id (lowercase slug).
func ValidOrgID(s string) bool { return orgIDPattern.MatchString(s) }

// Validate checks a record's fields; the error names the field.
func (r *Record) Validate() *ErrorBody {
	switch {
	case !ValidID(r.ID):
		return Errf(CodeInvalidField, "record id %q: want 1-128 characters of letters, digits and ._:-", r.ID)
	case !ValidID(r.SealID):
		return Errf(CodeInvalidField, "record %s: sealId %q is not a valid seal id", r.ID, r.SealID)
	case !hex64Pattern.MatchString(r.SignerCertSHA256):
		return Errf(CodeInvalidField, "record %s: signerCertSha256 must be 64 hex digits", r.ID)
	case r.DocDigestAlg != "sha256" && r.DocDigestAlg != "sm3":
		return Errf(CodeInvalidField, "record %s: docDigestAlg %q: want sha256 or sm3", r.ID, r.DocDigestAlg)
	case !hex64Pattern.MatchString(r.DocDigest):
		return Errf(CodeInvalidField, "record %s: docDigest must be 64 hex digits", r.ID)
	case len(r.DocName) > 512:
		return Errf(CodeInvalidField, "record %s: docName longer than 512 bytes", r.ID)
	case len(r.Client) > 128:
		return Errf(CodeInvalidField, "record %s: client longer than 128 bytes", r.ID)
	case r.SignedAt.IsZero():
		return Errf(CodeInvalidField, "record %s: signedAt is missing", r.ID)
	case len(r.Pages) > 10000:
		return Errf(CodeInvalidField, "record %s: more than 10000 pages", r.ID)
	}
	for _, p := range r.Pages {
		if p < 1 || p > 1000000 {
			return Errf(CodeInvalidField, "record %s: page %d out of range", r.ID, p)
		}
	}
	return nil
}

// ValidUSCC checks a unified social credit code (统一社会信用代码, GB 32100-2015): 18
// characters from the code's alphabet (digits and capitals without I, O, S, V, Z) whose last
// character is the check digit over the first 17 with weights 3^i mod 31.
func ValidUSCC(code string) error {
	const alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
	if len(code) != 18 {
		return fmt.Errorf("unified social credit code %q: want 18 characters, got %d", code, len(code))
	}
	sum, w := 0, 1
	for i := 0; i < 17; i++ {
		v := strings.IndexByte(alphabet, code[i])
		if v < 0 {
			return fmt.Errorf("unified social credit code %q: character %d (%q) is not allowed", code, i+1, code[i])
		}
		sum += v * w
		w = w * 3 % 31
	}
	check := (31 - sum%31) % 31
	if code[17] != alphabet[check] {
		return fmt.Errorf("unified social credit code %q: check digit is %q, want %q", code, code[17], alphabet[check])
	}
	return nil
}

// USCCWithCheckDigit completes a 17-character prefix with its check digit (for tests and demos).
func USCCWithCheckDigit(prefix string) string {
	const alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
	sum, w := 0, 1
	for i := 0; i < 17 && i < len(prefix); i++ {
		sum += strings.IndexByte(alphabet, prefix[i]) * w
		w = w * 3 % 31
	}
	return prefix + string(alphabet[(31-sum%31)%31])
}
