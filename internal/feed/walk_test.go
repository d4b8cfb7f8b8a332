package feed

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/testfix"
	"github.com/vigil-dev/vigil/internal/untrusted"
)

// collect walks p and returns the names fn saw and the bytes it read from each.
func collect(t *testing.T, p string, lim untrusted.Limits) ([]string, map[string]int, error) {
	t.Helper()
	var names []string
	sizes := map[string]int{}
	err := Walk(context.Background(), p, lim, func(name string, r io.Reader) error {
		n, err := io.Copy(io.Discard, r)
		names = append(names, name)
		sizes[name] = int(n)
		return err
	})
	return names, sizes, err
}

type entry struct {
	name string
	data []byte
}

func writeZip(t *testing.T, p string, entries ...entry) {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		w, err := zw.Create(e.name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(e.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func gz(t *testing.T, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestWalkFixtureFolder(t *testing.T) {
	root := testfix.Path(t, "osv-advisories")
	names, _, err := collect(t, root, untrusted.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, n := range names {
		rel, _ := filepath.Rel(root, n)
		counts[strings.SplitN(rel, string(filepath.Separator), 2)[0]+" "+filepath.Ext(n)]++
	}
	want := map[string]int{"go-vulndb .json": 400, "pypa-advisory-database .yaml": 400, "bitnami-vulndb .json": 400}
	if diff := cmp.Diff(want, counts); diff != "" {
		t.Errorf("documents per folder (-want +got):\n%s", diff)
	}
	if !sortedStrings(names) {
		t.Error("names are not in sorted order")
	}
}

func sortedStrings(s []string) bool {
	for i := 1; i < len(s); i++ {
		if s[i-1] > s[i] {
			return false
		}
	}
	return true
}

func TestWalkCorpusZips(t *testing.T) {
	root := testfix.Path(t, "osv-corpus")
	names, _, err := collect(t, root, untrusted.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, n := range names {
		archive, entry, ok := strings.Cut(n, "!")
		if !ok || !strings.HasSuffix(entry, ".json") {
			t.Fatalf("name %q is not archive!entry.json", n)
		}
		counts[filepath.Base(filepath.Dir(archive))]++
	}
	want := map[string]int{"Go": 4141, "PyPI": 2511, "Bitnami": 7294}
	if diff := cmp.Diff(want, counts); diff != "" {
		t.Errorf("entries per archive (-want +got):\n%s", diff)
	}
	if len(names) != 13_946 {
		t.Errorf("%d documents, want 13,946", len(names))
	}
	if !sortedStrings(names) {
		t.Error("names are not in sorted order")
	}
}

func TestWalkSkipsSideFiles(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"a.json": "{}", "a.json.asc": "sig", "a.json.sha512": "x", "a.json.sha256": "x",
		"README.md": "#", "PROVENANCE.md": "#", "index.txt": "a.json", "changes.csv": "a.json,2024",
		".hidden.json": "{}", ".git/config.json": "{}", "sub/b.csv": "cve,epss", "sub/c.json.gz": "",
	}
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		data := []byte(content)
		if strings.HasSuffix(name, ".gz") {
			data = gz(t, []byte(`{"id":"GO-1"}`))
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeZip(t, filepath.Join(dir, "z.zip"),
		entry{"x/", nil}, entry{"x/1.json", []byte("{}")}, entry{"x/1.json.sha256", []byte("x")},
		entry{"__MACOSX/x/._1.json", []byte("junk")}, entry{"0.json.gz", gz(t, []byte("[1,2]"))})
	names, sizes, err := collect(t, dir, untrusted.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		filepath.Join(dir, "a.json"),
		filepath.Join(dir, "sub", "b.csv"),
		filepath.Join(dir, "sub", "c.json.gz"),
		filepath.Join(dir, "z.zip") + "!0.json.gz",
		filepath.Join(dir, "z.zip") + "!x/1.json",
	}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("names (-want +got):\n%s", diff)
	}
	if got := sizes[want[2]]; got != len(`{"id":"GO-1"}`) {
		t.Errorf(".gz yielded %d bytes, want the decompressed %d", got, len(`{"id":"GO-1"}`))
	}
	if got := sizes[want[3]]; got != len("[1,2]") {
		t.Errorf(".gz inside .zip yielded %d bytes, want 5", got)
	}
	// A file named explicitly is passed even when a folder walk would skip it.
	names, _, err = collect(t, filepath.Join(dir, "README.md"), untrusted.Limits{})
	if err != nil || len(names) != 1 {
		t.Errorf("explicit README.md: %v, %v", names, err)
	}
}

func TestWalkLimits(t *testing.T) {
	dir := t.TempDir()
	zeros := make([]byte, 8<<20)
	bomb := filepath.Join(dir, "bomb.zip")
	writeZip(t, bomb, entry{"bomb.json", zeros})
	many := filepath.Join(dir, "many.zip")
	var es []entry
	for i := range 11 {
		es = append(es, entry{string(rune('a'+i)) + ".json", []byte("{}")})
	}
	writeZip(t, many, es...)
	overlap := filepath.Join(dir, "overlap.zip")
	writeZip(t, overlap, entry{"1.json", zeros[:3<<20]}, entry{"2.json", zeros[:3<<20]}, entry{"3.json", zeros[:3<<20]})
	nested := filepath.Join(dir, "nested.zip")
	writeZip(t, nested, entry{"inner.zip", []byte("PK")})
	gzBomb := filepath.Join(dir, "bomb.json.gz")
	if err := os.WriteFile(gzBomb, gz(t, zeros), 0o644); err != nil {
		t.Fatal(err)
	}
	plain := filepath.Join(dir, "big.json")
	if err := os.WriteFile(plain, zeros[:2<<20], 0o644); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		path    string
		lim     untrusted.Limits
		wantMsg string
	}{
		{"zip entry over the per-file limit (declared size)", bomb, untrusted.Limits{MaxFileSize: 1 << 20},
			bomb + "!bomb.json: declares 8388608 bytes uncompressed, more than the limit of 1048576"},
		{"too many entries", many, untrusted.Limits{MaxEntries: 10}, many + ": 11 entries, more than the limit of 10"},
		{"total decompressed size", overlap, untrusted.Limits{MaxTotalSize: 5 << 20},
			overlap + "!2.json: the archive decompresses to more than the limit of 5242880 bytes"},
		{"nested zip", nested, untrusted.Limits{}, nested + "!inner.zip: a zip inside a zip is not supported: unpack the outer archive"},
		{"gzip bomb", gzBomb, untrusted.Limits{MaxFileSize: 1 << 20}, gzBomb + ": larger than the limit of 1048576 bytes"},
		{"plain file", plain, untrusted.Limits{MaxFileSize: 1 << 20}, plain + ": larger than the limit of 1048576 bytes"},
		{"missing", filepath.Join(dir, "nope"), untrusted.Limits{}, filepath.Join(dir, "nope") + ": no such file or directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := collect(t, tt.path, tt.lim)
			if vigil.ErrorCode(err) != vigil.EINVALID {
				t.Fatalf("code = %q, want EINVALID (%v)", vigil.ErrorCode(err), err)
			}
			if got := err.Error(); got != tt.wantMsg {
				t.Errorf("got  %q\nwant %q", got, tt.wantMsg)
			}
		})
	}
}

// lyingZip writes a zip whose only entry declares 100 bytes but inflates to n: the declared-size check passes and
// only counting the bytes actually produced stops it.
func lyingZip(t *testing.T, p string, n int) {
	t.Helper()
	comp := deflateZeros(t, n)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateRaw(&zip.FileHeader{Name: "liar.json", Method: zip.Deflate,
		CompressedSize64: uint64(comp.Len()), UncompressedSize64: 100, CRC32: 0})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(comp.Bytes()); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// deflateZeros returns a deflate stream of n zero bytes (n a multiple of 1 MiB) without compressing n bytes: once
// the window is full of zeros, each further MiB followed by a sync flush compresses to the same bytes, so that
// block is repeated.
func deflateZeros(t *testing.T, n int) *bytes.Buffer {
	t.Helper()
	var out bytes.Buffer
	fw, err := flate.NewWriter(&out, flate.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 1<<20)
	block := func() []byte {
		start := out.Len()
		if _, err := fw.Write(chunk); err != nil {
			t.Fatal(err)
		}
		if err := fw.Flush(); err != nil {
			t.Fatal(err)
		}
		return bytes.Clone(out.Bytes()[start:])
	}
	block()
	b2, b3 := block(), block()
	if !bytes.Equal(b2, b3) {
		t.Fatal("deflate blocks differ; cannot build the bomb cheaply")
	}
	for i := 3; i < n>>20; i++ {
		out.Write(b2)
	}
	if err := fw.Close(); err != nil { // the final empty block
		t.Fatal(err)
	}
	// Check the stream really inflates to n bytes.
	got, err := io.Copy(io.Discard, flate.NewReader(bytes.NewReader(out.Bytes())))
	if err != nil || got != int64(n) {
		t.Fatalf("bomb inflates to %d bytes (%v), want %d", got, err, n)
	}
	return &out
}

// TestWalkZipBombMemory walks a 1 GiB zip bomb (about 1 MB on disk) whose header lies about its size and checks
// that it is refused with EINVALID after reading little more than the limit, allocating far less than it inflates to.
func TestWalkZipBombMemory(t *testing.T) {
	p := filepath.Join(t.TempDir(), "bomb.zip")
	lyingZip(t, p, 1<<30)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var read int64
	err := Walk(context.Background(), p, untrusted.Limits{MaxFileSize: 16 << 20}, func(name string, r io.Reader) error {
		n, err := io.Copy(io.Discard, r)
		read = n
		return err
	})
	runtime.ReadMemStats(&after)
	if vigil.ErrorCode(err) != vigil.EINVALID {
		t.Fatalf("code = %q, want EINVALID (%v)", vigil.ErrorCode(err), err)
	}
	if read > 17<<20 {
		t.Errorf("read %d bytes of the bomb, want at most about the 16 MiB limit", read)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
		t.Errorf("allocated %d bytes walking the bomb, want < 64 MiB", alloc)
	}
}

func TestWalkStops(t *testing.T) {
	root := testfix.Path(t, "osv-corpus", "Go", "all.zip")
	stop := errors.New("enough")
	n := 0
	err := Walk(context.Background(), root, untrusted.Limits{}, func(name string, r io.Reader) error {
		n++
		if n == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 3 {
		t.Errorf("Walk after fn error: n=%d err=%v; want 3, the fn error", n, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n = 0
	err = Walk(ctx, root, untrusted.Limits{}, func(name string, r io.Reader) error {
		n++
		cancel()
		return nil
	})
	if !errors.Is(err, context.Canceled) || n != 1 {
		t.Errorf("Walk after cancel: n=%d err=%v; want 1, context.Canceled", n, err)
	}
}

func TestEntryNameAndSkip(t *testing.T) {
	if got := EntryName("a.zip", "../../etc/passwd\n\x1b[31m"); got != "a.zip!../../etc/passwd??[31m" {
		t.Errorf("EntryName = %q", got)
	}
	tests := map[string]bool{
		"x/GO-1.json": false, "x/GO-1.json.asc": true, "A.JSON.SHA512": true, "d/PROVENANCE.md": true,
		"README.md": true, "index.txt": true, "changes.csv": true, "epss.csv": false, ".DS_Store": true,
		"__MACOSX/a.json": true, "dir/__MACOSX/a.json": true, "kev.csv": false, "PYSEC-1.yaml": false,
	}
	for name, want := range tests {
		if got := Skip(name); got != want {
			t.Errorf("Skip(%q) = %v, want %v", name, got, want)
		}
	}
}
