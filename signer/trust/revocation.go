package trust

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sealdesk/signer/check"
	"strings"
	"sync"
	"time"

	"github.com/emmansun/gmsm/smx509"
)

// errOffline means the data is not cached and the verifier may not fetch it.
var errOffline = errors.New("offline and not cached")

// revocation is the answer of one source about one certificate.
type revocation struct {
	status    Status
	revokedAt time.Time
	reason    int
	via       string
	code      string // problem code when not ok
	msg       string
	src       sourced // where the answer came from (Result.Evidence)
}

func (v *Verifier) checkRevocation(ctx context.Context, r *Result, req Request, path []*smx509.Certificate, now time.Time) {
	r.Revocation = OK
	var vias []string
	for i, c := range path {
		var issuer *smx509.Certificate
		if i+1 < len(path) {
			issuer = path[i+1]
		} else if isSelfSigned(c) {
			break // a root: trusted by configuration, not by revocation data
		} else {
			issuer = v.findIssuer(c, req.Intermediates)
		}
		if issuer == nil {
			r.Revocation = check.WorseStatus(r.Revocation, Unknown)
			r.problem(CodeRevocationNoInfo, "issuer of %q unknown: its revocation status cannot be checked", name(c))
			continue
		}
		rv := v.certRevocation(ctx, r, req, c, issuer, now)
		if rv.via != "" {
			vias = append(vias, rv.via)
		}
		if rv.src.der != nil && (rv.status == OK || rv.status == Failed) {
			r.Evidence = append(r.Evidence, rv.src.evidence(c, rv.via, rv.status))
		}
		switch rv.status {
		case OK:
		case Failed:
			if rv.revokedAt.After(r.At) {
				if req.AtProven {
					// Proven signing before the revocation: the signature stays valid.
					r.problem(CodeRevokedLater, "%q was revoked at %s (reason %d), after the proven signing time %s", name(c), stamp(rv.revokedAt), rv.reason, stamp(r.At))
					continue
				}
				if !req.ExistedAt.IsZero() && rv.revokedAt.After(req.ExistedAt) {
					// A document time-stamp proves the signature existed before the revocation.
					r.problem(CodeRevokedAfterExistence, "%q was revoked at %s (reason %d), after the document time-stamp of %s that proves the signature existed", name(c), stamp(rv.revokedAt), rv.reason, stamp(req.ExistedAt))
					continue
				}
				// Only the signer's word says it was signed before: not proven either way.
				r.Revocation = check.WorseStatus(r.Revocation, Unknown)
				r.problem(CodeRevokedUnproven, "%q was revoked at %s (reason %d), after the claimed signing time %s; no time-stamp proves the signature is older", name(c), stamp(rv.revokedAt), rv.reason, stamp(r.At))
				continue
			}
			r.Revocation = Failed
			r.problem(CodeRevoked, "%q is revoked since %s (reason %d, via %s)", name(c), stamp(rv.revokedAt), rv.reason, rv.via)
		default:
			r.Revocation = check.WorseStatus(r.Revocation, Unknown)
			r.problem(rv.code, "%q: %s", name(c), rv.msg)
		}
	}
	r.RevocationVia = strings.Join(dedupe(vias), "+")
}

