//go:build cgo && (linux || darwin || freebsd || windows)

package skf

/*
#cgo linux LDFLAGS: -ldl
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifdef _WIN32
#include <windows.h>
#define SKFAPI __stdcall
static void *sd_open(const char *path) { return (void *)LoadLibraryA(path); }
static void *sd_sym(void *h, const char *name) { return (void *)GetProcAddress((HMODULE)h, name); }
static const char *sd_error(void) { return "LoadLibrary failed"; }
#else
#include <dlfcn.h>
#define SKFAPI
// RTLD_LOCAL: a vendor library's own symbols (often an OpenSSL copy) stay out of our way.
static void *sd_open(const char *path) { return dlopen(path, RTLD_NOW | RTLD_LOCAL); }
static void *sd_sym(void *h, const char *name) { return dlsym(h, name); }
static const char *sd_error(void) { const char *e = dlerror(); return e ? e : "dlopen failed"; }
#endif

// GM/T 0016 types: ULONG is 32-bit, BOOL a 32-bit int, handles are pointers. Structures are
// exchanged as byte buffers packed as the standard's headers declare (#pragma pack(1)).
//
// Every ULONG/BOOL out-parameter goes through a zeroed 64-bit cell whose low half is read
// back (little-endian), so a vendor build compiled with a 64-bit ULONG cannot write past it.
// sd_ulong, not ULONG: windows.h defines ULONG already.
typedef uint32_t sd_ulong;
typedef void *HANDLE;

typedef sd_ulong (SKFAPI *f_upp)(sd_ulong, void *, void *);
typedef sd_ulong (SKFAPI *f_pp)(void *, void *);
typedef sd_ulong (SKFAPI *f_h)(HANDLE);
typedef sd_ulong (SKFAPI *f_hp)(HANDLE, void *);
typedef sd_ulong (SKFAPI *f_ppp)(void *, void *, void *);
typedef sd_ulong (SKFAPI *f_v)(void);
typedef sd_ulong (SKFAPI *f_hpp)(HANDLE, void *, void *);
typedef sd_ulong (SKFAPI *f_huppp)(HANDLE, sd_ulong, void *, void *, void *);
typedef sd_ulong (SKFAPI *f_hupp)(HANDLE, sd_ulong, void *, void *);
typedef sd_ulong (SKFAPI *f_hpup)(HANDLE, void *, sd_ulong, void *);
typedef sd_ulong (SKFAPI *f_hup)(HANDLE, sd_ulong, void *);
typedef sd_ulong (SKFAPI *f_hupu)(HANDLE, sd_ulong, void *, sd_ulong);
typedef sd_ulong (SKFAPI *f_hpuupp)(HANDLE, void *, sd_ulong, sd_ulong, void *, void *);

// Name lists and byte strings: (in/out) *size.
static sd_ulong t_enum_dev(void *f, sd_ulong present, char *buf, uint32_t *size) {
	uint64_t v = *size;
	sd_ulong rv = ((f_upp)f)(present, buf, &v);
	*size = (uint32_t)v;
	return rv;
}
static sd_ulong t_h_buf_size(void *f, uintptr_t h, void *buf, uint32_t *size) {
	uint64_t v = *size;
	sd_ulong rv = ((f_hpp)f)((HANDLE)h, buf, &v);
	*size = (uint32_t)v;
	return rv;
}
// ConnectDev(name, &h)
static sd_ulong t_p_outh(void *f, const char *name, uintptr_t *out) {
	HANDLE h = 0;
	sd_ulong rv = ((f_pp)f)((void *)name, &h);
	*out = (uintptr_t)h;
	return rv;
}
// OpenApplication / OpenContainer / CreateContainer (h, name, &h2)
static sd_ulong t_h_name_outh(void *f, uintptr_t h, const char *name, uintptr_t *out) {
	HANDLE h2 = 0;
	sd_ulong rv = ((f_hpp)f)((HANDLE)h, (void *)name, &h2);
	*out = (uintptr_t)h2;
	return rv;
}
static sd_ulong t_h(void *f, uintptr_t h) { return ((f_h)f)((HANDLE)h); }
static sd_ulong t_v(void *f) { return ((f_v)f)(); }
// GetDevInfo(h, &DEVINFO), GetFileInfo is below
static sd_ulong t_h_struct(void *f, uintptr_t h, void *buf) { return ((f_hp)f)((HANDLE)h, buf); }
// GetContainerType(h, &type)
static sd_ulong t_h_outu(void *f, uintptr_t h, uint32_t *out) {
	uint64_t v = 0;
	sd_ulong rv = ((f_hp)f)((HANDLE)h, &v);
	*out = (uint32_t)v;
	return rv;
}
// WaitForDevEvent(name, &len, &event)
static sd_ulong t_wait(void *f, char *name, uint32_t *len, uint32_t *event) {
	uint64_t l = *len, e = 0;
	sd_ulong rv = ((f_ppp)f)(name, &l, &e);
	*len = (uint32_t)l;
	*event = (uint32_t)e;
	return rv;
}
// GetPINInfo(h, type, &max, &remain, &isDefault)
static sd_ulong t_pininfo(void *f, uintptr_t h, sd_ulong type, uint32_t *max, uint32_t *remain, uint32_t *def) {
	uint64_t a = 0, b = 0, c = 0;
	sd_ulong rv = ((f_huppp)f)((HANDLE)h, type, &a, &b, &c);
	*max = (uint32_t)a;
	*remain = (uint32_t)b;
	*def = (uint32_t)c;
	return rv;
}
// VerifyPIN(h, type, pin, &retry): the PIN is copied into C memory with its NUL, and that
// copy is wiped before it is freed.
static sd_ulong t_verify(void *f, uintptr_t h, sd_ulong type, const unsigned char *pin, size_t n, uint32_t *retry) {
	char *p = (char *)calloc(n + 1, 1);
	if (p == NULL) return 0x0A00000E; // SAR_MEMORYERR
	if (n > 0) memcpy(p, pin, n);
	uint64_t r = 0;
	sd_ulong rv = ((f_hupp)f)((HANDLE)h, type, p, &r);
	volatile char *vp = p;
	for (size_t i = 0; i < n + 1; i++) vp[i] = 0;
	free(p);
	*retry = (uint32_t)r;
	return rv;
}
// ExportCertificate / ExportPublicKey (h, bSign, buf, &len)
static sd_ulong t_export(void *f, uintptr_t h, sd_ulong sign, void *buf, uint32_t *len) {
	uint64_t v = *len;
	sd_ulong rv = ((f_hupp)f)((HANDLE)h, sign, buf, &v);
	*len = (uint32_t)v;
	return rv;
}
// ECCSignData(h, digest, len, &ECCSIGNATUREBLOB)
static sd_ulong t_sign(void *f, uintptr_t h, void *digest, sd_ulong n, void *blob) {
	return ((f_hpup)f)((HANDLE)h, digest, n, blob);
}
// GenECCKeyPair(h, alg, &ECCPUBLICKEYBLOB)
static sd_ulong t_genkey(void *f, uintptr_t h, sd_ulong alg, void *blob) { return ((f_hup)f)((HANDLE)h, alg, blob); }
// ImportCertificate(h, bSign, der, len)
static sd_ulong t_import(void *f, uintptr_t h, sd_ulong sign, void *der, sd_ulong n) {
	return ((f_hupu)f)((HANDLE)h, sign, der, n);
}
// GetFileInfo(h, name, &FILEATTRIBUTE)
static sd_ulong t_fileinfo(void *f, uintptr_t h, const char *name, void *buf) {
	return ((f_hpp)f)((HANDLE)h, (void *)name, buf);
}
// ReadFile(h, name, offset, size, buf, &outLen)
static sd_ulong t_read(void *f, uintptr_t h, const char *name, sd_ulong off, sd_ulong size, void *buf, uint32_t *outLen) {
	uint64_t v = 0;
	sd_ulong rv = ((f_hpuupp)f)((HANDLE)h, (void *)name, off, size, buf, &v);
	*outLen = (uint32_t)v;
	return rv;
}
*/
import "C"

