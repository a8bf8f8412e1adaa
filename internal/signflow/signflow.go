// Package signflow is the one signing step that `sealctl sign` and the desktop app share: pick
// the profile, give the request the seal and its picture, ask the registry whether the seal may
// sign, and write the signed copy together with its signing record (hub/outbox), so that a
// signed file never exists without its record.
package signflow

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"

	"sealdesk/document"
	"sealdesk/hub/api"
	"sealdesk/hub/client"
	"sealdesk/hub/outbox"
	"sealdesk/signer"
	"sealdesk/signer/ses"
)

// Session is a logged-in identity with the seal it signs with.
type Session struct {
	Identity *signer.Identity
	SealDER  []byte
	Seal     *ses.Seal
	// Hub is the registry (nil: standalone, no status check); Outbox keeps the signing records
	// (nil: none kept — tests only).
	Hub    *client.Client
	Outbox *outbox.Outbox
}

// New parses the seal and returns a session.
func New(id *signer.Identity, sealDER []byte, hub *client.Client, ob *outbox.Outbox) (*Session, error) {
	seal, err := ses.ParseSeal(sealDER)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	return &Session{Identity: id, SealDER: sealDER, Seal: seal, Hub: hub, Outbox: ob}, nil
}

// Check asks the registry whether the seal may sign now (revoked or suspended seals must not;
// see outbox.CheckSealUsable for the offline policy). Without a hub SealDesk signs standalone,
// but never with a seal the outbox has seen refused: a revoked, suspended, withdrawn, lost or
// unfiled status cached from any hub refuses however old it is (outbox.CheckCachedRefusal).
func (s *Session) Check(ctx context.Context) error {
	if s.Outbox == nil {
		return nil
	}
	if s.Hub == nil {
		return s.Outbox.CheckCachedRefusal(s.Seal.Info.ESID)
	}
	return s.Outbox.CheckSealUsable(ctx, s.Seal.Info.ESID, outbox.Policy{Hub: s.Hub})
}

// Sign signs in into out (document.SignedPath(in, "") when out is ""), filling req's profile
// (document.DefaultProfile when empty), identity, seal and picture, and returns the output path.
// Use a fresh request per file: signing fills req.Stamps from req.Placements.
func (s *Session) Sign(ctx context.Context, in, out string, req *document.SignRequest) (string, error) {
	var err error
	if req.Profile == "" {
		if req.Profile, err = document.DefaultProfile(in, s.Identity.Algorithm); err != nil {
			return "", err
		}
	}
	req.Identity, req.Seal = s.Identity, s.SealDER
	_, _, req.PictureW, req.PictureH = ses.Picture(s.Seal)
	img, err := ses.DecodePicture(s.Seal)
	switch {
	case err == nil:
		req.Picture = img
	case req.Profile.FormatOf() == document.PDF:
		// PDF pages need a raster picture; OFD readers draw the seal's own picture (any type).
		return "", fmt.Errorf("the seal's picture cannot be drawn on a PDF page: %w", err)
	}
	if out == "" {
		out = document.SignedPath(in, "")
	}
	write := func() error { return document.SignFile(ctx, in, out, req) }
	if s.Outbox == nil {
		return out, write()
	}
	// Placements are resolved first so the record names the stamped pages.
	if err := document.ResolveStamps(ctx, in, req); err != nil {
		return "", err
	}
	sum := sha256.Sum256(s.Identity.Certificate.Raw)
	rec := api.Record{SealID: s.Seal.Info.ESID, SignerCertSHA256: hex.EncodeToString(sum[:]), DocName: filepath.Base(out),
		Pages: req.StampedPages()}
	if _, err := s.Outbox.Record(ctx, rec, out, write); err != nil {
		return "", err
	}
	return out, nil
}

// Push sends the outbox's records to the hub, best effort: a record that cannot be sent now
// stays in the outbox for the next sync.
func (s *Session) Push(ctx context.Context) error {
	if s.Hub == nil || s.Outbox == nil {
		return nil
	}
	_, err := s.Outbox.Push(ctx, s.Hub)
	return err
}
