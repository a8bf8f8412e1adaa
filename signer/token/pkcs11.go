//go:build cgo

package token

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/emmansun/gmsm/smx509"
	"github.com/miekg/pkcs11"

	"sealdesk/signer"
)

// Timeouts for module calls. A PKCS#11 call cannot be cancelled; after the timeout the
// caller gets ErrModuleHung and the call is left to finish in its goroutine.
var (
	CallTimeout = 10 * time.Second // listing, reading objects, init
	SignTimeout = 60 * time.Second // login and signing (PIN pads and slow SM2 chips)
)

// module is one loaded library, shared by every Store of the same file: a library can be
// C_Initialize'd only once per process.
type module struct {
	key string // resolved path
	ctx *pkcs11.Ctx

	mu          sync.RWMutex // Lock: (re)initialise; RLock: any other call
	cfg         Module
	initialized bool
	refs        int          // guarded by registry.mu
	sessions    atomic.Int32 // logged-in sessions held by open identities
	loginFn     unsafe.Pointer
	initHung    atomic.Bool  // a C_Initialize timed out and has not returned yet
	stuck       atomic.Int32 // calls that timed out and have not returned yet
}

var registry = struct {
	sync.Mutex
	m map[string]*module
}{m: map[string]*module{}}

// envMu serialises the process-environment changes around C_Initialize.
var envMu sync.Mutex

// Store is one PKCS#11 module in use. It implements signer.KeyStore and Lister.
type Store struct {
	m      *module
	cfg    Module
	closed atomic.Bool
}

// OpenModule loads and initialises the module (or shares it when it is already loaded with
// the same environment).
func OpenModule(cfg Module) (*Store, error) {
	if cfg.Path == "" {
		return nil, &ModuleError{Path: "(empty)", Reason: "no module path given"}
	}
	st, err := os.Stat(cfg.Path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, &ModuleError{Path: cfg.Path, Reason: "the file does not exist"}
		}
		return nil, &ModuleError{Path: cfg.Path, Reason: "cannot read the file", Err: err}
	}
	if st.IsDir() {
		return nil, &ModuleError{Path: cfg.Path, Reason: "is a directory, not a library"}
	}
	key, err := filepath.EvalSymlinks(cfg.Path)
	if err != nil {
		key = cfg.Path
	}
	if abs, err := filepath.Abs(key); err == nil {
		key = abs
	}
	registry.Lock()
	defer registry.Unlock()
	m := registry.m[key]
	if m == nil {
		ctx := pkcs11.New(cfg.Path)
		if ctx == nil {
			return nil, &ModuleError{Path: cfg.Path, Reason: "cannot be loaded (not a PKCS#11 library, wrong architecture, or a missing dependency)"}
		}
		// Libraries stay loaded for the life of the process: unloading and reloading some
		// modules (SoftHSM2 with OpenSSL) is not safe.
		m = &module{key: key, ctx: ctx, cfg: cfg}
		m.loginFn = findLogin(cfg.Path)
		registry.m[key] = m
	}
	if m.refs > 0 && !sameEnv(m.cfg.Env, cfg.Env) {
		return nil, &ModuleError{Path: cfg.Path, Reason: "is already in use with a different environment (one library instance per process)"}
	}
	if m.refs == 0 {
		m.cfg = cfg
		if err := m.initialize(); err != nil {
			return nil, err
		}
	}
	m.refs++
	return &Store{m: m, cfg: cfg}, nil
}

