// Package assets embeds the files the app ships: the CJK font that makes Chinese text render on
// any machine (UI, OFD fallback, PDF preview on systems without CJK fonts, seal pictures).
package assets

import _ "embed"

//go:embed fonts/SealDeskSansSC-Regular.otf
var cjkFont []byte

// CJKFontName is the family name of the bundled CJK font.
const CJKFontName = "SealDesk Sans SC"

// CJKFontFile is the bundled font's file name, for engines that look fonts up by file.
const CJKFontFile = "SealDeskSansSC-Regular.otf"

// CJKFont returns the bundled font: the GB2312 + ASCII subset of Noto Sans CJK SC Regular
// (SIL OFL 1.1, see fonts/OFL.txt), an OpenType (CFF) file. Callers must not modify it.
func CJKFont() []byte { return cjkFont }
