package server

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/emmansun/gmsm/smx509"

	"sealdesk/hub/api"
	"sealdesk/hub/ca"
	"sealdesk/hub/maker"
	"sealdesk/hub/store"
	"sealdesk/signer/ses"
)

// The seal lifecycle as methods of Hub, so that the HTTP API, the sealhub commands and the
// web console share one set of rules (see api/lifecycle.go for the model). Every transition
// is written in one store transaction with its signed audit event.

// Registrar files seals with the registry (备案) and returns the filing number. Filing must
// be idempotent per esID: an approval retried after a crash files the same seal again and
// must get the same number. A client of a provincial registry implements it (issue 14).
type Registrar interface {
	File(ctx context.Context, f Filing) (filingNumber string, err error)
}

// Filing is what a registrar is told about a seal.
type Filing struct {
	ESID      string
	OrgID     string
	OwnerUSCC string
	Name      string
	Type      string
	Seal      []byte
}

// LocalRegistrar is the built-in registrar: the hub is its own registry and the filing
// number is derived from the esID (so a retried filing gets the same number).
type LocalRegistrar struct{}

// File implements Registrar.
func (LocalRegistrar) File(_ context.Context, f Filing) (string, error) { return "BA-" + f.ESID, nil }

// signAudit signs an audit event with the hub key (store.AuditSigner).
func (h *Hub) signAudit(ev *api.AuditEvent) error {
	d := sha256.Sum256(ev.SignedBytes())
	sig, err := ecdsa.SignASN1(rand.Reader, h.opt.Key, d[:])
	if err != nil {
		return err
	}
	ev.KeyID, ev.Signature = h.keyID, sig
	return nil
}

func (h *Hub) event(org string, p api.Principal, action, target, detail, reason string, effective time.Time) api.AuditEvent {
	return api.AuditEvent{OrgID: org, At: h.now(), EffectiveAt: effective, Actor: actor(p), Role: p.Role,
		Action: action, Target: target, Detail: detail, Reason: reason}
}

// requireRole refuses (and audits) an action by a credential of another role.
func (h *Hub) requireRole(ctx context.Context, p api.Principal, what string, roles ...string) *api.ErrorBody {
	for _, r := range roles {
		if p.Role == r {
			return nil
		}
	}
	h.audit(ctx, p.OrgID, p, "denied", "", what+" (role "+p.Role+")")
	return api.Errf(api.CodeRoleNotAllowed, "%s is for the %s role; this credential's role is %s", what, strings.Join(roles, " or "), p.Role)
}

func (h *Hub) pause(point string) {
	if h.opt.Pause != nil {
		h.opt.Pause(point)
	}
}

// SealTypes returns the seal type table.
func (h *Hub) SealTypes() []api.SealType { return h.opt.SealTypes }

func (h *Hub) sealType(code string) (api.SealType, bool) {
	for _, t := range h.opt.SealTypes {
		if t.Code == code {
			return t, true
		}
	}
	return api.SealType{}, false
}

