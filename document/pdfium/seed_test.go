package pdfium

import (
	"os"
	"path/filepath"
	"testing"
)

func TestSeedCache(t *testing.T) {
	seed, user := t.TempDir(), filepath.Join(t.TempDir(), "pdfium")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(seed, "wazero-v1-amd64-linux"), 0o755))
	must(os.WriteFile(filepath.Join(seed, "wazero-v1-amd64-linux", "aa"), []byte("compiled"), 0o644))
	must(os.WriteFile(filepath.Join(seed, "wazero-v1-amd64-linux", "bb.123.tmp"), []byte("half"), 0o644))
	must(os.WriteFile(filepath.Join(seed, ".init.lock"), []byte("1"), 0o644))
	must(os.MkdirAll(filepath.Join(user, "wazero-v1-amd64-linux"), 0o700))
	must(os.WriteFile(filepath.Join(user, "wazero-v1-amd64-linux", "cc"), []byte("mine"), 0o600))

	t.Setenv(SeedEnv, seed)
	seedCache(user)
	got, err := os.ReadFile(filepath.Join(user, "wazero-v1-amd64-linux", "aa"))
	if err != nil || string(got) != "compiled" {
		t.Fatalf("seeded entry: %q, %v", got, err)
	}
	for _, name := range []string{"wazero-v1-amd64-linux/bb.123.tmp", ".init.lock"} {
		if _, err := os.Stat(filepath.Join(user, name)); err == nil {
			t.Errorf("%s was copied; temporary files and locks must not be", name)
		}
	}
	if got, _ := os.ReadFile(filepath.Join(user, "wazero-v1-amd64-linux", "cc")); string(got) != "mine" {
		t.Errorf("the user's own entry changed: %q", got)
	}

	// An entry the user already has is kept, never overwritten by the seed.
	must(os.WriteFile(filepath.Join(user, "wazero-v1-amd64-linux", "aa"), []byte("newer"), 0o600))
	seedCache(user)
	if got, _ := os.ReadFile(filepath.Join(user, "wazero-v1-amd64-linux", "aa")); string(got) != "newer" {
		t.Errorf("seeding overwrote an existing entry: %q", got)
	}

	// "-" turns seeding off; a deleted cache stays empty then.
	must(os.RemoveAll(user))
	t.Setenv(SeedEnv, "-")
	seedCache(user)
	if _, err := os.Stat(user); err == nil {
		t.Error(`seeding with SEALDESK_CACHE_SEED=- created the cache`)
	}
}
