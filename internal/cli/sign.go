package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"sealdesk/document"
	"sealdesk/hub/client"
	"sealdesk/internal/report"
	"sealdesk/internal/session"
	"sealdesk/signer"
	"sealdesk/signer/keys"
)

const signUsage = "--in IN [--in IN2 ...] [--out OUT | --out-dir DIR] --key URI [--seal SEAL] [--profile P]\n" +
	"    (--page N --at X,Y [--size W,H] | --keyword WORD [--nth N] [--offset DX,DY] | --cross-page [--pages A-B])\n" +
	"    [--reason R] [--location L] [--tsa URL] [--hub URL] [--certify 1|2|3] [--lock] [--field NAME] [--pin-file F]\n" +
	"    [--allow-non-sm2]"

func init() {
	Register(&Command{
		Path:  []string{"sign"},
		Usage: "--in IN --out OUT --key URI --seal SEAL --profile P (placement) [options]",
		Short: "seal PDF or OFD files (a new file each; the input is never changed)",
		Run:   runSign,
	})
}

func runSign(ctx context.Context, env *Env) error {
	fs := FlagSet(env, "sign", signUsage)
	ins := StringList(fs, "in", "input `file` (repeat for a batch)")
	out := fs.String("out", "", "output `file` (one input only; default: NAME-signed.EXT beside the input)")
	outDir := fs.String("out-dir", "", "output `directory` for a batch")
	keyURI := fs.String("key", "", "signing key: pkcs11:… or skf:… URI, or file:KEYSTORE")
	sealFile := fs.String("seal", "", "SES seal `file` (default: the seal stored with the key)")
	profile := fs.String("profile", "", "pades | pdf-gm | pdf-ses | ofd-ses4 | ofd-ses1 (default: pdf-gm for SM2 keys, pades otherwise; ofd-ses4 for OFD)")
	page := fs.Int("page", 0, "page `N` (1-based) for --at")
	at := fs.String("at", "", "seal centre `X,Y` in mm from the page's top-left corner")
	size := fs.String("size", "", "seal size `W,H` in mm (default: the seal's own size)")
	keyword := fs.String("keyword", "", "place the seal centred on each occurrence of `WORD`")
	nth := fs.Int("nth", 0, "with --keyword: only the `N`th occurrence (1-based)")
	offset := fs.String("offset", "", "with --keyword: move the seal by `DX,DY` mm")
	cross := fs.Bool("cross-page", false, "cross-page seal (骑缝章) over the right edge of the pages")
	pages := fs.String("pages", "", "with --cross-page: page range `A-B` (default: all pages)")
	reason := fs.String("reason", "", "reason for signing")
	location := fs.String("location", "", "where the signing happens")
	tsaURL := fs.String("tsa", "", "RFC 3161 time-stamp service `URL`")
	hubURL := fs.String("hub", os.Getenv("SEALDESK_HUB"), "seal registry `URL`: checks the seal's status first")
	certify := fs.Int("certify", 0, "PDF: make a certification signature with DocMDP permission `P` (1, 2 or 3)")
	lock := fs.Bool("lock", false, "OFD: also protect Signatures.xml, so that no later signature can be added")
	allowNonSM2 := fs.Bool("allow-non-sm2", false, "OFD: sign with an ECDSA or RSA key although other OFD readers (SM3 only) will report the file as tampered")
	field := fs.String("field", "", "PDF: sign the existing empty signature field `NAME` (it keeps its widget; no placement)")
	pinFile := fs.String("pin-file", "", "read the PIN or keystore password from `file`")
	outboxPath := fs.String("outbox", "", "signing-record outbox `file` (default $SEALDESK_OUTBOX or the user config dir)")
	pos, err := Parse(fs, env.Args)
	if err != nil {
		return err
	}
	inputs := append(*ins, pos...)
	if len(inputs) == 0 {
		return Usagef("no input: give --in FILE")
	}
	if *keyURI == "" {
		return Usagef("no key: give --key pkcs11:…, --key skf:… or --key file:KEYSTORE")
	}
	if *out != "" && len(inputs) > 1 {
		return Usagef("--out names one file; for %d inputs use --out-dir", len(inputs))
	}
	var placements []document.Placement
	if *field == "" || *at != "" || *keyword != "" || *cross {
		if placements, err = parsePlacement(*page, *at, *size, *keyword, *nth, *offset, *cross, *pages); err != nil {
			return err
		}
	}
	if *certify < 0 || *certify > 3 {
		return Usagef("--certify takes 1, 2 or 3")
	}

	hub, err := client.FromEnv(*hubURL, "")
	if err != nil {
		return Usagef("hub: %v", err)
	}
	ob, err := openOutbox(*outboxPath)
	if err != nil {
		return err
	}
	defer ob.Close()
	core := &session.Core{Hub: hub, Outbox: ob}
	var sealDER []byte
	if *sealFile != "" {
		if sealDER, err = loadSeal(*sealFile, nil); err != nil {
			return err
		}
		// A seal the registry refuses is refused before the PIN is read.
		if err := core.CheckSeal(ctx, sealDER); err != nil {
			if session.Classify(err) == session.KindSealRefused {
				return Nof("%v", err)
			}
			return Usagef("%s: %v", *sealFile, err)
		}
	}

	pin, err := ReadPIN(env, *pinFile, "PIN")
	if err != nil {
		return err
	}
	id, err := keys.Open(ctx, *keyURI, pin)
	clear(pin)
	if err != nil {
		return Usagef("%v", err)
	}
	if id.Close != nil {
		defer id.Close()
	}
	if sealDER == nil {
		if sealDER, err = loadSeal("", id); err != nil {
			return err
		}
	}

	reqs := map[string]*document.SignRequest{}
	var start time.Time
	job := session.Job{KeyURI: *keyURI, Seal: sealDER, Files: inputs, Out: *out, OutDir: *outDir,
		Request: func(in string) *document.SignRequest {
			req := &document.SignRequest{
				Profile:    document.Profile(*profile),
				Placements: placements,
				Reason:     *reason,
				Location:   *location,
				TSA:        *tsaURL,
				Certify:    *certify,
				Lock:       *lock,
				Field:      *field,

				AllowNonSM2: *allowNonSM2,
			}
			reqs[in] = req
			return req
		},
		Progress: func(p session.Progress) {
			if !p.Done {
				start = time.Now()
				return
			}
			if p.Err != nil {
				var ne *document.NonSM2Error
				if errors.As(p.Err, &ne) {
					// The refusal's reason in the user's language (SEALDESK_LANG / locale).
					fmt.Fprintf(env.Stderr, "%s: %s: %s\n", env.Program, p.File, ne.Text(report.LangFromEnv() == report.Chinese))
					return
				}
				fmt.Fprintf(env.Stderr, "%s: %s: %v\n", env.Program, p.File, p.Err)
				return
			}
			req := reqs[p.File]
			fmt.Fprintf(env.Stdout, "%s -> %s (%s, %d stamp(s), %s)\n", p.File, p.Out, req.Profile, len(req.Stamps),
				time.Since(start).Round(time.Millisecond))
		}}
	res, err := core.Sign(ctx, id, job)
	if err != nil {
		if session.Classify(err) == session.KindSealRefused {
			return Nof("%v", err)
		}
		return Usagef("%s: %v", orDash(*sealFile), err)
	}
	if len(res.Failed) > 0 || res.Stopped != nil {
		if res.Stopped != nil {
			fmt.Fprintf(env.Stderr, "%s: stopped: %v\n", env.Program, res.Stopped)
		}
		return Silent(ExitUsage)
	}
	if res.Unsent != nil {
		// The records are safe in the outbox; `sealctl sync` delivers them later.
		fmt.Fprintf(env.Stderr, "%s: the signing record stays in the outbox until the next sync: %v\n", env.Program, res.Unsent)
	}
	return nil
}