// checkApplication validates what an applicant sends; the error names the field.
func (h *Hub) checkApplication(ctx context.Context, org *api.Org, r *api.ApplicationRequest) *api.ErrorBody {
	// The unit is the applying organisation; its registered name and code are the default.
	if r.UnitName == "" {
		r.UnitName = org.Name
	}
	if r.USCC == "" {
		r.USCC = org.USCC
	}
	switch {
	case strings.TrimSpace(r.UnitName) == "" || len(r.UnitName) > 256:
		return api.Errf(api.CodeInvalidField, "unitName must be 1-256 bytes")
	case strings.TrimSpace(r.SealName) == "" || len(r.SealName) > 256:
		return api.Errf(api.CodeInvalidField, "sealName must be 1-256 bytes")
	case strings.TrimSpace(r.Contact) == "" || len(r.Contact) > 256:
		return api.Errf(api.CodeInvalidField, "contact must be 1-256 bytes (a name and a telephone number)")
	case r.SESVersion != 0 && r.SESVersion != ses.V4 && r.SESVersion != ses.V1:
		return api.Errf(api.CodeInvalidField, "sesVersion %d: want 4 (GB/T 38540) or 1 (GM/T 0031)", r.SESVersion)
	}
	if err := api.ValidUSCC(r.USCC); err != nil {
		return api.Errf(api.CodeInvalidUSCC, "uscc: %v", err)
	}
	// The same checks the applicant's side made before sending (api.CheckRequest): picture,
	// attachments by content, validity.
	if err := api.CheckRequest(r); err != nil {
		return api.Errf(api.CodeInvalidField, "%v", err)
	}
	if r.USCC != org.USCC {
		return api.Errf(api.CodeInvalidField, "uscc %s is not the code of your organisation %s (%s)", r.USCC, org.ID, org.USCC)
	}
	if _, ok := h.sealType(r.SealType); !ok {
		codes := make([]string, 0, len(h.opt.SealTypes))
		for _, t := range h.opt.SealTypes {
			codes = append(codes, t.Code+" "+t.Name)
		}
		return api.Errf(api.CodeUnknownType, "sealType %q is not in this hub's seal type table (%s)", r.SealType, strings.Join(codes, ", "))
	}
	if _, err := ca.ParseRequest(r.CSR); err != nil {
		return api.Errf(api.CodeInvalidField, "csr: %v", err)
	}
	for i := range r.Attachments {
		a := &r.Attachments[i]
		if a.Name == "" || len(a.Name) > 128 || strings.ContainsAny(a.Name, "/\\\x00") {
			return api.Errf(api.CodeInvalidField, "attachments[%d]: name must be 1-128 bytes without slashes", i)
		}
		sum := sha256.Sum256(a.Data)
		a.Size, a.SHA256 = len(a.Data), hex.EncodeToString(sum[:])
	}
	if r.Replaces != "" {
		old, err := h.st.GetSeal(ctx, r.Replaces)
		if errors.Is(err, store.ErrNotFound) || (err == nil && old.OrgID != org.ID) {
			return api.Errf(api.CodeNotFound, "replaces: seal %s is not filed by your organisation", r.Replaces)
		}
		if err != nil {
			return internal(err)
		}
		switch r.ReissueKind {
		case api.ReissueReplace, api.ReissueLost, api.ReissueChange:
		default:
			return api.Errf(api.CodeInvalidField, "reissueKind %q: want replace (更换), lost (遗失补刻) or change (章面变更)", r.ReissueKind)
		}
	} else if r.ReissueKind != "" {
		return api.Errf(api.CodeInvalidField, "reissueKind is given without the seal it replaces (replaces)")
	}
	return nil
}

func newApplicationID(now time.Time) string {
	b := make([]byte, 4)
	rand.Read(b)
	return "AP" + now.Format("20060102150405") + hex.EncodeToString(b)
}

// Apply creates an application of the caller's organisation (applicant role): a draft, or
// submitted at once when req.Submit.
func (h *Hub) Apply(ctx context.Context, p api.Principal, req api.ApplicationRequest) (*api.Application, *api.ErrorBody) {
	if e := h.requireRole(ctx, p, "applying for a seal", api.RoleOrg); e != nil {
		return nil, e
	}
	org, err := h.st.GetOrg(ctx, p.OrgID)
	if err != nil {
		return nil, internal(err)
	}
	if e := h.checkApplication(ctx, org, &req); e != nil {
		return nil, e
	}
	now := h.now()
	status := api.AppDraft
	if req.Submit {
		status = api.AppSubmitted
	}
	req.Submit = false
	a := &store.AppRow{Application: api.Application{ID: newApplicationID(now), OrgID: org.ID, Status: status,
		ApplicationRequest: req, Created: now, Updated: now}}
	if csr, err := ca.ParseRequest(req.CSR); err == nil {
		a.CSRSubject = csr.Subject.String()
	}
	ev := api.ApplicationEvent{Status: status, At: now, Actor: actor(p), Role: p.Role}
	if err := h.st.CreateApplication(ctx, a, ev, h.signAudit, h.event(org.ID, p, "application."+status, a.ID, req.SealType+" "+req.SealName, "", now)); err != nil {
		return nil, internal(err)
	}
	return h.Application(ctx, p, a.ID)
}

