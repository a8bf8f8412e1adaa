package pdf

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"sealdesk/document"
	"sealdesk/signer"
	"sealdesk/signer/pki"
)

// Fuzz targets for every parsing path of the verifier (lexer, xref tables and streams, object
// streams, revisions, page tree, fields, change classification, container sniffing). Seeds are
// the shared corpus (when present) and our own signed files. `make fuzz` runs them longer; plain
// `go test` runs the seeds.

func addSeeds(f *testing.F) {
	in := GenerateSample(samplePages(1), SampleOptions{XrefStream: true, Compress: true})
	f.Add(in)
	// Signed seeds come from the corpus (generated-sm2/ holds ours): making a signer here would
	// cost every fuzz worker a key and seal-picture setup.
	f.Add(GenerateSample(samplePages(1), SampleOptions{}))
	{
		files, _ := filepath.Glob(filepath.Join(corpusRootQuiet(), "pdf-*", "*", "*.pdf"))
		for _, p := range files {
			if b, err := os.ReadFile(p); err == nil && len(b) < 200<<10 {
				f.Add(b)
			}
		}
	}
}

func FuzzVerify(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 1<<20 {
			return
		}
		rep, err := Verify(context.Background(), bytes.NewReader(b), int64(len(b)), &document.VerifyOptions{})
		if err == nil {
			rep.Decide()
		}
	})
}

func FuzzReader(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 1<<20 {
			return
		}
		rd, err := NewReader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		rd.Final.Pages()
		SignatureFields(rd.Final)
		for _, r := range rd.Revisions() {
			if v, err := rd.ViewAt(r.StartXref); err == nil {
				buildGraph(v)
			}
		}
		for n := 0; n < rd.Final.Size() && n < 300; n++ {
			if o, err := rd.Final.Get(Ref{Num: n}); err == nil {
				// Images may inflate to tens of MB (3000x4000 RGB in the corpus); structure
				// reading never decodes them, so neither does the fuzzer.
				if st, ok := o.(*Stream); ok && st.Length < 1<<16 && NameOf(st.Dict["Subtype"]) != "Image" {
					rd.StreamData(st)
				}
			}
		}
	})
}

// FuzzSign: signing arbitrary input either fails cleanly or produces a file our reader parses.
func FuzzSign(f *testing.F) {
	addSeeds(f)
	// An invisible signature by a bare ECDSA identity: the seal picture and SES seal are
	// input-independent and their setup would slow every fuzz worker.
	chain, err := pki.NewChain(signer.ECDSA, "Fuzz")
	if err != nil {
		f.Fatal(err)
	}
	leaf, err := chain.Issue(pki.Template{Kind: pki.Signer, CommonName: "Fuzz Signer"})
	if err != nil {
		f.Fatal(err)
	}
	req := &document.SignRequest{Profile: document.ProfilePAdES, Identity: pki.Identity(leaf, chain, "fuzz")}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 1<<20 {
			return
		}
		var out bytes.Buffer
		if err := Sign(context.Background(), bytes.NewReader(b), int64(len(b)), req, &out); err != nil {
			return
		}
		if _, err := NewReader(bytes.NewReader(out.Bytes()), int64(out.Len())); err != nil {
			t.Fatalf("our signed output does not parse: %v", err)
		}
	})
}
