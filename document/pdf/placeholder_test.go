package pdf

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"sealdesk/document"
	"sealdesk/signer"
)

// lyingContainer under-reports its MaxSize (like a TSA token larger than the reserve).
type lyingContainer struct {
	signer.Container
	max int
}

func (c *lyingContainer) MaxSize() int { return c.max }

// growingContainer returns a container larger on every Build, so no placeholder fits.
type growingContainer struct {
	signer.Container
	builds int
}

func (c *growingContainer) MaxSize() int { return 1000 }
func (c *growingContainer) Build(ctx context.Context, digest []byte) ([]byte, error) {
	c.builds++
	return bytes.Repeat([]byte{0x30}, 20000*c.builds*c.builds), nil
}

func TestSignRetriesPlaceholder(t *testing.T) {
	for _, tc := range []struct {
		alg     signer.KeyAlgorithm
		profile document.Profile
	}{{signer.ECDSA, document.ProfilePAdES}, {signer.SM2, document.ProfilePDFGM}, {signer.SM2, document.ProfilePDFSES}} {
		in := GenerateSample(samplePages(1), SampleOptions{XrefStream: tc.profile == document.ProfilePDFGM})
		req := request(t, tc.alg, tc.profile, document.Stamp{Page: 0, Rect: document.Rect{X: 20, Y: 20, W: 30, H: 30}})
		real, _, err := containerFor(req, req.Time)
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		if err := sign(context.Background(), bytes.NewReader(in), int64(len(in)), req, "", &lyingContainer{real, 64}, &out); err != nil {
			t.Fatalf("%s: sign with a 64-byte MaxSize: %v", tc.profile, err)
		}
		b := out.Bytes()
		if !bytes.Equal(b[:len(in)], in) {
			t.Fatalf("%s: the output does not start with the original", tc.profile)
		}
		cs, _, _ := sigContents(t, b)
		if len(cs.B) <= 64 {
			t.Errorf("%s: /Contents is %d bytes; the retry did not enlarge the placeholder", tc.profile, len(cs.B))
		}
		qpdfCheck(t, writeTemp(t, "retried.pdf", b))
		keep(t, "retried-"+string(tc.profile)+".pdf", b)
		requireValid(t, string(tc.profile)+" after placeholder retry", verifyBytes(t, b, getSigner(t, tc.alg).chain.Root.Cert), 1)
	}
}

func TestSignPlaceholderNeverTruncates(t *testing.T) {
	in := GenerateSample(samplePages(1), SampleOptions{})
	req := request(t, signer.ECDSA, document.ProfilePAdES)
	req.Time = time.Now()
	real, _, err := containerFor(req, req.Time)
	if err != nil {
		t.Fatal(err)
	}
	g := &growingContainer{Container: real}
	var out bytes.Buffer
	err = sign(context.Background(), bytes.NewReader(in), int64(len(in)), req, "", g, &out)
	var pe *PlaceholderError
	if !errors.As(err, &pe) || pe.First != 20000 || pe.Got != 80000 || pe.Retried < pe.First {
		t.Fatalf("err %v, want a PlaceholderError after one retry (20000 then 80000 bytes)", err)
	}
	if g.builds != 2 {
		t.Errorf("%d builds, want 2 (one retry)", g.builds)
	}
	// Only the unchanged original may have been written: no partial signature.
	if !bytes.Equal(out.Bytes(), in) {
		t.Errorf("after the failure out holds %d bytes, want exactly the %d original bytes", out.Len(), len(in))
	}
}

// TestCloneHash: the retry resumes from a copy of the hash state after the original bytes, for
// SHA-256 (hash.Cloner) and SM3 (binary marshaling only).
func TestCloneHash(t *testing.T) {
	for _, d := range []signer.DigestAlgorithm{signer.SHA256, signer.SM3} {
		h, err := d.New()
		if err != nil {
			t.Fatal(err)
		}
		h.Write([]byte("original bytes"))
		c := cloneHash(h, d)
		if c == nil {
			t.Fatalf("%v: the hash state cannot be copied; a retry would re-read the input", d)
		}
		h.Write([]byte("tail"))
		c.Write([]byte("tail"))
		if !bytes.Equal(h.Sum(nil), c.Sum(nil)) {
			t.Errorf("%v: the copied state gives a different digest", d)
		}
	}
}
