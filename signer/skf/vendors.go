package skf

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// Known is a vendor library the discovery table knows (see the package documentation).
type Known struct {
	Vendor  string
	Linux   []string
	Windows []string // file names are looked up in %SystemRoot%\System32
}

// KnownLibraries is the discovery table. Names come from public installers and client
// code (desktop.md §3.4); verify them against the vendor's installer. A library that also
// exports PKCS#11 (Feitian's) is listed in signer/token as well: SKF is the way to its SM2.
var KnownLibraries = []Known{
	{Vendor: "Longmai mToken GM3000",
		Linux:   []string{"/usr/lib/libgm3000.1.0.so", "/usr/local/lib/libgm3000.1.0.so", "/opt/longmai/lib/libgm3000.1.0.so"},
		Windows: []string{"mtoken_gm3000.dll"}},
	{Vendor: "Feitian ePass3000GM",
		Linux:   []string{"/usr/lib/libes_3000gm.so.1.0.0", "/usr/local/lib/libes_3000gm.so.1.0.0"},
		Windows: []string{"ShuttleCsp11_3000GM.dll"}},
	{Vendor: "Haitai",
		Windows: []string{"SKFAPI20538.dll", "SKF_HT_NMG.dll"}},
	{Vendor: "NETCA",
		Windows: []string{"NetcaSKF.dll"}},
	{Vendor: "BJCA (Linguo)",
		Windows: []string{"lgu3073_p1514_gm.dll"}},
	{Vendor: "BJCA (ZTXA)",
		Windows: []string{"USK218_GM.dll"}},
	{Vendor: "WatchData",
		Windows: []string{"WDSKF.dll"}},
}

func (k Known) paths() []string {
	switch runtime.GOOS {
	case "linux":
		return k.Linux
	case "windows":
		sys := filepath.Join(os.Getenv("SystemRoot"), "System32")
		if os.Getenv("SystemRoot") == "" {
			sys = `C:\Windows\System32`
		}
		var ps []string
		for _, p := range k.Windows {
			if !strings.ContainsAny(p, `\/`) {
				p = filepath.Join(sys, p)
			}
			ps = append(ps, p)
		}
		return ps
	}
	return nil
}

// Candidates returns the known libraries whose file exists on this machine, one per vendor.
func Candidates() []Library {
	var out []Library
	for _, k := range KnownLibraries {
		for _, p := range k.paths() {
			if st, err := os.Stat(p); err == nil && !st.IsDir() {
				out = append(out, Library{Path: p, Name: k.Vendor})
				break
			}
		}
	}
	return out
}