// loadApplication returns an application the caller may see: its own organisation's, or
// any for reviewers, the maker, auditors and admins. Another organisation's application
// answers not_found, exactly like a missing one.
func (h *Hub) loadApplication(ctx context.Context, p api.Principal, id, action string) (*store.AppRow, *api.ErrorBody) {
	a, err := h.st.GetApplication(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, api.Errf(api.CodeNotFound, "application %s does not exist", id)
	}
	if err != nil {
		return nil, internal(err)
	}
	if p.Role == api.RoleOrg && a.OrgID != p.OrgID {
		h.audit(ctx, p.OrgID, p, "denied", id, action+" another organisation's application")
		return nil, api.Errf(api.CodeNotFound, "application %s is not your organisation's", id)
	}
	return a, nil
}

// Application returns one application with its history.
func (h *Hub) Application(ctx context.Context, p api.Principal, id string) (*api.Application, *api.ErrorBody) {
	a, e := h.loadApplication(ctx, p, id, "read")
	if e != nil {
		return nil, e
	}
	return &a.Application, nil
}

// Applications lists applications: an applicant its own organisation's; the other roles
// every organisation's (org narrows it). pending selects those waiting for a decision.
func (h *Hub) Applications(ctx context.Context, p api.Principal, org, status string, pending bool) ([]api.Application, *api.ErrorBody) {
	if p.Role == api.RoleOrg {
		if org != "" && org != p.OrgID {
			h.audit(ctx, p.OrgID, p, "denied", org, "list another organisation's applications")
			return nil, api.Errf(api.CodeForbidden, "an organisation lists only its own applications")
		}
		org = p.OrgID
	}
	list, err := h.st.ListApplications(ctx, store.ApplicationQuery{OrgID: org, Status: status, Pending: pending})
	if err != nil {
		return nil, internal(err)
	}
	return list, nil
}

// transition moves an application from one of from to status, storing edits made by edit
// (may be nil) and one signed audit event, in one transaction.
func (h *Hub) transition(ctx context.Context, p api.Principal, a *store.AppRow, from []string, status, reason string) (*api.Application, *api.ErrorBody) {
	ok := false
	for _, f := range from {
		ok = ok || a.Status == f
	}
	if !ok {
		return nil, api.Errf(api.CodeInvalidTransition, "application %s is %s; it cannot become %s (only from %s)", a.ID, a.Status, status, strings.Join(from, " or "))
	}
	now := h.now()
	a.Status, a.Updated = status, now
	if reason != "" {
		a.Reason = reason
	}
	ev := api.ApplicationEvent{Status: status, Reason: reason, At: now, Actor: actor(p), Role: p.Role}
	err := h.st.UpdateApplication(ctx, a, from, ev, h.signAudit, h.event(a.OrgID, p, "application."+status, a.ID, "", reason, now))
	if errors.Is(err, store.ErrStale) {
		return nil, api.Errf(api.CodeInvalidTransition, "application %s changed meanwhile; read it again", a.ID)
	}
	if err != nil {
		return nil, internal(err)
	}
	return h.Application(ctx, p, a.ID)
}