func loadSeal(path string, id *signer.Identity) ([]byte, error) {
	if path != "" || id == nil {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, Usagef("cannot read the seal: %v", err)
		}
		return b, nil
	}
	if len(id.Seals) > 0 {
		return id.Seals[0], nil
	}
	return nil, Usagef("no seal: the key %s holds none; give --seal FILE", id.URI)
}

func parsePlacement(page int, at, size, keyword string, nth int, offset string, cross bool, pages string) ([]document.Placement, error) {
	modes := 0
	for _, set := range []bool{at != "", keyword != "", cross} {
		if set {
			modes++
		}
	}
	if modes != 1 {
		return nil, Usagef("give exactly one placement: --page N --at X,Y, --keyword WORD, or --cross-page")
	}
	var p document.Placement
	if size != "" {
		w, h, err := pair(size, "--size")
		if err != nil {
			return nil, err
		}
		if w <= 0 || h <= 0 {
			return nil, Usagef("--size %s: width and height must be positive", size)
		}
		p.SealW, p.SealH = w, h
	}
	switch {
	case at != "":
		if page < 1 {
			return nil, Usagef("--at needs --page N (1-based)")
		}
		x, y, err := pair(at, "--at")
		if err != nil {
			return nil, err
		}
		p.Page = page - 1
		p.At = &document.Point{X: x, Y: y}
	case keyword != "":
		p.Keyword, p.Nth = keyword, nth
		if offset != "" {
			dx, dy, err := pair(offset, "--offset")
			if err != nil {
				return nil, err
			}
			p.OffsetX, p.OffsetY = dx, dy
		}
	case cross:
		p.CrossPage, p.LastPage = true, -1
		if pages != "" {
			a, b, ok := strings.Cut(pages, "-")
			first, err1 := strconv.Atoi(a)
			last, err2 := strconv.Atoi(b)
			if !ok || err1 != nil || err2 != nil || first < 1 || last < first {
				return nil, Usagef("--pages %q: want A-B with 1 <= A < B", pages)
			}
			p.FirstPage, p.LastPage = first-1, last-1
		}
	}
	return []document.Placement{p}, nil
}

func pair(s, flag string) (float64, float64, error) {
	a, b, ok := strings.Cut(s, ",")
	x, err1 := strconv.ParseFloat(strings.TrimSpace(a), 64)
	y, err2 := strconv.ParseFloat(strings.TrimSpace(b), 64)
	if !ok || err1 != nil || err2 != nil {
		return 0, 0, Usagef("%s %q: want two numbers in mm, e.g. 100,50", flag, s)
	}
	return x, y, nil
}