func dedupe(s []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

func isSelfSigned(c *smx509.Certificate) bool {
	return bytes.Equal(c.RawIssuer, c.RawSubject) && c.CheckSignatureFrom(c) == nil
}

func (v *Verifier) findIssuer(c *smx509.Certificate, extra []*smx509.Certificate) *smx509.Certificate {
	cands := append(append([]*smx509.Certificate{}, extra...), v.intermediates...)
	if roots, err := ParsePEM(v.cfg.Roots); err == nil {
		cands = append(cands, roots...)
	}
	for _, p := range cands {
		if bytes.Equal(p.RawSubject, c.RawIssuer) && c.CheckSignatureFrom(p) == nil {
			return p
		}
	}
	return nil
}

// certRevocation uses the document's embedded material first (judged at the validation
// time: the PAdES validation model), then asks the OCSP responder (fresher, smaller), then
// the CRL.
func (v *Verifier) certRevocation(ctx context.Context, r *Result, req Request, c, issuer *smx509.Certificate, now time.Time) revocation {
	var notes []string
	code := CodeRevocationNoInfo
	if req.Embedded != nil {
		rv, ok, bad, stale := embeddedRevocation(req.Embedded, c, issuer, r.At, now)
		for _, m := range bad {
			r.problem(CodeEmbeddedInvalid, "%s", m)
		}
		if ok {
			return rv
		}
		if len(bad) > 0 {
			code = CodeEmbeddedInvalid
			notes = append(notes, "the embedded answers do not verify")
		} else if stale {
			code = CodeRevocationStale
			notes = append(notes, fmt.Sprintf("the embedded answers are older than the validation time %s", stamp(r.At)))
		}
	}
	for _, u := range c.OCSPServer {
		if !isHTTP(u) {
			continue
		}
		rv, err := v.ocspStatus(ctx, u, c, issuer, now)
		if err == nil {
			return rv
		}
		code = errCode(err)
		notes = append(notes, fmt.Sprintf("OCSP %s: %v", u, err))
	}
	for _, u := range c.CRLDistributionPoints {
		if !isHTTP(u) {
			continue
		}
		rv, err := v.crlStatus(ctx, u, c, issuer, now)
		if err == nil {
			return rv
		}
		code = errCode(err)
		notes = append(notes, fmt.Sprintf("CRL %s: %v", u, err))
	}
	if len(notes) == 0 {
		return revocation{status: Unknown, code: CodeRevocationNoInfo, msg: errNoService.Error()}
	}
	return revocation{status: Unknown, code: code, msg: strings.Join(notes, "; ")}
}

func errCode(err error) string {
	switch {
	case errors.Is(err, errOffline):
		return CodeRevocationOff
	case errors.Is(err, errStale):
		return CodeRevocationStale
	case errors.Is(err, errNoService):
		return CodeRevocationNoInfo
	}
	return CodeRevocationFetch
}

var errStale = errors.New("revocation data is past its nextUpdate")

func isHTTP(u string) bool {
	l := strings.ToLower(u)
	return strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://")
}

func (v *Verifier) crlStatus(ctx context.Context, url string, c, issuer *smx509.Certificate, now time.Time) (revocation, error) {
	key := "crl\x00" + url
	var crl *smx509.RevocationList
	parse := func(der []byte) error {
		l, err := smx509.ParseRevocationList(der)
		if err != nil {
			return fmt.Errorf("malformed CRL: %v", err)
		}
		if err := l.CheckSignatureFrom(issuer); err != nil {
			return fmt.Errorf("CRL not signed by %q: %v", name(issuer), err)
		}
		crl = l
		return nil
	}
	fresh := func() bool { return crl.NextUpdate.IsZero() || now.Before(crl.NextUpdate) }
	src := sourced{source: "cache"}
	if der, ok := v.cache.get(key, now); ok && parse(der) == nil && fresh() {
		// cached and fresh
		src.der = der
	} else {
		src.source = "network"
		if v.cfg.Offline {
			return revocation{}, errOffline
		}
		der, err := v.fetch(ctx, http.MethodGet, url, nil, 32<<20)
		if err != nil {
			return revocation{}, err
		}
		if err := parse(der); err != nil {
			return revocation{}, err
		}
		src.der = der
		if !fresh() {
			return revocation{}, fmt.Errorf("%w (CRL nextUpdate %s)", errStale, stamp(crl.NextUpdate))
		}
		exp := crl.NextUpdate
		if exp.IsZero() {
			exp = now.Add(time.Hour)
		}
		v.cache.put(key, der, exp)
	}
	src.thisUpdate, src.nextUpdate = crl.ThisUpdate, crl.NextUpdate
	for _, e := range crl.RevokedCertificateEntries {
		if e.SerialNumber != nil && e.SerialNumber.Cmp(c.SerialNumber) == 0 {
			return revocation{status: Failed, revokedAt: e.RevocationTime, reason: e.ReasonCode, via: "crl", src: src}, nil
		}
	}
	return revocation{status: OK, via: "crl", src: src}, nil
}

func (v *Verifier) ocspStatus(ctx context.Context, url string, c, issuer *smx509.Certificate, now time.Time) (revocation, error) {
	reqDER, id, err := ocspRequest(c, issuer)
	if err != nil {
		return revocation{}, err
	}
	key := "ocsp\x00" + url + "\x00" + hex.EncodeToString(id)
	var resp *ocspResponse
	use := func(der []byte) error {
		r, err := parseOCSPResponse(der, c, issuer)
		if err != nil {
			return err
		}
		resp = r
		return nil
	}
	fresh := func() bool {
		return !resp.ThisUpdate.After(now.Add(5*time.Minute)) && (resp.NextUpdate.IsZero() || now.Before(resp.NextUpdate))
	}
	src := sourced{source: "cache"}
	if der, ok := v.cache.get(key, now); ok && use(der) == nil && fresh() {
		// cached and fresh
		src.der = der
	} else {
		src.source = "network"
		if v.cfg.Offline {
			return revocation{}, errOffline
		}
		der, err := v.fetch(ctx, http.MethodPost, url, reqDER, 1<<20)
		if err != nil {
			return revocation{}, err
		}
		if err := use(der); err != nil {
			return revocation{}, err
		}
		src.der = der
		if !fresh() {
			return revocation{}, fmt.Errorf("%w (OCSP thisUpdate %s, nextUpdate %s)", errStale, stamp(resp.ThisUpdate), stamp(resp.NextUpdate))
		}
		exp := resp.NextUpdate
		if exp.IsZero() {
			exp = now.Add(time.Hour)
		}
		v.cache.put(key, der, exp)
	}
	src.thisUpdate, src.nextUpdate = resp.ThisUpdate, resp.NextUpdate
	switch resp.Status {
	case ocspGood:
		return revocation{status: OK, via: "ocsp", src: src}, nil
	case ocspRevoked:
		return revocation{status: Failed, revokedAt: resp.RevokedAt, reason: resp.Reason, via: "ocsp", src: src}, nil
	}
	return revocation{}, errors.New("responder does not know the certificate (status unknown)")
}

func (v *Verifier) fetch(ctx context.Context, method, url string, body []byte, limit int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/ocsp-request")
	}
	resp, err := v.cfg.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %s", resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("response larger than %d bytes", limit)
	}
	return b, nil
}

