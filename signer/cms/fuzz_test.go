package cms

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"sealdesk/internal/testenv"
	"sealdesk/signer"
)

// FuzzParse feeds arbitrary bytes to Parse and, when they parse, to every verification path
// (detached, attached, PAdES, time-stamp tokens). Seeds: every CMS of the PDF and OFD corpus
// and our own signatures of each algorithm and style. Nothing may panic.
func FuzzParse(f *testing.F) {
	for _, a := range allAlgs {
		id, _ := testIdentity(f, a)
		d := signer.DefaultDigest(a)
		for _, st := range []Style{Standard, GM} {
			der, err := Sign(context.Background(), digestOf(f, d, []byte("seed")), Options{Identity: id, Style: st})
			if err != nil {
				f.Fatal(err)
			}
			f.Add(der)
		}
	}
	if testenv.InCI() || dirExists(filepath.Join(testenvCorpusGuess(), "pdf-signed")) {
		for _, file := range pdfFiles(f) {
			for _, s := range pdfSignatures(f, file) {
				f.Add(s.der)
			}
		}
		for _, o := range []string{"ofd/real/sign-gbt35275-yunnan-2sigs.ofd", "ofd/generated/ofdrwgen-sign-gbt35275.ofd"} {
			for _, p := range ofdSignedValues(f, filepath.Join(corpusDir(f), o)) {
				f.Add(p[1])
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sd, err := Parse(data)
		if err != nil {
			return
		}
		sd.DigestAlgorithm()
		sd.Style()
		for i := range sd.SignerInfos {
			d, _ := sd.DigestAlgorithm()
			var dg []byte
			if d != "" {
				dg, _ = Sum(d, []byte("content"))
			}
			r := sd.Verify(dg, VerifyOptions{SignerIndex: i, PAdES: true, Content: []byte("content"), ExpectContent: []byte("x")})
			_ = r.Err()
		}
		if sd.EContent != nil {
			ParseTSTInfo(sd.EContent)
			VerifyTimestamp(data, []byte("data"), nil, nil)
		}
	})
}

func dirExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// testenvCorpusGuess finds the corpus without failing (fuzz seeds are optional outside CI).
func testenvCorpusGuess() string {
	if p := os.Getenv("SEALDESK_CORPUS"); p != "" {
		return p
	}
	root, err := testenv.RepoRoot()
	if err != nil {
		return ""
	}
	return filepath.Join(root, "..", "shared", "corpus")
}

// FuzzBER checks the BER→DER converter alone: it never panics, and what it produces is
// stable (converting DER again yields the same bytes).
func FuzzBER(f *testing.F) {
	f.Add([]byte{0x30, 0x80, 0x24, 0x80, 0x04, 0x01, 0x41, 0x00, 0x00, 0x00, 0x00})
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0x01})
	f.Add([]byte{0x1f, 0x81, 0x01, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		der, n, err := toDER(data)
		if err != nil {
			return
		}
		if n > len(data) {
			t.Fatalf("consumed %d of %d bytes", n, len(data))
		}
		again, m, err := toDER(der)
		if err != nil || m != len(der) || string(again) != string(der) {
			t.Fatalf("DER output not stable: %x → %x (%v)", der, again, err)
		}
	})
}

// TestMutations is a deterministic complement of FuzzParse for every `go test` run: 3000
// random byte mutations (overwrite, insert, delete) of real and own signatures go through
// Parse and Verify; none may panic or take long.
func TestMutations(t *testing.T) {
	var seeds [][]byte
	for _, a := range allAlgs {
		id, _ := testIdentity(t, a)
		der, err := Sign(context.Background(), digestOf(t, signer.DefaultDigest(a), []byte("seed")), Options{Identity: id})
		if err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, der)
	}
	if dirExists(filepath.Join(testenvCorpusGuess(), "pdf-signed")) {
		for _, file := range pdfFiles(t) {
			for _, s := range pdfSignatures(t, file) {
				if len(s.der) < 16<<10 {
					seeds = append(seeds, s.der)
				}
			}
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 3000; i++ {
		s := bytes.Clone(seeds[rng.IntN(len(seeds))])
		for k := 0; k < 1+rng.IntN(4); k++ {
			p := rng.IntN(len(s))
			switch rng.IntN(3) {
			case 0:
				s[p] = byte(rng.IntN(256))
			case 1:
				s = append(s[:p], append([]byte{byte(rng.IntN(256))}, s[p:]...)...)
			case 2:
				s = append(s[:p], s[p+1:]...)
			}
		}
		start := time.Now()
		if sd, err := Parse(s); err == nil {
			for j := range sd.SignerInfos {
				d, _ := sd.DigestAlgorithm()
				var dg []byte
				if d != "" {
					dg, _ = Sum(d, []byte("content"))
				}
				sd.Verify(dg, VerifyOptions{SignerIndex: j, PAdES: true})
			}
		}
		if el := time.Since(start); el > 2*time.Second {
			t.Fatalf("mutation %d took %v", i, el)
		}
	}
}
