package ofdsig

import (
	"bytes"
	"context"
	"testing"

	"sealdesk/document"
	"sealdesk/document/ofd"
)

// A 100-page document from package ofd's generator (text-heavy pages, ~the size of a long
// contract), signed with an SM2 key and an SES v4 seal; 3 stamps (one seal, a two-page
// cross-page strip).
func bench100(b *testing.B) (*fixture, []byte) {
	f := newFixture(b)
	return f, ofd.SampleLong(100).Bytes()
}

func BenchmarkSign100Pages(b *testing.B) {
	f, in := bench100(b)
	req := f.request(document.ProfileOFDSES4, 2)
	var out bytes.Buffer
	b.SetBytes(int64(len(in)))
	b.ResetTimer()
	cpu := cpuTime()
	for range b.N {
		out.Reset()
		if err := SignWith(context.Background(), bytes.NewReader(in), int64(len(in)), req, nil, &out); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cpuTime()-cpu)/1e6/float64(b.N), "cpu-ms/op")
	b.ReportMetric(float64(out.Len()), "out-bytes")
}

func BenchmarkVerify100Pages(b *testing.B) {
	f, in := bench100(b)
	signed := signBytes(b, in, f.request(document.ProfileOFDSES4, 2), nil)
	opts := &document.VerifyOptions{TrustPEM: f.root, Offline: true}
	b.SetBytes(int64(len(signed)))
	b.ResetTimer()
	cpu := cpuTime()
	for range b.N {
		rep, err := Verify(context.Background(), bytes.NewReader(signed), int64(len(signed)), opts)
		if err != nil {
			b.Fatal(err)
		}
		if rep.Decide(); !rep.Valid {
			b.Fatalf("not valid: %+v", rep.Signatures[0].Problems)
		}
	}
	b.ReportMetric(float64(cpuTime()-cpu)/1e6/float64(b.N), "cpu-ms/op")
}
