package trust

import (
	"context"
	"encoding/pem"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emmansun/gmsm/smx509"

	"sealdesk/internal/testenv"
	"sealdesk/signer"
	"sealdesk/signer/pki"
)

// TestOpenSSLResponder checks the OCSP codec against an independent implementation: OpenSSL's
// `openssl ocsp` answers the requests this package sends (RSA and ECDSA; OpenSSL's ocsp tool
// does not sign with SM3withSM2), for a good and a revoked certificate.
func TestOpenSSLResponder(t *testing.T) {
	openssl := testenv.LookPath(t, "openssl")
	for _, alg := range []signer.KeyAlgorithm{signer.ECDSA, signer.RSA} {
		t.Run(string(alg), func(t *testing.T) {
			dir := t.TempDir()
			ca := newTestCA(t, alg)
			keyDER, err := smx509.MarshalPKCS8PrivateKey(ca.inter.Key)
			if err != nil {
				t.Fatal(err)
			}
			write := func(name string, b []byte) string {
				p := filepath.Join(dir, name)
				if err := os.WriteFile(p, b, 0o600); err != nil {
					t.Fatal(err)
				}
				return p
			}
			caPEM := write("ca.pem", pki.PEM(ca.inter.Cert))
			keyPEM := write("ca.key", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))
			idx := filepath.Join(dir, "index.txt")
			// The test server hands each request to `openssl ocsp`, which answers from idx.
			n := 0
			url := newRawServer(t, func(w http.ResponseWriter, req []byte) {
				n++
				in := write(fmt.Sprintf("req%d.der", n), req)
				out := filepath.Join(dir, fmt.Sprintf("resp%d.der", n))
				cmd := exec.Command(openssl, "ocsp", "-index", idx, "-rsigner", caPEM, "-rkey", keyPEM, "-CA", caPEM,
					"-reqin", in, "-respout", out, "-ndays", "1")
				if b, err := cmd.CombinedOutput(); err != nil {
					t.Errorf("openssl ocsp: %v\n%s", err, b)
				}
				b, _ := os.ReadFile(out)
				w.Write(b)
			})
			issue := func(cn string) *pki.Pair {
				p, err := pki.New(alg, pki.Template{Kind: pki.Signer, CommonName: cn, OCSPServer: []string{url}}, ca.inter)
				if err != nil {
					t.Fatal(err)
				}
				return p
			}
			good, bad := issue("openssl good"), issue("openssl revoked")
			exp := time.Now().AddDate(1, 0, 0).UTC().Format("060102150405Z")
			rev := time.Now().Add(-time.Hour).UTC().Format("060102150405Z")
			write("index.txt", []byte(fmt.Sprintf("V\t%s\t\t%X\tunknown\t/CN=openssl good\nR\t%s\t%s\t%X\tunknown\t/CN=openssl revoked\n",
				exp, good.Cert.SerialNumber, exp, rev, bad.Cert.SerialNumber)))

			v, _ := NewVerifier(Config{Roots: pki.PEM(ca.root.Cert)})
			inters := []*smx509.Certificate{ca.inter.Cert}
			if r := v.Check(context.Background(), good.Cert, inters, time.Now()); r.Status() != OK || !strings.HasPrefix(r.RevocationVia, "ocsp") {
				t.Fatalf("good via OpenSSL: %s %q %+v", r.Status(), r.RevocationVia, r.Problems)
			}
			if r := v.Check(context.Background(), bad.Cert, inters, time.Now()); r.Revocation != Failed || !hasCode(r, CodeRevoked) {
				t.Fatalf("revoked via OpenSSL: %+v", r)
			}
		})
	}
}

func newRawServer(t *testing.T, respond func(http.ResponseWriter, []byte)) string {
	mux := http.NewServeMux()
	mux.HandleFunc("/ocsp", func(w http.ResponseWriter, r *http.Request) {
		b := make([]byte, 0, 512)
		buf := make([]byte, 512)
		for {
			n, err := r.Body.Read(buf)
			b = append(b, buf[:n]...)
			if err != nil {
				break
			}
		}
		respond(w, b)
	})
	srv := httptestServer(t, mux)
	return srv + "/ocsp"
}
