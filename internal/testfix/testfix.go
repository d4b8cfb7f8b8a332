// Package testfix finds the shared, real-world test fixtures (../shared/testdata beside the repository) for tests.
// The fixtures are public data with provenance that the project uses by path rather than copying; a test that
// needs one and cannot find it fails, it never skips, so a missing fixture set cannot turn CI green.
package testfix

import (
	"os"
	"path/filepath"
	"testing"
)

// Root returns the shared testdata directory: $VIGIL_TESTDATA when set, else the first shared/testdata found
// beside the module root or any of its parents.
func Root(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("VIGIL_TESTDATA"); d != "" {
		return d
	}
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		cand := filepath.Join(dir, "shared", "testdata")
		if st, err := os.Stat(cand); err == nil && st.IsDir() {
			return cand
		}
		cand = filepath.Join(dir, "..", "shared", "testdata")
		if st, err := os.Stat(cand); err == nil && st.IsDir() {
			return filepath.Clean(cand)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("shared testdata not found: set VIGIL_TESTDATA to the shared/testdata directory")
		}
		dir = parent
	}
}

// Path returns the path of a fixture under the shared testdata root and fails the test if it does not exist.
func Path(t testing.TB, elem ...string) string {
	t.Helper()
	p := filepath.Join(append([]string{Root(t)}, elem...)...)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("fixture: %v", err)
	}
	return p
}
