package osv

import (
	"archive/zip"
	"io"
	"testing"
)

// zipWriter builds small archives for tests.
type zipWriter struct{ *zip.Writer }

func newZip(w io.Writer) zipWriter { return zipWriter{zip.NewWriter(w)} }

func (z zipWriter) add(t testing.TB, name, content string) {
	t.Helper()
	w, err := z.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(w, content); err != nil {
		t.Fatal(err)
	}
}

func (z zipWriter) close(t testing.TB) {
	t.Helper()
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
}
