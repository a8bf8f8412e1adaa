package token

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"io"
	"sync"

	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/smx509"

	"sealdesk/signer"
)

// Fake is an in-memory token module behind the same interfaces as a PKCS#11 Store
// (Lister and signer.KeyStore), for what SoftHSM2 cannot do: PIN lockout, tokens pulled out
// mid-signing, modules that fail or hang. UI code can drive it in widget tests:
//
//	f := token.NewFake("fake-module")
//	t := f.AddToken("Seal Key", []byte("123456"))
//	t.AddIdentity("signer", []byte{1}, key, cert, chain)
//	w := token.NewWatcher(ctx, []token.Lister{f}, token.WatchOptions{})  // events
//	f.Unplug("Seal Key")                                                  // → removed event
//
// PIN state is exposed only as the PKCS#11 flags a real token shows: after a wrong PIN
// COUNT_LOW, with one try left FINAL_TRY, at zero LOCKED; a correct PIN resets the count.
type Fake struct {
	name string

	mu     sync.Mutex
	tokens []*FakeToken
	err    error
	hang   chan struct{} // non-nil while Tokens hangs
}

// FakeToken is one token of a Fake.
type FakeToken struct {
	f *Fake
	// Guarded by f.mu.
	info       signer.TokenInfo
	pin        []byte
	maxTries   int
	triesLeft  int
	present    bool
	identities []*fakeKey
	seals      [][]byte
	generation int // bumped on unplug: signers of an older generation fail
}

type fakeKey struct {
	label string
	id    []byte
	key   crypto.Signer
	cert  *smx509.Certificate
	chain []*smx509.Certificate
}

// NewFake returns an empty fake module named name (used as TokenInfo.Module).
func NewFake(name string) *Fake { return &Fake{name: name} }

// AddToken inserts a token with a user PIN and 3 tries.
func (f *Fake) AddToken(label string, pin []byte) *FakeToken {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := &FakeToken{f: f, pin: append([]byte(nil), pin...), maxTries: 3, triesLeft: 3, present: true,
		info: signer.TokenInfo{Module: f.name, Slot: uint(len(f.tokens)), Label: label,
			Serial: fmt.Sprintf("FAKE%04d", len(f.tokens)), Manufacturer: "SealDesk fake", Model: "Fake"}}
	f.tokens = append(f.tokens, t)
	return t
}

// AddIdentity puts a key with its certificate (and issuers, root last) on the token.
func (t *FakeToken) AddIdentity(label string, id []byte, key crypto.Signer, cert *smx509.Certificate, chain []*smx509.Certificate) {
	t.f.mu.Lock()
	defer t.f.mu.Unlock()
	t.identities = append(t.identities, &fakeKey{label: label, id: append([]byte(nil), id...), key: key, cert: cert, chain: chain})
}

// AddSeal adds a seal data object (DER SES seal).
func (t *FakeToken) AddSeal(der []byte) {
	t.f.mu.Lock()
	defer t.f.mu.Unlock()
	t.seals = append(t.seals, append([]byte(nil), der...))
}

// SetMaxTries sets how many wrong PINs lock the token (and resets the count).
func (t *FakeToken) SetMaxTries(n int) {
	t.f.mu.Lock()
	defer t.f.mu.Unlock()
	t.maxTries, t.triesLeft = n, n
	t.updateFlags()
}

// Info returns the token's current TokenInfo.
func (t *FakeToken) Info() signer.TokenInfo {
	t.f.mu.Lock()
	defer t.f.mu.Unlock()
	return t.info
}

func (t *FakeToken) updateFlags() {
	t.info.PINCountLow = t.triesLeft < t.maxTries && t.triesLeft > 0
	t.info.PINFinalTry = t.triesLeft == 1
	t.info.PINLocked = t.triesLeft <= 0
}

// Unplug removes the token: it disappears from Tokens and open signers fail with
// ErrTokenRemoved.
func (f *Fake) Unplug(label string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, t := range f.tokens {
		if t.info.Label == label && t.present {
			t.present = false
			t.generation++
		}
	}
}

// Plug puts an unplugged token back.
func (f *Fake) Plug(label string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, t := range f.tokens {
		if t.info.Label == label {
			t.present = true
		}
	}
}

