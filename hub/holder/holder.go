// Package holder is the seal holder's side of the lifecycle, shared by sealctl and the app:
// apply for a seal with a key on the holder's token (generated there when asked, so the
// private key never exists anywhere else), and fetch the made seal with its certificate onto
// that token, then tell the hub it is delivered (filed → active).
package holder

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/emmansun/gmsm/smx509"

	"sealdesk/document"
	"sealdesk/hub/api"
	"sealdesk/hub/client"
	"sealdesk/signer"
	"sealdesk/signer/keys"
	"sealdesk/signer/ses"
	"sealdesk/signer/token"
)

// ApplyOptions is one application.
type ApplyOptions struct {
	// KeyURI names the holder's key on the token (pkcs11:token=…;object=LABEL).
	KeyURI string
	PIN    []byte
	// NewKey generates the key named by KeyURI's object on the token first (Algorithm:
	// ecdsa default, rsa, sm2 through the module's vendor mechanism).
	NewKey    bool
	Algorithm signer.KeyAlgorithm
	// Config locates PKCS#11 modules (nil: keys.LoadConfig).
	Config  *keys.Config
	Request api.ApplicationRequest
}

func config(c *keys.Config) (*keys.Config, error) {
	if c != nil {
		return c, nil
	}
	return keys.LoadConfig()
}

// Apply makes the holder's certificate request with the key on the token and sends the
// application (req.CSR is filled in).
func Apply(ctx context.Context, hub *client.Client, o ApplyOptions) (*api.Application, error) {
	// The form is checked before the token is touched: a bad picture generates no key.
	if err := api.CheckRequest(&o.Request); err != nil {
		return nil, err
	}
	csr, err := Request(ctx, o)
	if err != nil {
		return nil, err
	}
	o.Request.CSR = csr
	return hub.Apply(ctx, o.Request)
}

// ReadPicture reads and checks a seal picture file (api.CheckPicture); errors are
// *api.FieldError.
func ReadPicture(path string) ([]byte, error) {
	b, err := readLimited(path, api.MaxPictureBytes)
	if err != nil {
		return nil, &api.FieldError{Field: "picture", File: filepath.Base(path), Problem: problemOf(err), Limit: api.MaxPictureBytes, Detail: err.Error()}
	}
	if err := api.CheckPicture(b); err != nil {
		var fe *api.FieldError
		if errors.As(err, &fe) {
			fe.File = filepath.Base(path)
		}
		return nil, err
	}
	return b, nil
}

// ReadAttachment reads and checks an attachment file (a PDF, OFD, PNG or JPEG scan).
func ReadAttachment(path string) (api.Attachment, error) {
	b, err := readLimited(path, api.MaxAttachmentBytes)
	if err != nil {
		return api.Attachment{}, &api.FieldError{Field: "attachments", File: filepath.Base(path), Problem: problemOf(err), Limit: api.MaxAttachmentBytes, Detail: err.Error()}
	}
	return api.NewAttachment(path, b)
}

var errTooLarge = errors.New("too large")

func problemOf(err error) string {
	if errors.Is(err, errTooLarge) {
		return api.ProblemTooLarge
	}
	return api.ProblemUnreadable
}

// readLimited reads at most limit bytes of path (a larger file is errTooLarge, without
// reading it all).
func readLimited(path string, limit int) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, int64(limit)+1))
	if err != nil {
		return nil, err
	}
	if len(b) > limit {
		return nil, errTooLarge
	}
	return b, nil
}

// Request returns the DER PKCS#10 request signed by the key on the token (generated first
// when o.NewKey).
func Request(ctx context.Context, o ApplyOptions) ([]byte, error) {
	cfg, err := config(o.Config)
	if err != nil {
		return nil, err
	}
	u, err := token.ParseURI(o.KeyURI)
	if err != nil {
		return nil, err
	}
	if u.Object == "" {
		return nil, fmt.Errorf("key %s names no object: add ;object=LABEL (the key's name on the token)", o.KeyURI)
	}
	st, label, err := keys.TokenStore(ctx, cfg, o.KeyURI)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	if o.NewKey {
		alg := o.Algorithm
		if alg == "" {
			alg = signer.ECDSA
		}
		id := sha256.Sum256([]byte(u.Object))
		if _, err := st.GenerateKeyPair(ctx, label, o.PIN, u.Object, id[:8], alg); err != nil {
			return nil, fmt.Errorf("generating the key %q on token %q: %w", u.Object, label, err)
		}
	}
	k, err := st.OpenKey(ctx, o.KeyURI, o.PIN)
	if err != nil {
		return nil, err
	}
	defer k.Close()
	subj := pkix.Name{CommonName: o.Request.SealName, Organization: []string{o.Request.UnitName}, SerialNumber: o.Request.USCC}
	der, err := smx509.CreateCertificateRequest(rand.Reader, &smx509.CertificateRequest{Subject: subj}, k.Signer)
	if err != nil {
		return nil, fmt.Errorf("signing the certificate request on the token: %w", err)
	}
	return der, nil
}