// EditApplication replaces the fields of a draft or returned application (applicant);
// req.Submit submits (or resubmits) it in the same step.
func (h *Hub) EditApplication(ctx context.Context, p api.Principal, id string, req api.ApplicationRequest) (*api.Application, *api.ErrorBody) {
	if e := h.requireRole(ctx, p, "editing an application", api.RoleOrg); e != nil {
		return nil, e
	}
	a, e := h.loadApplication(ctx, p, id, "edit")
	if e != nil {
		return nil, e
	}
	if a.Status != api.AppDraft && a.Status != api.AppReturned {
		return nil, api.Errf(api.CodeInvalidTransition, "application %s is %s; only a draft or a returned application can be edited", id, a.Status)
	}
	org, err := h.st.GetOrg(ctx, p.OrgID)
	if err != nil {
		return nil, internal(err)
	}
	if e := h.checkApplication(ctx, org, &req); e != nil {
		return nil, e
	}
	submit := req.Submit
	req.Submit = false
	a.ApplicationRequest = req
	if csr, err := ca.ParseRequest(req.CSR); err == nil {
		a.CSRSubject = csr.Subject.String()
	}
	if submit {
		return h.submit(ctx, p, a)
	}
	now := h.now()
	a.Updated = now
	err = h.st.UpdateApplication(ctx, a, []string{a.Status}, api.ApplicationEvent{}, h.signAudit, h.event(a.OrgID, p, "application.edit", a.ID, "", "", now))
	if errors.Is(err, store.ErrStale) {
		return nil, api.Errf(api.CodeInvalidTransition, "application %s changed meanwhile; read it again", a.ID)
	}
	if err != nil {
		return nil, internal(err)
	}
	return h.Application(ctx, p, a.ID)
}

func (h *Hub) submit(ctx context.Context, p api.Principal, a *store.AppRow) (*api.Application, *api.ErrorBody) {
	switch a.Status {
	case api.AppDraft:
		return h.transition(ctx, p, a, []string{api.AppDraft}, api.AppSubmitted, "")
	case api.AppReturned:
		return h.transition(ctx, p, a, []string{api.AppReturned}, api.AppResubmitted, "")
	}
	return nil, api.Errf(api.CodeInvalidTransition, "application %s is %s; only a draft or a returned application can be submitted", a.ID, a.Status)
}

// SubmitApplication submits a draft or resubmits a returned application (applicant).
func (h *Hub) SubmitApplication(ctx context.Context, p api.Principal, id string) (*api.Application, *api.ErrorBody) {
	if e := h.requireRole(ctx, p, "submitting an application", api.RoleOrg); e != nil {
		return nil, e
	}
	a, e := h.loadApplication(ctx, p, id, "submit")
	if e != nil {
		return nil, e
	}
	return h.submit(ctx, p, a)
}

// WithdrawApplication withdraws an application before its decision (applicant).
func (h *Hub) WithdrawApplication(ctx context.Context, p api.Principal, id, reason string) (*api.Application, *api.ErrorBody) {
	if e := h.requireRole(ctx, p, "withdrawing an application", api.RoleOrg); e != nil {
		return nil, e
	}
	a, e := h.loadApplication(ctx, p, id, "withdraw")
	if e != nil {
		return nil, e
	}
	return h.transition(ctx, p, a, []string{api.AppDraft, api.AppSubmitted, api.AppReturned, api.AppResubmitted}, api.AppWithdrawn, reason)
}

// reviewable loads an application for a reviewer's decision.
func (h *Hub) reviewable(ctx context.Context, p api.Principal, id, what string) (*store.AppRow, *api.ErrorBody) {
	if e := h.requireRole(ctx, p, what, api.RoleReviewer); e != nil {
		return nil, e
	}
	a, e := h.loadApplication(ctx, p, id, what)
	if e != nil {
		return nil, e
	}
	if p.OrgID != "" && p.OrgID == a.OrgID {
		h.audit(ctx, p.OrgID, p, "denied", id, what+" of the reviewer's own organisation")
		return nil, api.Errf(api.CodeOwnOrg, "application %s is of your own organisation %s; another reviewer must decide it", id, a.OrgID)
	}
	return a, nil
}

func needReason(reason, what string) *api.ErrorBody {
	if strings.TrimSpace(reason) == "" {
		return api.Errf(api.CodeInvalidField, "reason: %s needs a reason the applicant can act on", what)
	}
	if len(reason) > 1024 {
		return api.Errf(api.CodeInvalidField, "reason longer than 1024 bytes")
	}
	return nil
}

