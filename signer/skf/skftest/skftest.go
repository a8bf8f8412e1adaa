// Package skftest builds and drives the software SKF library of signer/skf/testdata/fakeskf
// for tests: Library builds it once (go build -buildmode=c-shared into a temporary directory
// named after the source's hash, so every test process of a run shares the slow build) and
// points it at a per-process state directory where devices are files a test plugs and pulls.
//
// The library is loaded through signer/skf's ordinary dlopen path, like a vendor's.
// One library instance serves the whole process: tests that use it must not run in
// parallel with each other (Reset empties the device directory).
package skftest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"

	"sealdesk/internal/testenv"
)

// StateEnv is the environment variable the fake library reads its state directory from
// (once, when it is loaded).
const StateEnv = "SEALDESK_SKF_FAKE"

// Fake is the built library and its state directory.
type Fake struct {
	Path string // the .so / .dll
	Root string // state directory
}

var (
	once    sync.Once
	shared  *Fake
	sharedE error
)

// Library builds the fake library (once per process) and returns it with an empty device
// directory. It needs cgo and the go tool; without them the test fails in CI and is skipped
// elsewhere (internal/testenv).
func Library(t testing.TB) *Fake {
	t.Helper()
	once.Do(func() { shared, sharedE = build() })
	if sharedE != nil {
		if testenv.InCI() {
			t.Fatalf("building the SKF test library: %v", sharedE)
		}
		t.Skipf("building the SKF test library: %v", sharedE)
	}
	shared.Reset(t)
	return shared
}

func build() (*Fake, error) {
	lib, err := buildLibrary()
	if err != nil {
		return nil, err
	}
	state, err := os.MkdirTemp("", "sealdesk-fakeskf-state-")
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(state, "devices"), 0o700); err != nil {
		return nil, err
	}
	// Read by the library when it is first called; every test of the process shares this
	// root, each process has its own.
	if err := os.Setenv(StateEnv, state); err != nil {
		return nil, err
	}
	return &Fake{Path: lib, Root: state}, nil
}

// buildLibrary builds the library into a temporary directory named after a hash of its
// source and the toolchain, so the test packages of one run (each its own process) share one
// build: the c-shared link takes long on a loaded machine.
func buildLibrary() (string, error) {
	root, err := testenv.RepoRoot()
	if err != nil {
		return "", err
	}
	src, err := os.ReadFile(filepath.Join(root, "signer", "skf", "testdata", "fakeskf", "main.go"))
	if err != nil {
		return "", err
	}
	gomod, _ := os.ReadFile(filepath.Join(root, "go.sum"))
	h := sha256.New()
	for _, b := range [][]byte{src, gomod, []byte(runtime.Version() + runtime.GOOS + runtime.GOARCH)} {
		h.Write(b)
	}
	name := "libfakeskf.so"
	switch runtime.GOOS {
	case "windows":
		name = "fakeskf.dll"
	case "darwin":
		name = "libfakeskf.dylib"
	}
	dir := filepath.Join(os.TempDir(), "sealdesk-fakeskf-"+hex.EncodeToString(h.Sum(nil))[:16])
	lib := filepath.Join(dir, name)
	if _, err := os.Stat(lib); err == nil {
		return lib, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(dir, "build-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	gotool := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(gotool); err != nil {
		gotool = "go"
	}
	cmd := exec.Command(gotool, "build", "-buildmode=c-shared", "-o", filepath.Join(tmp, name), "./signer/skf/testdata/fakeskf")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build -buildmode=c-shared: %v\n%s", err, out)
	}
	// Two processes building at once both rename a complete file into place.
	if err := os.Rename(filepath.Join(tmp, name), lib); err != nil {
		return "", err
	}
	return lib, nil
}