// FetchOptions is where a fetched seal goes.
type FetchOptions struct {
	// Out is the .esl file to write (atomically); "" writes none.
	Out string
	// KeyURI and PIN: with ToToken, the certificate, its chain and the seal are written onto
	// the token beside the key (same label and CKA_ID), and the hub is told the seal is
	// delivered.
	ToToken bool
	KeyURI  string
	PIN     []byte
	Config  *keys.Config
}

// Fetched is what Fetch did.
type Fetched struct {
	Package   *api.SealPackage `json:"package"`
	Seal      *api.Seal        `json:"seal,omitempty"` // after delivery
	File      string           `json:"file,omitempty"`
	OnToken   bool             `json:"onToken"`
	Delivered bool             `json:"delivered"`
}

// Fetch downloads the seal of an approved application, checks that it binds the issued
// certificate, writes it where o says, and reports it delivered once it is on the token.
func Fetch(ctx context.Context, hub *client.Client, appID string, o FetchOptions) (*Fetched, error) {
	pkg, err := hub.FetchSeal(ctx, appID)
	if err != nil {
		return nil, err
	}
	seal, err := ses.ParseSeal(pkg.Seal)
	if err != nil {
		return nil, fmt.Errorf("the hub sent an unreadable seal: %w", err)
	}
	leaf, err := smx509.ParseCertificate(pkg.Certificate)
	if err != nil {
		return nil, fmt.Errorf("the hub sent an unreadable certificate: %w", err)
	}
	if seal.Info.ESID != pkg.ESID {
		return nil, fmt.Errorf("the hub sent seal %s for %s", seal.Info.ESID, pkg.ESID)
	}
	out := &Fetched{Package: pkg}
	if o.Out != "" {
		if err := document.WriteFileAtomic(o.Out, func(w io.Writer) error { _, err := w.Write(pkg.Seal); return err }); err != nil {
			return nil, err
		}
		out.File = o.Out
	}
	if !o.ToToken {
		return out, nil
	}
	cfg, err := config(o.Config)
	if err != nil {
		return nil, err
	}
	st, label, err := keys.TokenStore(ctx, cfg, o.KeyURI)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	k, err := st.OpenKey(ctx, o.KeyURI, o.PIN)
	if err != nil {
		return nil, err
	}
	match := SameKey(k.Public(), leaf.PublicKey)
	k.Close()
	if !match {
		return nil, fmt.Errorf("the certificate the hub issued is not for the key %s on the token", k.Label)
	}
	if err := st.ImportCertificate(ctx, label, o.PIN, k.Label, k.ID, leaf); err != nil {
		return nil, err
	}
	for i, der := range pkg.Chain {
		c, err := smx509.ParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("chain certificate %d: %w", i+1, err)
		}
		if err := st.ImportCertificate(ctx, label, o.PIN, fmt.Sprintf("%s-ca-%d", k.Label, i+1), nil, c); err != nil {
			return nil, err
		}
	}
	if err := st.ImportData(ctx, label, o.PIN, token.SealLabel, token.SealApplication, pkg.Seal, false); err != nil {
		return nil, err
	}
	out.OnToken = true
	if pkg.Status == api.StatusFiled {
		s, err := hub.Delivered(ctx, pkg.ESID)
		if err != nil {
			return out, fmt.Errorf("the seal is on the token, but the hub was not told it is delivered (run fetch again): %w", err)
		}
		out.Seal, out.Delivered = s, true
	}
	return out, nil
}

// SameKey reports whether two public keys are the same key.
func SameKey(a, b any) bool {
	x, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && x.Equal(b)
}