func sameEnv(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// initialize runs C_Initialize with the module's environment; caller holds registry or m.mu.
func (m *module) initialize() error {
	if m.initHung.Load() {
		return &ModuleError{Path: m.cfg.Path, Reason: "an earlier C_Initialize has not returned yet", Err: ErrModuleHung}
	}
	envMu.Lock()
	type old struct {
		v  string
		ok bool
	}
	saved := map[string]old{}
	for k, v := range m.cfg.Env {
		ov, ok := os.LookupEnv(k)
		saved[k] = old{ov, ok}
		os.Setenv(k, v)
	}
	done := make(chan error, 1)
	go func() { done <- m.ctx.Initialize() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(CallTimeout):
		err = ErrModuleHung
		// Never call C_Initialize again while one is stuck; a late success shows up as
		// CKR_CRYPTOKI_ALREADY_INITIALIZED on the next try, which counts as initialised.
		m.initHung.Store(true)
		go func() {
			<-done
			m.initHung.Store(false)
		}()
	}
	for k, o := range saved {
		if o.ok {
			os.Setenv(k, o.v)
		} else {
			os.Unsetenv(k)
		}
	}
	envMu.Unlock()
	if err != nil && !isRV(err, pkcs11.CKR_CRYPTOKI_ALREADY_INITIALIZED) {
		return &ModuleError{Path: m.cfg.Path, Reason: "C_Initialize failed", Err: err}
	}
	m.initialized = true
	return nil
}

func isRV(err error, rv uint) bool {
	var e pkcs11.Error
	return errors.As(err, &e) && uint(e) == rv
}

// release drops one reference; the last one finalises the module.
func (m *module) release() {
	registry.Lock()
	defer registry.Unlock()
	m.refs--
	if m.refs == 0 && m.initialized {
		// A call stuck in the module holds the read lock: then the module stays initialised
		// (a later OpenModule sees CKR_CRYPTOKI_ALREADY_INITIALIZED) rather than Close hanging.
		if !lockWithin(&m.mu, CallTimeout) {
			return
		}
		_ = m.ctx.Finalize()
		m.initialized = false
		m.mu.Unlock()
	}
}

func lockWithin(mu *sync.RWMutex, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for !mu.TryLock() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return true
}

// Close releases the module (finalised when its last user goes; open identities keep it).
func (s *Store) Close() error {
	if s.closed.CompareAndSwap(false, true) {
		s.m.release()
	}
	return nil
}

// Module returns the configuration the store was opened with.
func (s *Store) Module() Module { return s.cfg }

// Name implements Lister.
func (s *Store) Name() string { return s.cfg.Path }

// do runs f on the module under its read lock with a timeout.
func (s *Store) do(ctx context.Context, timeout time.Duration, what string, f func(c *pkcs11.Ctx) error) error {
	if s.closed.Load() {
		return &ModuleError{Path: s.cfg.Path, Reason: "the store is closed"}
	}
	// A module with a call stuck past its timeout gets no further calls until that one
	// returns: each would only add another blocked thread.
	if n := s.m.stuck.Load(); n > 0 {
		return &ModuleError{Path: s.cfg.Path, Reason: "an earlier call has not returned yet", Err: ErrModuleHung}
	}
	const running, finished, abandoned = 0, 1, 2
	var state atomic.Int32
	done := make(chan error, 1)
	go func() {
		s.m.mu.RLock()
		var err error
		if !s.m.initialized {
			err = &ModuleError{Path: s.cfg.Path, Reason: "not initialised"}
		} else {
			err = f(s.m.ctx)
		}
		s.m.mu.RUnlock()
		if !state.CompareAndSwap(running, finished) {
			s.m.stuck.Add(-1) // the timed-out call finally returned
		}
		done <- err
	}()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		if !state.CompareAndSwap(running, abandoned) {
			return <-done // finished just now
		}
		s.m.stuck.Add(1)
		return &ModuleError{Path: s.cfg.Path, Reason: fmt.Sprintf("%s took longer than %v", what, timeout), Err: ErrModuleHung}
	}
}

// refresh re-initialises a Reinit module so it sees tokens that came or went, unless a
// session of ours is open on it.
func (s *Store) refresh(ctx context.Context) error {
	if !s.cfg.Reinit || s.m.sessions.Load() > 0 {
		return nil
	}
	if s.m.stuck.Load() > 0 {
		return nil // do() reports the hung module
	}
	// Opportunistic: when any call is in progress (a signature, a listing), skip this round
	// rather than wait; the next poll re-initialises.
	if !s.m.mu.TryLock() {
		return nil
	}
	done := make(chan error, 1)
	go func() {
		defer s.m.mu.Unlock()
		if s.m.sessions.Load() > 0 {
			done <- nil
			return
		}
		// Also retries a module whose last re-initialisation failed.
		if s.m.initialized {
			_ = s.m.ctx.Finalize()
			s.m.initialized = false
		}
		done <- s.m.initialize()
	}()
	t := time.NewTimer(CallTimeout)
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return &ModuleError{Path: s.cfg.Path, Reason: "re-initialising took too long", Err: ErrModuleHung}
	}
}

func (s *Store) tokenInfo(c *pkcs11.Ctx, slot uint) (signer.TokenInfo, uint, error) {
	ti, err := c.GetTokenInfo(slot)
	if err != nil {
		return signer.TokenInfo{}, 0, err
	}
	t := signer.TokenInfo{
		Module:       s.cfg.Path,
		Slot:         slot,
		Label:        strings.TrimRight(ti.Label, " \x00"),
		Serial:       strings.TrimRight(ti.SerialNumber, " \x00"),
		Manufacturer: strings.TrimRight(ti.ManufacturerID, " \x00"),
		Model:        strings.TrimRight(ti.Model, " \x00"),
	}
	applyPINFlags(&t, ti.Flags)
	return t, ti.Flags, nil
}

