//go:build cgo && (linux || darwin || freebsd)

package token

/*
#cgo linux LDFLAGS: -ldl
#include <dlfcn.h>
#include <stdlib.h>

typedef unsigned long sd_ulong;
typedef sd_ulong (*sd_login_fn)(sd_ulong, sd_ulong, unsigned char *, sd_ulong);

// sd_find_login returns the module's exported C_Login, only if the library is loaded
// already (RTLD_NOLOAD), so it is the same instance that miekg/pkcs11 initialised.
static void *sd_find_login(const char *path) {
	void *h = dlopen(path, RTLD_NOW | RTLD_NOLOAD);
	if (h == NULL) return NULL;
	void *f = dlsym(h, "C_Login");
	dlclose(h); // drops only our extra reference
	return f;
}

static sd_ulong sd_call_login(void *f, sd_ulong sess, sd_ulong user, unsigned char *pin, sd_ulong len) {
	return ((sd_login_fn)f)(sess, user, pin, len);
}
*/
import "C"

import (
	"unsafe"

	"github.com/miekg/pkcs11"
)

// findLogin looks up the module's C_Login symbol (nil when it does not export one).
func findLogin(path string) unsafe.Pointer {
	p := C.CString(path)
	defer C.free(unsafe.Pointer(p))
	return C.sd_find_login(p)
}

// login calls C_Login with the caller's PIN bytes directly, so no copy of the PIN is made in
// Go or C memory (miekg/pkcs11's Login copies it into C memory and frees it unwiped). The
// PIN buffer is Go memory without pointers, which cgo allows C to read during the call.
func (m *module) login(c *pkcs11.Ctx, sess pkcs11.SessionHandle, userType uint, pin []byte) error {
	if m.loginFn == nil {
		var p string
		if len(pin) > 0 {
			p = unsafe.String(&pin[0], len(pin))
		}
		return c.Login(sess, userType, p)
	}
	var ptr *C.uchar
	if len(pin) > 0 {
		ptr = (*C.uchar)(unsafe.Pointer(&pin[0]))
	}
	rv := C.sd_call_login(m.loginFn, C.sd_ulong(sess), C.sd_ulong(userType), ptr, C.sd_ulong(len(pin)))
	if rv != 0 {
		return pkcs11.Error(rv)
	}
	return nil
}
