package skf

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"

	"sealdesk/signer"
	"sealdesk/signer/token"
)

// Library is one vendor SKF library and how to use it. It is what the config file stores
// (signer/keys: "skf": [...]).
type Library struct {
	// Path of the .so / .dll.
	Path string `json:"path"`
	// Name is a human name ("Longmai GM3000"); optional. A URI's lib= may give it instead
	// of the path.
	Name string `json:"name,omitempty"`
	// SealFile is the application file that holds the SES seal(s) (one or more DER seals,
	// padding after them ignored). Default DefaultSealFile.
	SealFile string `json:"sealFile,omitempty"`
	// NoWait makes the watcher poll SKF_EnumDev even when the library exports
	// SKF_WaitForDevEvent (for libraries whose wait misbehaves).
	NoWait bool `json:"noWait,omitempty"`
}

// DefaultSealFile is the seal file name used when Library.SealFile is empty (the label
// SealDesk gives seal data objects on PKCS#11 tokens, token.SealLabel).
const DefaultSealFile = token.SealLabel

func (c Library) sealFile() string {
	if c.SealFile != "" {
		return c.SealFile
	}
	return DefaultSealFile
}

// Store is one SKF library in use. It implements signer.KeyStore and token.Lister (so the
// token Watcher polls it like a PKCS#11 module).
type Store struct {
	lib *library
	cfg Library

	mu      sync.Mutex
	polled  bool
	lastGen uint64
}

var (
	_ signer.KeyStore = (*Store)(nil)
	_ token.Lister    = (*Store)(nil)
)

// Open loads the library (once per process; it stays loaded).
func Open(cfg Library) (*Store, error) {
	l, err := loadShared(cfg.Path)
	if err != nil {
		return nil, err
	}
	return &Store{lib: l, cfg: cfg}, nil
}

// Config returns the library settings the store was opened with.
func (s *Store) Config() Library { return s.cfg }

// Name implements token.Lister: the library path.
func (s *Store) Name() string { return s.cfg.Path }

// Close releases the store (the library itself stays loaded).
func (s *Store) Close() error { return nil }

// Device is one present device with what can be read without a PIN.
type Device struct {
	Name string // as the library names it (raw bytes; Display for people)
	Info signer.TokenInfo
	Dev  DevInfo
	Apps []Application
	// Err is set when the device's contents could not be read (the device is listed).
	Err error
}

// Application is one application of a device.
type Application struct {
	Name string
	// PIN is the user PIN state; nil when the library does not answer SKF_GetPINInfo.
	PIN        *PINInfo
	Containers []Container
	// Seals holds the DER seals read from the application's seal file.
	Seals [][]byte
	Err   error
}

// Container is one container: a signing and an encryption key pair, each with an optional
// certificate. Only the signing certificate's key signs documents.
type Container struct {
	Name     string
	Type     uint32 // ContainerECC, ContainerRSA, ContainerEmpty (0 when not told)
	SignCert *smx509.Certificate
	EncCert  *smx509.Certificate
	// Identity is set for a container with an SM2 signing certificate.
	Identity *signer.Identity
	Err      error
}

// Tokens implements token.Lister: the devices present now (SKF_EnumDev). Where the library
// supports SKF_WaitForDevEvent, the call waits up to a second for the library's next event
// first, so the watcher hears of a change at once; otherwise it returns at once and the
// watcher's interval paces the polling.
func (s *Store) Tokens(ctx context.Context) ([]signer.TokenInfo, error) {
	if !s.cfg.NoWait {
		s.lib.startWaiter()
		on, gen, ch := s.lib.eventState()
		s.mu.Lock()
		wait := on && s.polled && gen == s.lastGen
		s.mu.Unlock()
		if wait {
			t := time.NewTimer(time.Second)
			select {
			case <-ch:
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return nil, ctx.Err()
			}
			t.Stop()
		}
		_, gen, _ = s.lib.eventState()
		s.mu.Lock()
		s.polled, s.lastGen = true, gen
		s.mu.Unlock()
	}
	var out []signer.TokenInfo
	err := s.lib.do(ctx, CallTimeout, "listing devices", func(a api) error {
		names, err := a.EnumDev(true)
		if err != nil {
			return err
		}
		present := map[string]bool{}
		for _, n := range names {
			present[n] = true
			out = append(out, s.watched(n, s.devState(a, n)))
		}
		s.lib.infoMu.Lock()
		for n := range s.lib.info {
			if !present[n] {
				delete(s.lib.info, n)
			}
		}
		s.lib.infoMu.Unlock()
		return nil
	})
	return out, err
}

