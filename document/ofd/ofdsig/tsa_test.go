package ofdsig

import (
	"bytes"
	"io"
	"net/http/httptest"
	"testing"

	"sealdesk/document"
	"sealdesk/signer/pki"
	"sealdesk/signer/tsa"
)

// TestTimeStamp: with a TSA the SES v4 signature carries a timeStamp over its value, and the
// verifier takes the signing time from it.
func TestTimeStamp(t *testing.T) {
	f := newFixture(t)
	tp, err := f.chain.Issue(pki.Template{Kind: pki.TSA, CommonName: "OFD Test TSA"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(tsa.NewServer(tp, f.chain.Certs()...))
	defer srv.Close()
	req := f.request(document.ProfileOFDSES4, 1)
	req.TSA = srv.URL
	out := signBytes(t, makeOFD(t, 1), req, nil)
	independentCheck(t, out)
	rep := verifyBytes(t, out, &document.VerifyOptions{TrustPEM: f.root, Offline: true})
	s := rep.Signatures[0]
	if !s.Valid || s.TimeSource != "timestamp" || s.SignedAt == "" {
		t.Fatalf("valid %v timeSource %q signedAt %q: %v", s.Valid, s.TimeSource, s.SignedAt, s.Problems)
	}
	// GM/T 0031 has no timestamp field: asking for one is an error, not a silent omission.
	req1 := f.request(document.ProfileOFDSES1, 1)
	req1.TSA = srv.URL
	in := makeOFD(t, 1)
	if err := SignWith(t.Context(), bytes.NewReader(in), int64(len(in)), req1, nil, io.Discard); err == nil {
		t.Error("ofd-ses1 with a TSA signed")
	}
}
