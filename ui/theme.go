package ui

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"

	"sealdesk/assets"
)

// cjkFont is the bundled Chinese font, so text renders the same on every machine (fyne's own
// font has no CJK glyphs, and its system-font fallback is off in test builds).
var cjkFont = fyne.NewStaticResource(assets.CJKFontFile, assets.CJKFont())

// sealTheme wraps the default theme: the CJK font for text, and an explicit light or dark
// variant when the user chose one (Variant -1 follows the system).
type sealTheme struct {
	variant fyne.ThemeVariant
	follow  bool
}

// NewTheme returns the app theme; dark selects the dark variant, system follows the desktop.
func NewTheme(dark, system bool) fyne.Theme {
	v := theme.VariantLight
	if dark {
		v = theme.VariantDark
	}
	return &sealTheme{variant: v, follow: system}
}

func (t *sealTheme) Color(n fyne.ThemeColorName, v fyne.ThemeVariant) color.Color {
	if !t.follow {
		v = t.variant
	}
	if n == theme.ColorNamePrimary {
		return color.NRGBA{R: 0xc8, G: 0x10, B: 0x2e, A: 0xff} // seal red
	}
	return theme.DefaultTheme().Color(n, v)
}

func (t *sealTheme) Font(s fyne.TextStyle) fyne.Resource {
	if s.Monospace || s.Symbol {
		return theme.DefaultTheme().Font(s)
	}
	return cjkFont
}

func (t *sealTheme) Icon(n fyne.ThemeIconName) fyne.Resource { return theme.DefaultTheme().Icon(n) }
func (t *sealTheme) Size(n fyne.ThemeSizeName) float32       { return theme.DefaultTheme().Size(n) }
