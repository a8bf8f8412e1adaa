// Package pdfium is SealDesk's PDF preview engine: the document.Document implementation for PDF
// files, on PDFium compiled to WebAssembly (github.com/klippa-app/go-pdfium, run by wazero, so no
// cgo and simple Windows cross-builds).
//
// Contract:
//   - One long-lived Engine per process (Default, created lazily on first use) holds 1–2 PDFium
//     instances (Config.Instances). A Document is opened lazily on each instance that serves it,
//     reading the file through a reader (the bytes stay on the Go side), so a foreground render
//     and a background thumbnail or search of the same document run in parallel.
//   - Compiled machine code is cached in $SEALDESK_CACHE/pdfium, else
//     os.UserCacheDir()/sealdesk/pdfium: the first init compiles (seconds), later ones load it
//     (about 0.1 s).
//   - Fonts: PDFium inside WebAssembly scans Linux font paths only. The bundled CJK font
//     (package assets) always appears at /usr/local/share/fonts, so non-embedded Chinese fonts
//     (STSong-Light…) render on Windows and on bare Linux machines too. By default only the
//     standard Chinese faces (SimSun, SimHei, KaiTi, FangSong) of the host font folder appear
//     at /usr/share/fonts, when present: scanning and loading a whole font folder (Noto CJK,
//     %WINDIR%\Fonts) doubled a warm start. Config.HostFonts can expose a whole folder instead.
//     PDFium sees no other host file.
//   - Geometry is in millimetres from the page's visible top-left corner (the CropBox after
//     /Rotate), the same space for page sizes, text hits and signature widgets. Page sizes and
//     hits come from PDFium so overlays agree with the rendered pixels; Signatures reads fields,
//     widgets and signature dictionaries with document/pdf's reader, which pairs each signature
//     with its own widgets (tested to agree with PDFium's widget rectangles within 0.05 mm).
//   - Render draws forms (signature widgets are form fields) and annotations on white, stops when
//     ctx is cancelled (checked while waiting for an instance and during PDFium's progressive
//     rendering) and keeps results in a bounded LRU cache (by bytes) shared by all documents of
//     the engine. Returned images are shared with that cache: treat them as read-only.
//   - Every method is safe for concurrent use; malformed files produce errors naming the file and
//     page, never panics (a trap inside PDFium retires that instance and starts a fresh one).
package pdfium

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	gopdfium "github.com/klippa-app/go-pdfium"
	"github.com/klippa-app/go-pdfium/webassembly"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"

	"sealdesk/assets"
)

// Config tunes an Engine. The zero value is the default.
type Config struct {
	// Instances is the number of PDFium instances (1 or 2; 0 = 2 on machines with 2 or more
	// CPUs, else 1). Each instance is single threaded and holds its own copy of open documents.
	Instances int
	// CacheDir holds wazero's compilation cache; "" = $SEALDESK_CACHE/pdfium or
	// os.UserCacheDir()/sealdesk/pdfium; "-" disables the cache.
	CacheDir string
	// ImageCacheBytes bounds the rendered-page cache; 0 = 64 MiB (seven A4 pages at 150 dpi plus
	// thumbnails), negative disables it.
	ImageCacheBytes int64
	// HostFonts chooses the host fonts PDFium sees as /usr/share/fonts besides the bundled CJK
	// font: "" = only the standard Chinese faces SimSun, SimHei, KaiTi and FangSong when the
	// system font folder (Windows %WINDIR%\Fonts, Linux /usr/share/fonts, macOS
	// /System/Library/Fonts) has them at its top; a folder path = that whole folder (slower:
	// PDFium parses every file in it on first use); "-" = none (then only the bundled CJK font
	// and PDFium's built-in Latin fonts are available).
	HostFonts string
}

// Engine is a set of PDFium instances with a shared page-image cache.
type Engine struct {
	pool   gopdfium.Pool
	max    int
	images *imageCache

	mu       sync.Mutex
	workers  []*worker
	creating int
	wake     chan struct{} // closed (and replaced) whenever a worker becomes idle
	closed   bool
	docs     map[*Document]struct{} // open documents, to forget handles of a retired instance

	// InitDuration is how long creating the engine took (runtime, compilation, first instance).
	InitDuration time.Duration
	// CacheDir is the compilation cache in use ("" when none).
	CacheDir string
}

type worker struct {
	id   int
	inst gopdfium.Pdfium
	busy bool
	dead bool
}

var (
	defaultMu  sync.Mutex
	defaultEng *Engine
	defaultErr error
)

// Default returns the process-wide engine, creating it on first use. A failed creation is
// retried on the next call.
func Default() (*Engine, error) {
	defaultMu.Lock()
	defer defaultMu.Unlock()
	if defaultEng != nil {
		return defaultEng, nil
	}
	defaultEng, defaultErr = NewEngine(Config{})
	if defaultErr != nil {
		defaultEng = nil
		return nil, defaultErr
	}
	return defaultEng, nil
}

// Preload creates the default engine in the background, so that the first document a user
// opens shows without the engine's start-up cost.
func Preload() { go func() { _, _ = Default() }() }

// DefaultCacheDir is where the compilation cache goes when Config.CacheDir is empty.
func DefaultCacheDir() string {
	if d := os.Getenv("SEALDESK_CACHE"); d != "" {
		return filepath.Join(d, "pdfium")
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "sealdesk", "pdfium")
	}
	return ""
}

