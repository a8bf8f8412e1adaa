package ui

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// The app's file dialogs. On Linux desktops with an XDG desktop portal the platform's own file
// chooser is used (filedialog_portal.go); elsewhere, and whenever the portal cannot answer,
// FileChooser below. fyne's stock FileDialog is not used: it speaks English whatever the UI
// language, its open dialog takes no typed path, its save dialog joins a typed absolute path to
// the current folder, and it crashes when resized before it is shown.

// ChooseMode is what a file dialog picks.
type ChooseMode int

const (
	ChooseOpen   ChooseMode = iota // an existing file with one of the extensions
	ChooseSave                     // a file name to write (an existing file needs a confirmation)
	ChooseFolder                   // an existing folder
)

// FileChooser is the app's own file dialog: a folder listing to click through, and a path entry
// that takes a full path (typed or pasted, "~" and file:// URIs included) or a name relative to
// the folder shown. Enter in the entry does what the OK button does.
type FileChooser struct {
	Mode   ChooseMode
	Exts   []string // lower-case with dot, e.g. ".pdf"; empty = any file
	Dir    string   // the folder shown
	Where  *widget.Label
	Path   *widget.Entry
	List   *widget.List
	Status *widget.Label
	OK     *widget.Button
	Cancel *widget.Button
	Up     *widget.Button
	Home   *widget.Button

	items  []dirItem
	dlg    *dialog.CustomDialog
	parent fyne.Window
	done   func(path string)
	closed bool
}

type dirItem struct {
	name string
	dir  bool
}

// NewFileChooser builds the dialog (call Show). done receives the chosen absolute path; it is
// not called when the user cancels.
func NewFileChooser(parent fyne.Window, mode ChooseMode, title, dir, name string, exts []string, done func(string)) *FileChooser {
	c := &FileChooser{Mode: mode, Exts: exts, parent: parent, done: done}
	c.Where = widget.NewLabel("")
	c.Where.Truncation = fyne.TextTruncateEllipsis
	c.Status = widget.NewLabel("")
	c.Status.Importance = widget.DangerImportance
	c.Status.Wrapping = fyne.TextWrapWord
	c.Path = widget.NewEntry()
	c.Path.SetPlaceHolder(T("file.pathHint"))
	c.Path.SetText(name)
	c.Path.OnSubmitted = func(string) { c.Submit() }
	c.List = widget.NewList(func() int { return len(c.items) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			return container.NewBorder(nil, nil, widget.NewIcon(theme.FileIcon()), nil, l)
		},
		func(i widget.ListItemID, o fyne.CanvasObject) {
			if i >= len(c.items) {
				return
			}
			it := c.items[i]
			box := o.(*fyne.Container)
			icon := theme.FileIcon()
			if it.dir {
				icon = theme.FolderIcon()
			}
			for _, obj := range box.Objects {
				switch w := obj.(type) {
				case *widget.Label:
					w.SetText(it.name)
				case *widget.Icon:
					w.SetResource(icon)
				}
			}
		})
	c.List.OnSelected = func(i widget.ListItemID) { c.pick(i) }
	okText := T("action.open")
	switch mode {
	case ChooseSave:
		okText = T("file.saveBtn")
	case ChooseFolder:
		okText = T("file.choose")
	}
	c.OK = widget.NewButton(okText, c.Submit)
	c.OK.Importance = widget.HighImportance
	c.Cancel = widget.NewButton(T("action.cancel"), c.Close)
	c.Up = widget.NewButtonWithIcon(T("file.up"), theme.MoveUpIcon(), func() { c.Chdir(filepath.Dir(c.Dir)) })
	c.Home = widget.NewButtonWithIcon(T("file.home"), theme.HomeIcon(), func() {
		if h, err := os.UserHomeDir(); err == nil {
			c.Chdir(h)
		}
	})
	top := container.NewBorder(nil, nil, nil, container.NewHBox(c.Up, c.Home), c.Where)
	pathRow := container.NewBorder(nil, nil, widget.NewLabel(T("file.path")), nil, c.Path)
	bottom := container.NewVBox(pathRow, c.Status, container.NewHBox(layout.NewSpacer(), c.Cancel, c.OK))
	content := container.NewBorder(top, bottom, nil, nil, c.List)
	c.dlg = dialog.NewCustomWithoutButtons(title, content, parent)
	if dir == "" {
		dir, _ = os.UserHomeDir()
	}
	c.Chdir(dir)
	return c
}