// devState returns the device's DEVINFO and PIN states, read once while the device stays
// present (and again after a PIN verification, which may have changed the counters).
func (s *Store) devState(a api, name string) devState {
	s.lib.infoMu.Lock()
	d, ok := s.lib.info[name]
	s.lib.infoMu.Unlock()
	if ok {
		return d
	}
	h, err := a.ConnectDev(name)
	if err != nil {
		return devState{}
	}
	defer a.DisConnectDev(h)
	d.dev, err = a.GetDevInfo(h)
	if err != nil && !errors.Is(err, ErrNotSupported) {
		return devState{} // not cached: read again next time
	}
	if apps, err := a.EnumApplication(h); err == nil {
		for _, an := range apps {
			ah, err := a.OpenApplication(h, an)
			if err != nil {
				continue
			}
			if p, err := a.GetPINInfo(ah); err == nil {
				d.pin = append(d.pin, p)
			}
			a.CloseApplication(ah)
		}
	}
	s.lib.infoMu.Lock()
	s.lib.info[name] = d
	s.lib.infoMu.Unlock()
	return d
}

// watched is the TokenInfo the watcher reports: device info and PIN flags.
func (s *Store) watched(name string, d devState) signer.TokenInfo {
	t := s.tokenInfo(name, d.dev)
	for i := range d.pin {
		applyPIN(&t, &d.pin[i])
	}
	return t
}

func (s *Store) tokenInfo(name string, d DevInfo) signer.TokenInfo {
	return signer.TokenInfo{Module: s.cfg.Path, Label: Display(name), Serial: d.SerialNumber, Manufacturer: d.Manufacturer, Model: d.Label}
}

// applyPIN sets the token's PIN flags from an application's PIN state (the most
// restrictive application wins).
func applyPIN(t *signer.TokenInfo, p *PINInfo) {
	if p == nil {
		return
	}
	switch {
	case p.Remaining == 0:
		t.PINLocked = true
	case p.Remaining == 1:
		t.PINFinalTry = true
	case p.Remaining < p.Max:
		t.PINCountLow = true
	}
}

// List returns every present device with its applications, containers, certificates and
// seals, read without a PIN.
func (s *Store) List(ctx context.Context) ([]Device, error) {
	var names []string
	err := s.lib.do(ctx, CallTimeout, "listing devices", func(a api) error {
		var err error
		names, err = a.EnumDev(true)
		return err
	})
	if err != nil {
		return nil, err
	}
	var out []Device
	for _, n := range names {
		d := Device{Name: n}
		d.Err = s.lib.do(ctx, CallTimeout, "reading device "+Display(n), func(a api) error {
			return s.readDevice(a, &d)
		})
		if d.Err != nil && errors.Is(d.Err, context.Canceled) {
			return nil, d.Err
		}
		out = append(out, d)
	}
	return out, nil
}

func (s *Store) readDevice(a api, d *Device) error {
	h, err := a.ConnectDev(d.Name)
	if err != nil {
		d.Info = s.tokenInfo(d.Name, DevInfo{})
		return err
	}
	defer a.DisConnectDev(h)
	if d.Dev, err = a.GetDevInfo(h); err != nil && !errors.Is(err, ErrNotSupported) {
		return err
	}
	d.Info = s.tokenInfo(d.Name, d.Dev)
	apps, err := a.EnumApplication(h)
	if err != nil {
		return err
	}
	for _, an := range apps {
		app := Application{Name: an}
		app.Err = s.readApp(a, h, d, &app)
		applyPIN(&d.Info, app.PIN)
		d.Apps = append(d.Apps, app)
	}
	return nil
}

