package api

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"time"
)

// The seal's whole life (申请 → 审核 → 制作 → 备案 → 交付 → 使用 → 停用/注销/挂失).
//
// An Application goes draft → submitted → returned (with a reason) ⇄ resubmitted →
// approved | rejected, or is withdrawn by its applicant before a decision. Approval makes the
// seal (the hub's maker key on a PKCS#11 token signs it), files it with the registrar (the
// filing number is kept) and publishes it with status "filed"; the holder fetches it, writes
// it onto the key and reports it delivered, which makes it "active". From then on the
// statuses of api.Seal apply (active ⇄ suspended → revoked | withdrawn | lost; expired is
// derived from the validity). A re-issue (更换, 遗失补刻, 章面变更) is an application naming
// the seal it replaces; its approval withdraws the old seal (unless already final).

// Application statuses.
const (
	AppDraft       = "draft"
	AppSubmitted   = "submitted"
	AppReturned    = "returned"
	AppResubmitted = "resubmitted"
	AppApproved    = "approved"
	AppRejected    = "rejected"
	AppWithdrawn   = "withdrawn"
)

// AppTerminal reports whether an application status is final.
func AppTerminal(s string) bool { return s == AppApproved || s == AppRejected || s == AppWithdrawn }

// AppPending reports whether an application waits for a reviewer's decision.
func AppPending(s string) bool { return s == AppSubmitted || s == AppResubmitted }

// Seal statuses before a seal is in use, and the derived "expired".
const (
	StatusMade      = "made"      // signed by the seal maker (recorded in the history)
	StatusFiled     = "filed"     // filed with the registrar, not yet on the holder's key
	StatusDelivered = "delivered" // the holder wrote it onto the key (recorded in the history)
	StatusExpired   = "expired"   // derived: past validEnd (never stored)
)

// More roles of a credential; RoleOrg is the applicant (an organisation's user).
const (
	RoleReviewer = "reviewer" // 审核: returns, approves or rejects other organisations' applications
	RoleMaker    = "maker"    // 制作: the hub's seal maker (reads approved applications)
	RoleAuditor  = "auditor"  // 审计: reads every audit trail and application, changes nothing
)

// ValidRole reports whether r is a role a credential may have.
func ValidRole(r string) bool {
	switch r {
	case RoleAdmin, RoleOrg, RoleReviewer, RoleMaker, RoleAuditor:
		return true
	}
	return false
}

// Error codes of the lifecycle (see errors.go for the others).
const (
	CodeRoleNotAllowed = "role_not_allowed"         // 403: the credential's role may not do this
	CodeOwnOrg         = "own_organisation"         // 403: a reviewer acting on their own organisation's application
	CodeNotApproved    = "application_not_approved" // 409: fetching the seal of an application not approved
	CodeNotConfigured  = "not_configured"           // 503: the hub has no seal maker or CA configured
	CodeUnknownType    = "unknown_seal_type"        // 422: the seal type code is not in the hub's table
)

// SealType is one row of the configurable seal type table. Systems number types differently,
// so the table is data (sealhub serve --seal-types FILE), not code.
type SealType struct {
	Code     string `json:"code"`
	Name     string `json:"name"`
	WidthMM  int    `json:"widthMm"`  // the standard size of the picture
	HeightMM int    `json:"heightMm"` // (a generated picture is drawn to it)
}

// DefaultSealTypes is the table a hub serves unless configured otherwise.
var DefaultSealTypes = []SealType{
	{Code: "01", Name: "单位专用章", WidthMM: 42, HeightMM: 42},
	{Code: "02", Name: "财务专用章", WidthMM: 38, HeightMM: 38},
	{Code: "03", Name: "发票专用章", WidthMM: 40, HeightMM: 30},
	{Code: "04", Name: "合同专用章", WidthMM: 40, HeightMM: 40},
	{Code: "05", Name: "法定代表人名章", WidthMM: 20, HeightMM: 20},
	{Code: "99", Name: "其他", WidthMM: 40, HeightMM: 40},
}

// Re-issue kinds.
const (
	ReissueReplace = "replace" // 更换
	ReissueLost    = "lost"    // 遗失补刻
	ReissueChange  = "change"  // 章面变更
)

// Attachment is a file an application carries (e.g. the business licence scan).
type Attachment struct {
	Name      string `json:"name"`
	MediaType string `json:"mediaType"`
	Data      []byte `json:"data,omitempty"` // base64 in JSON; left out of listings
	Size      int    `json:"size"`
	SHA256    string `json:"sha256"`
}