// ReturnApplication returns a submitted application to its applicant with a reason (reviewer).
func (h *Hub) ReturnApplication(ctx context.Context, p api.Principal, id, reason string) (*api.Application, *api.ErrorBody) {
	a, e := h.reviewable(ctx, p, id, "returning an application")
	if e != nil {
		return nil, e
	}
	if e := needReason(reason, "returning an application"); e != nil {
		return nil, e
	}
	return h.transition(ctx, p, a, []string{api.AppSubmitted, api.AppResubmitted}, api.AppReturned, reason)
}

// RejectApplication rejects a submitted application for good (reviewer).
func (h *Hub) RejectApplication(ctx context.Context, p api.Principal, id, reason string) (*api.Application, *api.ErrorBody) {
	a, e := h.reviewable(ctx, p, id, "rejecting an application")
	if e != nil {
		return nil, e
	}
	if e := needReason(reason, "rejecting an application"); e != nil {
		return nil, e
	}
	return h.transition(ctx, p, a, []string{api.AppSubmitted, api.AppResubmitted}, api.AppRejected, reason)
}

// esIDFor derives the seal code of an application: the 6-digit region code of the unit's
// credit code (its characters 3-8) and 8 digits from the application id, so that an approval
// retried after a crash makes the same seal.
func esIDFor(a *store.AppRow) string {
	region := a.USCC[2:8]
	for _, c := range region {
		if c < '0' || c > '9' {
			region = "000000"
			break
		}
	}
	sum := sha256.Sum256([]byte(a.ID))
	n := (uint64(sum[0])<<24 | uint64(sum[1])<<16 | uint64(sum[2])<<8 | uint64(sum[3])) % 100000000
	return fmt.Sprintf("%s%08d", region, n)
}