// Tokens implements Lister: the initialised tokens present now.
func (s *Store) Tokens(ctx context.Context) ([]signer.TokenInfo, error) {
	if err := s.refresh(ctx); err != nil {
		return nil, err
	}
	var out []signer.TokenInfo
	err := s.do(ctx, CallTimeout, "listing tokens", func(c *pkcs11.Ctx) error {
		slots, err := c.GetSlotList(true)
		if err != nil {
			return fmt.Errorf("C_GetSlotList: %w", err)
		}
		for _, sl := range slots {
			t, flags, err := s.tokenInfo(c, sl)
			if err != nil {
				// A token pulled out between the two calls: not an error of the module.
				continue
			}
			if flags&pkcs11.CKF_TOKEN_INITIALIZED == 0 {
				continue // SoftHSM's free slot, blank cards
			}
			out = append(out, t)
		}
		return nil
	})
	return out, err
}

// List returns every token with the identities and seals readable without login.
func (s *Store) List(ctx context.Context) ([]TokenContents, error) {
	toks, err := s.Tokens(ctx)
	if err != nil {
		return nil, err
	}
	var out []TokenContents
	for _, t := range toks {
		tc := TokenContents{Info: t}
		err := s.do(ctx, CallTimeout, "reading token objects", func(c *pkcs11.Ctx) error {
			sess, err := c.OpenSession(t.Slot, pkcs11.CKF_SERIAL_SESSION)
			if err != nil {
				return fmt.Errorf("C_OpenSession: %w", err)
			}
			defer c.CloseSession(sess)
			ids, seals, err := s.readObjects(c, sess, t)
			tc.Identities, tc.Seals = ids, len(seals)
			return err
		})
		tc.Err = err
		out = append(out, tc)
	}
	return out, nil
}

// Identities implements signer.KeyStore (no login; Signer is nil).
func (s *Store) Identities(ctx context.Context) ([]*signer.Identity, error) {
	list, err := s.List(ctx)
	if err != nil {
		return nil, err
	}
	var out []*signer.Identity
	for _, tc := range list {
		out = append(out, tc.Identities...)
	}
	return out, nil
}

type certObject struct {
	label string
	id    []byte
	cert  *smx509.Certificate
}

func attr(c *pkcs11.Ctx, sess pkcs11.SessionHandle, o pkcs11.ObjectHandle, typ uint) []byte {
	a, err := c.GetAttributeValue(sess, o, []*pkcs11.Attribute{pkcs11.NewAttribute(typ, nil)})
	if err != nil || len(a) == 0 {
		return nil
	}
	return a[0].Value
}

func findAll(c *pkcs11.Ctx, sess pkcs11.SessionHandle, tmpl []*pkcs11.Attribute) ([]pkcs11.ObjectHandle, error) {
	if err := c.FindObjectsInit(sess, tmpl); err != nil {
		return nil, fmt.Errorf("C_FindObjectsInit: %w", err)
	}
	var all []pkcs11.ObjectHandle
	for {
		hs, _, err := c.FindObjects(sess, 64)
		if err != nil {
			c.FindObjectsFinal(sess)
			return nil, fmt.Errorf("C_FindObjects: %w", err)
		}
		if len(hs) == 0 {
			break
		}
		all = append(all, hs...)
	}
	return all, c.FindObjectsFinal(sess)
}

// readObjects reads the token's certificates and seal data objects visible in sess.
func (s *Store) readObjects(c *pkcs11.Ctx, sess pkcs11.SessionHandle, t signer.TokenInfo) ([]*signer.Identity, [][]byte, error) {
	hs, err := findAll(c, sess, []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_CERTIFICATE),
		pkcs11.NewAttribute(pkcs11.CKA_CERTIFICATE_TYPE, pkcs11.CKC_X_509),
	})
	if err != nil {
		return nil, nil, err
	}
	var certs []certObject
	for _, h := range hs {
		der := attr(c, sess, h, pkcs11.CKA_VALUE)
		cert, err := smx509.ParseCertificate(der)
		if err != nil {
			continue // a certificate we cannot parse cannot sign for us either
		}
		certs = append(certs, certObject{label: string(attr(c, sess, h, pkcs11.CKA_LABEL)), id: attr(c, sess, h, pkcs11.CKA_ID), cert: cert})
	}
	dh, err := findAll(c, sess, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_DATA)})
	if err != nil {
		return nil, nil, err
	}
	var seals [][]byte
	for _, h := range dh {
		label := string(attr(c, sess, h, pkcs11.CKA_LABEL))
		app := string(attr(c, sess, h, pkcs11.CKA_APPLICATION))
		if label != SealLabel && app != SealApplication {
			continue
		}
		if v := attr(c, sess, h, pkcs11.CKA_VALUE); len(v) > 0 {
			seals = append(seals, v)
		}
	}
	var leaves []certObject
	for _, co := range certs {
		if len(co.id) > 0 && !co.cert.IsCA {
			leaves = append(leaves, co)
		}
	}
	var all []*smx509.Certificate
	for _, co := range leaves {
		all = append(all, co.cert)
	}
	var ids []*signer.Identity
	for _, co := range leaves {
		alg, _ := signer.AlgorithmOf(co.cert.PublicKey)
		label := co.label
		if label == "" {
			label = co.cert.Subject.CommonName
		}
		ids = append(ids, &signer.Identity{
			URI:         KeyURI(s.cfg, t, co.label, co.id),
			Label:       label,
			Algorithm:   alg,
			Certificate: co.cert,
			Chain:       buildChain(co.cert, certs),
			Seals:       SealsFor(seals, co.cert, all),
		})
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i].Label < ids[j].Label })
	return ids, seals, nil
}

