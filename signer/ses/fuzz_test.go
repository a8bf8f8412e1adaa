package ses

import (
	"context"
	"testing"
	"time"

	"sealdesk/signer"
)

// seedCorpus adds every SES value and seal of the shared corpus, plus ones made here.
func seedCorpus(f *testing.F, seal bool) {
	for _, cs := range corpusSignatures(f) {
		if seal {
			if cs.sealESL != nil {
				f.Add(cs.sealESL)
			}
			if s, err := ParseSignature(cs.value); err == nil {
				f.Add(s.TBS.Seal.Raw)
			}
			continue
		}
		f.Add(cs.value)
	}
	p := getPKI(f)
	for _, v := range []int{V4, V1} {
		der, err := MakeSeal(p.spec(v, signer.SM2))
		if err != nil {
			f.Fatal(err)
		}
		if seal {
			f.Add(der)
		} else {
			f.Add(p.sign(f, v, der, signer.SM2, []byte("x")))
		}
	}
}

func FuzzParseSeal(f *testing.F) {
	seedCorpus(f, true)
	f.Fuzz(func(t *testing.T, der []byte) {
		s, err := ParseSeal(der)
		if err != nil {
			return
		}
		// Whatever parses must also survive verification and the picture helpers.
		VerifySeal(s, time.Now())
		Picture(s)
		_ = (&Result{Seal: s}).SealReport()
	})
}

func FuzzParseSignature(f *testing.F) {
	seedCorpus(f, false)
	f.Fuzz(func(t *testing.T, der []byte) {
		s, err := ParseSignature(der)
		if err != nil {
			return
		}
		r := VerifySignature(context.Background(), s, VerifyOptions{Content: []byte("x")})
		r.Status()
		r.SealReport()
		r.Problems()
	})
}
