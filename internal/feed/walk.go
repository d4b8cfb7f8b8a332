package feed

import (
	"archive/zip"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"unicode"

	"github.com/vigil-dev/vigil/internal/untrusted"
)

// Walk calls fn once for each feed document under p, in a deterministic (sorted) order:
//   - a plain file: the file itself;
//   - a folder: every file below it, recursively, sorted by path; folders whose name starts with "." are skipped;
//   - a .zip (OSV.dev's all.zip): each entry, sorted by name, streamed from the archive (nothing is extracted to
//     disk, so entry names such as ../../etc/passwd are only names);
//   - a .gz: its decompressed content, also inside folders and as a zip entry.
//
// Signature and digest side files (.asc, .sig, .sha256, .sha512, ...), markdown (README, PROVENANCE), dotfiles and
// CSAF provider listings (index.txt, changes.csv) are skipped inside folders and archives (see Skip); a file named
// explicitly is always passed. The name given to fn is the file's path, with "!entry" appended for an archive
// entry (feeds/PyPI/all.zip!PYSEC-2021-1.json), so errors can name the record.
//
// Every read is bounded by lim: one document's decompressed size (MaxFileSize), the bytes decompressed in the whole
// walk (MaxTotalSize), and the number of documents (MaxEntries); a zip bomb or an endless gzip stream fails with
// EINVALID naming the entry after reading at most the limit. Walk stops at the first error from fn or a limit and
// returns it; it checks ctx between documents. A nested archive (a .zip inside a .zip) is refused.
func Walk(ctx context.Context, p string, lim untrusted.Limits, fn func(name string, r io.Reader) error) error {
	lim = lim.WithDefaults()
	w := &walker{ctx: ctx, lim: lim, fn: fn, total: untrusted.NewBudget(lim.MaxTotalSize)}
	st, err := os.Stat(p)
	if err != nil {
		return untrusted.Invalid(p, "", "%v", unwrapPathError(err))
	}
	if !st.IsDir() {
		return w.file(p)
	}
	var files []string
	err = filepath.WalkDir(p, func(fp string, d fs.DirEntry, err error) error {
		if err != nil {
			return untrusted.Invalid(fp, "", "%v", unwrapPathError(err))
		}
		if d.IsDir() {
			if fp != p && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if !Skip(fp) {
			files = append(files, fp)
		}
		return nil
	})
	if err != nil {
		return err
	}
	sort.Strings(files) // WalkDir is lexical per directory already; sorting the whole list makes it explicit
	for _, f := range files {
		if err := w.file(f); err != nil {
			return err
		}
	}
	return nil
}

func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Skip reports whether Walk (and osv.ReadZip) pass over a file or archive entry of this name inside a folder or
// archive: signatures and digests (.asc, .sig, .sha256, .sha512, .sha1, .md5), markdown (README.md,
// PROVENANCE.md), dotfiles and macOS resource forks, and the CSAF provider directory listings index.txt and
// changes.csv. None of them is a feed document.
func Skip(name string) bool {
	name = strings.ReplaceAll(name, `\`, "/")
	base := path.Base(name)
	lower := strings.ToLower(base)
	switch path.Ext(lower) {
	case ".asc", ".sig", ".sha256", ".sha512", ".sha1", ".md5", ".md", ".markdown":
		return true
	}
	switch {
	case strings.HasPrefix(base, "."), strings.HasPrefix(name, "__MACOSX/"), strings.Contains(name, "/__MACOSX/"):
		return true
	case lower == "index.txt", lower == "changes.csv":
		return true
	}
	return false
}

type walker struct {
	ctx   context.Context
	lim   untrusted.Limits
	fn    func(name string, r io.Reader) error
	total *untrusted.Budget
	count int
}

// next counts one document against MaxEntries and checks for cancellation.
func (w *walker) next(name string) error {
	if err := w.ctx.Err(); err != nil {
		return err
	}
	w.count++
	if w.count > w.lim.MaxEntries {
		return untrusted.Invalid(name, "", "more than the limit of %d documents", w.lim.MaxEntries)
	}
	return nil
}

func (w *walker) file(p string) error {
	lower := strings.ToLower(p)
	f, err := os.Open(p)
	if err != nil {
		return untrusted.Invalid(p, "", "%v", unwrapPathError(err))
	}
	defer f.Close()
	switch {
	case strings.HasSuffix(lower, ".zip"):
		st, err := f.Stat()
		if err != nil {
			return untrusted.Invalid(p, "", "%v", unwrapPathError(err))
		}
		return w.zip(p, f, st.Size())
	case strings.HasSuffix(lower, ".gz"):
		return w.gzip(p, f)
	}
	if err := w.next(p); err != nil {
		return err
	}
	return w.fn(p, untrusted.LimitReader(p, f, w.lim.MaxFileSize, w.total))
}

func (w *walker) gzip(name string, r io.Reader) error {
	if err := w.next(name); err != nil {
		return err
	}
	zr, err := gzip.NewReader(r)
	if err != nil {
		return untrusted.Invalid(name, "", "not gzip: %v", err)
	}
	defer zr.Close()
	// Concatenated gzip members are legal and are read as one stream; the limit covers them all.
	return w.fn(name, &gzipErrors{name: name, r: untrusted.LimitReader(name, zr, w.lim.MaxFileSize, w.total)})
}

// gzipErrors names the file in a decompression error (a corrupt stream or a bad checksum).
type gzipErrors struct {
	name string
	r    io.Reader
}

func (g *gzipErrors) Read(p []byte) (int, error) {
	n, err := g.r.Read(p)
	if err != nil && err != io.EOF {
		if !untrusted.IsLimit(err) {
			err = untrusted.Invalid(g.name, "", "gzip: %v", err)
		}
	}
	return n, err
}

// OpenZip opens a zip archive with the entry-count limit applied and its entries sorted by name, skipping
// directories and side files (Skip). osv.ReadZip and Walk share it.
func OpenZip(name string, r io.ReaderAt, size int64, lim untrusted.Limits) ([]*zip.File, error) {
	lim = lim.WithDefaults()
	zr, err := zip.NewReader(r, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		// ErrInsecurePath only warns about names like ../x, which are harmless here: nothing is written to disk.
		return nil, untrusted.Invalid(name, "", "not a zip archive: %v", err)
	}
	if len(zr.File) > lim.MaxEntries {
		return nil, untrusted.Invalid(name, "", "%d entries, more than the limit of %d", len(zr.File), lim.MaxEntries)
	}
	files := make([]*zip.File, 0, len(zr.File))
	for _, f := range zr.File {
		if f.FileInfo().IsDir() || strings.HasSuffix(f.Name, "/") || Skip(f.Name) {
			continue
		}
		files = append(files, f)
	}
	sort.SliceStable(files, func(i, j int) bool { return files[i].Name < files[j].Name })
	return files, nil
}

// EntryName is the name an archive entry is given in callbacks and errors: archive!entry, with control
// characters in the entry name replaced so that a hostile name cannot forge log lines.
func EntryName(archive, entry string) string {
	if strings.IndexFunc(entry, unicode.IsControl) >= 0 {
		entry = strings.Map(func(r rune) rune {
			if unicode.IsControl(r) {
				return '?'
			}
			return r
		}, entry)
	}
	if archive == "" {
		return entry
	}
	return archive + "!" + entry
}

// OpenEntry opens one zip entry for reading with the size limits applied: its declared size is checked first (a
// cheap refusal of an honest bomb), then the bytes actually produced are counted against max and, when total is
// not nil, against the archive's budget (a dishonest one).
func OpenEntry(name string, f *zip.File, max int64, total *untrusted.Budget) (io.ReadCloser, error) {
	if f.UncompressedSize64 > uint64(max) {
		return nil, untrusted.Invalid(name, "", "declares %d bytes uncompressed, more than the limit of %d", f.UncompressedSize64, max)
	}
	if total != nil && f.UncompressedSize64 > uint64(max64(total.Left(), 0)) {
		return nil, total.Overdrawn(name)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, untrusted.Invalid(name, "", "zip: %v", err)
	}
	return struct {
		io.Reader
		io.Closer
	}{&zipErrors{name: name, r: untrusted.LimitReader(name, rc, max, total)}, rc}, nil
}

func max64(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

// zipErrors names the entry in a decompression error (a corrupt stream, a checksum or size mismatch).
type zipErrors struct {
	name string
	r    io.Reader
}

func (z *zipErrors) Read(p []byte) (int, error) {
	n, err := z.r.Read(p)
	if err != nil && err != io.EOF {
		if !untrusted.IsLimit(err) {
			err = untrusted.Invalid(z.name, "", "zip: %v", err)
		}
	}
	return n, err
}

func (w *walker) zip(name string, r io.ReaderAt, size int64) error {
	files, err := OpenZip(name, r, size, w.lim)
	if err != nil {
		return err
	}
	for _, f := range files {
		en := EntryName(name, f.Name)
		lower := strings.ToLower(f.Name)
		if strings.HasSuffix(lower, ".zip") {
			return untrusted.Invalid(en, "", "a zip inside a zip is not supported: unpack the outer archive")
		}
		rc, err := OpenEntry(en, f, w.lim.MaxFileSize, w.total)
		if err != nil {
			return err
		}
		if strings.HasSuffix(lower, ".gz") {
			err = w.gzip(en, rc)
		} else if err = w.next(en); err == nil {
			err = w.fn(en, rc)
		}
		rc.Close()
		if err != nil {
			return err
		}
	}
	return nil
}
