package softkey

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emmansun/gmsm/cfca"
	"github.com/emmansun/gmsm/sm2"

	"sealdesk/signer"
	"sealdesk/signer/pki"
)

var password = []byte("s3cret-密码")

func issue(t testing.TB, a signer.KeyAlgorithm) (*pki.Chain, *pki.Pair) {
	t.Helper()
	ch, err := pki.NewChain(a, "Softkey Test")
	if err != nil {
		t.Fatal(err)
	}
	p, err := ch.Issue(pki.Template{Kind: pki.Signer, CommonName: "softkey " + string(a)})
	if err != nil {
		t.Fatal(err)
	}
	return ch, p
}

// write makes the keystore the demo makes for a: SM2 → PEM, others → PKCS#12.
func write(t testing.TB, dir string, a signer.KeyAlgorithm, ch *pki.Chain, p *pki.Pair) string {
	t.Helper()
	if a == signer.SM2 {
		path := filepath.Join(dir, "signer-sm2.pem")
		if err := WritePEM(path, p.Key, p.Cert, ch.Certs(), password); err != nil {
			t.Fatal(err)
		}
		return path
	}
	path := filepath.Join(dir, "signer-"+string(a)+".p12")
	if err := WritePKCS12(path, p.Key, p.Cert, ch.Certs(), password); err != nil {
		t.Fatal(err)
	}
	return path
}

func verify(t *testing.T, id *signer.Identity, msg []byte) {
	t.Helper()
	switch id.Algorithm {
	case signer.SM2:
		sig, err := signer.SignSM2Message(id.Signer, msg)
		if err != nil {
			t.Fatal(err)
		}
		pub := id.Certificate.PublicKey.(*ecdsa.PublicKey)
		if !sm2.VerifyASN1WithSM2(pub, nil, msg, sig) {
			t.Fatal("SM2 signature does not verify")
		}
	case signer.ECDSA:
		d := sha256.Sum256(msg)
		sig, err := id.Signer.Sign(rand.Reader, d[:], crypto.SHA256)
		if err != nil {
			t.Fatal(err)
		}
		if !ecdsa.VerifyASN1(id.Certificate.PublicKey.(*ecdsa.PublicKey), d[:], sig) {
			t.Fatal("ECDSA signature does not verify")
		}
	case signer.RSA:
		d := sha256.Sum256(msg)
		sig, err := id.Signer.Sign(rand.Reader, d[:], crypto.SHA256)
		if err != nil {
			t.Fatal(err)
		}
		if err := rsa.VerifyPKCS1v15(id.Certificate.PublicKey.(*rsa.PublicKey), crypto.SHA256, d[:], sig); err != nil {
			t.Fatal(err)
		}
	}
}

func TestKeystores(t *testing.T) {
	for _, a := range []signer.KeyAlgorithm{signer.SM2, signer.ECDSA, signer.RSA} {
		t.Run(string(a), func(t *testing.T) {
			dir := t.TempDir()
			ch, p := issue(t, a)
			path := write(t, dir, a, ch, p)
			if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
				t.Fatalf("keystore mode %v, want 0600", st.Mode().Perm())
			}
			before, _ := os.ReadFile(path)
			seal := []byte("SES seal DER for " + string(a))
			os.WriteFile(SealPath(path), seal, 0o644)

			st := New(path)
			ids, err := st.Identities(context.Background())
			if err != nil || len(ids) != 1 || ids[0].Signer != nil || ids[0].URI != FileURI(path) {
				t.Fatalf("identities: %+v %v", ids, err)
			}
			if a == signer.SM2 && (ids[0].Certificate == nil || ids[0].Algorithm != signer.SM2) {
				t.Fatal("a PEM keystore shows its certificate without the password")
			}

			_, err = st.Open(context.Background(), st.URI(), []byte("wrong"))
			var pe *signer.PINError
			var pwe *PasswordError
			if !errors.As(err, &pe) || pe.Reason != "incorrect" || pe.TriesLeft != -1 || !errors.As(err, &pwe) {
				t.Fatalf("wrong password: %T %v", err, err)
			}
			if !strings.Contains(err.Error(), "wrong password for keystore") || !strings.Contains(err.Error(), filepath.Base(path)) {
				t.Fatalf("message %q", err)
			}
			if _, err := st.Open(context.Background(), "", nil); !errors.As(err, &pe) {
				t.Fatalf("empty password: %v", err)
			}

			id, err := st.Open(context.Background(), "file://"+path, password)
			if err != nil {
				t.Fatal(err)
			}
			if id.Algorithm != a || !id.Certificate.Equal(p.Cert) || len(id.Chain) != 2 || !id.Chain[1].Equal(ch.Root.Cert) {
				t.Fatalf("identity: alg %s chain %d", id.Algorithm, len(id.Chain))
			}
			if len(id.Seals) != 1 || !bytes.Equal(id.Seals[0], seal) {
				t.Fatal("the .esl seal next to the keystore was not picked up")
			}
			verify(t, id, []byte("document to sign"))
			after, _ := os.ReadFile(path)
			if !bytes.Equal(before, after) {
				t.Fatal("the keystore file changed")
			}
		})
	}
}

