//go:build !linux || android

package ui

import "fyne.io/fyne/v2"

// FileDialogEnv set to "app" makes the app use its own file dialog (only the Linux build asks
// a desktop portal; the others always use the app's own).
const FileDialogEnv = "SEALDESK_FILE_DIALOG"

func usePortal() bool { return false }

func portalChoose(fyne.Window, fileRequest) (string, bool, error) { return "", false, nil }
