package skf

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// api is the GM/T 0016 surface SealDesk uses, in Go types. dl_cgo.go implements it over a
// library loaded at run time; handles are the library's opaque pointers.
type api interface {
	EnumDev(present bool) ([]string, error)
	ConnectDev(name string) (uintptr, error)
	DisConnectDev(dev uintptr) error
	GetDevInfo(dev uintptr) (DevInfo, error)
	HasWait() bool
	WaitForDevEvent() (name string, event uint32, err error)
	CancelWaitForDevEvent() error
	EnumApplication(dev uintptr) ([]string, error)
	OpenApplication(dev uintptr, name string) (uintptr, error)
	CloseApplication(app uintptr) error
	GetPINInfo(app uintptr) (PINInfo, error)
	VerifyPIN(app uintptr, pin []byte) (retryLeft int, err error)
	ClearSecureState(app uintptr) error
	EnumContainer(app uintptr) ([]string, error)
	OpenContainer(app uintptr, name string) (uintptr, error)
	CreateContainer(app uintptr, name string) (uintptr, error)
	CloseContainer(con uintptr) error
	GetContainerType(con uintptr) (uint32, error)
	ExportCertificate(con uintptr, sign bool) ([]byte, error)
	ExportPublicKey(con uintptr, sign bool) ([]byte, error)
	ECCSignData(con uintptr, digest []byte) ([]byte, error)
	GenECCKeyPair(con uintptr) ([]byte, error)
	ImportCertificate(con uintptr, sign bool, der []byte) error
	EnumFiles(app uintptr) ([]string, error)
	FileSize(app uintptr, name string) (int, error)
	ReadFile(app uintptr, name string, off, size int) ([]byte, error)
}

// devState is what the watcher reports of a device: its DEVINFO and the PIN state of its
// applications, read when it appears and again after each PIN verification.
type devState struct {
	dev DevInfo
	pin []PINInfo
}

// forget drops a device's cached state, so the next poll reads it again.
func (l *library) forget(name string) {
	l.infoMu.Lock()
	delete(l.info, name)
	l.infoMu.Unlock()
}

// PINInfo is what SKF_GetPINInfo says of the user PIN of an application.
type PINInfo struct {
	Max       int  `json:"max"`
	Remaining int  `json:"remaining"`
	Default   bool `json:"default,omitempty"` // still the factory PIN
}

// Timeouts for library calls. A call into C cannot be cancelled; after the timeout the
// caller gets ErrHung and the call is left to finish in its goroutine.
var (
	CallTimeout = 10 * time.Second // listing, reading certificates and files
	SignTimeout = 60 * time.Second // PIN verification and signing (PIN pads, slow chips)
)

// library is one loaded SKF library, shared by every Store of the same file.
type library struct {
	path  string
	api   api
	stuck atomic.Int32 // calls that timed out and have not returned yet

	infoMu sync.Mutex
	info   map[string]devState // by device name, while the device is present

	// Device events from SKF_WaitForDevEvent (one waiting thread per library).
	evMu      sync.Mutex
	evStarted bool
	evOff     bool          // the library cannot wait: poll
	evGen     uint64        // bumped on each event
	evCh      chan struct{} // closed and replaced on each event
}

var registry = struct {
	sync.Mutex
	m map[string]*library
}{m: map[string]*library{}}

// loadShared loads the library at path once per process.
func loadShared(path string) (*library, error) {
	if path == "" {
		return nil, &LibraryError{Path: "(empty)", Reason: "no library path given"}
	}
	st, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, &LibraryError{Path: path, Reason: "the file does not exist"}
		}
		return nil, &LibraryError{Path: path, Reason: "cannot read the file", Err: err}
	}
	if st.IsDir() {
		return nil, &LibraryError{Path: path, Reason: "is a directory, not a library"}
	}
	key, err := filepath.EvalSymlinks(path)
	if err != nil {
		key = path
	}
	if abs, err := filepath.Abs(key); err == nil {
		key = abs
	}
	registry.Lock()
	defer registry.Unlock()
	if l := registry.m[key]; l != nil {
		return l, nil
	}
	a, err := loadLibrary(path)
	if err != nil {
		return nil, err
	}
	l := &library{path: path, api: a, info: map[string]devState{}, evCh: make(chan struct{})}
	registry.m[key] = l
	return l, nil
}

// do runs f with a timeout. While an earlier call is stuck in the library no further call is
// made: each would only add another blocked thread, and the app must not wait on it.
func (l *library) do(ctx context.Context, timeout time.Duration, what string, f func(a api) error) error {
	if l.stuck.Load() > 0 {
		return &LibraryError{Path: l.path, Reason: "an earlier call has not returned yet", Err: ErrHung}
	}
	const running, finished, abandoned = 0, 1, 2
	var state atomic.Int32
	done := make(chan error, 1)
	go func() {
		err := f(l.api)
		if !state.CompareAndSwap(running, finished) {
			l.stuck.Add(-1) // the abandoned call finally returned
		}
		done <- err
	}()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		// The call goes on in the library; its result is dropped. It does not count as
		// stuck: the library answered nothing wrong yet.
		return ctx.Err()
	case <-t.C:
		if !state.CompareAndSwap(running, abandoned) {
			return <-done
		}
		l.stuck.Add(1)
		return &LibraryError{Path: l.path, Reason: fmt.Sprintf("%s took longer than %v", what, timeout), Err: ErrHung}
	}
}

// startWaiter starts the thread that blocks in SKF_WaitForDevEvent, once per library.
// Libraries that answer SAR_NOTSUPPORTYETERR (several do) or keep failing are polled.
func (l *library) startWaiter() {
	l.evMu.Lock()
	defer l.evMu.Unlock()
	if l.evStarted {
		return
	}
	l.evStarted = true
	if !l.api.HasWait() {
		l.evOff = true
		return
	}
	go func() {
		fails := 0
		for {
			_, _, err := l.api.WaitForDevEvent()
			if err != nil {
				fails++
				if errors.Is(err, ErrNotSupported) || fails >= 5 {
					l.evMu.Lock()
					l.evOff = true
					l.evMu.Unlock()
					l.bump() // pollers waiting for an event go back to polling now
					return
				}
				time.Sleep(time.Second)
				continue
			}
			fails = 0
			l.bump()
		}
	}()
}

func (l *library) bump() {
	l.evMu.Lock()
	l.evGen++
	close(l.evCh)
	l.evCh = make(chan struct{})
	l.evMu.Unlock()
}

// eventState returns whether the library reports events, the current generation and the
// channel closed at the next event.
func (l *library) eventState() (bool, uint64, <-chan struct{}) {
	l.evMu.Lock()
	defer l.evMu.Unlock()
	return !l.evOff, l.evGen, l.evCh
}
