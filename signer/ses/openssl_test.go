package ses

import (
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/emmansun/gmsm/smx509"

	"sealdesk/internal/testenv"
	"sealdesk/signer"
)

// TestOpenSSLVerifiesSM2 checks SealDesk's SES signatures with an independent SM2
// implementation: OpenSSL verifies the maker signature over the seal's signed scope and the
// signer signature over the raw TBS_Sign, with SM3 and the default distinguishing ID, for v4
// and v1.
func TestOpenSSLVerifiesSM2(t *testing.T) {
	openssl := testenv.LookPath(t, "openssl")
	p := getPKI(t)
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		f := filepath.Join(dir, name)
		if err := os.WriteFile(f, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return f
	}
	pubPEM := func(c *smx509.Certificate) []byte {
		der, err := smx509.MarshalPKIXPublicKey(c.PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	}
	run := func(pub []byte, msg, sig []byte) ([]byte, error) {
		cmd := exec.Command(openssl, "pkeyutl", "-verify", "-pubin", "-inkey", write("pub.pem", pub),
			"-rawin", "-digest", "sm3", "-pkeyopt", "distid:1234567812345678",
			"-in", write("msg.bin", msg), "-sigfile", write("sig.der", sig))
		return cmd.CombinedOutput()
	}
	verify := func(what string, pub []byte, msg, sig []byte) {
		t.Helper()
		if out, err := run(pub, msg, sig); err != nil {
			t.Fatalf("%s: openssl rejects it: %v\n%s", what, err, out)
		}
		// The same check must fail on a changed message (so the pass above means something).
		bad := append([]byte{}, msg...)
		bad[len(bad)/2] ^= 1
		if _, err := run(pub, bad, sig); err == nil {
			t.Fatalf("%s: openssl accepts a changed message", what)
		}
	}
	for _, v := range []int{V4, V1} {
		der, err := MakeSeal(p.spec(v, signer.SM2))
		if err != nil {
			t.Fatal(err)
		}
		sig, err := ParseSignature(p.sign(t, v, der, signer.SM2, []byte("openssl")))
		if err != nil {
			t.Fatal(err)
		}
		seal := sig.TBS.Seal
		verify("maker signature", pubPEM(p.maker.Cert), seal.SignedBytes(), seal.Value)
		verify("signer signature", pubPEM(p.signers[signer.SM2].Cert), sig.TBS.Raw, sig.Value)
	}
}