// buildChain orders the issuers of leaf found among certs, root last.
func buildChain(leaf *smx509.Certificate, certs []certObject) []*smx509.Certificate {
	var chain []*smx509.Certificate
	cur := leaf
	for len(chain) < 8 {
		var next *smx509.Certificate
		for _, co := range certs {
			if co.cert.Equal(cur) || !co.cert.IsCA {
				continue
			}
			if cur.CheckSignatureFrom(co.cert) == nil {
				next = co.cert
				break
			}
		}
		if next == nil {
			break
		}
		chain = append(chain, next)
		if next.CheckSignatureFrom(next) == nil {
			break // self-signed root
		}
		cur = next
	}
	return chain
}

// Open implements signer.KeyStore: it logs in with pin and returns the identity with a
// Signer on the token. The caller zeroes pin; it is not copied here (see package doc).
// Close the identity to close its session.
func (s *Store) Open(ctx context.Context, uri string, pin []byte) (*signer.Identity, error) {
	u, err := ParseURI(uri)
	if err != nil {
		return nil, err
	}
	if !u.MatchesModule(s.cfg) {
		return nil, fmt.Errorf("%s names another module than %s: %w", uri, s.cfg.Path, ErrNotFound)
	}
	list, err := s.List(ctx)
	if err != nil {
		return nil, err
	}
	var tok signer.TokenInfo
	var ident *signer.Identity
	tokenSeen := false
	for _, tc := range list {
		if !u.MatchesToken(tc.Info) {
			continue
		}
		tokenSeen = true
		for _, id := range tc.Identities {
			iu, _ := ParseURI(id.URI)
			if iu != nil && u.MatchesObject(iu.Object, iu.ID) {
				tok, ident = tc.Info, id
				break
			}
		}
		if ident != nil {
			break
		}
	}
	if ident == nil {
		if !tokenSeen {
			return nil, fmt.Errorf("no token matching %s is present in module %s: %w", uri, s.cfg.Path, ErrNotFound)
		}
		return nil, fmt.Errorf("no certificate matching %s on the token: %w", uri, ErrNotFound)
	}
	if tok.PINLocked {
		return nil, lockedError(tok)
	}
	iu, _ := ParseURI(ident.URI)

	registry.Lock()
	s.m.refs++
	registry.Unlock()
	s.m.sessions.Add(1)
	var sess pkcs11.SessionHandle
	var key pkcs11.ObjectHandle
	var seals [][]byte
	opened := false
	fail := func(err error) (*signer.Identity, error) {
		if opened {
			_ = s.do(context.Background(), CallTimeout, "closing session", func(c *pkcs11.Ctx) error { return c.CloseSession(sess) })
		}
		s.m.sessions.Add(-1)
		s.m.release()
		return nil, err
	}
	err = s.do(ctx, CallTimeout, "opening a session", func(c *pkcs11.Ctx) error {
		var err error
		sess, err = c.OpenSession(tok.Slot, pkcs11.CKF_SERIAL_SESSION)
		if err != nil {
			return fmt.Errorf("C_OpenSession: %w", mapRemoved(err))
		}
		opened = true
		return nil
	})
	if err != nil {
		return fail(err)
	}
	var loginErr error
	err = s.do(ctx, SignTimeout, "logging in", func(c *pkcs11.Ctx) error {
		loginErr = s.m.login(c, sess, pkcs11.CKU_USER, pin)
		if loginErr == nil || isRV(loginErr, pkcs11.CKR_USER_ALREADY_LOGGED_IN) {
			loginErr = nil
			return nil
		}
		if isRV(loginErr, pkcs11.CKR_PIN_INCORRECT) || isRV(loginErr, pkcs11.CKR_PIN_INVALID) ||
			isRV(loginErr, pkcs11.CKR_PIN_LEN_RANGE) || isRV(loginErr, pkcs11.CKR_PIN_LOCKED) {
			// Read the flags after the failure: they say how many tries are left.
			now, _, err := s.tokenInfo(c, tok.Slot)
			if err != nil {
				now = tok
			}
			if isRV(loginErr, pkcs11.CKR_PIN_LOCKED) {
				now.PINLocked = true
			}
			return &tokenPINError{Token: tok.Label, PIN: PINErrorFor(now, loginErr)}
		}
		return fmt.Errorf("C_Login on token %q: %w", tok.Label, mapRemoved(loginErr))
	})
	if err != nil {
		return fail(err)
	}
	err = s.do(ctx, CallTimeout, "finding the private key", func(c *pkcs11.Ctx) error {
		hs, err := findAll(c, sess, []*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_PRIVATE_KEY),
			pkcs11.NewAttribute(pkcs11.CKA_ID, iu.ID),
		})
		if err != nil {
			return err
		}
		if len(hs) == 0 {
			return fmt.Errorf("token %q has no private key with CKA_ID %x for certificate %q: %w", tok.Label, iu.ID, ident.Label, ErrNotFound)
		}
		key = hs[0]
		// Logged in, private seal objects are visible too.
		again, _, _ := s.readObjects(c, sess, tok)
		for _, a := range again {
			if a.URI == ident.URI {
				seals = a.Seals
			}
		}
		return nil
	})
	if err != nil {
		return fail(err)
	}
	if len(seals) > len(ident.Seals) {
		ident.Seals = seals
	}
	ts := &tokenSigner{s: s, sess: sess, key: key, pub: ident.Certificate.PublicKey, alg: ident.Algorithm, token: tok.Label}
	ident.Signer = ts
	ident.Close = ts.close
	return ident, nil
}

