package server

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"sealdesk/hub/api"
	"sealdesk/hub/store"
)

var hex64 = regexp.MustCompile(`^[0-9a-fA-F]{64}$`)

// Verify answers what the hub knows about a signature: registry facts about its seal (status
// now and at signing time, validity, bound certificates), the signing records with the same
// document digest, and — for a signature blob — the cryptographic result. Verdict "failed"
// means the registry says the seal was not in force for this signature (not filed, revoked,
// suspended, withdrawn or lost at signing time, outside its validity, or signed by a
// certificate the seal does not bind), or the blob's cryptography failed. A later revocation
// is reported as a problem but does not fail a signature made while the seal was in force.
func (h *Hub) Verify(ctx context.Context, p api.Principal, req api.VerifyRequest) (*api.VerifyResult, *api.ErrorBody) {
	if req.DocDigest == "" && len(req.Signature) == 0 && req.SealID == "" {
		return nil, api.Errf(api.CodeInvalidField, "give at least one of docDigest, signature, sealId")
	}
	if req.DocDigest != "" && !hex64.MatchString(req.DocDigest) {
		return nil, api.Errf(api.CodeInvalidField, "docDigest must be 64 hex digits (sha256 or sm3)")
	}
	if req.SignerCertSHA256 != "" && !hex64.MatchString(req.SignerCertSHA256) {
		return nil, api.Errf(api.CodeInvalidField, "signerCertSha256 must be 64 hex digits")
	}
	if req.SealID != "" && !api.ValidID(req.SealID) {
		return nil, api.Errf(api.CodeInvalidField, "sealId %q is not a valid seal id", req.SealID)
	}
	now := h.now()
	res := &api.VerifyResult{Verdict: api.VerdictOK, Records: []api.RecordFact{}, Problems: []api.ErrorBody{}, CheckedAt: now}
	problem := func(code, format string, args ...any) {
		res.Problems = append(res.Problems, api.ErrorBody{Code: code, Message: fmt.Sprintf(format, args...)})
	}
	fail := func(code, format string, args ...any) {
		res.Verdict = api.VerdictFailed
		problem(code, format, args...)
	}

	res.Crypto = api.CryptoResult{Result: "not_checked"}
	if len(req.Signature) > 0 {
		if h.opt.VerifyBlob == nil {
			res.Crypto = api.CryptoResult{Result: api.VerdictUnknown, Detail: "this hub has no verifier for signature blobs built in"}
		} else {
			res.Crypto = h.opt.VerifyBlob(ctx, req.Signature)
		}
		if res.Crypto.Result == api.VerdictFailed {
			fail("signature_invalid", "the signature blob does not verify: %s", res.Crypto.Detail)
		}
		if req.SealID == "" {
			req.SealID = res.Crypto.SealID
		}
		if req.SignerCertSHA256 == "" {
			req.SignerCertSHA256 = res.Crypto.SignerCertSHA256
		}
		if req.SignedAt.IsZero() {
			req.SignedAt = res.Crypto.SignedAt
		}
	}

	var firstReceived map[string]time.Time // seal id -> earliest receipt of a record for this digest
	if req.DocDigest != "" {
		recs, err := h.st.RecordsByDigest(ctx, req.DocDigest, 50)
		if err != nil {
			return nil, internal(err)
		}
		firstReceived = map[string]time.Time{}
		for _, r := range recs {
			f := api.RecordFact{SealID: r.SealID, SignerCertSHA256: r.SignerCertSHA256, SignedAt: r.SignedAt, Pages: r.Pages}
			// Other organisations learn only that the document was signed, with which seal and
			// when: they hold the document already (they sent its digest), not its context.
			if p.IsAdmin() || r.OrgID == p.OrgID {
				f.Own, f.ID, f.DocName, f.Client = r.OrgID == p.OrgID, r.ID, r.DocName, r.Client
			}
			res.Records = append(res.Records, f)
			if t, ok := firstReceived[r.SealID]; !ok || r.ReceivedAt.Before(t) {
				firstReceived[r.SealID] = r.ReceivedAt
			}
		}
		if len(recs) == 0 {
			problem("no_signing_record", "no signing record on this hub has this document digest")
		} else if req.SealID == "" {
			req.SealID = recs[0].SealID
			if req.SignerCertSHA256 == "" {
				req.SignerCertSHA256 = recs[0].SignerCertSHA256
			}
			if req.SignedAt.IsZero() {
				req.SignedAt = recs[0].SignedAt
			}
		}
	}
	if req.SealID == "" && req.SignerCertSHA256 != "" {
		ids, err := h.st.SealsByCert(ctx, req.SignerCertSHA256)
		if err != nil {
			return nil, internal(err)
		}
		if len(ids) == 1 {
			req.SealID = ids[0]
		}
	}
	if req.SealID == "" {
		res.Verdict = api.VerdictUnknown
		problem("seal_unknown", "the hub cannot tell which seal made this signature")
		return res, nil
	}
	seal, err := h.st.GetSeal(ctx, req.SealID)
	if errors.Is(err, store.ErrNotFound) {
		fail(api.CodeSealNotFiled, "seal %s is not filed on this hub", req.SealID)
		return res, nil
	}
	if err != nil {
		return nil, internal(err)
	}
	res.Seal = &api.SealStatus{ESID: seal.ESID, Status: seal.Status, Reason: seal.StatusReason, StatusAt: seal.StatusAt,
		ValidStart: seal.ValidStart, ValidEnd: seal.ValidEnd, OwnerUSCC: seal.OwnerUSCC, Name: seal.Name, CertSHA256: seal.CertSHA256}
	t := req.SignedAt
	if t.IsZero() {
		t = now
		problem("no_signing_time", "no signing time given: judged by the seal's status now")
	}
	res.SignedAt = t.UTC()
	at := api.StatusAt(seal.StatusHistory, t)
	res.StatusAtSigning = at.Status
	switch {
	case at.Status != api.StatusActive:
		fail("seal_"+at.Status, "seal %s was %s at %s (since %s, reason: %s) when the document was signed at %s",
			seal.ESID, at.Status, t.UTC().Format(time.RFC3339), at.At.Format(time.RFC3339), at.Reason, t.UTC().Format(time.RFC3339))
	case t.Before(seal.ValidStart):
		fail("seal_not_yet_valid", "seal %s is valid from %s, after the signing time %s", seal.ESID, seal.ValidStart.Format(time.RFC3339), t.UTC().Format(time.RFC3339))
	case t.After(seal.ValidEnd):
		fail("seal_expired", "seal %s expired at %s, before the signing time %s", seal.ESID, seal.ValidEnd.Format(time.RFC3339), t.UTC().Format(time.RFC3339))
	}
	if res.Verdict != api.VerdictFailed && seal.Status != api.StatusActive {
		problem("seal_"+seal.Status+"_later", "seal %s became %s at %s (reason: %s), after this signature", seal.ESID, seal.Status, seal.StatusAt.Format(time.RFC3339), seal.StatusReason)
		if api.Terminal(seal.Status) {
			// A claimed signing time before the revocation is only proven by a record the hub
			// received before it (or a time-stamp the caller checks).
			if rt, ok := firstReceived[seal.ESID]; !ok || rt.After(seal.StatusAt) {
				problem("signing_time_unproven", "no signing record reached the hub before the seal became %s; the claimed signing time is the signer's word", seal.Status)
			}
		}
	}
	if req.SignerCertSHA256 != "" {
		found := false
		for _, c := range seal.CertSHA256 {
			if strings.EqualFold(c, req.SignerCertSHA256) {
				found = true
			}
		}
		if !found {
			fail("cert_not_bound", "the signer certificate %s is not one the seal %s binds", strings.ToLower(req.SignerCertSHA256), seal.ESID)
		}
	}
	if res.Crypto.Result == api.VerdictUnknown && res.Verdict == api.VerdictOK && len(req.Signature) > 0 {
		res.Verdict = api.VerdictUnknown
	}
	return res, nil
}
