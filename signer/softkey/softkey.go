// Package softkey reads and writes encrypted software keystores behind signer.KeyStore, so
// that a key in a file serves exactly like a key on a token.
//
// Contract:
//
//   - Formats, recognised by content: PKCS#12 (.p12/.pfx, RSA and ECDSA; written with
//     software.sslmate.com/src/go-pkcs12's Modern2023 encoder: PBES2/AES-256-CBC,
//     PBKDF2-HMAC-SHA256, HMAC-SHA256 MAC); PEM with an encrypted PKCS#8 key (gmsm's pkcs8:
//     RSA, ECDSA and SM2; written with PBES2/AES-256-CBC, PBKDF2-HMAC-SHA256, 100 000
//     iterations) followed by the certificate chain, leaf first; and CFCA SADK's SM2
//     container (.sm2, gmsm's cfca.ParseSM2), read only.
//   - SM2 in PKCS#12: gmsm keeps that in a separate module (github.com/emmansun/go-pkcs12),
//     which the module proxy here does not serve, and sslmate's go-pkcs12 cannot parse SM2 keys
//     or certificates. SM2 keystores are therefore encrypted PKCS#8 PEM; opening an SM2
//     PKCS#12 fails with a message that says so.
//   - A wrong password returns *PasswordError, which unwraps to *signer.PINError with Reason
//     "incorrect" and TriesLeft -1 (use errors.As). A malformed file returns *FormatError
//     naming the file. Files are only read, never modified.
//   - Seals: a file with the keystore's base name and the extension .esl next to it
//     (keys/signer-sm2.esl for keys/signer-sm2.pem) holds the DER SES seal bound to the key.
//   - URIs: "file:" followed by the path (file:/abs/path.p12, file:rel/path.pem, and
//     file:///abs/path are accepted); FileURI writes the absolute path.
//   - The password is used as given and not kept; go-pkcs12 takes a Go string, so one
//     unzeroable copy exists for the length of a PKCS#12 decode.
package softkey

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/emmansun/gmsm/cfca"
	"github.com/emmansun/gmsm/pkcs"
	"github.com/emmansun/gmsm/pkcs8"
	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
	"software.sslmate.com/src/go-pkcs12"

	"sealdesk/signer"
)

// Format names a keystore format.
type Format string

const (
	PKCS12  Format = "pkcs12"
	PEM     Format = "pem"
	CFCASM2 Format = "cfca-sm2"
)

// FormatError says what is wrong with a keystore file.
type FormatError struct {
	Path   string
	Reason string
	Err    error
}

func (e *FormatError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("keystore %s: %s: %v", e.Path, e.Reason, e.Err)
	}
	return fmt.Sprintf("keystore %s: %s", e.Path, e.Reason)
}

func (e *FormatError) Unwrap() error { return e.Err }

// PasswordError is a rejected keystore password. It unwraps to *signer.PINError.
type PasswordError struct {
	Path string
	PIN  *signer.PINError
}

func (e *PasswordError) Error() string {
	return fmt.Sprintf("wrong password for keystore %s", e.Path)
}

func (e *PasswordError) Unwrap() error { return e.PIN }

func wrongPassword(path string, cause error) error {
	return &PasswordError{Path: path, PIN: &signer.PINError{Reason: "incorrect", TriesLeft: -1, Err: cause}}
}

// Store is one keystore file. It implements signer.KeyStore.
type Store struct {
	path string
}

// New returns the keystore at path (nothing is read yet).
func New(path string) *Store { return &Store{path: path} }

// Path returns the keystore's file path.
func (s *Store) Path() string { return s.path }

// URI returns the keystore's file: URI.
func (s *Store) URI() string { return FileURI(s.path) }

// FileURI returns "file:" and the absolute path (forward slashes).
func FileURI(path string) string {
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	return "file:" + filepath.ToSlash(path)
}

// ParseFileURI returns the path a file: URI names.
func ParseFileURI(uri string) (string, error) {
	if !strings.HasPrefix(strings.ToLower(uri), "file:") {
		return "", fmt.Errorf("%q is not a file: URI", uri)
	}
	p := uri[len("file:"):]
	switch {
	case strings.HasPrefix(p, "//localhost/"):
		p = p[len("//localhost"):]
	case strings.HasPrefix(p, "///"):
		p = p[2:]
	case strings.HasPrefix(p, "//"):
		return "", fmt.Errorf("file URI %q names a remote host; only local files are supported", uri)
	}
	if p == "" {
		return "", fmt.Errorf("file URI %q has no path", uri)
	}
	// file:///C:/x on Windows
	if len(p) > 3 && p[0] == '/' && p[2] == ':' {
		p = p[1:]
	}
	return filepath.FromSlash(p), nil
}

