package session

import (
	"context"
	"errors"
	"fmt"
	"os"

	"sealdesk/document"
	"sealdesk/hub/outbox"
	"sealdesk/internal/signflow"
	"sealdesk/signer"
	"sealdesk/signer/keys"
	"sealdesk/signer/token"
)

// Kind classifies why signing stopped or a file failed, so that a caller knows what to offer.
type Kind int

const (
	KindNone        Kind = iota
	KindWrongPIN         // ask for the PIN again (PINError.TriesLeft says how often)
	KindPINLocked        // no retry: the key is locked
	KindKeyRemoved       // the key went away: insert it and sign the rest again
	KindSealRefused      // the registry says the seal must not sign (revoked, suspended, unknown)
	KindCancelled        // the user (or a removed key) cancelled
	KindFile             // this file could not be signed (unreadable, not PDF/OFD, locked field…): the others go on
	KindOther
)

// Retryable says whether trying again may succeed without changing the configuration.
func (k Kind) Retryable() bool { return k == KindWrongPIN || k == KindKeyRemoved }

// Classify says what kind of failure err is.
func Classify(err error) Kind {
	var pe *signer.PINError
	switch {
	case err == nil:
		return KindNone
	case errors.Is(err, signer.ErrPINLocked) || (errors.As(err, &pe) && pe.TriesLeft == 0):
		return KindPINLocked
	case errors.As(err, &pe):
		return KindWrongPIN
	case errors.Is(err, token.ErrTokenRemoved):
		return KindKeyRemoved
	case errors.Is(err, outbox.ErrSealNotUsable):
		return KindSealRefused
	case errors.Is(err, context.Canceled):
		return KindCancelled
	case errors.Is(err, ErrFile):
		return KindFile
	}
	return KindOther
}

// ErrFile marks a failure that concerns one file of a batch only.
var ErrFile = errors.New("file not signed")

// FileError is one file's failure.
type FileError struct {
	File string
	Err  error
}

func (e *FileError) Error() string { return e.File + ": " + e.Err.Error() }
func (e *FileError) Unwrap() []error {
	if Classify(e.Err) == KindOther {
		return []error{e.Err, ErrFile}
	}
	return []error{e.Err}
}

// Job is one signing: files signed with one seal by one key after one login.
type Job struct {
	KeyURI string
	Seal   []byte // DER SES seal
	Files  []string
	// Out names the signed copy of a single file; OutDir the folder of a batch's copies; both
	// empty: beside each input (document.SignedPath, never over an existing file).
	Out    string
	OutDir string
	// Request returns a fresh request per file (placements, profile, reason, …); the identity,
	// seal and picture are filled in by the signing step.
	Request func(file string) *document.SignRequest
	// Progress, when set, is told before each file (Done false) and after it (Done true).
	Progress func(Progress)
}

// Progress is where a job stands.
type Progress struct {
	Index, Total int
	File, Out    string
	Done         bool
	Err          error
}

// Result is what a job did.
type Result struct {
	Signed []string     // the signed copies, in order
	Failed []*FileError // files not signed (the job went on with the next one)
	// Stopped is why the job ended before the last file (key removed, cancelled, locked …),
	// or nil.
	Stopped error
	// Unsent is why the records were not delivered to the hub right away (they stay in the
	// outbox for the next sync), or nil.
	Unsent error
}

// CheckSeal asks the registry (or its cached answer, see hub/outbox's offline policy) whether
// the seal may sign now — before any PIN is asked.
func (c *Core) CheckSeal(ctx context.Context, sealDER []byte) error {
	s, err := signflow.New(nil, sealDER, c.Hub, c.Outbox)
	if err != nil {
		return err
	}
	return s.Check(ctx)
}

// Login opens the identity uri names with pin (zeroed here). A wrong PIN is a *signer.PINError
// (Classify: KindWrongPIN, with the tries left) and may be asked again.
func Login(ctx context.Context, k keys.Layer, uri string, pin []byte) (*signer.Identity, error) {
	defer clear(pin)
	if k == nil {
		return nil, errors.New("no key layer")
	}
	return k.Open(ctx, uri, pin)
}

