package token

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// Module is one PKCS#11 library and how to drive it. It is what the config file stores.
type Module struct {
	// Path of the .so / .dll / .dylib.
	Path string `json:"path"`
	// Name is a human name ("SoftHSM2", "Longmai GM3000"); optional.
	Name string `json:"name,omitempty"`
	// Env is set in the process environment around C_Initialize, e.g. SOFTHSM2_CONF, which
	// SoftHSM2 reads there. The previous values are restored afterwards.
	Env map[string]string `json:"env,omitempty"`
	// Reinit makes the watcher re-initialise the module to see tokens that appeared or went
	// away (for modules that snapshot their tokens at C_Initialize, like SoftHSM2). It is done
	// only while no session of ours is open on the module.
	Reinit bool `json:"reinit,omitempty"`
	// SM2 holds the vendor mechanism numbers for SM2 keys (PKCS#11 up to 3.1 defines none).
	SM2 *SM2Mechanisms `json:"sm2,omitempty"`
}

// SM2Mechanisms are a vendor's numbers for SM2. Only the raw style is used: the token signs
// e = SM3(Z‖M) computed by the host (signer package's SM2 convention) and returns r‖s.
// UNTESTED without a real SM2 token.
// The key itself is found by CKA_ID and known to be SM2 from its certificate, so the vendor's
// CKK_SM2 number is not needed. Known raw-SM2 numbers (desktop.md §3.5): xipki 0xFFFFF002,
// a UKey vendor header 0x00010002; Bgi-style HSMs use CKM_VENDOR_DEFINED+4 (0x80000004).
type SM2Mechanisms struct {
	// Sign is the vendor's raw SM2 signing mechanism (input e, 32 bytes; output r‖s).
	Sign uint `json:"sign"`
	// KeyGen is the vendor's SM2 key-pair generation mechanism (C_GenerateKeyPair with
	// CKA_EC_PARAMS naming the SM2 curve, 1.2.156.10197.1.301); 0: SM2 keys cannot be made.
	KeyGen uint `json:"keyGen,omitempty"`
}

// Known is a module the discovery table knows.
type Known struct {
	Vendor  string
	Linux   []string
	Windows []string // file names are looked up in %SystemRoot%\System32
	Darwin  []string
	Reinit  bool
}

// KnownModules is the discovery table (see the package documentation for the same list).
var KnownModules = []Known{
	{Vendor: "SoftHSM2", Reinit: true,
		Linux: []string{"/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
			"/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so", "/usr/local/lib/softhsm/libsofthsm2.so",
			"/usr/lib64/pkcs11/libsofthsm2.so"},
		Windows: []string{"softhsm2-x64.dll", `C:\SoftHSM2\lib\softhsm2-x64.dll`},
		Darwin:  []string{"/usr/local/lib/softhsm/libsofthsm2.so", "/opt/homebrew/lib/softhsm/libsofthsm2.so"}},
	{Vendor: "OpenSC",
		Linux: []string{"/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so", "/usr/lib/aarch64-linux-gnu/opensc-pkcs11.so",
			"/usr/lib64/opensc-pkcs11.so", "/usr/lib/opensc-pkcs11.so"},
		Windows: []string{"opensc-pkcs11.dll", `C:\Program Files\OpenSC Project\OpenSC\pkcs11\opensc-pkcs11.dll`},
		Darwin:  []string{"/Library/OpenSC/lib/opensc-pkcs11.so"}},
	{Vendor: "Longmai mToken GM3000",
		Linux:   []string{"/usr/lib/libgm3000_pkcs11.so", "/usr/local/lib/libgm3000_pkcs11.so"},
		Windows: []string{"gm3000_pkcs11.dll"}},
	{Vendor: "Longmai mToken CryptoID",
		Linux:   []string{"/opt/CryptoIDE/lib/libcryptoide_pkcs11.so"},
		Windows: []string{"cryptoide_pkcs11.dll"}},
	{Vendor: "Feitian ePass3000GM",
		Linux:   []string{"/usr/lib/libes_3000gm.so.1.0.0", "/usr/local/lib/libes_3000gm.so.1.0.0"},
		Windows: []string{"ShuttleCsp11_3000GM.dll"}},
	{Vendor: "Feitian ePass2003",
		Linux:   []string{"/usr/lib/libeps2003csp11.so", "/usr/local/lib/libeps2003csp11.so"},
		Windows: []string{"eps2003csp11.dll", "eps2003csp11v2.dll"}},
	{Vendor: "WatchData",
		Windows: []string{"WDPKCS.dll", "SignatureP11.dll"}},
}

// paths returns the table's paths for the running OS, made absolute.
func (k Known) paths() []string {
	var ps []string
	switch runtime.GOOS {
	case "linux":
		ps = k.Linux
	case "windows":
		sys := filepath.Join(os.Getenv("SystemRoot"), "System32")
		if os.Getenv("SystemRoot") == "" {
			sys = `C:\Windows\System32`
		}
		for _, p := range k.Windows {
			if !strings.ContainsAny(p, `\/`) {
				p = filepath.Join(sys, p)
			}
			ps = append(ps, p)
		}
	case "darwin":
		ps = k.Darwin
	}
	return ps
}

// Candidates returns the known modules whose library exists on this machine, one per
// vendor (the first existing path).
func Candidates() []Module {
	var out []Module
	for _, k := range KnownModules {
		for _, p := range k.paths() {
			if st, err := os.Stat(p); err == nil && !st.IsDir() {
				out = append(out, Module{Path: p, Name: k.Vendor, Reinit: k.Reinit})
				break
			}
		}
	}
	return out
}

// FindKnown returns the first existing library of the vendor named (e.g. "SoftHSM2").
func FindKnown(vendor string) (Module, bool) {
	for _, m := range Candidates() {
		if m.Name == vendor {
			return m, true
		}
	}
	return Module{}, false
}

// SamePath reports whether two module paths name the same file (following symlinks).
func SamePath(a, b string) bool {
	if a == b {
		return true
	}
	ra, err1 := filepath.EvalSymlinks(a)
	rb, err2 := filepath.EvalSymlinks(b)
	return err1 == nil && err2 == nil && ra == rb
}

// ErrNotBuiltIn is returned by every PKCS#11 operation of a binary built without cgo.
var ErrNotBuiltIn = errors.New("PKCS#11 support is not built in (built with CGO_ENABLED=0)")

// ErrTokenRemoved is returned when the token went away during an operation.
var ErrTokenRemoved = errors.New("the token was removed")

// ErrModuleHung is wrapped by errors of module calls that did not return in time.
var ErrModuleHung = errors.New("the PKCS#11 module did not answer in time")

// ErrNotFound is wrapped when a URI names no token or no key.
var ErrNotFound = errors.New("not found")