func TestPEMForOtherAlgorithms(t *testing.T) {
	for _, a := range []signer.KeyAlgorithm{signer.ECDSA, signer.RSA} {
		ch, p := issue(t, a)
		path := filepath.Join(t.TempDir(), "k.pem")
		if err := WritePEM(path, p.Key, p.Cert, ch.Certs(), password); err != nil {
			t.Fatal(err)
		}
		id, err := Load(path, password)
		if err != nil {
			t.Fatal(err)
		}
		verify(t, id, []byte("x"))
	}
}

func TestSM2NotInPKCS12(t *testing.T) {
	ch, p := issue(t, signer.SM2)
	err := WritePKCS12(filepath.Join(t.TempDir(), "x.p12"), p.Key, p.Cert, ch.Certs(), password)
	if err == nil || !strings.Contains(err.Error(), "use WritePEM") {
		t.Fatalf("got %v", err)
	}
}

func TestCFCAContainer(t *testing.T) {
	_, p := issue(t, signer.SM2)
	der, err := cfca.MarshalSM2(password, p.Key.(*sm2.PrivateKey), p.Cert)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "user.sm2")
	os.WriteFile(path, []byte(base64.StdEncoding.EncodeToString(der)), 0o600)
	id, err := Load(path, password)
	if err != nil {
		t.Fatal(err)
	}
	verify(t, id, []byte("cfca"))
	_, err = Load(path, []byte("nope"))
	var pe *signer.PINError
	if !errors.As(err, &pe) {
		t.Fatalf("wrong password: %v", err)
	}
}

func TestMalformed(t *testing.T) {
	dir := t.TempDir()
	for name, data := range map[string]string{
		"garbage.p12":  "\x30\x03\x02\x01",
		"text.bin":     "hello",
		"nokey.pem":    "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
		"badenc.pem":   "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n",
		"legacy.pem":   "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAAA\n-----END RSA PRIVATE KEY-----\n",
		"notb64.sm2":   "!!!!",
		"missing.none": "",
	} {
		path := filepath.Join(dir, name)
		if name != "missing.none" {
			os.WriteFile(path, []byte(data), 0o600)
		}
		_, err := Load(path, password)
		var fe *FormatError
		if !errors.As(err, &fe) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: %T %v", name, err, err)
		}
	}
}

func TestFileURI(t *testing.T) {
	for in, want := range map[string]string{
		"file:/a/b.p12":            "/a/b.p12",
		"file:///a/b.p12":          "/a/b.p12",
		"file://localhost/a/b.p12": "/a/b.p12",
		"file:rel/b.pem":           "rel/b.pem",
	} {
		got, err := ParseFileURI(in)
		if err != nil || got != filepath.FromSlash(want) {
			t.Errorf("%s: %q %v", in, got, err)
		}
	}
	for _, bad := range []string{"file://host/x", "file:", "pkcs11:x"} {
		if _, err := ParseFileURI(bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func FuzzLoad(f *testing.F) {
	ch, p := issue(f, signer.ECDSA)
	dir := f.TempDir()
	seedPath := write(f, dir, signer.ECDSA, ch, p)
	seed, _ := os.ReadFile(seedPath)
	f.Add(seed, "x.p12")
	f.Add([]byte("-----BEGIN ENCRYPTED PRIVATE KEY-----\nMAA=\n-----END ENCRYPTED PRIVATE KEY-----\n"), "x.pem")
	f.Add([]byte("MAA="), "x.sm2")
	f.Fuzz(func(t *testing.T, data []byte, name string) {
		ext := filepath.Ext(name)
		if strings.ContainsAny(ext, "/\\\x00") {
			ext = ".bin"
		}
		path := filepath.Join(t.TempDir(), "k"+ext)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			return
		}
		id, err := Load(path, password)
		if err == nil && id.Signer == nil {
			t.Fatal("nil signer without error")
		}
	})
}

func BenchmarkSoftSign(b *testing.B) {
	for _, a := range []signer.KeyAlgorithm{signer.RSA, signer.ECDSA, signer.SM2} {
		b.Run(string(a), func(b *testing.B) {
			ch, p := issue(b, a)
			id, err := Load(write(b, b.TempDir(), a, ch, p), password)
			if err != nil {
				b.Fatal(err)
			}
			d := sha256.Sum256([]byte("bench"))
			opts := crypto.SignerOpts(crypto.SHA256)
			if a == signer.SM2 {
				opts = crypto.Hash(0) // e = SM3(Z‖M) per the SM2 convention; any 32 bytes time the same
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := id.Signer.Sign(rand.Reader, d[:], opts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