// Sign signs the job's files with the logged-in identity: the seal is checked first, then
// each file is signed into its copy together with its outbox record (signflow), so that a
// signed file never exists without its record and a failed file leaves nothing behind. A
// removed key, a locked PIN or a cancelled ctx stop the job (Result.Stopped); a file that cannot
// be signed is listed in Result.Failed and the job goes on. Records are pushed to the hub
// best-effort at the end; what is not delivered stays in the outbox for the next sync.
func (c *Core) Sign(ctx context.Context, id *signer.Identity, job Job) (*Result, error) {
	if len(job.Files) == 0 {
		return nil, errors.New("nothing to sign")
	}
	if job.Out != "" && len(job.Files) > 1 {
		return nil, fmt.Errorf("one output name for %d files", len(job.Files))
	}
	flow, err := signflow.New(id, job.Seal, c.Hub, c.Outbox)
	if err != nil {
		return nil, err
	}
	if err := flow.Check(ctx); err != nil {
		return nil, err
	}
	if job.OutDir != "" {
		if err := os.MkdirAll(job.OutDir, 0o755); err != nil {
			return nil, err
		}
	}
	res := &Result{}
	for i, in := range job.Files {
		if err := ctx.Err(); err != nil {
			res.Stopped = err
			break
		}
		out := job.Out
		if out == "" {
			out = document.SignedPath(in, job.OutDir)
		}
		p := Progress{Index: i, Total: len(job.Files), File: in, Out: out}
		if job.Progress != nil {
			job.Progress(p)
		}
		req := &document.SignRequest{}
		if job.Request != nil {
			req = job.Request(in)
		}
		_, err := flow.Sign(ctx, in, out, req)
		p.Done, p.Err = true, err
		if err == nil {
			res.Signed = append(res.Signed, out)
		}
		if job.Progress != nil {
			job.Progress(p)
		}
		if err == nil {
			continue
		}
		switch Classify(err) {
		case KindKeyRemoved, KindPINLocked, KindCancelled, KindSealRefused:
			res.Stopped = err
		default:
			res.Failed = append(res.Failed, &FileError{File: in, Err: err})
		}
		if res.Stopped != nil {
			break
		}
	}
	if len(res.Signed) > 0 {
		// Best effort: undelivered records stay in the outbox (`sealctl sync`, 同步).
		res.Unsent = flow.Push(ctx)
	}
	return res, nil
}

// AskPIN asks the user for the PIN of the key (lastErr: the previous try's error, nil at
// first). ok false means the user cancelled. Run zeroes the PIN after use.
type AskPIN func(lastErr error) (pin []byte, ok bool)

// Run is a whole signing as the user meets it: the seal is checked with the registry first (a
// revoked seal is refused before any PIN is asked), then the PIN is asked until the login
// succeeds (a wrong PIN asks again with the tries left; a locked key stops), then every file is
// signed after that one login (Sign).
func (c *Core) Run(ctx context.Context, k keys.Layer, job Job, ask AskPIN) (*Result, error) {
	if err := c.CheckSeal(ctx, job.Seal); err != nil {
		return nil, err
	}
	var lastErr error
	for {
		pin, ok := ask(lastErr)
		if !ok {
			clear(pin)
			return nil, context.Canceled
		}
		id, err := Login(ctx, k, job.KeyURI, pin)
		if err != nil {
			if Classify(err) == KindWrongPIN {
				lastErr = err
				continue
			}
			return nil, err
		}
		if id.Close != nil {
			defer id.Close()
		}
		return c.Sign(ctx, id, job)
	}
}

// Sync pushes the outbox's records to the hub and refreshes the statuses of sealIDs (and of
// every seal the outbox knows).
func (c *Core) Sync(ctx context.Context, attempts int, sealIDs ...string) (outbox.SyncResult, error) {
	if c.Hub == nil {
		return outbox.SyncResult{}, errors.New("no hub configured")
	}
	if c.Outbox == nil {
		return outbox.SyncResult{}, errors.New("no outbox")
	}
	res, err := c.Outbox.SyncRetry(ctx, c.Hub, max(attempts, 1))
	if err == nil && len(sealIDs) > 0 {
		_, _, err = c.Outbox.RefreshStatus(ctx, c.Hub, sealIDs...)
	}
	return res, err
}
