package sbom

import (
	"io"
	"os"
	"path/filepath"
	"testing"
)

func openFile(t *testing.T, dir, name string) io.Reader {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}