func (s *Store) readApp(a api, dev uintptr, d *Device, app *Application) error {
	ah, err := a.OpenApplication(dev, app.Name)
	if err != nil {
		return err
	}
	defer a.CloseApplication(ah)
	if p, err := a.GetPINInfo(ah); err == nil {
		app.PIN = &p
	} else if !errors.Is(err, ErrNotSupported) {
		return err
	}
	app.Seals, _ = s.readSeals(a, ah, d.Dev) // seal files often need the PIN: read again at Open
	cons, err := a.EnumContainer(ah)
	if err != nil {
		return err
	}
	var certs []*smx509.Certificate
	for _, cn := range cons {
		c := Container{Name: cn}
		c.Err = s.readContainer(a, ah, &c)
		if errors.Is(c.Err, ErrDeviceRemoved) {
			return c.Err
		}
		if c.SignCert != nil {
			certs = append(certs, c.SignCert)
		}
		app.Containers = append(app.Containers, c)
	}
	for i := range app.Containers {
		c := &app.Containers[i]
		if c.SignCert == nil {
			continue
		}
		alg, _ := signer.AlgorithmOf(c.SignCert.PublicKey)
		if alg != signer.SM2 {
			c.Err = fmt.Errorf("container %q holds a %s signing certificate; only SM2 signs through SKF here", Display(c.Name), alg)
			continue
		}
		label := c.SignCert.Subject.CommonName
		if label == "" {
			label = Display(c.Name)
		}
		c.Identity = &signer.Identity{
			URI:         KeyURI(s.cfg.Path, d.Name, app.Name, c.Name),
			Label:       label,
			Algorithm:   alg,
			Certificate: c.SignCert,
			Seals:       token.SealsFor(app.Seals, c.SignCert, certs),
		}
	}
	return nil
}

// readContainer exports the container's certificates: bSignFlag TRUE gives the signing
// certificate, FALSE the encryption one. A certificate that is absent is not an error.
func (s *Store) readContainer(a api, app uintptr, c *Container) error {
	ch, err := a.OpenContainer(app, c.Name)
	if err != nil {
		return err
	}
	defer a.CloseContainer(ch)
	if t, err := a.GetContainerType(ch); err == nil {
		c.Type = t
	}
	for _, sign := range []bool{true, false} {
		der, err := a.ExportCertificate(ch, sign)
		if err != nil {
			if errors.Is(err, ErrDeviceRemoved) {
				return err
			}
			continue // SAR_CERTNOTFOUNTERR and friends: no certificate of this kind
		}
		if len(der) == 0 {
			continue
		}
		cert, err := smx509.ParseCertificate(der)
		if err != nil {
			which := "encryption"
			if sign {
				which = "signing"
			}
			return fmt.Errorf("container %q: the %s certificate does not parse: %w", Display(c.Name), which, err)
		}
		if sign {
			c.SignCert = cert
		} else {
			c.EncCert = cert
		}
	}
	return nil
}

// readSeals reads the application's seal file in chunks the device accepts.
func (s *Store) readSeals(a api, app uintptr, d DevInfo) ([][]byte, error) {
	name := s.cfg.sealFile()
	size, err := a.FileSize(app, name)
	if err != nil {
		if CodeOf(err) == SAR_FILE_NOT_EXIST {
			return nil, nil
		}
		return nil, err
	}
	const maxSeal = 1 << 20
	if size <= 0 || size > maxSeal {
		return nil, fmt.Errorf("seal file %q: size %d", name, size)
	}
	chunk := 1024
	var buf []byte
	for off := 0; off < size; {
		n := min(chunk, size-off)
		b, err := a.ReadFile(app, name, off, n)
		if err != nil {
			return nil, err
		}
		if len(b) == 0 {
			break
		}
		buf = append(buf, b...)
		off += len(b)
	}
	return splitDER(buf), nil
}