// mapRemoved turns the return values that mean "the token is gone" into ErrTokenRemoved.
func mapRemoved(err error) error {
	for _, rv := range []uint{pkcs11.CKR_DEVICE_REMOVED, pkcs11.CKR_TOKEN_NOT_PRESENT,
		pkcs11.CKR_SESSION_HANDLE_INVALID, pkcs11.CKR_SESSION_CLOSED} {
		if isRV(err, rv) {
			return fmt.Errorf("%w (%v)", ErrTokenRemoved, err)
		}
	}
	return err
}

type tokenSigner struct {
	s     *Store
	sess  pkcs11.SessionHandle
	key   pkcs11.ObjectHandle
	pub   crypto.PublicKey
	alg   signer.KeyAlgorithm
	token string

	mu     sync.Mutex // a session runs one operation at a time
	closed bool
}

func (t *tokenSigner) Public() crypto.PublicKey { return t.pub }

func (t *tokenSigner) close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil
	}
	t.closed = true
	// Closing our last session also logs the user out (PKCS#11 §5.6).
	err := t.s.do(context.Background(), CallTimeout, "closing the session", func(c *pkcs11.Ctx) error {
		return c.CloseSession(t.sess)
	})
	t.s.m.sessions.Add(-1)
	t.s.m.release()
	if err != nil && !errors.Is(err, ErrTokenRemoved) && !isRV(err, pkcs11.CKR_SESSION_HANDLE_INVALID) {
		return err
	}
	return nil
}

// DigestInfo prefixes (RFC 8017 §9.2 note 1) for CKM_RSA_PKCS, which signs what it is given.
var digestInfoPrefix = map[crypto.Hash][]byte{
	crypto.SHA1:   {0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14},
	crypto.SHA224: {0x30, 0x2d, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x04, 0x05, 0x00, 0x04, 0x1c},
	crypto.SHA256: {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20},
	crypto.SHA384: {0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30},
	crypto.SHA512: {0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40},
}

var pssHash = map[crypto.Hash][2]uint{
	crypto.SHA1:   {pkcs11.CKM_SHA_1, pkcs11.CKG_MGF1_SHA1},
	crypto.SHA224: {pkcs11.CKM_SHA224, pkcs11.CKG_MGF1_SHA224},
	crypto.SHA256: {pkcs11.CKM_SHA256, pkcs11.CKG_MGF1_SHA256},
	crypto.SHA384: {pkcs11.CKM_SHA384, pkcs11.CKG_MGF1_SHA384},
	crypto.SHA512: {pkcs11.CKM_SHA512, pkcs11.CKG_MGF1_SHA512},
}

