package outbox

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"time"

	"sealdesk/document"
	"sealdesk/hub/api"
	"sealdesk/hub/client"
)

// Registry adds the registry's facts to a verification report (`sealctl verify --hub`, the app's
// signatures panel): for each signature it asks the hub c what it knows of the seal, the signer
// certificate and the signing time, and sets Registry to ok, failed or unknown with the hub's
// findings as problems. When the hub is unreachable (or c is nil) and ob is not nil, a signature
// is judged from the outbox's cached, hub-signed status: a seal cached as revoked (or suspended,
// withdrawn, lost, not filed) before the signing time fails; anything else stays unknown. It
// returns the hub's error, if any, after filling the report; the caller calls rep.Decide().
func Registry(ctx context.Context, c *client.Client, ob *Outbox, rep *document.VerifyReport) error {
	data, _ := os.ReadFile(rep.File)
	var ask Asker
	if c != nil {
		ask = c.Verify
	}
	return RegistryWith(ctx, ask, data, ob, rep)
}

// Asker answers a registry question: the hub client's Verify over HTTP, or the hub's own
// Verify in process (sealhub's seal-check page). A refusal is an *api.Error.
type Asker func(ctx context.Context, req api.VerifyRequest) (*api.VerifyResult, error)

// RegistryWith is Registry with the question asked through ask (nil: no hub) about the
// document data the caller holds (sealhub's seal check holds uploads in memory only).
func RegistryWith(ctx context.Context, ask Asker, data []byte, ob *Outbox, rep *document.VerifyReport) error {
	var hubErr error
	if ask == nil {
		hubErr = errNoHub
	}
	for i := range rep.Signatures {
		s := &rep.Signatures[i]
		req := api.VerifyRequest{SignerCertSHA256: s.SignerCertSHA256}
		if s.Seal != nil {
			req.SealID = s.Seal.ESID
		}
		if t, err := time.Parse(time.RFC3339, s.SignedAt); err == nil {
			req.SignedAt = t
		}
		// The record's digest is of the file as signed: the whole file for its last signature,
		// and for a PDF's earlier signature the revision it signed (the file up to the end of
		// its byte range). Without one, and without a seal, the hub cannot tell which
		// signing is meant (it answers 422).
		if d := signedDigest(data, rep.Format, s, i == len(rep.Signatures)-1); d != "" {
			req.DocDigestAlg, req.DocDigest = "sha256", d
		}
		if req.SealID == "" && req.DocDigest == "" {
			s.Registry = document.Unknown
			continue
		}
		if hubErr == nil {
			res, err := ask(ctx, req)
			if err == nil {
				s.Registry = registryFact(res.Verdict, res.Problems)
				for _, p := range res.Problems {
					s.AddProblem(document.RegistryCode(p.Code), "%s", p.Message)
				}
				continue
			}
			var ae *api.Error
			if errors.As(err, &ae) && ae.HTTPStatus >= 400 && ae.HTTPStatus < 500 && ae.HTTPStatus != 401 && ae.HTTPStatus != 403 && ae.HTTPStatus != 429 {
				// The hub could not judge this signature; the others are asked all the same.
				s.AddProblem(document.RegistryCode(ae.Code), "%s", ae.Message)
				s.Registry = document.Unknown
				continue
			}
			hubErr = err
		}
		s.Registry = cachedRegistry(ob, s, req)
	}
	if hubErr == errNoHub {
		return nil
	}
	return hubErr
}

// signedDigest is the SHA-256 of the file as the signature signed it, or "" when it cannot be
// known from the file alone (an OFD's earlier signature).
func signedDigest(data []byte, f document.Format, s *document.SignatureReport, last bool) string {
	if data == nil {
		return ""
	}
	end := len(data)
	if !last {
		if f != document.PDF {
			return ""
		}
		end = -1
		for _, c := range s.Covered { // "bytes A-B", the signed byte ranges
			var a, b int
			if _, err := fmt.Sscanf(c, "bytes %d-%d", &a, &b); err == nil && b > end {
				end = b
			}
		}
		if end <= 0 || end > len(data) {
			return ""
		}
	}
	d := sha256.Sum256(data[:end])
	return hex.EncodeToString(d[:])
}

type noHubError struct{}

func (noHubError) Error() string { return "no hub configured" }

var errNoHub error = noHubError{}

// cachedRegistry judges a signature from the outbox's cached status.
func cachedRegistry(ob *Outbox, s *document.SignatureReport, req api.VerifyRequest) document.Status {
	if req.SealID == "" || ob == nil {
		return document.Unknown
	}
	st, produced, err := ob.CachedStatus(req.SealID)
	if err != nil {
		return document.Unknown
	}
	ev := api.StatusAt([]api.StatusEvent{{Status: api.StatusActive, At: st.ValidStart}, {Status: st.Status, Reason: st.Reason, At: st.StatusAt}}, req.SignedAt)
	switch {
	case st.Status == api.StatusUnknown:
		// A seal this hub does not know may be filed elsewhere: not established, not wrong.
		s.AddProblem(document.RegistryCode(api.CodeSealNotFiled), "seal %s is not filed on the hub (cached answer of %s)", req.SealID, produced.Format(time.RFC3339))
		return document.Unknown
	case !req.SignedAt.IsZero() && ev.Status != api.StatusActive:
		s.AddProblem(document.RegistryCode("seal_"+st.Status), "seal %s was %s since %s, before the signing time (cached answer of %s)",
			req.SealID, st.Status, st.StatusAt.Format(time.RFC3339), produced.Format(time.RFC3339))
		return document.Failed
	}
	s.AddProblem(document.RegistryCode("cached"), "the hub is unreachable: judged from its cached answer of %s (%s)", produced.Format(time.RFC3339), st.Status)
	return document.Unknown
}

// registryFact is the registry fact of a hub answer: the hub's verdict, except that a seal the
// hub has no filing for is unknown here, not failed — it may be filed with another registry,
// and nothing about it was proven wrong (the hub fails it for its own signing policy).
func registryFact(verdict string, problems []api.ErrorBody) document.Status {
	if verdict != api.VerdictFailed {
		return document.Status(verdict)
	}
	for _, p := range problems {
		if document.LevelOf(document.RegistryCode(p.Code)) == document.IndicationInvalid {
			return document.Failed
		}
	}
	return document.Unknown
}
