package cli

import (
	"context"
	"fmt"
	"io"

	"sealdesk/document"
	"sealdesk/hub/client"
	"sealdesk/hub/outbox"
	"sealdesk/internal/session"
)

func init() {
	Register(&Command{Path: []string{"sync"}, Usage: "[--hub URL] [--token-file F] [--outbox PATH] [--retry-rejected] [--json]",
		Short: "push the outbox's signing records to the hub and refresh seal status; prints counts", Run: runSync})
	registryCheck = hubRegistryCheck
}

// SyncReport is what `sealctl sync --json` prints.
type SyncReport struct {
	Hub    string            `json:"hub"`
	Outbox string            `json:"outbox"`
	Result outbox.SyncResult `json:"result"`
	Counts map[string]int    `json:"counts"` // records per state after the sync
	// Requeued counts the held and rejected records --retry-rejected sent again.
	Requeued int `json:"requeued,omitempty"`
	// Refused lists the records the hub refused (held: retried later; rejected: for good),
	// with the hub's reason, so a person can act on it.
	Refused []outbox.Entry `json:"refused,omitempty"`
	Error   string         `json:"error,omitempty"`
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
	fs := FlagSet(env, "sync", "[--hub URL] [--token-file F] [--outbox PATH] [--retry-rejected] [--json]")
	hubURL := fs.String("hub", "", "hub `URL` (default $SEALDESK_HUB)")
	tokenFile := fs.String("token-file", "", "`file` holding the organisation's bearer token (default $SEALDESK_HUB_TOKEN or $SEALDESK_HUB_TOKEN_FILE)")
	obPath := fs.String("outbox", "", "outbox `file` (default $SEALDESK_OUTBOX or the user's config directory)")
	attempts := fs.Int("attempts", 3, "tries while the hub is unreachable (with backoff)")
	asJSON := fs.Bool("json", false, "print the counts as JSON")
	retry := fs.Bool("retry-rejected", false, "send the records the hub refused (held and rejected) again now")
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
	requeued := 0
	if *retry {
		if requeued, err = ob.Requeue(); err != nil {
			return err
		}
	}
	res, serr := (&session.Core{Hub: c, Outbox: ob}).Sync(ctx, *attempts)
	counts, err := ob.Counts()
	if err != nil {
		return err
	}
	rep := SyncReport{Hub: c.URL(), Outbox: ob.Path(), Result: res, Counts: counts, Requeued: requeued}
	for _, st := range []string{outbox.StateHeld, outbox.StateRejected} {
		es, err := ob.Entries(st)
		if err != nil {
			return err
		}
		rep.Refused = append(rep.Refused, es...)
	}
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
	case res.Conflicts > 0 || res.Rejected > 0 || res.Held > 0:
		return Nof("%d record(s) were refused by the hub: %d held (sent again later, or now with --retry-rejected), %d rejected for good, %d in conflict",
			res.Conflicts+res.Rejected+res.Held, res.Held, res.Rejected, res.Conflicts)
	}
	return nil
}

func printSync(w io.Writer, r SyncReport) {
	fmt.Fprintf(w, "hub %s, outbox %s\n", r.Hub, r.Outbox)
	if r.Requeued > 0 {
		fmt.Fprintf(w, "sent again: %d refused record(s)\n", r.Requeued)
	}
	fmt.Fprintf(w, "sent %d, already on the hub %d, conflicts %d, held %d, rejected %d, waiting %d\n",
		r.Result.Sent, r.Result.Duplicates, r.Result.Conflicts, r.Result.Held, r.Result.Rejected, r.Result.Remaining)
	fmt.Fprintf(w, "seal statuses refreshed %d, changed %d\n", r.Result.Statuses, r.Result.Changed)
	for _, e := range r.Refused {
		when := ""
		if e.State == outbox.StateHeld && !e.RetryAt.IsZero() {
			when = ", next try " + e.RetryAt.Local().Format("2006-01-02 15:04:05")
		}
		fmt.Fprintf(w, "%s record %s (%s, seal %s%s): %s\n", e.State, e.Record.ID, e.Record.DocName, e.Record.SealID, when, e.LastError)
	}
}

// hubRegistryCheck fills each signature's registry field for `sealctl verify --hub` (see
// outbox.Registry): the hub's verdict, or the outbox's cached status when the hub is unreachable.
func hubRegistryCheck(ctx context.Context, hubURL string, rep *document.VerifyReport) error {
	c, err := client.FromEnv(hubURL, "")
	if err != nil {
		return err
	}
	ob, err := openOutbox("")
	if err != nil {
		ob = nil // no cache to fall back on
	} else {
		defer ob.Close()
	}
	return session.Registry(ctx, c, ob, rep)
}
