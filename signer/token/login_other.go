//go:build cgo && !(linux || darwin || freebsd)

package token

import (
	"unsafe"

	"github.com/miekg/pkcs11"
)

func findLogin(string) unsafe.Pointer { return nil }

// login passes the PIN to miekg/pkcs11 without a Go string copy; miekg copies it once into
// C memory and frees it unwiped (documented residual risk on these systems).
func (m *module) login(c *pkcs11.Ctx, sess pkcs11.SessionHandle, userType uint, pin []byte) error {
	var p string
	if len(pin) > 0 {
		p = unsafe.String(&pin[0], len(pin))
	}
	return c.Login(sess, userType, p)
}