// ApproveApplication approves a submitted application (reviewer) and, in the same step,
// has the CA issue the holder's certificate, the maker make the seal, the registrar file
// it, and publishes it with status filed. The store writes the approval, the seal with its
// history, the withdrawal of a replaced seal and every audit event in one transaction, so
// a crash leaves either all of it or none (the approval can then simply be given again).
func (h *Hub) ApproveApplication(ctx context.Context, p api.Principal, id, note string) (*api.Application, *api.ErrorBody) {
	a, e := h.reviewable(ctx, p, id, "approving an application")
	if e != nil {
		return nil, e
	}
	from := []string{api.AppSubmitted, api.AppResubmitted}
	if !api.AppPending(a.Status) {
		return nil, api.Errf(api.CodeInvalidTransition, "application %s is %s; only a submitted application can be approved", id, a.Status)
	}
	if h.opt.Maker == nil || h.opt.CA == nil {
		return nil, api.Errf(api.CodeNotConfigured, "this hub has no seal maker key or CA configured (sealhub serve --maker-key ... --ca-key ...)")
	}
	typ, ok := h.sealType(a.SealType)
	if !ok {
		return nil, api.Errf(api.CodeUnknownType, "sealType %q is no longer in this hub's table", a.SealType)
	}
	// Whole seconds: signing times in documents carry whole seconds, so a seal valid from a
	// fraction of a second after them would be "not yet valid" for a signing in the same second
	// as its approval (a flaky lifecycle test showed it).
	now := h.now().Truncate(time.Second)
	days := a.ValidDays
	if days == 0 {
		days = 730
	}
	validEnd := now.AddDate(0, 0, days)
	leafDER, chain, err := h.opt.CA.Issue(ctx, a.CSR, ca.Subject{CommonName: a.SealName, Org: a.UnitName, USCC: a.USCC}, validEnd)
	if err != nil {
		return nil, api.Errf(api.CodeInternal, "the CA did not issue the holder's certificate: %v", err)
	}
	leaf, err := smx509.ParseCertificate(leafDER)
	if err != nil {
		return nil, api.Errf(api.CodeInternal, "the CA answered with an unreadable certificate: %v", err)
	}
	if leaf.NotAfter.Before(validEnd) {
		validEnd = leaf.NotAfter // a seal does not outlive the certificate it binds
	}
	pic := a.Picture
	if len(pic) == 0 {
		if pic, err = ses.GeneratePicture(ses.PictureOptions{RingText: a.UnitName, BottomText: typ.Name}); err != nil {
			return nil, internal(err)
		}
	}
	esID := esIDFor(a)
	version := a.SESVersion
	if version == 0 {
		version = ses.V4
	}
	typeNo := 99
	fmt.Sscanf(typ.Code, "%d", &typeNo)
	der, err := h.opt.Maker.Make(ctx, maker.Spec{ESID: esID, Name: a.SealName, Type: typeNo, Version: version, Picture: pic,
		WidthMM: typ.WidthMM, HeightMM: typ.HeightMM, SignerCerts: []*smx509.Certificate{leaf}, ValidStart: now, ValidEnd: validEnd,
		Replaces: a.Replaces})
	if err != nil {
		return nil, api.Errf(api.CodeInternal, "making the seal: %v", err)
	}
	if f, err := ses.ParseSeal(der); err == nil {
		validEnd = f.Info.Property.ValidEnd
	}
	filing, err := h.opt.Registrar.File(ctx, Filing{ESID: esID, OrgID: a.OrgID, OwnerUSCC: a.USCC, Name: a.SealName, Type: typ.Code, Seal: der})
	if err != nil {
		return nil, api.Errf(api.CodeInternal, "filing the seal with the registrar: %v", err)
	}
	h.pause("approve")
	makerP := api.Principal{Role: api.RoleMaker, Label: h.opt.Maker.Certificate().Subject.CommonName}
	registrar := api.Principal{Role: api.RoleAdmin, Label: "registrar"}
	at := h.now()
	a.Status, a.Updated, a.ESID, a.FilingNumber = api.AppApproved, at, esID, filing
	if note != "" {
		a.Reason = note
	}
	a.Chain = append([][]byte{leafDER}, chain...)
	row := &store.SealRow{Seal: api.Seal{ESID: esID, OrgID: a.OrgID, Name: a.SealName, FilingNumber: filing, OwnerUSCC: a.USCC,
		ValidStart: now, ValidEnd: validEnd.UTC(), Status: api.StatusFiled, StatusReason: "filed " + filing, StatusAt: at, FiledAt: at,
		ApplicationID: a.ID, Replaces: a.Replaces}, SealDER: der, Certs: [][]byte{leafDER}}
	sealEvents := []api.StatusEvent{
		{Status: api.StatusMade, Reason: "made for application " + a.ID, At: at, Actor: actor(makerP)},
		{Status: api.StatusFiled, Reason: "filed " + filing, At: at, Actor: actor(registrar)},
	}
	audit := []api.AuditEvent{
		h.event(a.OrgID, p, "application.approved", a.ID, esID, note, at),
		h.event(a.OrgID, makerP, "seal.made", esID, fmt.Sprintf("SES v%d for application %s", version, a.ID), "", at),
		h.event(a.OrgID, registrar, "seal.filed", esID, filing, "", at),
	}
	var replaced *store.SealChange
	if a.Replaces != "" {
		old, err := h.st.GetSeal(ctx, a.Replaces)
		if err != nil {
			return nil, internal(err)
		}
		if !api.Terminal(old.Status) {
			reason := fmt.Sprintf("replaced by %s (%s)", esID, a.ReissueKind)
			// The withdrawal of the replaced seal is filed with the registry like any change.
			filings, e := h.statusFilings(old.ESID, api.StatusWithdrawn, reason, at)
			if e != nil {
				return nil, e
			}
			replaced = &store.SealChange{ESID: old.ESID, From: []string{old.Status},
				Events: []api.StatusEvent{{Status: api.StatusWithdrawn, Reason: reason, At: at, Actor: actor(p)}}, Filings: filings}
			audit = append(audit, h.event(a.OrgID, p, "seal.status", old.ESID, api.StatusWithdrawn+": "+reason, reason, at))
		}
		audit[1].Detail += ", replaces " + a.Replaces
	}
	ev := api.ApplicationEvent{Status: api.AppApproved, Reason: note, At: at, Actor: actor(p), Role: p.Role}
	err = h.st.ApproveApplication(ctx, a, from, ev, row, sealEvents, replaced, h.signAudit, audit...)
	switch {
	case errors.Is(err, store.ErrStale):
		return nil, api.Errf(api.CodeInvalidTransition, "application %s was decided meanwhile", id)
	case errors.Is(err, store.ErrExists):
		return nil, api.Errf(api.CodeAlreadyExists, "seal %s or filing number %s exists already", esID, filing)
	case err != nil:
		return nil, internal(err)
	}
	if replaced != nil {
		h.filingsQueued()
	}
	h.pause("approved")
	return h.Application(ctx, p, id)
}

