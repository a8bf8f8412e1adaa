// Command sealdesk is the SealDesk desktop app.
//
// Usage: sealdesk [--workspace DIR] [--lang zh|en] [--dark] [FILE]
//
// This file only creates the fyne app (the one import of fyne.io/fyne/v2/app, which needs cgo
// and OpenGL) and hands it to package ui, which holds everything else and is tested headless.
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"fyne.io/fyne/v2/app"

	_ "sealdesk/document/ofd"        // OFD reading, rendering, search
	_ "sealdesk/document/ofd/ofdsig" // OFD signing and verification
	_ "sealdesk/document/pdf"        // PDF signing and verification
	_ "sealdesk/document/pdfium"     // PDF preview, text search
	"sealdesk/internal/version"
	"sealdesk/ui"
)

func main() {
	start := time.Now()
	workspace := flag.String("workspace", "", "demo workspace `directory` (workspace.json)")
	lang := flag.String("lang", "", "UI language: zh (简体中文, default) or en (default: saved setting)")
	dark := flag.Bool("dark", false, "dark theme")
	showVersion := flag.Bool("version", false, "print the version and build information, then exit")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: sealdesk [--workspace DIR] [--lang zh|en] [--dark] [FILE]")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *showVersion {
		fmt.Println(version.String("sealdesk"))
		return
	}
	if flag.NArg() > 1 {
		flag.Usage()
		os.Exit(2)
	}
	a := app.NewWithID("cn.sealdesk.desktop")
	m := ui.NewMainWindow(a, ui.Options{
		Workspace: *workspace,
		Open:      flag.Arg(0),
		Lang:      ui.Lang(*lang),
		Dark:      *dark,
		Script:    os.Getenv(ui.ScriptEnv),
		Started:   start,
	})
	m.Run()
}