// Sign implements crypto.Signer over a digest (see package doc for the mechanisms).
func (t *tokenSigner) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	var mech *pkcs11.Mechanism
	var input []byte
	rawRS := false
	h := crypto.Hash(0)
	if opts != nil {
		h = opts.HashFunc()
	}
	if h != 0 && len(digest) != h.Size() {
		return nil, fmt.Errorf("token signer: digest is %d bytes, %v needs %d", len(digest), h, h.Size())
	}
	switch t.alg {
	case signer.RSA:
		if pss, ok := opts.(*rsa.PSSOptions); ok {
			ph, ok := pssHash[h]
			if !ok {
				return nil, fmt.Errorf("token signer: RSA-PSS with %v is not supported", h)
			}
			salt := pss.SaltLength
			if salt == rsa.PSSSaltLengthAuto || salt == rsa.PSSSaltLengthEqualsHash {
				salt = h.Size()
			}
			mech = pkcs11.NewMechanism(pkcs11.CKM_RSA_PKCS_PSS, pkcs11.NewPSSParams(ph[0], ph[1], uint(salt)))
			input = digest
		} else {
			mech = pkcs11.NewMechanism(pkcs11.CKM_RSA_PKCS, nil)
			if h == 0 {
				input = digest // caller built the DigestInfo (crypto/rsa's convention for hash 0)
			} else {
				prefix, ok := digestInfoPrefix[h]
				if !ok {
					return nil, fmt.Errorf("token signer: RSA PKCS#1 v1.5 with %v is not supported", h)
				}
				input = append(append([]byte{}, prefix...), digest...)
			}
		}
	case signer.ECDSA:
		mech = pkcs11.NewMechanism(pkcs11.CKM_ECDSA, nil)
		input, rawRS = digest, true
	case signer.SM2:
		if t.s.cfg.SM2 == nil || t.s.cfg.SM2.Sign == 0 {
			return nil, fmt.Errorf("token %q holds an SM2 key but module %s has no SM2 mechanism configured (set \"sm2\": {\"sign\": N} in the config)", t.token, t.s.cfg.Path)
		}
		if len(digest) != 32 {
			return nil, fmt.Errorf("token signer: SM2 signs e = SM3(Z‖M), 32 bytes; got %d", len(digest))
		}
		mech = pkcs11.NewMechanism(t.s.cfg.SM2.Sign, nil)
		input, rawRS = digest, true
	default:
		return nil, fmt.Errorf("token signer: unsupported key algorithm %q", t.alg)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil, fmt.Errorf("token %q: the session is closed", t.token)
	}
	var sig []byte
	err := t.s.do(context.Background(), SignTimeout, "signing", func(c *pkcs11.Ctx) error {
		if err := c.SignInit(t.sess, []*pkcs11.Mechanism{mech}, t.key); err != nil {
			return fmt.Errorf("C_SignInit: %w", mapRemoved(err))
		}
		var err error
		sig, err = c.Sign(t.sess, input)
		if err != nil {
			return fmt.Errorf("C_Sign: %w", mapRemoved(err))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("token %q: %w", t.token, err)
	}
	if rawRS {
		return rsToDER(sig)
	}
	return sig, nil
}

func rsToDER(sig []byte) ([]byte, error) {
	if len(sig) == 0 || len(sig)%2 != 0 {
		return nil, fmt.Errorf("token signer: the token returned a %d-byte r‖s value", len(sig))
	}
	n := len(sig) / 2
	return asn1.Marshal(struct{ R, S *big.Int }{new(big.Int).SetBytes(sig[:n]), new(big.Int).SetBytes(sig[n:])})
}

// ---- Provisioning (demo workspace and tests) ----

// InitToken initialises the first uninitialised token (SoftHSM2's free slot) with a label,
// an SO PIN and a user PIN.
func (s *Store) InitToken(ctx context.Context, label string, soPIN, userPIN []byte) error {
	if err := s.refresh(ctx); err != nil {
		return err
	}
	err := s.do(ctx, CallTimeout, "initialising a token", func(c *pkcs11.Ctx) error {
		slots, err := c.GetSlotList(true)
		if err != nil {
			return fmt.Errorf("C_GetSlotList: %w", err)
		}
		for _, sl := range slots {
			ti, err := c.GetTokenInfo(sl)
			if err != nil || ti.Flags&pkcs11.CKF_TOKEN_INITIALIZED != 0 {
				continue
			}
			if err := c.InitToken(sl, string(soPIN), label); err != nil {
				return fmt.Errorf("C_InitToken: %w", err)
			}
			sess, err := c.OpenSession(sl, pkcs11.CKF_SERIAL_SESSION|pkcs11.CKF_RW_SESSION)
			if err != nil {
				return fmt.Errorf("C_OpenSession: %w", err)
			}
			defer c.CloseSession(sess)
			if err := c.Login(sess, pkcs11.CKU_SO, string(soPIN)); err != nil {
				return fmt.Errorf("C_Login (SO): %w", err)
			}
			defer c.Logout(sess)
			if err := c.InitPIN(sess, string(userPIN)); err != nil {
				return fmt.Errorf("C_InitPIN: %w", err)
			}
			return nil
		}
		return fmt.Errorf("module %s has no uninitialised token to initialise", s.cfg.Path)
	})
	if err != nil {
		return err
	}
	return s.refresh(ctx)
}

// withUserSession runs f in a read-write session on the token labelled tokenLabel, logged
// in as the user.
func (s *Store) withUserSession(ctx context.Context, tokenLabel string, pin []byte, f func(c *pkcs11.Ctx, sess pkcs11.SessionHandle) error) error {
	toks, err := s.Tokens(ctx)
	if err != nil {
		return err
	}
	for _, t := range toks {
		if t.Label != tokenLabel {
			continue
		}
		return s.do(ctx, CallTimeout, "writing objects", func(c *pkcs11.Ctx) error {
			sess, err := c.OpenSession(t.Slot, pkcs11.CKF_SERIAL_SESSION|pkcs11.CKF_RW_SESSION)
			if err != nil {
				return fmt.Errorf("C_OpenSession: %w", err)
			}
			defer c.CloseSession(sess)
			if err := c.Login(sess, pkcs11.CKU_USER, string(pin)); err != nil && !isRV(err, pkcs11.CKR_USER_ALREADY_LOGGED_IN) {
				if isRV(err, pkcs11.CKR_PIN_INCORRECT) {
					now, _, _ := s.tokenInfo(c, t.Slot)
					return &tokenPINError{Token: t.Label, PIN: PINErrorFor(now, err)}
				}
				return fmt.Errorf("C_Login: %w", err)
			}
			defer c.Logout(sess)
			return f(c, sess)
		})
	}
	return fmt.Errorf("no token %q in module %s: %w", tokenLabel, s.cfg.Path, ErrNotFound)
}

// ImportIdentity writes a private key (sensitive, signing only), its public key and its
// certificate to the token under CKA_ID id and CKA_LABEL label.
func (s *Store) ImportIdentity(ctx context.Context, tokenLabel string, pin []byte, label string, id []byte, key crypto.Signer, cert *smx509.Certificate) error {
	common := func(class uint) []*pkcs11.Attribute {
		return []*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_CLASS, class),
			pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true),
			pkcs11.NewAttribute(pkcs11.CKA_ID, id),
			pkcs11.NewAttribute(pkcs11.CKA_LABEL, label),
		}
	}
	priv := append(common(pkcs11.CKO_PRIVATE_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, true),
		pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, true),
		pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, false),
		pkcs11.NewAttribute(pkcs11.CKA_SIGN, true))
	pub := append(common(pkcs11.CKO_PUBLIC_KEY), pkcs11.NewAttribute(pkcs11.CKA_VERIFY, true))
	switch k := key.(type) {
	case *rsa.PrivateKey:
		if len(k.Primes) != 2 {
			return fmt.Errorf("import: multi-prime RSA keys are not supported")
		}
		k.Precompute()
		priv = append(priv,
			pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_RSA),
			pkcs11.NewAttribute(pkcs11.CKA_MODULUS, k.N.Bytes()),
			pkcs11.NewAttribute(pkcs11.CKA_PUBLIC_EXPONENT, big.NewInt(int64(k.E)).Bytes()),
			pkcs11.NewAttribute(pkcs11.CKA_PRIVATE_EXPONENT, k.D.Bytes()),
			pkcs11.NewAttribute(pkcs11.CKA_PRIME_1, k.Primes[0].Bytes()),
			pkcs11.NewAttribute(pkcs11.CKA_PRIME_2, k.Primes[1].Bytes()),
			pkcs11.NewAttribute(pkcs11.CKA_EXPONENT_1, k.Precomputed.Dp.Bytes()),
			pkcs11.NewAttribute(pkcs11.CKA_EXPONENT_2, k.Precomputed.Dq.Bytes()),
			pkcs11.NewAttribute(pkcs11.CKA_COEFFICIENT, k.Precomputed.Qinv.Bytes()))
		pub = append(pub,
			pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_RSA),
			pkcs11.NewAttribute(pkcs11.CKA_MODULUS, k.N.Bytes()),
			pkcs11.NewAttribute(pkcs11.CKA_PUBLIC_EXPONENT, big.NewInt(int64(k.E)).Bytes()))
	case *ecdsa.PrivateKey:
		if alg, _ := signer.AlgorithmOf(k.Public()); alg != signer.ECDSA {
			return fmt.Errorf("import: only ECDSA P-256/P-384 keys can be imported here (got %s)", alg)
		}
		params, point, err := ecParams(&k.PublicKey)
		if err != nil {
			return err
		}
		d := k.D.FillBytes(make([]byte, (k.Curve.Params().BitSize+7)/8))
		priv = append(priv,
			pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_EC),
			pkcs11.NewAttribute(pkcs11.CKA_EC_PARAMS, params),
			pkcs11.NewAttribute(pkcs11.CKA_VALUE, d))
		pub = append(pub,
			pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_EC),
			pkcs11.NewAttribute(pkcs11.CKA_EC_PARAMS, params),
			pkcs11.NewAttribute(pkcs11.CKA_EC_POINT, point))
	default:
		return fmt.Errorf("import: unsupported private key type %T", key)
	}
	return s.withUserSession(ctx, tokenLabel, pin, func(c *pkcs11.Ctx, sess pkcs11.SessionHandle) error {
		if _, err := c.CreateObject(sess, priv); err != nil {
			return fmt.Errorf("creating the private key %q: %w", label, err)
		}
		if _, err := c.CreateObject(sess, pub); err != nil {
			return fmt.Errorf("creating the public key %q: %w", label, err)
		}
		return createCert(c, sess, label, id, cert)
	})
}

