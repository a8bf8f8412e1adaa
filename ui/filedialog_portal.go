//go:build linux && !android

package ui

import (
	"fmt"
	"net/url"
	"os"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver"
	"github.com/godbus/dbus/v5"
	"github.com/rymdport/portal"
	"github.com/rymdport/portal/filechooser"
)

// FileDialogEnv set to "app" makes the app use its own file dialog even where the desktop
// offers a portal (tests, and desktops whose portal chooser misbehaves).
const FileDialogEnv = "SEALDESK_FILE_DIALOG"

// usePortal says whether the desktop's XDG portal is there to ask: a session bus on which
// org.freedesktop.portal.Desktop has an owner (or can be started).
func usePortal() bool {
	if os.Getenv(FileDialogEnv) == "app" || os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		return false
	}
	conn, err := dbus.SessionBus()
	if err != nil {
		return false
	}
	var has bool
	if err := conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, "org.freedesktop.portal.Desktop").Store(&has); err == nil && has {
		return true
	}
	var names []string
	if err := conn.BusObject().Call("org.freedesktop.DBus.ListActivatableNames", 0).Store(&names); err == nil {
		for _, n := range names {
			if n == "org.freedesktop.portal.Desktop" {
				return true
			}
		}
	}
	return false
}

// portalChoose asks the desktop's file chooser (it blocks until the user answers). ok is false
// when the user cancelled; err means the portal could not ask and the app's own dialog should.
func portalChoose(w fyne.Window, req fileRequest) (path string, ok bool, err error) {
	defer func() {
		if r := recover(); r != nil { // a malformed portal answer
			err = fmt.Errorf("portal answer: %v", r)
		}
	}()
	parent := ""
	if nw, isNative := w.(driver.NativeWindow); isNative {
		nw.RunNative(func(ctx any) {
			if x, isX11 := ctx.(driver.X11WindowContext); isX11 {
				parent = portal.FormatX11WindowHandle(x.WindowHandle)
			}
		})
	}
	var filters []*filechooser.Filter
	if len(req.Exts) > 0 {
		f := &filechooser.Filter{Name: strings.ToUpper(strings.Join(req.Exts, " "))}
		for _, e := range req.Exts {
			f.Rules = append(f.Rules, filechooser.Rule{Type: filechooser.GlobPattern, Pattern: "*" + strings.ToLower(e)},
				filechooser.Rule{Type: filechooser.GlobPattern, Pattern: "*" + strings.ToUpper(e)})
		}
		filters = []*filechooser.Filter{f}
	}
	var uris []string
	switch req.Mode {
	case ChooseSave:
		uris, err = filechooser.SaveFile(parent, req.Title, &filechooser.SaveFileOptions{
			AcceptLabel: T("file.saveBtn"), Filters: filters, CurrentFolder: req.Dir, CurrentName: req.Name})
	default:
		accept := T("action.open")
		if req.Mode == ChooseFolder {
			accept = T("file.choose")
		}
		uris, err = filechooser.OpenFile(parent, req.Title, &filechooser.OpenFileOptions{
			AcceptLabel: accept, Directory: req.Mode == ChooseFolder, Filters: filters, CurrentFolder: req.Dir})
	}
	if err != nil {
		return "", false, err
	}
	if len(uris) == 0 {
		return "", false, nil
	}
	u, err := url.Parse(uris[0])
	if err != nil || u.Scheme != "file" {
		return "", false, fmt.Errorf("portal answered %q, not a local file", uris[0])
	}
	return u.Path, true, nil
}