// cache keeps revocation data until its expiry, in memory and optionally on disk.
type cache struct {
	mu  sync.Mutex
	dir string
	mem map[string]cacheEntry
}

type cacheEntry struct {
	data []byte
	exp  time.Time
}

func (c *cache) file(key string) string {
	h := sha256.Sum256([]byte(key))
	return filepath.Join(c.dir, hex.EncodeToString(h[:16])+".rev")
}

func (c *cache) get(key string, now time.Time) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.mem[key]; ok && now.Before(e.exp) {
		return e.data, true
	}
	if c.dir == "" {
		return nil, false
	}
	b, err := os.ReadFile(c.file(key))
	if err != nil || len(b) < 8 {
		return nil, false
	}
	exp := time.Unix(int64(binary.BigEndian.Uint64(b)), 0)
	if !now.Before(exp) {
		return nil, false
	}
	c.mem[key] = cacheEntry{data: b[8:], exp: exp}
	return b[8:], true
}

func (c *cache) put(key string, data []byte, exp time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.mem[key] = cacheEntry{data: data, exp: exp}
	if c.dir == "" {
		return
	}
	if err := os.MkdirAll(c.dir, 0o700); err != nil {
		return // the cache is an optimisation; a failure only costs a refetch
	}
	b := make([]byte, 8, 8+len(data))
	binary.BigEndian.PutUint64(b, uint64(exp.Unix()))
	b = append(b, data...)
	tmp := c.file(key) + ".tmp"
	if os.WriteFile(tmp, b, 0o600) == nil {
		os.Rename(tmp, c.file(key))
	}
}
