package tsa

import (
	"context"
	"crypto/sha256"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"sealdesk/internal/testenv"
	"sealdesk/signer"
	"sealdesk/signer/cms"
)

// FuzzTSAResponse feeds arbitrary bytes to ParseResponse and any token in them to Verify.
// Seeds: granted and refused responses of the test TSA for each key algorithm, and the
// document time-stamp tokens of the PDF corpus wrapped in granted responses.
func FuzzTSAResponse(f *testing.F) {
	dg := sha256.Sum256([]byte("seed"))
	for _, a := range []signer.KeyAlgorithm{signer.RSA, signer.ECDSA, signer.SM2} {
		ts := testTSA(f, a)
		req := &Request{HashAlgorithm: signer.SHA256, HashedMessage: dg[:], CertReq: true}
		der, _ := req.Marshal()
		f.Add(ts.Respond(context.Background(), der))
	}
	f.Add(marshalResponse(StatusRejection, "no", FailBadAlg, nil))
	toks := corpusTokens(f)
	for _, tok := range toks {
		if r, err := ParseResponse(marshalResponse(StatusGranted, "", -1, tok)); err != nil || r.Token == nil {
			f.Fatalf("corpus token does not round-trip through a response: %v", err)
		}
		f.Add(marshalResponse(StatusGranted, "", -1, tok))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseResponse(data)
		if err != nil {
			return
		}
		_ = r.Err()
		if r.Token != nil {
			if info, err := Verify(r.Token, []byte("seed")); err == nil {
				_ = info.Err()
			}
		}
	})
}

// FuzzTSARequest: the test TSA parses requests from the network; it must never panic.
func FuzzTSARequest(f *testing.F) {
	dg := sha256.Sum256([]byte("seed"))
	req := &Request{HashAlgorithm: signer.SHA256, HashedMessage: dg[:], CertReq: true, Policy: DefaultPolicy}
	der, _ := req.Marshal()
	f.Add(der)
	f.Fuzz(func(t *testing.T, data []byte) {
		if r, err := ParseRequest(data); err == nil {
			r.Marshal()
		}
	})
}

var byteRangeRE = regexp.MustCompile(`/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]`)

// corpusTokens returns the /Contents of the corpus PDFs' ETSI.RFC3161 document time-stamps.
func corpusTokens(t testing.TB) [][]byte {
	if !testenv.InCI() {
		if _, err := os.Stat(filepath.Join(corpusGuess(), "pdf-signed")); err != nil {
			return nil
		}
	}
	dir := testenv.Corpus(t)
	files, _ := filepath.Glob(filepath.Join(dir, "pdf-signed", "*", "*.pdf"))
	var out [][]byte
	for _, f := range files {
		d, _ := os.ReadFile(f)
		if !regexp.MustCompile(`/ETSI\.RFC3161`).Match(d) {
			continue
		}
		for _, m := range byteRangeRE.FindAllSubmatch(d, -1) {
			b, _ := strconv.Atoi(string(m[2]))
			c, _ := strconv.Atoi(string(m[3]))
			if b <= 0 || c <= b+2 || c > len(d) {
				continue
			}
			raw := make([]byte, (c-b-2)/2)
			n := 0
			for i := b + 1; i+1 < c-1 && n < len(raw); i += 2 {
				v, err := strconv.ParseUint(string(d[i:i+2]), 16, 8)
				if err != nil {
					break
				}
				raw[n] = byte(v)
				n++
			}
			if sd, err := cms.Parse(raw[:n]); err == nil { // drop the /Contents zero padding
				out = append(out, sd.Raw)
			}
		}
	}
	return out
}

func corpusGuess() string {
	if p := os.Getenv("SEALDESK_CORPUS"); p != "" {
		return p
	}
	root, err := testenv.RepoRoot()
	if err != nil {
		return ""
	}
	return filepath.Join(root, "..", "shared", "corpus")
}
