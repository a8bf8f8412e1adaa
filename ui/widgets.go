package ui

import (
	"fyne.io/fyne/v2/container"
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
)

func themeForeground() color.Color { return theme.Color(theme.ColorNameForeground) }

func canvasText(s string, c color.Color, bold bool) *canvas.Text {
	t := canvas.NewText(s, c)
	t.TextStyle.Bold = bold
	return t
}

func layoutSpacer() fyne.CanvasObject { return layout.NewSpacer() }

func containerStack(objs ...fyne.CanvasObject) *fyne.Container { return container.NewStack(objs...) }