// Show shows the dialog at a size that fits a 1366×768 screen, with the path entry focused.
func (c *FileChooser) Show() {
	c.dlg.Show()
	// Resize only after Show: fyne's dialogs lay out their content when shown.
	sz := fyne.NewSize(720, 520)
	if ws := c.parent.Canvas().Size(); ws.Width > 0 && ws.Height > 0 {
		sz = fyne.NewSize(min(sz.Width, ws.Width-40), min(sz.Height, ws.Height-40))
	}
	c.dlg.Resize(sz)
	c.parent.Canvas().Focus(c.Path)
}

// Close hides the dialog without choosing anything.
func (c *FileChooser) Close() {
	c.closed = true
	c.dlg.Hide()
}

// Closed says whether the dialog was closed (chosen or cancelled).
func (c *FileChooser) Closed() bool { return c.closed }

// Items lists the names shown (folders end in "/").
func (c *FileChooser) Items() []string {
	out := make([]string, len(c.items))
	for i, it := range c.items {
		out[i] = it.name
		if it.dir {
			out[i] += "/"
		}
	}
	return out
}

// Chdir shows the folder dir.
func (c *FileChooser) Chdir(dir string) {
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		c.Status.SetText(Tf("file.unreadable", dir))
		return
	}
	c.Dir = dir
	c.Where.SetText(Tf("file.location", dir))
	c.Status.SetText("")
	var dirs, files []dirItem
	for _, e := range ents {
		n := e.Name()
		if strings.HasPrefix(n, ".") {
			continue
		}
		isDir := e.IsDir()
		if e.Type()&os.ModeSymlink != 0 {
			if st, err := os.Stat(filepath.Join(dir, n)); err == nil {
				isDir = st.IsDir()
			}
		}
		switch {
		case isDir:
			dirs = append(dirs, dirItem{n, true})
		case c.Mode != ChooseFolder && c.matches(n):
			files = append(files, dirItem{n, false})
		}
	}
	less := func(s []dirItem) func(i, j int) bool {
		return func(i, j int) bool { return strings.ToLower(s[i].name) < strings.ToLower(s[j].name) }
	}
	sort.Slice(dirs, less(dirs))
	sort.Slice(files, less(files))
	c.items = append(dirs, files...)
	c.List.UnselectAll()
	c.List.Refresh()
	c.List.ScrollToTop()
}

func (c *FileChooser) matches(name string) bool {
	if len(c.Exts) == 0 {
		return true
	}
	ext := strings.ToLower(filepath.Ext(name))
	for _, e := range c.Exts {
		if ext == e {
			return true
		}
	}
	return false
}

// pick is a click on item i: a folder opens, a file fills the path entry.
func (c *FileChooser) pick(i int) {
	if i < 0 || i >= len(c.items) {
		return
	}
	it := c.items[i]
	p := filepath.Join(c.Dir, it.name)
	if it.dir {
		c.Chdir(p)
		if c.Mode == ChooseFolder {
			c.Path.SetText("")
		}
		return
	}
	c.Path.SetText(p)
	c.Status.SetText("")
}