func createCert(c *pkcs11.Ctx, sess pkcs11.SessionHandle, label string, id []byte, cert *smx509.Certificate) error {
	serial, err := asn1.Marshal(cert.SerialNumber)
	if err != nil {
		return err
	}
	tmpl := []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_CERTIFICATE),
		pkcs11.NewAttribute(pkcs11.CKA_CERTIFICATE_TYPE, pkcs11.CKC_X_509),
		pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true),
		pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, false),
		pkcs11.NewAttribute(pkcs11.CKA_LABEL, label),
		pkcs11.NewAttribute(pkcs11.CKA_SUBJECT, cert.RawSubject),
		pkcs11.NewAttribute(pkcs11.CKA_ISSUER, cert.RawIssuer),
		pkcs11.NewAttribute(pkcs11.CKA_SERIAL_NUMBER, serial),
		pkcs11.NewAttribute(pkcs11.CKA_VALUE, cert.Raw),
	}
	if len(id) > 0 {
		tmpl = append(tmpl, pkcs11.NewAttribute(pkcs11.CKA_ID, id))
	}
	if _, err := c.CreateObject(sess, tmpl); err != nil {
		return fmt.Errorf("creating the certificate %q: %w", label, err)
	}
	return nil
}

// ImportCertificate writes a certificate (e.g. a CA of the chain; id may be nil).
func (s *Store) ImportCertificate(ctx context.Context, tokenLabel string, pin []byte, label string, id []byte, cert *smx509.Certificate) error {
	return s.withUserSession(ctx, tokenLabel, pin, func(c *pkcs11.Ctx, sess pkcs11.SessionHandle) error {
		return createCert(c, sess, label, id, cert)
	})
}

