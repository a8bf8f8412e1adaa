package main_test

import (
	"os/exec"
	"strings"
	"testing"

	"sealdesk/internal/testenv"
)

// TestDesktopLinksNoServer checks that the desktop binary does not link the hub server, its
// stores (server-side SQLite, PostgreSQL) or the demo builder: the app reaches the hub over HTTP
// through hub/client only.
func TestDesktopLinksNoServer(t *testing.T) {
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "list", "-deps", "./cmd/sealdesk")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 50 {
		t.Fatalf("go list -deps listed only %d packages", len(deps))
	}
	for _, d := range deps {
		switch {
		case d == "sealdesk/hub/server", d == "sealdesk/hub/store", strings.HasPrefix(d, "sealdesk/hub/store/"),
			d == "sealdesk/internal/demo", strings.HasPrefix(d, "github.com/jackc/pgx"):
			t.Errorf("cmd/sealdesk links %s", d)
		}
	}
}