// Resolve turns what the entry holds into an absolute path: "~" is the home folder, a file://
// URI its path, and a relative name is taken in the folder shown.
func (c *FileChooser) Resolve(text string) string {
	p := strings.TrimSpace(text)
	p = strings.Trim(p, `"'`)
	if strings.HasPrefix(p, "file://") {
		p = strings.TrimPrefix(p, "file://")
	}
	if p == "~" || strings.HasPrefix(p, "~/") || strings.HasPrefix(p, `~\`) {
		if h, err := os.UserHomeDir(); err == nil {
			p = filepath.Join(h, p[1:])
		}
	}
	if p == "" {
		return c.Dir
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(c.Dir, p)
	}
	return filepath.Clean(p)
}

// Submit is the OK button and Enter: a folder typed in the open or save dialog is shown; a
// valid choice closes the dialog and calls done.
func (c *FileChooser) Submit() {
	text := strings.TrimSpace(c.Path.Text)
	p := c.Resolve(text)
	st, err := os.Stat(p)
	switch c.Mode {
	case ChooseFolder:
		if err != nil || !st.IsDir() {
			c.Status.SetText(Tf("file.notDir", p))
			return
		}
		c.finish(p)
	case ChooseOpen:
		if text == "" {
			c.Status.SetText(T("file.empty"))
			return
		}
		if err != nil {
			c.Status.SetText(Tf("file.notFound", p))
			return
		}
		if st.IsDir() {
			c.Path.SetText("")
			c.Chdir(p)
			return
		}
		if !c.matches(p) {
			c.Status.SetText(Tf("file.wrongType", c.extNames()))
			return
		}
		c.finish(p)
	case ChooseSave:
		if text == "" {
			c.Status.SetText(T("file.empty"))
			return
		}
		if err == nil && st.IsDir() {
			c.Path.SetText("")
			c.Chdir(p)
			return
		}
		if len(c.Exts) > 0 && !c.matches(p) {
			p += c.Exts[0]
			st, err = os.Stat(p)
		}
		if dst, derr := os.Stat(filepath.Dir(p)); derr != nil || !dst.IsDir() {
			c.Status.SetText(Tf("file.noDir", filepath.Dir(p)))
			return
		}
		if err == nil {
			if st.IsDir() {
				c.Status.SetText(Tf("file.notFound", p))
				return
			}
			confirm := dialog.NewConfirm(T("file.save"), Tf("file.exists", filepath.Base(p)), func(ok bool) {
				if ok {
					c.finish(p)
				}
			}, c.parent)
			confirm.SetConfirmText(T("file.overwrite"))
			confirm.SetDismissText(T("action.cancel"))
			confirm.Show()
			return
		}
		c.finish(p)
	}
}

func (c *FileChooser) extNames() string {
	var names []string
	for _, e := range c.Exts {
		names = append(names, strings.ToUpper(strings.TrimPrefix(e, ".")))
	}
	return strings.Join(names, " / ")
}

func (c *FileChooser) finish(p string) {
	c.Close()
	if c.done != nil {
		c.done(p)
	}
}

// --- the app's entry point to file dialogs ---

// fileRequest is one question for a file dialog.
type fileRequest struct {
	Mode  ChooseMode
	Title string
	Dir   string   // start folder ("" = the last one used)
	Name  string   // suggested file name (save)
	Exts  []string // e.g. ".pdf", ".ofd"
}

// chooseFile asks for a file or folder with the platform's chooser when there is one, else
// with FileChooser; done runs on the UI goroutine with the absolute path.
func (m *MainWindow) chooseFile(req fileRequest, done func(string)) {
	if req.Dir == "" {
		req.Dir = m.App.Preferences().String("lastDir")
	}
	if st, err := os.Stat(req.Dir); req.Dir == "" || err != nil || !st.IsDir() {
		req.Dir = ""
		if m.docPath != "" {
			req.Dir = filepath.Dir(m.docPath)
		}
	}
	chosen := func(p string) {
		dir := p
		if req.Mode != ChooseFolder {
			dir = filepath.Dir(p)
		}
		m.App.Preferences().SetString("lastDir", dir)
		done(p)
	}
	stock := func() {
		m.chooser = NewFileChooser(m.Window, req.Mode, req.Title, req.Dir, req.Name, req.Exts, chosen)
		m.chooser.Show()
		m.notify("dialog", req.Title)
	}
	if usePortal() {
		go func() {
			p, ok, err := portalChoose(m.Window, req)
			fyne.Do(func() {
				switch {
				case err != nil:
					fmt.Fprintf(os.Stderr, "sealdesk: the desktop's file chooser failed, using the app's own: %v\n", err)
					stock()
				case ok:
					chosen(p)
				}
			})
		}()
		return
	}
	stock()
}