// SetError makes Tokens fail with err (nil: answer normally again).
func (f *Fake) SetError(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

// SetHang makes Tokens block (like a module stuck in a USB call, deaf to cancellation)
// until SetHang(false).
func (f *Fake) SetHang(h bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if h && f.hang == nil {
		f.hang = make(chan struct{})
	}
	if !h && f.hang != nil {
		close(f.hang)
		f.hang = nil
	}
}

// Name implements Lister.
func (f *Fake) Name() string { return f.name }

// Tokens implements Lister.
func (f *Fake) Tokens(ctx context.Context) ([]signer.TokenInfo, error) {
	f.mu.Lock()
	hang := f.hang
	f.mu.Unlock()
	if hang != nil {
		<-hang
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	var out []signer.TokenInfo
	for _, t := range f.tokens {
		if t.present {
			out = append(out, t.info)
		}
	}
	return out, nil
}

func (f *Fake) identity(t *FakeToken, k *fakeKey) *signer.Identity {
	alg, _ := signer.AlgorithmOf(k.cert.PublicKey)
	id := &signer.Identity{
		URI:         KeyURI(Module{Path: f.name}, t.info, k.label, k.id),
		Label:       k.label,
		Algorithm:   alg,
		Certificate: k.cert,
		Chain:       k.chain,
	}
	var all []*smx509.Certificate
	for _, o := range t.identities {
		all = append(all, o.cert)
	}
	id.Seals = SealsFor(t.seals, k.cert, all)
	return id
}

// SealsFor picks the seals that bind cert: a GB/T 38540 / GM/T 0031 seal lists its
// signer certificates either whole or as hashes, so a seal binds cert when it contains
// cert's DER or its SM3, SHA-256 or SHA-1 hash. A seal that binds none of the token's
// identity certificates (a structure we cannot see into) goes with every identity.
func SealsFor(seals [][]byte, cert *smx509.Certificate, all []*smx509.Certificate) [][]byte {
	var out [][]byte
	for _, s := range seals {
		if binds(s, cert) {
			out = append(out, s)
			continue
		}
		bindsOther := false
		for _, c := range all {
			if binds(s, c) {
				bindsOther = true
				break
			}
		}
		if !bindsOther {
			out = append(out, s)
		}
	}
	return out
}

func binds(seal []byte, cert *smx509.Certificate) bool {
	if bytes.Contains(seal, cert.Raw) {
		return true
	}
	s3 := sm3.Sum(cert.Raw)
	s256 := sha256.Sum256(cert.Raw)
	s1 := sha1.Sum(cert.Raw)
	return bytes.Contains(seal, s3[:]) || bytes.Contains(seal, s256[:]) || bytes.Contains(seal, s1[:])
}

// Identities implements signer.KeyStore.
func (f *Fake) Identities(ctx context.Context) ([]*signer.Identity, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*signer.Identity
	for _, t := range f.tokens {
		if !t.present {
			continue
		}
		for _, k := range t.identities {
			out = append(out, f.identity(t, k))
		}
	}
	return out, nil
}

// Open implements signer.KeyStore with real token semantics: a locked PIN is refused before
// any login, a wrong PIN costs a try and reports the flags, nothing is retried.
func (f *Fake) Open(ctx context.Context, uri string, pin []byte) (*signer.Identity, error) {
	u, err := ParseURI(uri)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, t := range f.tokens {
		if !t.present || !u.MatchesToken(t.info) {
			continue
		}
		for _, k := range t.identities {
			if !u.MatchesObject(k.label, k.id) {
				continue
			}
			if t.info.PINLocked {
				return nil, lockedError(t.info)
			}
			if subtle.ConstantTimeCompare(pin, t.pin) != 1 {
				t.triesLeft--
				t.updateFlags()
				return nil, &tokenPINError{Token: t.info.Label, PIN: PINErrorFor(t.info, nil)}
			}
			t.triesLeft = t.maxTries
			t.updateFlags()
			id := f.identity(t, k)
			fs := &fakeSigner{t: t, key: k.key, generation: t.generation}
			id.Signer = fs
			id.Close = func() error { fs.closed(); return nil }
			return id, nil
		}
	}
	return nil, fmt.Errorf("no key matches %s on fake module %s: %w", uri, f.name, ErrNotFound)
}

type fakeSigner struct {
	t          *FakeToken
	key        crypto.Signer
	generation int
	mu         sync.Mutex
	done       bool
}

func (s *fakeSigner) closed() {
	s.mu.Lock()
	s.done = true
	s.mu.Unlock()
}

func (s *fakeSigner) Public() crypto.PublicKey { return s.key.Public() }

func (s *fakeSigner) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	s.mu.Lock()
	done := s.done
	s.mu.Unlock()
	if done {
		return nil, fmt.Errorf("token %q: the session is closed", s.t.Info().Label)
	}
	s.t.f.mu.Lock()
	gone := !s.t.present || s.t.generation != s.generation
	label := s.t.info.Label
	s.t.f.mu.Unlock()
	if gone {
		return nil, fmt.Errorf("token %q: %w", label, ErrTokenRemoved)
	}
	return s.key.Sign(r, digest, opts)
}
