package ui

import (
	"bytes"
	"runtime"
	"strconv"
	"sync"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
)

// The app's background goroutines (the key watcher, signing, hub status, thumbnails, file
// listings, the seals overview) hand their results to widgets through fyne.Do / fyne.DoAndWait.
// The real driver runs those callbacks on its one UI goroutine. fyne's test driver runs each at
// once on the goroutine that called it, so in tests widgets were laid out — and text shaped by
// go-text, which is not safe for concurrent use — on several goroutines at the same time:
// "index out of range" panics in HarfbuzzShaper and, once, the focus taken away mid-keystroke.
//
// newTestApp restores the real driver's model: the test's own goroutine is the UI goroutine.
// Callbacks from other goroutines are queued and run on it, in order, whenever the test calls
// into the UI through fyne.Do / fyne.DoAndWait (as clickText, typeKeys, waitUI and waitEvent
// do) — like events between two frames. Between tests, and after a test ends, nothing runs them,
// so a goroutine left over from an earlier test cannot touch widgets during a later one.

// serialApp is the test app with a serialDriver.
type serialApp struct {
	fyne.App
	d *serialDriver
}

func (a *serialApp) Driver() fyne.Driver { return a.d }

// serialDriver is the test driver whose DoFromGoroutine runs callbacks on one goroutine.
type serialDriver struct {
	fyne.Driver
	main uint64 // id of the UI goroutine (the test's); 0 between tests: callbacks wait

	mu    sync.Mutex
	queue []func()
	depth int // nesting of callbacks running on main; read and written on main only
}

func (d *serialDriver) DoFromGoroutine(f func(), wait bool) {
	if d.main != 0 && goid() == d.main {
		d.run(f)
		return
	}
	if !wait {
		d.enqueue(f)
		return
	}
	done := make(chan struct{})
	d.enqueue(func() {
		defer close(done)
		f()
	})
	<-done
}

func (d *serialDriver) enqueue(f func()) {
	d.mu.Lock()
	d.queue = append(d.queue, f)
	d.mu.Unlock()
}

// run runs f on the UI goroutine after the callbacks queued so far (at the outermost level
// only: a callback that calls fyne.Do itself runs that at once, as the old test driver did).
func (d *serialDriver) run(f func()) {
	d.depth++
	defer func() { d.depth-- }()
	if d.depth == 1 {
		d.pump()
	}
	f()
}

// pump runs every queued callback, including those queued while it runs.
func (d *serialDriver) pump() {
	for {
		d.mu.Lock()
		q := d.queue
		d.queue = nil
		d.mu.Unlock()
		if len(q) == 0 {
			return
		}
		for _, g := range q {
			g()
		}
	}
}

// install makes a fresh test app the current one, with main as its UI goroutine (0: none).
func install(main uint64) *serialApp {
	a := &serialApp{App: test.NewApp()}
	a.d = &serialDriver{Driver: a.App.Driver(), main: main}
	fyne.SetCurrentApp(a)
	return a
}

// newTestApp is test.NewTempApp with the calling test's goroutine as the only UI goroutine.
func newTestApp(t testing.TB) fyne.App {
	a := install(goid())
	t.Cleanup(func() { install(0) })
	return a
}

// goid is the id of the calling goroutine ("goroutine 42 [running]:"). Go has no API for it;
// fyne's own driver tells its main goroutine apart the same way.
func goid() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b = bytes.TrimPrefix(b, []byte("goroutine "))
	if i := bytes.IndexByte(b, ' '); i > 0 {
		b = b[:i]
	}
	n, _ := strconv.ParseUint(string(b), 10, 64)
	return n
}

func TestSerialDriverRunsCallbacksOnTheTestGoroutine(t *testing.T) {
	newTestApp(t)
	me := goid()
	ran := make(chan uint64, 2)
	done := make(chan struct{})
	go func() {
		fyne.Do(func() { ran <- goid() })
		fyne.DoAndWait(func() { ran <- goid() })
		close(done)
	}()
	select {
	case <-ran:
		t.Fatal("a background callback ran before the test goroutine yielded to the UI")
	default:
	}
	for i := 0; i < 2; {
		fyne.DoAndWait(func() {}) // yield: queued callbacks run here
		select {
		case g := <-ran:
			if g != me {
				t.Fatalf("callback ran on goroutine %d, want the test's %d", g, me)
			}
			i++
		default:
			runtime.Gosched()
		}
	}
	<-done
}
