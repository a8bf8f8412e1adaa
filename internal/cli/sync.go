package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"time"

	"sealdesk/document"
	"sealdesk/hub/api"
	"sealdesk/hub/client"
	"sealdesk/hub/outbox"
	"sealdesk/hub/server"
)

func init() {
	Register(&Command{Path: []string{"sync"}, Usage: "[--hub URL] [--token-file F] [--outbox PATH] [--json]",
		Short: "push the outbox's signing records to the hub and refresh seal status; prints counts", Run: runSync})
	registryCheck = hubRegistryCheck
}

// SyncReport is what `sealctl sync --json` prints.
type SyncReport struct {
	Hub    string            `json:"hub"`
	Outbox string            `json:"outbox"`
	Result outbox.SyncResult `json:"result"`
	Counts map[string]int    `json:"counts"` // records per state after the sync
	Error  string            `json:"error,omitempty"`
}

func openOutbox(path string) (*outbox.Outbox, error) {
	var err error
	if path == "" {
		if path, err = outbox.DefaultPath(); err != nil {
			return nil, Usagef("%v", err)
		}
	}
	ob, err := outbox.Open(path, outbox.Options{})
	if err != nil {
		return nil, Usagef("%v", err)
	}
	return ob, nil
}

func runSync(ctx context.Context, env *Env) error {
	fs := FlagSet(env, "sync", "[--hub URL] [--token-file F] [--outbox PATH] [--json]")
	hubURL := fs.String("hub", "", "hub `URL` (default $SEALDESK_HUB)")
	tokenFile := fs.String("token-file", "", "`file` holding the organisation's bearer token (default $SEALDESK_HUB_TOKEN or $SEALDESK_HUB_TOKEN_FILE)")
	obPath := fs.String("outbox", "", "outbox `file` (default $SEALDESK_OUTBOX or the user's config directory)")
	attempts := fs.Int("attempts", 3, "tries while the hub is unreachable (with backoff)")
	asJSON := fs.Bool("json", false, "print the counts as JSON")
	args, err := Parse(fs, env.Args)
	if err != nil {
		return err
	}
	if len(args) > 0 {
		return Usagef("sync takes no arguments (got %q)", args)
	}
	c, err := client.FromEnv(*hubURL, *tokenFile)
	if err != nil {
		return Usagef("%v", err)
	}
	if c == nil {
		return Usagef("no hub: give --hub URL or set SEALDESK_HUB")
	}
	ob, err := openOutbox(*obPath)
	if err != nil {
		return err
	}
	defer ob.Close()
	res, serr := ob.SyncRetry(ctx, c, max(*attempts, 1))
	counts, err := ob.Counts()
	if err != nil {
		return err
	}
	rep := SyncReport{Hub: c.URL(), Outbox: ob.Path(), Result: res, Counts: counts}
	if serr != nil {
		rep.Error = serr.Error()
	}
	if *asJSON {
		if err := PrintJSON(env.Stdout, rep); err != nil {
			return err
		}
	} else {
		printSync(env.Stdout, rep)
	}
	switch {
	case serr != nil && client.Temporary(serr):
		return Nof("the hub %s is unreachable; %d record(s) stay in the outbox: %v", c.URL(), counts[outbox.StateReady], serr)
	case serr != nil:
		return Usagef("%v", serr)
	case res.Conflicts > 0 || res.Rejected > 0:
		return Nof("%d record(s) were refused by the hub (see the outbox's conflict/rejected entries)", res.Conflicts+res.Rejected)
	}
	return nil
}

func printSync(w io.Writer, r SyncReport) {
	fmt.Fprintf(w, "hub %s, outbox %s\n", r.Hub, r.Outbox)
	fmt.Fprintf(w, "sent %d, already on the hub %d, conflicts %d, rejected %d, waiting %d\n",
		r.Result.Sent, r.Result.Duplicates, r.Result.Conflicts, r.Result.Rejected, r.Result.Remaining)
	fmt.Fprintf(w, "seal statuses refreshed %d, changed %d\n", r.Result.Statuses, r.Result.Changed)
}

// hubRegistryCheck fills each signature's registry field for `sealctl verify --hub`: the
// hub's verdict on whether the seal was in force when the document was signed ("ok",
// "failed" — e.g. signed after the seal was revoked — or "unknown"), with its findings as
// problems coded "registry-<code>". An unreachable hub falls back to the outbox's cached,
// hub-signed status; with neither, the error is reported by the caller.
func hubRegistryCheck(ctx context.Context, hubURL string, rep *document.VerifyReport) error {
	c, err := client.FromEnv(hubURL, "")
	if err != nil {
		return err
	}
	digest := ""
	if data, err := os.ReadFile(rep.File); err == nil {
		d := sha256.Sum256(data)
		digest = hex.EncodeToString(d[:])
	}
	var hubErr error
	for i := range rep.Signatures {
		s := &rep.Signatures[i]
		req := api.VerifyRequest{SignerCertSHA256: s.SignerCertSHA256}
		if s.Seal != nil {
			req.SealID = s.Seal.ESID
		}
		if t, err := time.Parse(time.RFC3339, s.SignedAt); err == nil {
			req.SignedAt = t
		}
		// The record's digest is of the file as signed, so it matches the last signature of
		// an unchanged file; earlier signatures are judged by seal, certificate and time.
		if i == len(rep.Signatures)-1 {
			req.DocDigestAlg, req.DocDigest = "sha256", digest
		}
		if req.SealID == "" && req.SignerCertSHA256 == "" && req.DocDigest == "" {
			s.Registry = document.Unknown
			continue
		}
		if hubErr == nil {
			res, err := c.Verify(ctx, req)
			if err == nil {
				s.Registry = res.Verdict
				for _, p := range res.Problems {
					s.AddProblem("registry-"+p.Code, "%s", p.Message)
				}
				continue
			}
			hubErr = err
		}
		s.Registry = cachedRegistry(s, req)
	}
	return hubErr
}

// cachedRegistry judges a signature from the outbox's cached status when the hub is
// unreachable: a seal cached as revoked (etc.) before the signing time fails.
func cachedRegistry(s *document.SignatureReport, req api.VerifyRequest) string {
	if req.SealID == "" {
		return document.Unknown
	}
	ob, err := openOutbox("")
	if err != nil {
		return document.Unknown
	}
	defer ob.Close()
	st, produced, err := ob.CachedStatus(req.SealID)
	if err != nil {
		return document.Unknown
	}
	ev := server.StatusAt([]api.StatusEvent{{Status: api.StatusActive, At: st.ValidStart}, {Status: st.Status, Reason: st.Reason, At: st.StatusAt}}, req.SignedAt)
	switch {
	case st.Status == api.StatusUnknown:
		s.AddProblem("registry-seal_not_filed", "seal %s is not filed on the hub (cached answer of %s)", req.SealID, produced.Format(time.RFC3339))
		return document.Failed
	case !req.SignedAt.IsZero() && ev.Status != api.StatusActive:
		s.AddProblem("registry-seal_"+st.Status, "seal %s was %s since %s, before the signing time (cached answer of %s)",
			req.SealID, st.Status, st.StatusAt.Format(time.RFC3339), produced.Format(time.RFC3339))
		return document.Failed
	}
	s.AddProblem("registry-cached", "the hub is unreachable: judged from its cached answer of %s (%s)", produced.Format(time.RFC3339), st.Status)
	return document.Unknown
}