// Identities implements signer.KeyStore: every SM2 signing certificate, without a PIN.
func (s *Store) Identities(ctx context.Context) ([]*signer.Identity, error) {
	devs, err := s.List(ctx)
	if err != nil {
		return nil, err
	}
	var out []*signer.Identity
	for _, d := range devs {
		for _, a := range d.Apps {
			for _, c := range a.Containers {
				if c.Identity != nil {
					out = append(out, c.Identity)
				}
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].URI < out[j].URI })
	return out, nil
}

// MatchesLibrary reports whether the URI's lib= names this library (its path, file name or
// configured name; an empty lib= matches every library).
func (u *URI) MatchesLibrary(c Library) bool {
	if u.Lib == "" || token.SamePath(u.Lib, c.Path) {
		return true
	}
	if c.Name != "" && strings.EqualFold(u.Lib, c.Name) {
		return true
	}
	base := c.Path
	if i := strings.LastIndexAny(base, `/\`); i >= 0 {
		base = base[i+1:]
	}
	return u.Lib == base
}

// session is an open device, application and container.
type session struct {
	dev, app, con          uintptr
	devName, appName, name string
	info                   signer.TokenInfo
	devInfo                DevInfo
	cert                   *smx509.Certificate
}

func (s *Store) closeSession(ss *session) {
	_ = s.lib.do(context.Background(), CallTimeout, "closing the container", func(a api) error {
		if ss.con != 0 {
			a.CloseContainer(ss.con)
		}
		if ss.app != 0 {
			a.ClearSecureState(ss.app) // log out
			a.CloseApplication(ss.app)
		}
		if ss.dev != 0 {
			a.DisConnectDev(ss.dev)
		}
		return nil
	})
}

// findMode says which containers find accepts.
type findMode int

const (
	withCert  findMode = iota // a container with a signing certificate (signing)
	anyCon                    // any container (public key export, certificate import)
	orMissing                 // any container, or none yet: ss.con is 0 and the caller creates it after login
)

// find opens the device, application and container the URI names.
func (s *Store) find(ctx context.Context, u *URI, mode findMode) (*session, error) {
	if !u.MatchesLibrary(s.cfg) {
		return nil, fmt.Errorf("%s names another SKF library than %s: %w", u.String(), s.cfg.Path, ErrNotFound)
	}
	var ss *session
	devSeen, appSeen := false, false
	err := s.lib.do(ctx, CallTimeout, "opening the key", func(a api) error {
		names, err := a.EnumDev(true)
		if err != nil {
			return err
		}
		for _, n := range names {
			if !match(u.Dev, n) {
				continue
			}
			h, err := a.ConnectDev(n)
			if err != nil {
				continue
			}
			d, _ := a.GetDevInfo(h)
			if !match(u.Serial, d.SerialNumber) {
				a.DisConnectDev(h)
				continue
			}
			devSeen = true
			apps, err := a.EnumApplication(h)
			if err != nil {
				a.DisConnectDev(h)
				return err
			}
			for _, an := range apps {
				if !match(u.App, an) {
					continue
				}
				ah, err := a.OpenApplication(h, an)
				if err != nil {
					continue
				}
				appSeen = true
				cons, err := a.EnumContainer(ah)
				if err != nil {
					a.CloseApplication(ah)
					a.DisConnectDev(h)
					return err
				}
				for _, cn := range cons {
					if !match(u.Con, cn) {
						continue
					}
					c := Container{Name: cn}
					if err := s.readContainer(a, ah, &c); (err != nil || c.SignCert == nil) && mode == withCert {
						continue
					}
					ch, err := a.OpenContainer(ah, cn)
					if err != nil {
						continue
					}
					ss = &session{dev: h, app: ah, con: ch, devName: n, appName: an, name: cn, devInfo: d, cert: c.SignCert}
					ss.info = s.tokenInfo(n, d)
					return nil
				}
				if mode == orMissing && u.Con != "" {
					ss = &session{dev: h, app: ah, devName: n, appName: an, name: u.Con, devInfo: d}
					ss.info = s.tokenInfo(n, d)
					return nil
				}
				a.CloseApplication(ah)
			}
			a.DisConnectDev(h)
		}
		return nil
	})
	if err != nil {
		return nil, mapRemoved(err)
	}
	if ss == nil {
		switch {
		case !devSeen:
			return nil, fmt.Errorf("no USB key matching %s is plugged in (SKF library %s): %w", u.String(), s.cfg.Path, ErrNotFound)
		case !appSeen:
			return nil, fmt.Errorf("the USB key has no application matching %s: %w", u.String(), ErrNotFound)
		}
		if mode == withCert {
			return nil, fmt.Errorf("no container with a signing certificate matches %s: %w", u.String(), ErrNotFound)
		}
		return nil, fmt.Errorf("no container matches %s: %w", u.String(), ErrNotFound)
	}
	return ss, nil
}

// mapRemoved makes the errors that mean "the key is gone" match ErrDeviceRemoved.
// The standard's code alone ("SAR_DEVICE_REMOVED") is not what a person should have to read.
func mapRemoved(err error) error {
	if err != nil && CodeOf(err) == SAR_DEVICE_REMOVED && !strings.Contains(err.Error(), ErrDeviceRemoved.Error()) {
		return fmt.Errorf("%w (%v)", ErrDeviceRemoved, err)
	}
	return err
}

// login verifies the user PIN of the session's application. It reads the PIN state first
// and refuses a locked PIN without calling SKF_VerifyPIN; a wrong PIN returns
// *signer.PINError with the retry count the library gave. It never retries.
func (s *Store) login(ctx context.Context, ss *session, pin []byte) error {
	label := ss.info.Label
	var info *PINInfo
	err := s.lib.do(ctx, CallTimeout, "reading the PIN state", func(a api) error {
		p, err := a.GetPINInfo(ss.app)
		if err == nil {
			info = &p
			return nil
		}
		if errors.Is(err, ErrNotSupported) {
			return nil
		}
		return err
	})
	if err != nil {
		return mapRemoved(err)
	}
	if info != nil && info.Remaining == 0 {
		return fmt.Errorf("USB key %q, application %q: %w", label, Display(ss.appName), signer.ErrPINLocked)
	}
	var retry int
	var verr error
	err = s.lib.do(ctx, SignTimeout, "verifying the PIN", func(a api) error {
		retry, verr = a.VerifyPIN(ss.app, pin)
		return nil
	})
	// The counters may have changed: the watcher reads them again (a lockout shows at once).
	s.lib.forget(ss.devName)
	if err != nil {
		return err
	}
	switch CodeOf(verr) {
	case SAR_OK:
		return nil
	case SAR_PIN_INCORRECT, SAR_PIN_INVALID, SAR_PIN_LEN_RANGE:
		return &keyPINError{Key: label, PIN: pinError(retry, verr)}
	case SAR_PIN_LOCKED:
		return &keyPINError{Key: label, PIN: &signer.PINError{Reason: "locked", TriesLeft: 0, Err: errors.Join(verr, signer.ErrPINLocked)}}
	}
	return fmt.Errorf("USB key %q: %w", label, mapRemoved(verr))
}

// pinError turns the retry count out of SKF_VerifyPIN into the error the user sees.
func pinError(retry int, cause error) *signer.PINError {
	switch {
	case retry <= 0:
		return &signer.PINError{Reason: "locked", TriesLeft: 0, Err: errors.Join(cause, signer.ErrPINLocked)}
	case retry == 1:
		return &signer.PINError{Reason: "final try", TriesLeft: 1, Err: cause}
	}
	return &signer.PINError{Reason: "incorrect", TriesLeft: retry, Err: cause}
}

// keyPINError wraps a PIN error with the key's name, keeping errors.As(*signer.PINError).
type keyPINError struct {
	Key string
	PIN *signer.PINError
}

func (e *keyPINError) Error() string { return fmt.Sprintf("USB key %q: %v", e.Key, e.PIN) }
func (e *keyPINError) Unwrap() error { return e.PIN }

// Open implements signer.KeyStore: it verifies pin on the container's application and
// returns the identity with a Signer on the key. The caller zeroes pin; Close the identity
// to log out and release the device.
func (s *Store) Open(ctx context.Context, uri string, pin []byte) (*signer.Identity, error) {
	u, err := ParseURI(uri)
	if err != nil {
		return nil, err
	}
	ss, err := s.find(ctx, u, withCert)
	if err != nil {
		return nil, err
	}
	alg, _ := signer.AlgorithmOf(ss.cert.PublicKey)
	if alg != signer.SM2 {
		s.closeSession(ss)
		return nil, fmt.Errorf("container %q holds a %s key; only SM2 signs through SKF here", Display(ss.name), alg)
	}
	if err := s.login(ctx, ss, pin); err != nil {
		s.closeSession(ss)
		return nil, err
	}
	var seals [][]byte
	_ = s.lib.do(ctx, CallTimeout, "reading the seal file", func(a api) error {
		seals, _ = s.readSeals(a, ss.app, ss.devInfo)
		return nil
	})
	label := ss.cert.Subject.CommonName
	if label == "" {
		label = Display(ss.name)
	}
	ks := &keySigner{s: s, ss: ss, pub: ss.cert.PublicKey.(*ecdsa.PublicKey), label: ss.info.Label}
	return &signer.Identity{
		URI:         KeyURI(s.cfg.Path, ss.devName, ss.appName, ss.name),
		Label:       label,
		Algorithm:   alg,
		Certificate: ss.cert,
		Seals:       token.SealsFor(seals, ss.cert, []*smx509.Certificate{ss.cert}),
		Signer:      ks,
		Close:       ks.close,
	}, nil
}

// keySigner signs through SKF_ECCSignData on an open container.
type keySigner struct {
	s     *Store
	ss    *session
	pub   *ecdsa.PublicKey
	label string

	mu     sync.Mutex // one operation at a time on the container
	closed bool
}

func (k *keySigner) Public() crypto.PublicKey { return k.pub }

func (k *keySigner) close() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if !k.closed {
		k.closed = true
		k.s.closeSession(k.ss)
	}
	return nil
}

// Sign implements crypto.Signer under the signer package's SM2 convention: digest is
// e = SM3(Z‖M), computed by the caller with the default user ID, and the library signs it.
// With sm2.DefaultSM2SignerOpts (what smx509 passes when it signs a certificate request),
// digest is the message and e is computed here. The library's ECCSIGNATUREBLOB is turned
// into DER and verified against the public key before it is returned.
func (k *keySigner) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	e := digest
	if o, ok := opts.(*sm2.SM2SignerOption); ok {
		if o != sm2.DefaultSM2SignerOpts {
			return nil, fmt.Errorf("SKF signer: only the default SM2 user ID is supported")
		}
		var err error
		if e, err = sm2.CalculateSM2Hash(k.pub, digest, signer.SM2DefaultUID); err != nil {
			return nil, err
		}
	} else if len(e) != 32 {
		return nil, fmt.Errorf("SKF signer: SM2 signs e = SM3(Z‖M), 32 bytes; got %d", len(e))
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.closed {
		return nil, fmt.Errorf("USB key %q: the session is closed", k.label)
	}
	var blob []byte
	err := k.s.lib.do(context.Background(), SignTimeout, "signing", func(a api) error {
		var err error
		blob, err = a.ECCSignData(k.ss.con, e)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("USB key %q: %w", k.label, mapRemoved(err))
	}
	cands, err := signatureCandidates(blob)
	if err != nil {
		return nil, fmt.Errorf("USB key %q: %w", k.label, err)
	}
	for _, der := range cands {
		if sm2.VerifyASN1(k.pub, e, der) {
			return der, nil
		}
	}
	return nil, fmt.Errorf("USB key %q: the signature from SKF_ECCSignData does not verify with the certificate's key (wrong container or a faulty library)", k.label)
}

// Request is the result of GenerateRequest.
type Request struct {
	URI       string           // the container's URI
	PublicKey *ecdsa.PublicKey // as SKF_GenECCKeyPair returned it
	CSR       []byte           // PKCS#10 CertificationRequest, DER, signed by the new key
}

// GenerateRequest generates a new SM2 signing key pair in the container the URI names
// (SKF_GenECCKeyPair; a missing container named by con= is created)
// and returns a PKCS#10 request for it, signed on the key. It is the key side of the seal
// lifecycle's apply step. An existing key pair in the container is replaced by the library.
// The container is created after the PIN is verified (SKF_CreateContainer needs the user).
func (s *Store) GenerateRequest(ctx context.Context, uri string, pin []byte, tmpl *smx509.CertificateRequest) (*Request, error) {
	u, err := ParseURI(uri)
	if err != nil {
		return nil, err
	}
	if u.Con == "" {
		return nil, &URIError{uri, "name the container to generate the key pair in (con=…)"}
	}
	ss, err := s.find(ctx, u, orMissing)
	if err != nil {
		return nil, err
	}
	defer s.closeSession(ss)
	if err := s.login(ctx, ss, pin); err != nil {
		return nil, err
	}
	var blob []byte
	err = s.lib.do(ctx, SignTimeout, "generating a key pair", func(a api) error {
		if ss.con == 0 {
			ch, err := a.CreateContainer(ss.app, ss.name)
			if err != nil {
				return fmt.Errorf("creating container %q: %w", Display(ss.name), err)
			}
			ss.con = ch
		}
		var err error
		blob, err = a.GenECCKeyPair(ss.con)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("USB key %q: %w", ss.info.Label, mapRemoved(err))
	}
	pub, err := parsePublicKey(blob)
	if err != nil {
		return nil, fmt.Errorf("USB key %q: SKF_GenECCKeyPair: %w", ss.info.Label, err)
	}
	if tmpl == nil {
		tmpl = &smx509.CertificateRequest{}
	}
	t := *tmpl
	t.SignatureAlgorithm = smx509.SM2WithSM3
	ks := &keySigner{s: s, ss: ss, pub: pub, label: ss.info.Label}
	csr, err := smx509.CreateCertificateRequest(rand.Reader, &t, ks)
	if err != nil {
		return nil, fmt.Errorf("USB key %q: certificate request: %w", ss.info.Label, err)
	}
	return &Request{URI: KeyURI(s.cfg.Path, ss.devName, ss.appName, ss.name), PublicKey: pub, CSR: csr}, nil
}

// PublicKey exports the signing (sign=true) or encryption public key of the container the
// URI names (SKF_ExportPublicKey; no PIN needed).
func (s *Store) PublicKey(ctx context.Context, uri string, sign bool) (*ecdsa.PublicKey, error) {
	u, err := ParseURI(uri)
	if err != nil {
		return nil, err
	}
	ss, err := s.find(ctx, u, anyCon)
	if err != nil {
		return nil, err
	}
	defer s.closeSession(ss)
	var blob []byte
	err = s.lib.do(ctx, CallTimeout, "exporting the public key", func(a api) error {
		var err error
		blob, err = a.ExportPublicKey(ss.con, sign)
		return err
	})
	if err != nil {
		return nil, mapRemoved(err)
	}
	return parsePublicKey(blob)
}

// ImportCertificate writes the signing (sign=true) or encryption certificate into the
// container the URI names (SKF_ImportCertificate), after verifying the PIN: the last step
// of the apply flow, once the CA has issued the certificate.
func (s *Store) ImportCertificate(ctx context.Context, uri string, pin []byte, sign bool, cert *smx509.Certificate) error {
	u, err := ParseURI(uri)
	if err != nil {
		return err
	}
	ss, err := s.find(ctx, u, anyCon)
	if err != nil {
		return err
	}
	defer s.closeSession(ss)
	if err := s.login(ctx, ss, pin); err != nil {
		return err
	}
	return mapRemoved(s.lib.do(ctx, CallTimeout, "importing the certificate", func(a api) error {
		return a.ImportCertificate(ss.con, sign, cert.Raw)
	}))
}