// Reset removes every device (plugged or pulled) and the control settings.
func (f *Fake) Reset(t testing.TB) {
	t.Helper()
	for _, d := range []string{"devices", "pulled"} {
		if err := os.RemoveAll(filepath.Join(f.Root, d)); err != nil {
			t.Fatal(err)
		}
	}
	os.Remove(filepath.Join(f.Root, "control.json"))
	if err := os.MkdirAll(filepath.Join(f.Root, "devices"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(f.Root, "pulled"), 0o700); err != nil {
		t.Fatal(err)
	}
}

// Container is one container of a fake device.
type Container struct {
	Name     string
	SignKey  *sm2.PrivateKey
	SignCert []byte // DER
	EncKey   *sm2.PrivateKey
	EncCert  []byte
}

// App is one application of a fake device.
type App struct {
	Name       string
	PIN        string
	MaxRetry   int // default 6
	Remain     int // default MaxRetry
	Containers []Container
	Files      map[string][]byte
}

// Device is a fake USB key.
type Device struct {
	Name         string
	Serial       string
	Manufacturer string
	Label        string
	Apps         []App
	// SignDelay makes SKF_ECCSignData take this long (to pull the key meanwhile).
	SignDelay time.Duration
}

type conFile struct {
	Name     string `json:"name"`
	SignKey  []byte `json:"signKey,omitempty"`
	SignCert []byte `json:"signCert,omitempty"`
	EncKey   []byte `json:"encKey,omitempty"`
	EncCert  []byte `json:"encCert,omitempty"`
}

type appFile struct {
	Name       string            `json:"name"`
	UserPIN    string            `json:"userPIN"`
	MaxRetry   int               `json:"maxRetry"`
	Remain     int               `json:"remain"`
	Containers []conFile         `json:"containers"`
	Files      map[string][]byte `json:"files,omitempty"`
}

type devFile struct {
	Serial       string    `json:"serial"`
	Manufacturer string    `json:"manufacturer"`
	Label        string    `json:"label"`
	Apps         []appFile `json:"apps"`
	SignDelayMs  int       `json:"signDelayMs,omitempty"`
}

func scalar(k *sm2.PrivateKey) []byte {
	if k == nil {
		return nil
	}
	return k.D.FillBytes(make([]byte, 32))
}

// Write writes the device into the pulled directory (not plugged in yet): Plug it.
func (f *Fake) Write(t testing.TB, d Device) {
	t.Helper()
	df := devFile{Serial: d.Serial, Manufacturer: d.Manufacturer, Label: d.Label, SignDelayMs: int(d.SignDelay / time.Millisecond)}
	for _, a := range d.Apps {
		af := appFile{Name: a.Name, UserPIN: a.PIN, MaxRetry: a.MaxRetry, Remain: a.Remain, Files: a.Files}
		if af.MaxRetry == 0 {
			af.MaxRetry = 6
		}
		if af.Remain == 0 {
			af.Remain = af.MaxRetry
		}
		if af.Remain < 0 {
			af.Remain = 0
		}
		for _, c := range a.Containers {
			af.Containers = append(af.Containers, conFile{Name: c.Name, SignKey: scalar(c.SignKey), SignCert: c.SignCert, EncKey: scalar(c.EncKey), EncCert: c.EncCert})
		}
		df.Apps = append(df.Apps, af)
	}
	b, err := json.MarshalIndent(df, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(f.Root, "pulled", d.Name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "device.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// Add writes the device and plugs it in.
func (f *Fake) Add(t testing.TB, d Device) {
	t.Helper()
	f.Write(t, d)
	f.Plug(t, d.Name)
}

// Plug moves a pulled device into the library's view (one rename: it appears at once).
func (f *Fake) Plug(t testing.TB, name string) {
	t.Helper()
	if err := os.Rename(filepath.Join(f.Root, "pulled", name), filepath.Join(f.Root, "devices", name)); err != nil {
		t.Fatal(err)
	}
}

// Pull removes a plugged device (one rename: it is gone at once, mid-call included).
func (f *Fake) Pull(t testing.TB, name string) {
	t.Helper()
	if err := os.Rename(filepath.Join(f.Root, "devices", name), filepath.Join(f.Root, "pulled", name)); err != nil {
		t.Fatal(err)
	}
}

// dir returns the device's directory, plugged or pulled.
func (f *Fake) dir(name string) string {
	p := filepath.Join(f.Root, "devices", name)
	if _, err := os.Stat(p); err == nil {
		return p
	}
	return filepath.Join(f.Root, "pulled", name)
}

// VerifyCount is how many times SKF_VerifyPIN was called on the device.
func (f *Fake) VerifyCount(name string) int {
	b, err := os.ReadFile(filepath.Join(f.dir(name), "verifycount"))
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(string(b))
	return n
}

// SigningStarted reports whether SKF_ECCSignData has begun on the device (SignDelay set).
func (f *Fake) SigningStarted(name string) bool {
	_, err := os.Stat(filepath.Join(f.dir(name), "signing"))
	return err == nil
}

// Remaining is the device's stored PIN retry count for the application.
func (f *Fake) Remaining(t testing.TB, name, app string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(f.dir(name), "device.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d devFile
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	for _, a := range d.Apps {
		if a.Name == app {
			return a.Remain
		}
	}
	t.Fatalf("device %s has no application %s", name, app)
	return 0
}

// Control sets library-wide behaviour: noWait makes SKF_WaitForDevEvent answer
// SAR_NOTSUPPORTYETERR; hang makes SKF_EnumDev block until hang is set false again.
func (f *Fake) Control(t testing.TB, noWait, hang bool) {
	t.Helper()
	b, _ := json.Marshal(map[string]bool{"noWaitEvent": noWait, "hangEnum": hang})
	tmp := filepath.Join(f.Root, ".control.tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(f.Root, "control.json")); err != nil {
		t.Fatal(err)
	}
}