// ImportData writes a CKO_DATA object (seals: label SealLabel, application SealApplication).
func (s *Store) ImportData(ctx context.Context, tokenLabel string, pin []byte, label, application string, value []byte, private bool) error {
	return s.withUserSession(ctx, tokenLabel, pin, func(c *pkcs11.Ctx, sess pkcs11.SessionHandle) error {
		_, err := c.CreateObject(sess, []*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_DATA),
			pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true),
			pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, private),
			pkcs11.NewAttribute(pkcs11.CKA_LABEL, label),
			pkcs11.NewAttribute(pkcs11.CKA_APPLICATION, application),
			pkcs11.NewAttribute(pkcs11.CKA_VALUE, value),
		})
		if err != nil {
			return fmt.Errorf("creating the data object %q: %w", label, err)
		}
		return nil
	})
}

// ecParams returns CKA_EC_PARAMS (the named curve's OID, DER) and CKA_EC_POINT (the
// uncompressed point wrapped in a DER OCTET STRING, as PKCS#11 v2.40 §2.3.3 asks).
func ecParams(pub *ecdsa.PublicKey) ([]byte, []byte, error) {
	var oid asn1.ObjectIdentifier
	switch pub.Curve.Params().Name {
	case "P-256":
		oid = asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7}
	case "P-384":
		oid = asn1.ObjectIdentifier{1, 3, 132, 0, 34}
	case "P-521":
		oid = asn1.ObjectIdentifier{1, 3, 132, 0, 35}
	default:
		return nil, nil, fmt.Errorf("import: unsupported curve %s", pub.Curve.Params().Name)
	}
	params, err := asn1.Marshal(oid)
	if err != nil {
		return nil, nil, err
	}
	raw, err := pub.Bytes()
	if err != nil {
		return nil, nil, err
	}
	point, err := asn1.Marshal(raw)
	return params, point, err
}