// SealPath returns where the keystore's seal lives: same base name, extension .esl.
func SealPath(keystore string) string {
	return strings.TrimSuffix(keystore, filepath.Ext(keystore)) + ".esl"
}

// Detect reports the format of keystore data.
func Detect(path string, data []byte) (Format, error) {
	trimmed := bytes.TrimSpace(data)
	switch {
	case strings.EqualFold(filepath.Ext(path), ".sm2"):
		return CFCASM2, nil
	case bytes.HasPrefix(trimmed, []byte("-----BEGIN")):
		return PEM, nil
	case len(data) > 0 && data[0] == 0x30:
		return PKCS12, nil
	}
	return "", &FormatError{Path: path, Reason: "not a PKCS#12, PEM or CFCA SM2 keystore"}
}

// Identities implements signer.KeyStore: the certificate when it is readable without the
// password (PEM keystores); for PKCS#12 and CFCA files only the URI and label.
func (s *Store) Identities(ctx context.Context) ([]*signer.Identity, error) {
	data, err := os.ReadFile(s.path)
	if err != nil {
		return nil, &FormatError{Path: s.path, Reason: "cannot read the file", Err: err}
	}
	f, err := Detect(s.path, data)
	if err != nil {
		return nil, err
	}
	id := &signer.Identity{URI: s.URI(), Label: filepath.Base(s.path)}
	if f == PEM {
		certs, err := pemCerts(s.path, data)
		if err != nil {
			return nil, err
		}
		if len(certs) > 0 {
			id.Certificate, id.Chain = certs[0], certs[1:]
			id.Algorithm, _ = signer.AlgorithmOf(certs[0].PublicKey)
		}
	}
	id.Seals = s.seals()
	return []*signer.Identity{id}, nil
}

func (s *Store) seals() [][]byte {
	b, err := os.ReadFile(SealPath(s.path))
	if err != nil || len(b) == 0 {
		return nil
	}
	return [][]byte{b}
}

// Open implements signer.KeyStore. uri must name this keystore (or be empty).
func (s *Store) Open(ctx context.Context, uri string, pin []byte) (*signer.Identity, error) {
	if uri != "" {
		p, err := ParseFileURI(uri)
		if err != nil {
			return nil, err
		}
		if !samePath(p, s.path) {
			return nil, fmt.Errorf("%s does not name keystore %s", uri, s.path)
		}
	}
	id, err := Load(s.path, pin)
	if err != nil {
		return nil, err
	}
	id.URI = s.URI()
	return id, nil
}

func samePath(a, b string) bool {
	aa, err1 := filepath.Abs(a)
	bb, err2 := filepath.Abs(b)
	return err1 == nil && err2 == nil && filepath.Clean(aa) == filepath.Clean(bb)
}

// Load reads a keystore file with its password and returns a usable identity.
func Load(path string, password []byte) (*signer.Identity, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &FormatError{Path: path, Reason: "cannot read the file", Err: err}
	}
	f, err := Detect(path, data)
	if err != nil {
		return nil, err
	}
	var key crypto.Signer
	var leaf *smx509.Certificate
	var chain []*smx509.Certificate
	switch f {
	case PKCS12:
		key, leaf, chain, err = loadPKCS12(path, data, password)
	case PEM:
		key, leaf, chain, err = loadPEM(path, data, password)
	case CFCASM2:
		key, leaf, err = loadCFCA(path, data, password)
	}
	if err != nil {
		return nil, err
	}
	alg, err := signer.AlgorithmOf(key.Public())
	if err != nil {
		return nil, &FormatError{Path: path, Reason: "unsupported key", Err: err}
	}
	if leaf != nil && !publicKeysEqual(leaf.PublicKey, key.Public()) {
		return nil, &FormatError{Path: path, Reason: "the certificate does not belong to the private key"}
	}
	id := &signer.Identity{
		URI:         FileURI(path),
		Label:       filepath.Base(path),
		Algorithm:   alg,
		Certificate: leaf,
		Chain:       chain,
		Signer:      key,
	}
	id.Seals = (&Store{path: path}).seals()
	return id, nil
}

func publicKeysEqual(a, b crypto.PublicKey) bool {
	type eq interface{ Equal(crypto.PublicKey) bool }
	if e, ok := a.(eq); ok {
		return e.Equal(b)
	}
	return false
}

