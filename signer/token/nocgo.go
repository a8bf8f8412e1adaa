//go:build !cgo

package token

import (
	"context"
	"crypto"
	"errors"
	"time"

	"github.com/emmansun/gmsm/smx509"

	"sealdesk/signer"
)

// Timeouts, as in cgo builds (unused here).
var (
	CallTimeout = 10 * time.Second
	SignTimeout = 60 * time.Second
)

// Store is a PKCS#11 module; without cgo every operation fails with ErrNotBuiltIn.
type Store struct{ cfg Module }

func notBuiltIn(path string) error {
	return &ModuleError{Path: path, Reason: "cannot be used", Err: ErrNotBuiltIn}
}

// OpenModule fails: PKCS#11 needs cgo.
func OpenModule(cfg Module) (*Store, error) { return nil, notBuiltIn(cfg.Path) }

func (s *Store) Close() error   { return nil }
func (s *Store) Module() Module { return s.cfg }
func (s *Store) Name() string   { return s.cfg.Path }
func (s *Store) Tokens(context.Context) ([]signer.TokenInfo, error) {
	return nil, notBuiltIn(s.cfg.Path)
}
func (s *Store) List(context.Context) ([]TokenContents, error) { return nil, notBuiltIn(s.cfg.Path) }
func (s *Store) Identities(context.Context) ([]*signer.Identity, error) {
	return nil, notBuiltIn(s.cfg.Path)
}
func (s *Store) Open(context.Context, string, []byte) (*signer.Identity, error) {
	return nil, notBuiltIn(s.cfg.Path)
}
func (s *Store) InitToken(context.Context, string, []byte, []byte) error {
	return notBuiltIn(s.cfg.Path)
}
func (s *Store) ImportIdentity(context.Context, string, []byte, string, []byte, crypto.Signer, *smx509.Certificate) error {
	return notBuiltIn(s.cfg.Path)
}
func (s *Store) ImportCertificate(context.Context, string, []byte, string, []byte, *smx509.Certificate) error {
	return notBuiltIn(s.cfg.Path)
}
func (s *Store) ImportData(context.Context, string, []byte, string, string, []byte, bool) error {
	return notBuiltIn(s.cfg.Path)
}

// ErrExists means an object of that name exists on the token already.
var ErrExists = errors.New("exists already")

// KeySigner is a private key on a token opened without a certificate (cgo builds only).
type KeySigner struct {
	crypto.Signer
	Label string
	ID    []byte
	Close func() error
}

func (s *Store) GenerateKeyPair(context.Context, string, []byte, string, []byte, signer.KeyAlgorithm) (crypto.PublicKey, error) {
	return nil, notBuiltIn(s.cfg.Path)
}
func (s *Store) OpenKey(context.Context, string, []byte) (*KeySigner, error) {
	return nil, notBuiltIn(s.cfg.Path)
}
