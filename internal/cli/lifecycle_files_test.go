package cli

import (
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSealApplyChecksFiles: sealctl seal apply refuses a bad picture, a bad attachment and a
// bad validity before it reads a PIN or reaches the hub (the checks the app's form shares).
func TestSealApplyChecksFiles(t *testing.T) {
	dir := t.TempDir()
	opaque := filepath.Join(dir, "opaque.png")
	f, _ := os.Create(opaque)
	img := image.NewNRGBA(image.Rect(0, 0, 300, 300))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	png.Encode(f, img)
	f.Close()
	jpeg := filepath.Join(dir, "seal.png")
	os.WriteFile(jpeg, []byte("\xff\xd8\xff\xe0\x00\x10JFIF"), 0o644)
	exe := filepath.Join(dir, "licence.pdf")
	os.WriteFile(exe, []byte("MZ\x90\x00program"), 0o644)
	tok := filepath.Join(dir, "token.txt")
	os.WriteFile(tok, []byte("t0ken"), 0o600)
	base := []string{"seal", "apply", "--token-file", tok, "--hub", "http://127.0.0.1:9", "--key", "pkcs11:token=T;object=k", "--name", "某单位合同专用章", "--type", "04"}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--picture", opaque}, "background is not transparent"},
		{[]string{"--picture", jpeg}, "not a PNG image"},
		{[]string{"--picture", filepath.Join(dir, "missing.png")}, "picture missing.png"},
		{[]string{"--attach", exe}, "want a PDF, OFD, PNG or JPEG scan"},
		{[]string{"--validity", "20年"}, "want 1-3650 days"},
	} {
		code, _, stderr := run(t, append(append([]string{}, base...), c.args...)...)
		if code != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, %q; want 2 and %q", c.args, code, stderr, c.want)
		}
	}
}