// NewEngine starts an engine with one PDFium instance; a second one starts when two calls
// overlap (Config.Instances permitting).
func NewEngine(cfg Config) (*Engine, error) {
	start := time.Now()
	n := cfg.Instances
	if n <= 0 {
		n = 1
		if runtime.NumCPU() >= 2 {
			n = 2
		}
	}
	if n > 2 {
		n = 2
	}
	e := &Engine{max: n, wake: make(chan struct{}), docs: map[*Document]struct{}{}}

	rc := wazero.NewRuntimeConfig().WithCoreFeatures(api.CoreFeaturesV2 | experimental.CoreFeaturesExceptionHandling)
	cacheDir := cfg.CacheDir
	if cacheDir == "" {
		cacheDir = DefaultCacheDir()
	}
	if cacheDir != "" && cacheDir != "-" {
		// A cache that cannot be created only costs speed: run without it.
		if err := os.MkdirAll(cacheDir, 0o755); err == nil {
			if cc, err := wazero.NewCompilationCacheWithDir(cacheDir); err == nil {
				rc = rc.WithCompilationCache(cc)
				e.CacheDir = cacheDir
			}
		}
	}

	var host fs.FS
	var picks map[string]string
	switch hf := cfg.HostFonts; hf {
	case "-":
	case "":
		if d := defaultHostFonts(); d != "-" {
			picks = pickHostFonts(d)
		}
	default:
		if st, err := os.Stat(hf); err == nil && st.IsDir() {
			host = os.DirFS(hf)
		}
	}
	// The WebAssembly build resolves paths only under a mount at "/" (measured: a mount at
	// /usr/share/fonts alone is not seen), so one synthetic root carries both font folders.
	fsc := wazero.NewFSConfig().WithFSMount(newFontFS(host, picks, assets.CJKFontFile, assets.CJKFont()), "/")

	unlock := func() {}
	if e.CacheDir != "" {
		unlock = lockCache(e.CacheDir)
		seedCache(e.CacheDir) // seed.go: the prepared cache an installed package ships
	}
	pool, err := webassembly.Init(webassembly.Config{
		MinIdle:       0,
		MaxIdle:       n,
		MaxTotal:      n,
		RuntimeConfig: rc,
		FSConfig:      fsc,
		Stdout:        io.Discard,
		Stderr:        io.Discard,
		ReuseWorkers:  true,
	})
	unlock()
	if err != nil {
		return nil, fmt.Errorf("starting the PDF engine (PDFium WebAssembly): %w", err)
	}
	e.pool = pool
	e.images = newImageCache(cfg.ImageCacheBytes)
	w, err := e.newWorker(0)
	if err != nil {
		pool.Close()
		return nil, err
	}
	e.workers = []*worker{w}
	e.InitDuration = time.Since(start)
	return e, nil
}

func (e *Engine) newWorker(id int) (*worker, error) {
	inst, err := e.pool.GetInstance(2 * time.Minute)
	if err != nil {
		return nil, fmt.Errorf("starting a PDFium instance: %w", err)
	}
	return &worker{id: id, inst: inst}, nil
}

// Instances reports how many PDFium instances run now.
func (e *Engine) Instances() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.workers)
}

var errClosed = errors.New("the PDF engine is closed")

// acquire returns an idle worker for d (one that already has d open when possible), starting a
// second instance when all are busy, or waits; it gives up when ctx is done, which is how
// renders of pages the user scrolled past are dropped before they cost anything.
func (e *Engine) acquire(ctx context.Context, d *Document) (*worker, error) {
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		e.mu.Lock()
		if e.closed {
			e.mu.Unlock()
			return nil, errClosed
		}
		if d != nil && d.closed.Load() {
			e.mu.Unlock()
			return nil, errDocClosed
		}
		var pick *worker
		for _, w := range e.workers {
			if w.busy || w.dead {
				continue
			}
			if d != nil && d.handleOn(w.id) != nil {
				pick = w
				break
			}
			if pick == nil {
				pick = w
			}
		}
		if pick != nil {
			pick.busy = true
			if d != nil {
				d.active++
			}
			e.mu.Unlock()
			return pick, nil
		}
		if len(e.workers)+e.creating < e.max {
			e.creating++
			id := e.nextID()
			e.mu.Unlock()
			w, err := e.newWorker(id)
			e.mu.Lock()
			e.creating--
			if err != nil {
				e.mu.Unlock()
				return nil, err
			}
			w.busy = true
			if d != nil {
				d.active++
			}
			e.workers = append(e.workers, w)
			e.mu.Unlock()
			return w, nil
		}
		wake := e.wake
		e.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-wake:
		}
	}
}

// nextID picks an id no live worker uses (ids index Document handles). Call with e.mu held.
func (e *Engine) nextID() int {
	for id := 0; ; id++ {
		used := false
		for _, w := range e.workers {
			if w.id == id {
				used = true
			}
		}
		if !used {
			return id
		}
	}
}

// release gives w back (d is the document it worked for, or nil). A worker marked dead (PDFium trapped) is closed and removed; documents
// reopen on another instance when next used.
func (e *Engine) release(w *worker, d *Document) {
	e.mu.Lock()
	w.busy = false
	if d != nil {
		d.active--
	}
	if w.dead {
		for i, x := range e.workers {
			if x == w {
				e.workers = append(e.workers[:i], e.workers[i+1:]...)
				break
			}
		}
		for d := range e.docs {
			delete(d.handles, w.id)
		}
		go func() { _ = w.inst.Kill() }()
	}
	close(e.wake)
	e.wake = make(chan struct{})
	e.mu.Unlock()
}

// Close stops the engine. Documents opened on it must be closed first.
func (e *Engine) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	close(e.wake)
	e.mu.Unlock()
	return e.pool.Close()
}

// isTrap reports whether err comes from a WebAssembly trap (out of bounds, unreachable, out of
// memory) rather than from PDFium's own error codes: the instance's state is then undefined.
func isTrap(err error) bool {
	if err == nil {
		return false
	}
	s := err.Error()
	return strings.Contains(s, "wasm error") || strings.Contains(s, "panic occurred")
}
