// Package packaging_test checks the packaging files cheaply (make test) and measures the first
// render after a fresh install (make bench). The heavy checks — building every package,
// signatures, lintian, dpkg -i, wine, qemu — run in `make package` (scripts/package-check.sh).
package packaging_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

func read(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// desktopEntry parses the [Desktop Entry] group of a .desktop file.
func desktopEntry(t *testing.T, text string) map[string]string {
	t.Helper()
	kv := map[string]string{}
	group := ""
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "["):
			group = line
		case group == "[Desktop Entry]":
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				t.Errorf("desktop entry line without '=': %q", line)
				continue
			}
			if _, dup := kv[k]; dup {
				t.Errorf("desktop entry key %s twice", k)
			}
			kv[k] = v
		}
	}
	return kv
}

func TestDesktopEntry(t *testing.T) {
	kv := desktopEntry(t, read(t, "sealdesk.desktop"))
	want := map[string]string{"Type": "Application", "Exec": "sealdesk %f", "Icon": "cn.sealdesk.desktop", "Terminal": "false"}
	for k, v := range want {
		if kv[k] != v {
			t.Errorf("%s = %q, want %q", k, kv[k], v)
		}
	}
	mimes := strings.Split(strings.TrimSuffix(kv["MimeType"], ";"), ";")
	for _, m := range []string{"application/ofd", "application/pdf"} {
		found := false
		for _, x := range mimes {
			found = found || x == m
		}
		if !found {
			t.Errorf("MimeType %q lacks %s", kv["MimeType"], m)
		}
	}
	if !strings.HasSuffix(kv["Categories"], ";") || kv["Name"] == "" || kv["Name[zh_CN]"] == "" {
		t.Errorf("Categories must end with ';' and Name, Name[zh_CN] be set: %v", kv)
	}
}

func TestMimeType(t *testing.T) {
	var info struct {
		Types []struct {
			Type  string `xml:"type,attr"`
			Globs []struct {
				Pattern string `xml:"pattern,attr"`
			} `xml:"glob"`
			SubClass []struct {
				Type string `xml:"type,attr"`
			} `xml:"sub-class-of"`
		} `xml:"mime-type"`
	}
	if err := xml.Unmarshal([]byte(read(t, "linux/sealdesk-mime.xml")), &info); err != nil {
		t.Fatal(err)
	}
	if len(info.Types) != 1 || info.Types[0].Type != "application/ofd" ||
		len(info.Types[0].Globs) != 1 || info.Types[0].Globs[0].Pattern != "*.ofd" ||
		len(info.Types[0].SubClass) != 1 || info.Types[0].SubClass[0].Type != "application/zip" {
		t.Errorf("OFD MIME type: %+v", info)
	}
}

func TestSystemdUnit(t *testing.T) {
	u := read(t, "linux/sealhub.service")
	for _, want := range []string{
		"\nExecStart=/usr/bin/sealhub serve --listen 127.0.0.1:8443 --db sqlite:/var/lib/sealhub/sealhub.db\n",
		"\nDynamicUser=yes\n", "\nStateDirectory=sealhub\n", "\n[Install]\nWantedBy=multi-user.target\n",
	} {
		if !strings.Contains(u, want) {
			t.Errorf("sealhub.service lacks %q", strings.TrimSpace(want))
		}
	}
	// Off by default: the package has no maintainer script that could enable it.
	for _, s := range []string{"postinst", "preinst", "prerm", "postrm"} {
		if _, err := os.Stat(filepath.Join("linux", s)); err == nil {
			t.Errorf("linux/%s exists: the .deb must not enable sealhub or change the system", s)
		}
	}
}

func TestUOSInfo(t *testing.T) {
	s := read(t, "uos/info.in")
	s = strings.NewReplacer("@APPID@", "cn.sealdesk.desktop", "@VERSION@", "0.1.0.0", "@ARCH@", "arm64").Replace(s)
	var info struct {
		AppID       string          `json:"appid"`
		Name        string          `json:"name"`
		Version     string          `json:"version"`
		Arch        []string        `json:"arch"`
		Permissions map[string]bool `json:"permissions"`
	}
	if err := json.Unmarshal([]byte(s), &info); err != nil {
		t.Fatalf("info: %v", err)
	}
	if info.AppID != "cn.sealdesk.desktop" || info.Version != "0.1.0.0" || len(info.Arch) != 1 || info.Arch[0] != "arm64" {
		t.Errorf("info: %+v", info)
	}
	for k, v := range info.Permissions {
		if v {
			t.Errorf("permission %s requested; SealDesk needs none", k)
		}
	}
}

func TestNSISScript(t *testing.T) {
	s := read(t, "windows/sealdesk.nsi")
	for _, want := range []string{
		"RequestExecutionLevel admin", "SetShellVarContext all", `InstallDir "$PROGRAMFILES64\${APPNAME}"`,
		`CreateShortCut "$SMPROGRAMS\${APPNAME}.lnk"`,
		`WriteRegStr HKLM "Software\Classes\.ofd" "" "${OFDPROGID}"`,
		`WriteRegStr HKLM "Software\Classes\.pdf\OpenWithProgids" "${PDFPROGID}" ""`,
		`WriteUninstaller "$INSTDIR\uninstall.exe"`, `Section "Uninstall"`,
		`!uninstfinalize '${SIGNCMD} "%1"' = 0`, `File /nonfatal /r "${SRCDIR}\pdfium-cache"`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("sealdesk.nsi lacks %s", want)
		}
	}
	// .pdf is offered, never taken: no default value is written for .pdf.
	if strings.Contains(s, `"Software\Classes\.pdf" ""`) {
		t.Error("the installer takes over .pdf; it must only add itself to Open with")
	}
	// Everything installed is removed again.
	for _, f := range regexp.MustCompile(`File "\$\{SRCDIR\}\\([^"]+)"`).FindAllStringSubmatch(s, -1) {
		if !strings.Contains(s, `Delete "$INSTDIR\`+f[1]+`"`) {
			t.Errorf("the uninstaller does not delete %s", f[1])
		}
	}
}

func TestVersionAgrees(t *testing.T) {
	v := strings.TrimSpace(read(t, "VERSION"))
	if !regexp.MustCompile(`^\d+\.\d+\.\d+$`).MatchString(v) {
		t.Fatalf("packaging/VERSION %q is not MAJOR.MINOR.PATCH (NSIS and the Windows resources need that)", v)
	}
	if toml := read(t, "../cmd/sealdesk/FyneApp.toml"); !strings.Contains(toml, `Version = "`+v+`"`) {
		t.Errorf("cmd/sealdesk/FyneApp.toml does not say Version = %q", v)
	}
}

// TestScriptsParse runs bash -n on the packaging scripts: a syntax error would otherwise show
// only in the long `make package`.
func TestScriptsParse(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("bash scripts")
	}
	files, _ := filepath.Glob("../scripts/package*.sh")
	files = append(files, "../scripts/install-deps.sh")
	if len(files) < 4 {
		t.Fatalf("scripts: %v", files)
	}
	for _, f := range files {
		var stderr bytes.Buffer
		cmd := exec.Command("bash", "-n", f)
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			t.Errorf("bash -n %s: %v\n%s", f, err, stderr.String())
		}
	}
}