func loadPKCS12(path string, data, password []byte) (crypto.Signer, *smx509.Certificate, []*smx509.Certificate, error) {
	key, cert, cas, err := pkcs12.DecodeChain(data, string(password))
	if err != nil {
		if errors.Is(err, pkcs12.ErrIncorrectPassword) {
			return nil, nil, nil, wrongPassword(path, err)
		}
		if strings.Contains(err.Error(), "x509") || strings.Contains(err.Error(), "elliptic curve") {
			return nil, nil, nil, &FormatError{Path: path, Reason: "cannot read the key or certificate in this PKCS#12 (SM2 keys need an encrypted PKCS#8 PEM keystore)", Err: err}
		}
		return nil, nil, nil, &FormatError{Path: path, Reason: "not a readable PKCS#12 file", Err: err}
	}
	s, ok := key.(crypto.Signer)
	if !ok {
		return nil, nil, nil, &FormatError{Path: path, Reason: fmt.Sprintf("unsupported key type %T", key)}
	}
	leaf, err := smx509.ParseCertificate(cert.Raw)
	if err != nil {
		return nil, nil, nil, &FormatError{Path: path, Reason: "bad certificate", Err: err}
	}
	var chain []*smx509.Certificate
	for _, c := range cas {
		sc, err := smx509.ParseCertificate(c.Raw)
		if err != nil {
			return nil, nil, nil, &FormatError{Path: path, Reason: "bad CA certificate", Err: err}
		}
		chain = append(chain, sc)
	}
	return s, leaf, chain, nil
}

// pemCerts returns the CERTIFICATE blocks of a PEM keystore, in file order.
func pemCerts(path string, data []byte) ([]*smx509.Certificate, error) {
	var certs []*smx509.Certificate
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type == "CERTIFICATE" {
			c, err := smx509.ParseCertificate(b.Bytes)
			if err != nil {
				return nil, &FormatError{Path: path, Reason: fmt.Sprintf("certificate #%d", len(certs)+1), Err: err}
			}
			certs = append(certs, c)
		}
	}
	return certs, nil
}

// pbes2Info is an EncryptedPrivateKeyInfo, parsed here only to tell a malformed file from a
// wrong password.
type pbes2Info struct {
	Algorithm     asn1.RawValue
	EncryptedData []byte
}

func loadPEM(path string, data, password []byte) (crypto.Signer, *smx509.Certificate, []*smx509.Certificate, error) {
	var keyBlock *pem.Block
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if strings.HasSuffix(b.Type, "PRIVATE KEY") {
			if keyBlock != nil {
				return nil, nil, nil, &FormatError{Path: path, Reason: "more than one private key"}
			}
			keyBlock = b
		}
	}
	if keyBlock == nil {
		return nil, nil, nil, &FormatError{Path: path, Reason: "no PRIVATE KEY block"}
	}
	var key any
	var err error
	switch keyBlock.Type {
	case "ENCRYPTED PRIVATE KEY":
		var info pbes2Info
		if rest, err := asn1.Unmarshal(keyBlock.Bytes, &info); err != nil || len(rest) > 0 {
			return nil, nil, nil, &FormatError{Path: path, Reason: "malformed ENCRYPTED PRIVATE KEY", Err: err}
		}
		if len(password) == 0 {
			return nil, nil, nil, wrongPassword(path, errors.New("empty password for an encrypted key"))
		}
		key, _, err = pkcs8.ParsePrivateKey(keyBlock.Bytes, password)
		if err != nil {
			if errors.Is(err, pkcs8.ErrUnsupportedPBES) {
				return nil, nil, nil, &FormatError{Path: path, Reason: "unsupported key encryption", Err: err}
			}
			// The structure parsed, so a failure to decrypt or to parse the plaintext means
			// the derived key was wrong.
			return nil, nil, nil, wrongPassword(path, err)
		}
	case "PRIVATE KEY":
		key, err = smx509.ParsePKCS8PrivateKey(keyBlock.Bytes)
	case "EC PRIVATE KEY", "RSA PRIVATE KEY":
		if _, enc := keyBlock.Headers["Proc-Type"]; enc {
			return nil, nil, nil, &FormatError{Path: path, Reason: "legacy OpenSSL PEM encryption is not supported; convert with: openssl pkcs8 -topk8 -v2 aes-256-cbc"}
		}
		if keyBlock.Type == "EC PRIVATE KEY" {
			key, err = smx509.ParseECPrivateKey(keyBlock.Bytes)
		} else {
			key, err = smx509.ParsePKCS1PrivateKey(keyBlock.Bytes)
		}
	default:
		return nil, nil, nil, &FormatError{Path: path, Reason: "unsupported PEM block " + keyBlock.Type}
	}
	if err != nil {
		return nil, nil, nil, &FormatError{Path: path, Reason: "cannot parse the private key", Err: err}
	}
	s, ok := key.(crypto.Signer)
	if !ok {
		return nil, nil, nil, &FormatError{Path: path, Reason: fmt.Sprintf("unsupported key type %T", key)}
	}
	certs, err := pemCerts(path, data)
	if err != nil {
		return nil, nil, nil, err
	}
	// The leaf is the certificate of the key; the others are its chain in file order.
	var leaf *smx509.Certificate
	var chain []*smx509.Certificate
	for _, c := range certs {
		if leaf == nil && publicKeysEqual(c.PublicKey, s.Public()) {
			leaf = c
			continue
		}
		chain = append(chain, c)
	}
	if leaf == nil && len(certs) > 0 {
		return nil, nil, nil, &FormatError{Path: path, Reason: "no certificate in the file matches the private key"}
	}
	return s, leaf, chain, nil
}

