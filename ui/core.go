package ui

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"sealdesk/document"
	"sealdesk/hub/api"
	"sealdesk/hub/client"
	"sealdesk/hub/outbox"
	"sealdesk/signer"
	"sealdesk/signer/ses"
)

// This file is the app's glue to the core packages: the same steps `sealctl sign` and
// `sealctl verify --hub` take, without UI. Nothing here reads or writes a format itself.

// SignedPath picks where a signed copy of in goes: beside it as NAME-signed.EXT, or
// NAME-signed-2.EXT, … when taken — never over an existing file (the CLI's rule).
func SignedPath(in string) string {
	ext := filepath.Ext(in)
	base := strings.TrimSuffix(in, ext)
	for i := 1; ; i++ {
		p := base + "-signed" + ext
		if i > 1 {
			p = fmt.Sprintf("%s-signed-%d%s", base, i, ext)
		}
		if _, err := os.Lstat(p); errors.Is(err, os.ErrNotExist) {
			return p
		}
	}
}

// DefaultProfile is the profile the CLI picks: ofd-ses4 for OFD, pdf-gm for SM2 keys, PAdES
// otherwise.
func DefaultProfile(path string, alg signer.KeyAlgorithm) (document.Profile, error) {
	f, _, err := document.Detect(path)
	if err != nil {
		return "", err
	}
	if f == document.OFD {
		return document.ProfileOFDSES4, nil
	}
	if alg == signer.SM2 {
		return document.ProfilePDFGM, nil
	}
	return document.ProfilePAdES, nil
}

// Signing is one signing session: a logged-in identity, a seal, the hub and the outbox.
type Signing struct {
	Identity *signer.Identity
	Seal     *SealItem
	Hub      *client.Client // nil: standalone
	Outbox   *outbox.Outbox // nil: no record kept (tests without an outbox)
}

// Check asks the hub (or its cached answer) whether the seal may sign.
func (s *Signing) Check(ctx context.Context) error {
	if s.Hub == nil || s.Outbox == nil {
		return nil
	}
	return s.Outbox.CheckSealUsable(ctx, s.Seal.ESID, outbox.Policy{Hub: s.Hub})
}

// SignOne signs in with the placements into a new file beside it and returns its path.
func (s *Signing) SignOne(ctx context.Context, in string, placements []document.Placement) (string, error) {
	seal, err := ses.ParseSeal(s.Seal.DER)
	if err != nil {
		return "", fmt.Errorf("seal %s: %w", s.Seal.Name, err)
	}
	prof, err := DefaultProfile(in, s.Identity.Algorithm)
	if err != nil {
		return "", err
	}
	req := &document.SignRequest{Profile: prof, Identity: s.Identity, Seal: s.Seal.DER,
		Placements: append([]document.Placement(nil), placements...)}
	_, _, req.PictureW, req.PictureH = ses.Picture(seal)
	if img, err := ses.DecodePicture(seal); err == nil {
		req.Picture = img
	} else if prof.FormatOf() == document.PDF {
		return "", fmt.Errorf("the seal's picture cannot be drawn on a PDF page: %w", err)
	}
	out := SignedPath(in)
	write := func() error { return document.SignFile(ctx, in, out, req) }
	if s.Outbox == nil {
		return out, write()
	}
	sum := sha256.Sum256(s.Identity.Certificate.Raw)
	rec := api.Record{SealID: seal.Info.ESID, SignerCertSHA256: hex.EncodeToString(sum[:]), DocName: filepath.Base(out)}
	if _, err := s.Outbox.Record(ctx, rec, out, write); err != nil {
		return "", err
	}
	return out, nil
}

// Verify verifies path and, with a hub, adds each signature's registry status (live answers;
// when the hub is unreachable the registry stays unknown).
func Verify(ctx context.Context, path string, trustPEM []byte, hub *client.Client) (*document.VerifyReport, error) {
	rep, err := document.VerifyFile(ctx, path, &document.VerifyOptions{TrustPEM: trustPEM})
	if err != nil || hub == nil {
		return rep, err
	}
	digest := ""
	if data, err := os.ReadFile(path); err == nil {
		d := sha256.Sum256(data)
		digest = hex.EncodeToString(d[:])
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
		// The hub's record holds the digest of the file as signed: it matches the last signature.
		if i == len(rep.Signatures)-1 {
			req.DocDigestAlg, req.DocDigest = "sha256", digest
		}
		res, err := hub.Verify(ctx, req)
		if err != nil {
			s.Registry = document.Unknown
			continue
		}
		s.Registry = res.Verdict
		for _, p := range res.Problems {
			s.AddProblem("registry-"+p.Code, "%s", p.Message)
		}
	}
	rep.Decide()
	return rep, nil
}
