//go:build !cgo || !(linux || darwin || freebsd || windows)

package skf

// loadLibrary fails: loading a C library at run time needs cgo.
func loadLibrary(path string) (api, error) {
	return nil, &LibraryError{Path: path, Reason: "cannot be used", Err: ErrNotBuiltIn}
}