func loadCFCA(path string, data, password []byte) (crypto.Signer, *smx509.Certificate, error) {
	der := data
	if t := bytes.TrimSpace(data); len(t) > 0 && t[0] != 0x30 {
		// CFCA tools write the container base64-encoded.
		b, err := base64.StdEncoding.DecodeString(string(bytes.Join(bytes.Fields(t), nil)))
		if err != nil {
			return nil, nil, &FormatError{Path: path, Reason: "not a CFCA SM2 container (neither DER nor base64)", Err: err}
		}
		der = b
	}
	key, cert, err := cfca.ParseSM2(password, der)
	if err != nil {
		if strings.Contains(err.Error(), "password") {
			return nil, nil, wrongPassword(path, err)
		}
		return nil, nil, &FormatError{Path: path, Reason: "not a readable CFCA SM2 container", Err: err}
	}
	return key, cert, nil
}

// ---- Writing (demo workspace, tests, `sealctl` provisioning) ----

// WritePKCS12 writes an RSA or ECDSA key, its certificate and chain as PKCS#12 (Modern2023
// encryption), atomically and readable only by the user.
func WritePKCS12(path string, key crypto.Signer, cert *smx509.Certificate, chain []*smx509.Certificate, password []byte) error {
	switch key.(type) {
	case *rsa.PrivateKey, *ecdsa.PrivateKey:
		if alg, _ := signer.AlgorithmOf(key.Public()); alg == signer.SM2 {
			return fmt.Errorf("keystore %s: SM2 keys cannot go into PKCS#12 here; use WritePEM", path)
		}
	case *sm2.PrivateKey:
		return fmt.Errorf("keystore %s: SM2 keys cannot go into PKCS#12 here; use WritePEM", path)
	default:
		return fmt.Errorf("keystore %s: unsupported key type %T", path, key)
	}
	leaf, err := x509.ParseCertificate(cert.Raw)
	if err != nil {
		return err
	}
	var cas []*x509.Certificate
	for _, c := range chain {
		xc, err := x509.ParseCertificate(c.Raw)
		if err != nil {
			return err
		}
		cas = append(cas, xc)
	}
	der, err := pkcs12.Modern2023.Encode(key, leaf, cas, string(password))
	if err != nil {
		return fmt.Errorf("keystore %s: %w", path, err)
	}
	return writeFile(path, der)
}

// pemEncrypter: PBES2, AES-256-CBC, PBKDF2-HMAC-SHA256 with 100 000 iterations (OpenSSL 3
// reads it; gmsm's default of 2 048 iterations is too few for a password-protected key).
var pemEncrypter = pkcs.NewPBESEncrypter(pkcs.AES256CBC, pkcs.NewPBKDF2Opts(pkcs.SHA256, 16, 100000))

// WritePEM writes the key as an encrypted PKCS#8 PEM block followed by the certificate and
// its chain (RSA, ECDSA or SM2).
func WritePEM(path string, key crypto.Signer, cert *smx509.Certificate, chain []*smx509.Certificate, password []byte) error {
	if len(password) == 0 {
		return fmt.Errorf("keystore %s: a password is required", path)
	}
	der, err := pkcs8.MarshalPrivateKey(key, password, pemEncrypter)
	if err != nil {
		return fmt.Errorf("keystore %s: %w", path, err)
	}
	var out []byte
	out = append(out, pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: der})...)
	for _, c := range append([]*smx509.Certificate{cert}, chain...) {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return writeFile(path, out)
}

// writeFile writes data through a private temporary file renamed into place, so the
// keystore is never half-written and never readable by others, not even for a moment.
func writeFile(path string, data []byte) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("keystore %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

var _ signer.KeyStore = (*Store)(nil)