// ApplicationRequest creates or edits an application.
type ApplicationRequest struct {
	UnitName string `json:"unitName"`
	USCC     string `json:"uscc"`     // must be the applying organisation's code
	SealType string `json:"sealType"` // a code of the seal type table
	SealName string `json:"sealName"`
	// Picture is a PNG (transparent background); empty means the hub generates one to the
	// type's standard size.
	Picture   []byte `json:"picture,omitempty"`
	ValidDays int    `json:"validDays,omitempty"` // default 730
	// CSR is the holder's PKCS#10 certificate request (DER), signed by the key on the
	// holder's token; the CA connector issues the certificate the seal binds from it.
	CSR         []byte       `json:"csr"`
	Contact     string       `json:"contact"`
	Attachments []Attachment `json:"attachments,omitempty"`
	// SESVersion is 4 (GB/T 38540, default) or 1 (GM/T 0031).
	SESVersion int `json:"sesVersion,omitempty"`
	// Replaces names the seal a re-issue replaces, with ReissueKind saying why.
	Replaces    string `json:"replaces,omitempty"`
	ReissueKind string `json:"reissueKind,omitempty"`
	// Submit submits at once; false keeps a draft.
	Submit bool `json:"submit,omitempty"`
}

// Application is an application as its organisation, reviewers and auditors see it.
type Application struct {
	ID     string `json:"id"`
	OrgID  string `json:"orgId"`
	Status string `json:"status"`
	ApplicationRequest
	// Reason is the reason of the last return, rejection or withdrawal.
	Reason       string             `json:"reason,omitempty"`
	ESID         string             `json:"esId,omitempty"`         // the seal made, once approved
	FilingNumber string             `json:"filingNumber,omitempty"` // once approved
	CSRSubject   string             `json:"csrSubject,omitempty"`
	Created      time.Time          `json:"created"`
	Updated      time.Time          `json:"updated"`
	History      []ApplicationEvent `json:"history,omitempty"`
}

// ApplicationEvent is one transition of an application.
type ApplicationEvent struct {
	Status string    `json:"status"`
	Reason string    `json:"reason,omitempty"`
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Role   string    `json:"role"`
}

// Decision carries the reason of a return, rejection, withdrawal or approval note.
type Decision struct {
	Reason string `json:"reason"`
}

// SealPackage is what the holder fetches once an application is approved: the seal, the
// issued certificate and its chain (leaf first), to be written onto the token.
type SealPackage struct {
	ApplicationID string   `json:"applicationId"`
	ESID          string   `json:"esId"`
	FilingNumber  string   `json:"filingNumber"`
	Seal          []byte   `json:"seal"`        // DER SES seal
	Certificate   []byte   `json:"certificate"` // DER holder certificate
	Chain         [][]byte `json:"chain"`       // DER issuer certificates, root last
	Status        string   `json:"status"`
}

// ApplicationList is the answer of GET /v1/applications.
type ApplicationList struct {
	Applications []Application `json:"applications"`
}

// SealTypeList is the answer of GET /v1/seal-types.
type SealTypeList struct {
	Types []SealType `json:"types"`
}

// AuditContext separates audit signatures from status answers signed by the same key.
const AuditContext = "sealhub-audit-v1\n"

// auditSigned is what an audit event's signature covers: everything but its sequence number
// and the signature itself. Prev chains each event to the one before it, so the order is
// covered too.
type auditSigned struct {
	OrgID       string    `json:"orgId"`
	At          time.Time `json:"at"`
	EffectiveAt time.Time `json:"effectiveAt,omitzero"`
	Actor       string    `json:"actor"`
	Role        string    `json:"role,omitempty"`
	Action      string    `json:"action"`
	Target      string    `json:"target,omitempty"`
	Detail      string    `json:"detail,omitempty"`
	Reason      string    `json:"reason,omitempty"`
	Prev        string    `json:"prev,omitempty"`
}

// SignedBytes is the message an audit event's signature is over (SHA-256, ES256).
func (e *AuditEvent) SignedBytes() []byte {
	b, _ := json.Marshal(auditSigned{OrgID: e.OrgID, At: e.At.UTC(), EffectiveAt: e.EffectiveAt.UTC(), Actor: e.Actor, Role: e.Role,
		Action: e.Action, Target: e.Target, Detail: e.Detail, Reason: e.Reason, Prev: e.Prev})
	return append([]byte(AuditContext), b...)
}

// Link is what the next event's Prev names: the SHA-256 (hex) of this event's signature.
func (e *AuditEvent) Link() string {
	h := sha256.Sum256(e.Signature)
	return hex.EncodeToString(h[:])
}

// ErrBadAuditSignature means an audit event does not verify under the hub key.
var ErrBadAuditSignature = errors.New("audit event: signature does not verify under the hub key")

// Verify checks the event's signature with the hub's public key.
func (e *AuditEvent) Verify(pub *ecdsa.PublicKey) error {
	if pub == nil || len(e.Signature) == 0 {
		return ErrBadAuditSignature
	}
	h := sha256.Sum256(e.SignedBytes())
	if !ecdsa.VerifyASN1(pub, h[:], e.Signature) {
		return ErrBadAuditSignature
	}
	return nil
}
