package ofd

import (
	"bytes"
	"context"
	"testing"
)

func TestSampleContract(t *testing.T) {
	data := SampleContract(3).Bytes()
	if !bytes.Equal(data, SampleContract(3).Bytes()) {
		t.Fatal("generator output is not deterministic")
	}
	rd, err := Open(bytes.NewReader(data), int64(len(data)), nil)
	if err != nil {
		t.Fatal(err)
	}
	if rd.NumPages() != 3 {
		t.Fatalf("%d pages", rd.NumPages())
	}
	doc := NewDocument(rd, nil)
	for _, q := range []string{"甲方（盖章）", "乙方（盖章）"} {
		hits, err := doc.FindText(context.Background(), q)
		if err != nil || len(hits) != 1 || hits[0].Page != 2 {
			t.Fatalf("FindText(%q) = %+v, %v", q, hits, err)
		}
		// The hit box is where the generator put the text: size 5 mm, x 25 or 115.
		r := hits[0].Rect
		if want := TextWidth(q, 5); r.W < want-0.1 || r.W > want+0.1 || r.H < 4.9 || r.H > 5.1 {
			t.Errorf("%q box %+v, want width %.2f height 5", q, r, want)
		}
		if r.X != 25 && r.X != 115 {
			t.Errorf("%q at x=%g", q, r.X)
		}
	}
	txt, _ := rd.PlainText(context.Background(), 0)
	if !bytes.Contains([]byte(txt), []byte("技术服务合同")) {
		t.Errorf("page 1 text: %s", txt)
	}
}
