package importer_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/vigil-dev/vigil/internal/importer"
)

// TestRemoveStale leaves a crash's temporary files (an upload folder and a download of a process that is gone)
// beside the current process's, another program's and malformed names, and checks that exactly the crash's are
// removed.
func TestRemoveStale(t *testing.T) {
	dir := t.TempDir()
	dead := 1 << 30 // above any pid_max: no such process
	mine, err := os.MkdirTemp(dir, importer.TempPattern("upload"))
	if err != nil {
		t.Fatal(err)
	}
	stale := []string{fmt.Sprintf("vigil-upload-%d-123", dead), fmt.Sprintf("vigil-fetch-%d-456.zip", dead)}
	kept := []string{filepath.Base(mine), "vigil-fetch-abc.zip", "vigil-upload-", "multipart-789", "vigil-demo-1", "notes.txt"}
	for _, n := range append(slices.Clone(stale), kept...) {
		if n == filepath.Base(mine) {
			continue
		}
		if err := os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(mine, "feed.json"), []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, stale[0])); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, stale[0], "sub"), 0o700); err != nil { // a folder with content
		t.Fatal(err)
	}
	removed, err := importer.RemoveStale(dir)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, n := range stale {
		want = append(want, filepath.Join(dir, n))
	}
	slices.Sort(removed)
	slices.Sort(want)
	if !slices.Equal(removed, want) {
		t.Errorf("removed %v, want %v", removed, want)
	}
	left, _ := os.ReadDir(dir)
	var names []string
	for _, e := range left {
		names = append(names, e.Name())
	}
	slices.Sort(kept)
	if !slices.Equal(names, kept) {
		t.Errorf("left %v, want %v", names, kept)
	}
}
