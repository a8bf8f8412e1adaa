package cli

// The CLI contract (docs/CLI.md) is pinned by testscript scripts in testdata/script/*.txtar.
// Any engineer may add a .txtar there: each runs in its own $WORK with
//
//   - the commands sealctl and sealhub, which run cli.Main inside this test binary (no build
//     step, same code as cmd/sealctl and cmd/sealhub);
//   - SEALDESK_CONFIG=$WORK/config.json and HOME=$WORK/home, so no script touches the real
//     user config; SEALDESK_OUTBOX=$WORK/outbox.db for the same reason;
//   - passed through from the test's environment: CI, SEALDESK_CACHE, SEALDESK_CORPUS,
//     SEALDESK_TEST_POSTGRES, SEALDESK_BIN;
//   - SOFTHSM2_LIB: the SoftHSM2 module path when it is installed;
//   - the extra command sleep DURATION (for scripts with background commands);
//   - conditions [cgo] (PKCS#11 built in) and [softhsm] (SoftHSM2 installed; in CI a missing
//     SoftHSM2 fails the script instead of skipping it), [ci].
//
// Update expected output in place with: go test ./internal/cli -run TestScript -update

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"sealdesk/internal/testenv"
	"sealdesk/signer/token"
)

var updateScripts = flag.Bool("update", false, "rewrite the expected output in testdata/script/*.txtar")

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"sealctl": func() { os.Exit(Main("sealctl", os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) },
		"sealhub": func() { os.Exit(Main("sealhub", os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) },
	})
}

// cgoEnabled is set by a cgo-only file of this package (script_cgo_test.go).
var cgoEnabled bool

func TestScript(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:           "testdata/script",
		UpdateScripts: *updateScripts,
		Setup: func(e *testscript.Env) error {
			e.Setenv("SEALDESK_CONFIG", filepath.Join(e.WorkDir, "config.json"))
			e.Setenv("SEALDESK_OUTBOX", filepath.Join(e.WorkDir, "outbox.db"))
			home := filepath.Join(e.WorkDir, "home")
			e.Setenv("HOME", home)
			e.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
			for _, k := range []string{"CI", "SEALDESK_CACHE", "SEALDESK_CORPUS", "SEALDESK_TEST_POSTGRES", "SEALDESK_BIN"} {
				if v, ok := os.LookupEnv(k); ok {
					e.Setenv(k, v)
				}
			}
			if m, ok := token.FindKnown("SoftHSM2"); ok {
				e.Setenv("SOFTHSM2_LIB", m.Path)
			}
			return os.MkdirAll(home, 0o700)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"sleep": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) != 1 {
					ts.Fatalf("usage: sleep DURATION")
				}
				d, err := time.ParseDuration(args[0])
				if err != nil {
					ts.Fatalf("sleep: %v", err)
				}
				time.Sleep(d)
			},
		},
		Condition: func(cond string) (bool, error) {
			switch cond {
			case "cgo":
				return cgoEnabled, nil
			case "ci":
				return testenv.InCI(), nil
			case "softhsm":
				_, ok := token.FindKnown("SoftHSM2")
				if !ok && testenv.InCI() {
					return false, fmt.Errorf("SoftHSM2 is required in CI but missing (scripts/install-deps.sh installs softhsm2)")
				}
				return ok, nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
	})
}
