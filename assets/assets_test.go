package assets

import (
	"testing"

	"golang.org/x/image/font/sfnt"
)

func TestCJKFontCoversChinese(t *testing.T) {
	f, err := sfnt.Parse(CJKFont())
	if err != nil {
		t.Fatalf("bundled font does not parse: %v", err)
	}
	var b sfnt.Buffer
	for _, r := range "电子印章合同专用章甲方乙方盖章SealDesk123" {
		gi, err := f.GlyphIndex(&b, r)
		if err != nil || gi == 0 {
			t.Errorf("no glyph for %q (%v)", r, err)
		}
	}
	name, err := f.Name(&b, sfnt.NameIDFamily)
	if err != nil || name != CJKFontName {
		t.Errorf("family name %q (%v), want %q (the OFL reserves the original name)", name, err, CJKFontName)
	}
}