// FetchSeal returns the seal made for an approved application with the holder's
// certificate and chain (applicant), to be written onto the token.
func (h *Hub) FetchSeal(ctx context.Context, p api.Principal, id string) (*api.SealPackage, *api.ErrorBody) {
	if e := h.requireRole(ctx, p, "fetching a seal", api.RoleOrg); e != nil {
		return nil, e
	}
	a, e := h.loadApplication(ctx, p, id, "fetch the seal of")
	if e != nil {
		return nil, e
	}
	if a.Status != api.AppApproved || a.ESID == "" {
		return nil, api.Errf(api.CodeNotApproved, "application %s is %s; its seal can be fetched once it is approved", id, a.Status)
	}
	s, err := h.st.GetSeal(ctx, a.ESID)
	if err != nil {
		return nil, internal(err)
	}
	der, err := h.st.SealObject(ctx, a.ESID)
	if err != nil {
		return nil, internal(err)
	}
	pkg := &api.SealPackage{ApplicationID: a.ID, ESID: a.ESID, FilingNumber: a.FilingNumber, Seal: der, Status: s.Status}
	if len(a.Chain) > 0 {
		pkg.Certificate, pkg.Chain = a.Chain[0], a.Chain[1:]
	}
	h.audit(ctx, a.OrgID, p, "seal.fetch", a.ESID, a.ID)
	return pkg, nil
}

// DeliverSeal records that the holder has the seal on the key (owner): filed → delivered →
// active, in force from then on.
func (h *Hub) DeliverSeal(ctx context.Context, p api.Principal, esID string) (*api.Seal, *api.ErrorBody) {
	if e := h.requireRole(ctx, p, "reporting a seal delivered", api.RoleOrg); e != nil {
		return nil, e
	}
	s, e := h.ownSeal(ctx, p, esID, "deliver")
	if e != nil {
		return nil, e
	}
	if s.Status != api.StatusFiled {
		return nil, api.Errf(api.CodeInvalidTransition, "seal %s is %s; only a filed seal can be delivered", esID, s.Status)
	}
	at := h.now()
	filings, e := h.statusFilings(esID, api.StatusActive, "delivered", at)
	if e != nil {
		return nil, e
	}
	err := h.st.ChangeSeal(ctx, store.SealChange{ESID: esID, From: []string{api.StatusFiled}, Events: []api.StatusEvent{
		{Status: api.StatusDelivered, Reason: "on the holder's key", At: at, Actor: actor(p)},
		{Status: api.StatusActive, Reason: "delivered", At: at, Actor: actor(p)},
	}, Filings: filings}, h.signAudit,
		h.event(s.OrgID, p, "seal.delivered", esID, "", "", at),
		h.event(s.OrgID, p, "seal.status", esID, api.StatusActive+": delivered", "delivered", at))
	if errors.Is(err, store.ErrStale) {
		return nil, api.Errf(api.CodeInvalidTransition, "seal %s changed meanwhile; read it again", esID)
	}
	if err != nil {
		return nil, internal(err)
	}
	h.filingsQueued()
	out, err := h.st.GetSeal(ctx, esID)
	if err != nil {
		return nil, internal(err)
	}
	return out, nil
}