import (
	"strings"
	"unsafe"
)

// symbols the library must export; the others are optional (absent → ErrNotSupported).
var requiredSymbols = []string{
	"SKF_EnumDev", "SKF_ConnectDev", "SKF_DisConnectDev", "SKF_EnumApplication", "SKF_OpenApplication",
	"SKF_CloseApplication", "SKF_VerifyPIN", "SKF_EnumContainer", "SKF_OpenContainer", "SKF_CloseContainer",
	"SKF_ExportCertificate", "SKF_ECCSignData",
}

var optionalSymbols = []string{
	"SKF_GetDevInfo", "SKF_WaitForDevEvent", "SKF_CancelWaitForDevEvent", "SKF_GetPINInfo",
	"SKF_ClearSecureState", "SKF_GetContainerType", "SKF_ExportPublicKey", "SKF_GenECCKeyPair",
	"SKF_CreateContainer", "SKF_ImportCertificate", "SKF_EnumFiles", "SKF_GetFileInfo", "SKF_ReadFile",
}

// dlLibrary is a loaded SKF library: its entry points by name.
type dlLibrary struct {
	path string
	fn   map[string]unsafe.Pointer
}

// loadLibrary dlopens (LoadLibrary on Windows) the library. Libraries stay loaded for the
// life of the process: unloading vendor libraries with their own USB threads is not safe.
func loadLibrary(path string) (api, error) {
	p := C.CString(path)
	defer C.free(unsafe.Pointer(p))
	h := C.sd_open(p)
	if h == nil {
		return nil, &LibraryError{Path: path, Reason: "cannot be loaded (not a library, wrong architecture, or a missing dependency): " + C.GoString(C.sd_error())}
	}
	l := &dlLibrary{path: path, fn: map[string]unsafe.Pointer{}}
	var missing []string
	for _, name := range append(append([]string{}, requiredSymbols...), optionalSymbols...) {
		n := C.CString(name)
		f := C.sd_sym(h, n)
		C.free(unsafe.Pointer(n))
		if f != nil {
			l.fn[name] = f
		}
	}
	for _, name := range requiredSymbols {
		if l.fn[name] == nil {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return nil, &LibraryError{Path: path, Reason: "is not an SKF (GM/T 0016) library: it does not export " + strings.Join(missing, ", ")}
	}
	return l, nil
}

func (l *dlLibrary) f(name string) (unsafe.Pointer, error) {
	if f := l.fn[name]; f != nil {
		return f, nil
	}
	return nil, &Error{Func: name, Code: SAR_NOTSUPPORTYETERR}
}

func (l *dlLibrary) has(name string) bool { return l.fn[name] != nil }

// list runs a two-call name-list query (size first, then the list).
func (l *dlLibrary) list(name string, call func(f unsafe.Pointer, buf unsafe.Pointer, size *C.uint32_t) C.sd_ulong) ([]string, error) {
	f, err := l.f(name)
	if err != nil {
		return nil, err
	}
	for try := 0; try < 3; try++ {
		var size C.uint32_t
		if err := check(name, uint32(call(f, nil, &size))); err != nil {
			return nil, err
		}
		if size == 0 {
			return nil, nil
		}
		buf := make([]byte, int(size)+bufSlack)
		n := C.uint32_t(len(buf))
		rv := uint32(call(f, unsafe.Pointer(&buf[0]), &n))
		if Code(rv) == SAR_BUFFER_TOO_SMALL {
			continue // the list grew between the calls
		}
		if err := check(name, rv); err != nil {
			return nil, err
		}
		if int(n) < len(buf) {
			buf = buf[:n]
		}
		return splitNames(buf), nil
	}
	return nil, &Error{Func: name, Code: SAR_BUFFER_TOO_SMALL}
}

func (l *dlLibrary) EnumDev(present bool) ([]string, error) {
	p := C.sd_ulong(0)
	if present {
		p = 1
	}
	return l.list("SKF_EnumDev", func(f, buf unsafe.Pointer, size *C.uint32_t) C.sd_ulong {
		return C.t_enum_dev(f, p, (*C.char)(buf), size)
	})
}

func (l *dlLibrary) ConnectDev(name string) (uintptr, error) {
	f, err := l.f("SKF_ConnectDev")
	if err != nil {
		return 0, err
	}
	n := C.CString(name)
	defer C.free(unsafe.Pointer(n))
	var h C.uintptr_t
	if err := check("SKF_ConnectDev", uint32(C.t_p_outh(f, n, &h))); err != nil {
		return 0, err
	}
	return uintptr(h), nil
}

func (l *dlLibrary) closeH(name string, h uintptr) error {
	f, err := l.f(name)
	if err != nil {
		return err
	}
	return check(name, uint32(C.t_h(f, C.uintptr_t(h))))
}

func (l *dlLibrary) DisConnectDev(h uintptr) error    { return l.closeH("SKF_DisConnectDev", h) }
func (l *dlLibrary) CloseApplication(h uintptr) error { return l.closeH("SKF_CloseApplication", h) }
func (l *dlLibrary) CloseContainer(h uintptr) error   { return l.closeH("SKF_CloseContainer", h) }
func (l *dlLibrary) ClearSecureState(h uintptr) error { return l.closeH("SKF_ClearSecureState", h) }

func (l *dlLibrary) GetDevInfo(h uintptr) (DevInfo, error) {
	f, err := l.f("SKF_GetDevInfo")
	if err != nil {
		return DevInfo{}, err
	}
	buf := make([]byte, devInfoSize+bufSlack)
	if err := check("SKF_GetDevInfo", uint32(C.t_h_struct(f, C.uintptr_t(h), unsafe.Pointer(&buf[0])))); err != nil {
		return DevInfo{}, err
	}
	return parseDevInfo(buf)
}

func (l *dlLibrary) HasWait() bool {
	return l.has("SKF_WaitForDevEvent") && l.has("SKF_CancelWaitForDevEvent")
}

func (l *dlLibrary) WaitForDevEvent() (string, uint32, error) {
	f, err := l.f("SKF_WaitForDevEvent")
	if err != nil {
		return "", 0, err
	}
	buf := make([]byte, 1024)
	n := C.uint32_t(len(buf) - 1)
	var ev C.uint32_t
	if err := check("SKF_WaitForDevEvent", uint32(C.t_wait(f, (*C.char)(unsafe.Pointer(&buf[0])), &n, &ev))); err != nil {
		return "", 0, err
	}
	if int(n) < len(buf) {
		buf = buf[:n]
	}
	names := splitNames(buf)
	name := ""
	if len(names) > 0 {
		name = names[0]
	}
	return name, uint32(ev), nil
}

func (l *dlLibrary) CancelWaitForDevEvent() error {
	f, err := l.f("SKF_CancelWaitForDevEvent")
	if err != nil {
		return err
	}
	return check("SKF_CancelWaitForDevEvent", uint32(C.t_v(f)))
}

func (l *dlLibrary) hList(name string, h uintptr) ([]string, error) {
	return l.list(name, func(f, buf unsafe.Pointer, size *C.uint32_t) C.sd_ulong {
		return C.t_h_buf_size(f, C.uintptr_t(h), buf, size)
	})
}

func (l *dlLibrary) EnumApplication(dev uintptr) ([]string, error) {
	return l.hList("SKF_EnumApplication", dev)
}
func (l *dlLibrary) EnumContainer(app uintptr) ([]string, error) {
	return l.hList("SKF_EnumContainer", app)
}
func (l *dlLibrary) EnumFiles(app uintptr) ([]string, error) { return l.hList("SKF_EnumFiles", app) }

func (l *dlLibrary) openNamed(fn string, h uintptr, name string) (uintptr, error) {
	f, err := l.f(fn)
	if err != nil {
		return 0, err
	}
	n := C.CString(name)
	defer C.free(unsafe.Pointer(n))
	var out C.uintptr_t
	if err := check(fn, uint32(C.t_h_name_outh(f, C.uintptr_t(h), n, &out))); err != nil {
		return 0, err
	}
	return uintptr(out), nil
}

func (l *dlLibrary) OpenApplication(dev uintptr, name string) (uintptr, error) {
	return l.openNamed("SKF_OpenApplication", dev, name)
}
func (l *dlLibrary) OpenContainer(app uintptr, name string) (uintptr, error) {
	return l.openNamed("SKF_OpenContainer", app, name)
}
func (l *dlLibrary) CreateContainer(app uintptr, name string) (uintptr, error) {
	return l.openNamed("SKF_CreateContainer", app, name)
}

func (l *dlLibrary) GetPINInfo(app uintptr) (PINInfo, error) {
	f, err := l.f("SKF_GetPINInfo")
	if err != nil {
		return PINInfo{}, err
	}
	var max, remain, def C.uint32_t
	if err := check("SKF_GetPINInfo", uint32(C.t_pininfo(f, C.uintptr_t(app), C.sd_ulong(userType), &max, &remain, &def))); err != nil {
		return PINInfo{}, err
	}
	return PINInfo{Max: int(max), Remaining: int(remain), Default: def != 0}, nil
}

func (l *dlLibrary) VerifyPIN(app uintptr, pin []byte) (int, error) {
	f, err := l.f("SKF_VerifyPIN")
	if err != nil {
		return -1, err
	}
	var p *C.uchar
	if len(pin) > 0 {
		p = (*C.uchar)(unsafe.Pointer(&pin[0]))
	}
	var retry C.uint32_t
	rv := uint32(C.t_verify(f, C.uintptr_t(app), C.sd_ulong(userType), p, C.size_t(len(pin)), &retry))
	return int(retry), check("SKF_VerifyPIN", rv)
}

func (l *dlLibrary) GetContainerType(con uintptr) (uint32, error) {
	f, err := l.f("SKF_GetContainerType")
	if err != nil {
		return 0, err
	}
	var t C.uint32_t
	if err := check("SKF_GetContainerType", uint32(C.t_h_outu(f, C.uintptr_t(con), &t))); err != nil {
		return 0, err
	}
	return uint32(t), nil
}

func (l *dlLibrary) export(fn string, con uintptr, sign bool) ([]byte, error) {
	f, err := l.f(fn)
	if err != nil {
		return nil, err
	}
	s := C.sd_ulong(0)
	if sign {
		s = 1
	}
	var size C.uint32_t
	if err := check(fn, uint32(C.t_export(f, C.uintptr_t(con), s, nil, &size))); err != nil {
		return nil, err
	}
	if size == 0 {
		return nil, nil
	}
	buf := make([]byte, int(size)+bufSlack)
	n := C.uint32_t(len(buf))
	if err := check(fn, uint32(C.t_export(f, C.uintptr_t(con), s, unsafe.Pointer(&buf[0]), &n))); err != nil {
		return nil, err
	}
	if int(n) > len(buf) {
		return nil, &Error{Func: fn, Code: SAR_BUFFER_TOO_SMALL}
	}
	return buf[:n], nil
}

func (l *dlLibrary) ExportCertificate(con uintptr, sign bool) ([]byte, error) {
	return l.export("SKF_ExportCertificate", con, sign)
}
func (l *dlLibrary) ExportPublicKey(con uintptr, sign bool) ([]byte, error) {
	return l.export("SKF_ExportPublicKey", con, sign)
}

func (l *dlLibrary) ECCSignData(con uintptr, digest []byte) ([]byte, error) {
	f, err := l.f("SKF_ECCSignData")
	if err != nil {
		return nil, err
	}
	in := append([]byte(nil), digest...)
	blob := make([]byte, eccSigBlobSize+bufSlack)
	if err := check("SKF_ECCSignData", uint32(C.t_sign(f, C.uintptr_t(con), unsafe.Pointer(&in[0]), C.sd_ulong(len(in)), unsafe.Pointer(&blob[0])))); err != nil {
		return nil, err
	}
	return blob[:eccSigBlobSize], nil
}

func (l *dlLibrary) GenECCKeyPair(con uintptr) ([]byte, error) {
	f, err := l.f("SKF_GenECCKeyPair")
	if err != nil {
		return nil, err
	}
	blob := make([]byte, eccPubBlobSize+bufSlack)
	if err := check("SKF_GenECCKeyPair", uint32(C.t_genkey(f, C.uintptr_t(con), C.sd_ulong(sgdSM2_1), unsafe.Pointer(&blob[0])))); err != nil {
		return nil, err
	}
	return blob[:eccPubBlobSize], nil
}

func (l *dlLibrary) ImportCertificate(con uintptr, sign bool, der []byte) error {
	f, err := l.f("SKF_ImportCertificate")
	if err != nil {
		return err
	}
	s := C.sd_ulong(0)
	if sign {
		s = 1
	}
	in := append([]byte(nil), der...)
	return check("SKF_ImportCertificate", uint32(C.t_import(f, C.uintptr_t(con), s, unsafe.Pointer(&in[0]), C.sd_ulong(len(in)))))
}

func (l *dlLibrary) FileSize(app uintptr, name string) (int, error) {
	f, err := l.f("SKF_GetFileInfo")
	if err != nil {
		return 0, err
	}
	n := C.CString(name)
	defer C.free(unsafe.Pointer(n))
	buf := make([]byte, fileAttrSize+bufSlack)
	if err := check("SKF_GetFileInfo", uint32(C.t_fileinfo(f, C.uintptr_t(app), n, unsafe.Pointer(&buf[0])))); err != nil {
		return 0, err
	}
	return int(uint32(buf[32]) | uint32(buf[33])<<8 | uint32(buf[34])<<16 | uint32(buf[35])<<24), nil
}

func (l *dlLibrary) ReadFile(app uintptr, name string, off, size int) ([]byte, error) {
	f, err := l.f("SKF_ReadFile")
	if err != nil {
		return nil, err
	}
	n := C.CString(name)
	defer C.free(unsafe.Pointer(n))
	buf := make([]byte, size+bufSlack)
	var got C.uint32_t
	if err := check("SKF_ReadFile", uint32(C.t_read(f, C.uintptr_t(app), n, C.sd_ulong(off), C.sd_ulong(size), unsafe.Pointer(&buf[0]), &got))); err != nil {
		return nil, err
	}
	if int(got) > size {
		got = C.uint32_t(size)
	}
	return buf[:got], nil
}
