// Package importer brings vulnerability intelligence into the store: it reads files, folders, .zip and .gz
// archives and HTTP(S) URLs, tells each document's source (OSV, NVD, KEV, EPSS, CSAF, STIX) by its content, parses
// it with the feed parsers, and writes everything of one run through the store in ONE transaction with one audit
// event, keeping each document's provenance (name, URL, time, SHA-256, the raw bytes). URLs are fetched into
// temporary files before that transaction begins, so a slow or unreachable feed host never holds the store's write
// lock. A run commits whole or not at all: a malformed record stops it with an error naming the file and the JSON
// path, unless SkipInvalid lists it under the run's rejected records instead. Documents already imported are
// recognised by digest and counted unchanged without being parsed, so a re-import rewrites nothing.
//
// Parsing runs in parallel (a bounded window of documents in flight) while one goroutine writes, in input order,
// so a run is deterministic. OSV.dev's all.zip archives are read entry by entry: an entry's compressed bytes are
// kept as its gzip form without recompression, and a re-imported entry is recognised by those bytes without being
// decompressed.
package importer

import (
	"archive/zip"
	"bufio"
	"bytes"
	"compress/flate"
	"context"
	"errors"
	"hash/crc32"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/feed"
	"github.com/vigil-dev/vigil/internal/feed/csaf"
	"github.com/vigil-dev/vigil/internal/feed/stix"
	"github.com/vigil-dev/vigil/internal/untrusted"
)

// maxInFlight bounds the bytes of documents read but not yet written, so that a folder of large files cannot
// fill memory while the writer catches up.
const maxInFlight = 256 << 20

// Store is what the importer needs of storage: the run's write session and a feed's saved state.
type Store interface {
	// ImportIntel runs fn as one import run in one transaction; nothing is kept when fn fails.
	ImportIntel(ctx context.Context, fn func(w vigil.IntelWriter) error) (*vigil.IntelResult, error)
	// Feed returns a configured feed (for its cursor).
	Feed(ctx context.Context, name string) (*vigil.Feed, error)
	// HTTPCache returns the ETag and Last-Modified saved for a feed URL, for a conditional fetch.
	HTTPCache(ctx context.Context, url string) (etag, lastModified string, err error)
}

// Importer imports intelligence into a store.
type Importer struct {
	Store   Store
	Fetcher *Fetcher // for URLs; nil refuses them
	Limits  untrusted.Limits
	Workers int // parallel parsers; 0 means GOMAXPROCS
	Log     *slog.Logger
	// Turns, when set, makes runs take turns at their transaction: SQLite has one writer, and two transactions side
	// by side would only queue on its lock (and time out under load). A run fetches its URLs before it waits for
	// its turn, so a feed host that hangs holds up no other run.
	Turns *sync.Mutex
}

// Result is what an import run did: the store's result and, for a scheduled sync, the feed's new cursor (NVD: the
// end of the last window fetched; CSAF: the newest entry taken from the provider's feed).
type Result struct {
	*vigil.IntelResult
	Cursor string `json:"-"`
}

// Import runs one import of inputs (paths or http(s) URLs) and returns what it did. The context must carry an
// actor holding vigil.PermImport.
func (im *Importer) Import(ctx context.Context, inputs []string, opt vigil.ImportOptions) (*Result, error) {
	if opt.Source == "" {
		opt.Source = "auto"
	}
	if err := vigil.OneOf("--source", opt.Source, vigil.ImportSources); err != nil {
		return nil, err
	}
	if len(inputs) == 0 {
		return nil, vigil.Errorf(vigil.EINVALID, "nothing to import: give files, folders or URLs")
	}
	if opt.Display != "" && len(inputs) != 1 {
		return nil, vigil.Errorf(vigil.EINVALID, "a display name is for one input, not %d", len(inputs))
	}
	var total int64
	for _, in := range inputs {
		if isURL(in) {
			if im.Fetcher == nil {
				return nil, vigil.Errorf(vigil.EINVALID, "%s: importing from URLs is not configured", in)
			}
			if err := im.Fetcher.Allowed(in); err != nil {
				return nil, err
			}
			continue
		}
		n, err := diskSize(in)
		if err != nil {
			return nil, err
		}
		total += n
	}
	cursor := ""
	if opt.Feed != "" {
		f, err := im.Store.Feed(ctx, opt.Feed)
		if err != nil {
			return nil, err
		}
		cursor = f.Cursor
	}
	var temps []string
	defer func() {
		for _, t := range temps {
			os.Remove(t)
		}
	}()
	// URLs are fetched first, outside the transaction: a feed host that is slow or down must not hold the store's
	// write lock (on SQLite every other write would wait on it, then fail).
	lim := im.Limits.WithDefaults()
	st := &stager{im: im, ctx: ctx, opt: opt, lim: lim, cursor: cursor, temps: &temps}
	fetched := make([]*staged, len(inputs))
	for i, in := range inputs {
		if !isURL(in) {
			continue
		}
		var err error
		if fetched[i], err = st.url(in); err != nil {
			return nil, err
		}
	}
	total += st.kept
	if im.Turns != nil {
		im.Turns.Lock()
		defer im.Turns.Unlock()
	}
	var newCursor string
	res, err := im.Store.ImportIntel(ctx, func(w vigil.IntelWriter) error {
		r := &run{im: im, opt: opt, w: w, ctx: ctx, lim: lim, total: total}
		defer func() { newCursor = r.newCursor }()
		for i, in := range inputs {
			var err error
			if fetched[i] != nil {
				err = r.staged(fetched[i])
			} else {
				err = r.path(in, opt.Display, "", time.Time{})
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &Result{IntelResult: res, Cursor: newCursor}, nil
}

func isURL(s string) bool {
	l := strings.ToLower(s)
	return strings.HasPrefix(l, "https://") || strings.HasPrefix(l, "http://")
}

// diskSize is the bytes under p (a file, or every file of a folder), for the progress bar's ETA.
func diskSize(p string) (int64, error) {
	st, err := os.Stat(p)
	if err != nil {
		return 0, untrusted.Invalid(p, "", "%v", unwrapPath(err))
	}
	if !st.IsDir() {
		return st.Size(), nil
	}
	var n int64
	err = filepath.WalkDir(p, func(fp string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() && fp != p && strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir
		}
		if err == nil && !d.IsDir() && !feed.Skip(fp) {
			if i, err := d.Info(); err == nil {
				n += i.Size()
			}
		}
		return nil
	})
	return n, err
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// run is one import run in progress.
type run struct {
	im    *Importer
	opt   vigil.ImportOptions
	w     vigil.IntelWriter
	ctx   context.Context
	lim   untrusted.Limits
	total int64
	prog  vigil.ImportProgress
	// newCursor is where this run got to (a scheduled sync of a paged or listed feed).
	newCursor string
}

// job is one document to read: a whole file (raw) or a zip entry (zf, read by the worker).
type job struct {
	name      string // as errors and the store name it: path, path!entry, URL, URL!entry
	url       string
	fetchedAt time.Time
	raw       []byte
	zf        *zip.File
	comp      []byte // the entry's compressed bytes
	budget    *untrusted.Budget
	hint      *atomicString // the source detected for the archive's first entries
	refused   error         // the document is over its size limit and was not read: rejected as it stands
	source    string        // a refused document's source, as far as its first bytes tell
	size      int64         // bytes it accounts for in progress (on disk, compressed)
	weight    int64         // bytes held against maxInFlight
	out       chan *result
}

// path imports a file, a folder or an archive. display and u, when set, replace p in names and provenance (a
// downloaded temporary file stands for its URL).
func (r *run) path(p, display, u string, fetchedAt time.Time) error {
	name := func(fp string) string {
		if display == "" {
			return fp
		}
		if fp == p {
			return display
		}
		return display + strings.TrimPrefix(fp, p)
	}
	st, err := os.Stat(p)
	if err != nil {
		return untrusted.Invalid(name(p), "", "%v", unwrapPath(err))
	}
	var files []string
	if st.IsDir() {
		err = filepath.WalkDir(p, func(fp string, d fs.DirEntry, err error) error {
			if err != nil {
				return untrusted.Invalid(name(fp), "", "%v", unwrapPath(err))
			}
			if d.IsDir() {
				if fp != p && strings.HasPrefix(d.Name(), ".") {
					return filepath.SkipDir
				}
				return nil
			}
			if !feed.Skip(fp) {
				files = append(files, fp)
			}
			return nil
		})
		if err != nil {
			return err
		}
		sort.Strings(files)
	} else {
		files = []string{p}
	}
	var open []io.Closer // archives stay open until every worker has read its entries
	defer func() {
		for _, c := range open {
			c.Close()
		}
	}()
	return r.pipeline(func(emit func(*job) error) error {
		var entries int
		for _, f := range files {
			if err := r.ctx.Err(); err != nil {
				return err
			}
			fname := name(f)
			furl := u
			if u != "" && f != p {
				furl = ""
			}
			if strings.HasSuffix(strings.ToLower(f), ".zip") {
				n, err := r.zipJobs(f, fname, furl, fetchedAt, &open, emit)
				entries += n
				if err != nil {
					return err
				}
				continue
			}
			// feed.Walk reads plain and .gz files with the size limits; the bytes are handed to a worker.
			err := feed.Walk(r.ctx, f, r.lim, func(_ string, rd io.Reader) error {
				entries++
				if entries > r.lim.MaxEntries {
					return untrusted.Invalid(fname, "", "more than the limit of %d documents", r.lim.MaxEntries)
				}
				b, source, refused, err := r.readDocument(fname, rd)
				if err != nil {
					return err
				}
				size := int64(len(b))
				if st, err := os.Stat(f); err == nil {
					size = st.Size()
				}
				if refused != nil {
					// Over its kind's limit: rejected like an invalid record (--skip-invalid goes on), never read further.
					return emit(&job{name: fname, source: source, refused: refused, size: size})
				}
				return emit(&job{name: fname, url: furl, fetchedAt: fetchedAt, raw: b, size: size, weight: int64(len(b))})
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// readDocument reads one plain or decompressed document whole, within the limit of its kind: a source whose parser
// reads a document whole (an OSV record, a CSAF advisory, a STIX bundle) gets that parser's limit, and the bytes
// decompressed are counted against it as they come, so a small .json.gz that expands to gigabytes is refused after
// tens of megabytes; only the sources whose parsers stream records (NVD, KEV, EPSS) may use the file limit. The
// kind is the run's --source, else detected from the document's first bytes (an undetectable document gets the
// record limit: its worker rejects it by those bytes anyway). refused is the EINVALID error naming the file when
// the document is over its limit; err stops the run (a corrupt stream, the walk's own limits).
func (r *run) readDocument(name string, rd io.Reader) (b []byte, source string, refused, err error) {
	br := bufio.NewReaderSize(rd, feed.HeadSize)
	head, err := br.Peek(feed.HeadSize)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return nil, "", nil, err
	}
	source = r.opt.Source
	if source == "auto" {
		source, _ = feed.Detect(name, head)
	}
	max, what := documentLimit(source, r.lim)
	b, err = untrusted.ReadAll(name, untrusted.LimitReader(name, br, max, nil), max)
	if untrusted.IsLimit(err) && !untrusted.IsBudget(err) {
		return nil, source, untrusted.Invalid(name, "", "more than %d MiB, the limit for one %s", max>>20, what), nil
	}
	return b, source, nil, err
}

// documentLimit is the most bytes one document of source may be read to, and what such a document is called.
func documentLimit(source string, lim untrusted.Limits) (int64, string) {
	switch source {
	case vigil.SourceNVD, vigil.SourceKEV, vigil.SourceEPSS:
		return lim.MaxFileSize, strings.ToUpper(source) + " file"
	case vigil.SourceCSAF:
		return min(csaf.DefaultLimits().MaxRecordSize, lim.MaxFileSize), "CSAF document"
	case vigil.SourceSTIX:
		return min(stix.DefaultLimits().MaxRecordSize, lim.MaxFileSize), "STIX bundle"
	case vigil.SourceOSV:
		return min(lim.MaxRecordSize, lim.MaxFileSize), "OSV record"
	}
	return min(lim.MaxRecordSize, lim.MaxFileSize), "document of an unrecognised kind"
}

// zipEntries lists the entries of an archive to import, in the order they are stored (the central directory's), so
// that the archive is read front to back; that order is as deterministic as name order, which would make every
// read a seek. It applies feed.OpenZip's rules: the entry-count limit, no directories, no side files (feed.Skip).
func zipEntries(name string, r io.ReaderAt, size int64, lim untrusted.Limits) ([]*zip.File, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		// ErrInsecurePath only warns about names like ../x, which are harmless: nothing is written to disk.
		return nil, untrusted.Invalid(name, "", "not a zip archive: %v", err)
	}
	if len(zr.File) > lim.MaxEntries {
		return nil, untrusted.Invalid(name, "", "%d entries, more than the limit of %d", len(zr.File), lim.MaxEntries)
	}
	files := make([]*zip.File, 0, len(zr.File))
	for _, f := range zr.File {
		if f.FileInfo().IsDir() || strings.HasSuffix(f.Name, "/") || feed.Skip(f.Name) {
			continue
		}
		files = append(files, f)
	}
	return files, nil
}

// zipJobs emits one job per entry of a zip archive, in name order (feed.OpenZip skips side files). Workers read
// the entries, so the archive is added to open, closed once the pipeline is over.
func (r *run) zipJobs(p, display, u string, fetchedAt time.Time, open *[]io.Closer, emit func(*job) error) (int, error) {
	f, err := os.Open(p)
	if err != nil {
		return 0, untrusted.Invalid(display, "", "%v", unwrapPath(err))
	}
	*open = append(*open, f)
	st, err := f.Stat()
	if err != nil {
		return 0, untrusted.Invalid(display, "", "%v", unwrapPath(err))
	}
	wr := &windowReader{f: f}
	files, err := zipEntries(display, wr, st.Size(), r.lim)
	if err != nil {
		return 0, err
	}
	budget := untrusted.NewBudget(r.lim.MaxTotalSize)
	hint := new(atomicString)
	// The archive's headers and skipped entries count towards the progress of its last entry, so that the bytes of
	// a finished archive add up to its size.
	extra := st.Size()
	for _, zf := range files {
		extra -= int64(zf.CompressedSize64)
	}
	for i, zf := range files {
		if err := r.ctx.Err(); err != nil {
			return 0, err
		}
		en := feed.EntryName(display, zf.Name)
		if strings.HasSuffix(strings.ToLower(zf.Name), ".zip") {
			return 0, untrusted.Invalid(en, "", "a zip inside a zip is not supported: unpack the outer archive")
		}
		eu := ""
		if u != "" {
			eu = u + "!" + zf.Name
		}
		w := int64(zf.CompressedSize64)
		size := w
		if i == len(files)-1 {
			size += max(extra, 0)
		}
		// The compressed bytes are read here, in file order (the workers would read them out of order); an entry
		// whose declared size is over the limit is left for its worker to reject.
		var comp []byte
		if zf.UncompressedSize64 <= uint64(r.lim.MaxRecordSize) && zf.CompressedSize64 <= uint64(max(r.lim.MaxRecordSize, 1<<20)) {
			rr, err := zf.OpenRaw()
			if err != nil {
				return 0, untrusted.Invalid(en, "", "zip: %v", err)
			}
			comp = make([]byte, zf.CompressedSize64)
			if _, err := io.ReadFull(rr, comp); err != nil {
				return 0, untrusted.Invalid(en, "", "zip: %v", err)
			}
		}
		if err := emit(&job{name: en, url: eu, fetchedAt: fetchedAt, zf: zf, comp: comp, budget: budget, hint: hint, size: size, weight: w}); err != nil {
			return 0, err
		}
	}
	return len(files), nil
}

// pipeline runs produce (which emits jobs in order) against parallel workers and writes the results in order.
func (r *run) pipeline(produce func(emit func(*job) error) error) error {
	workers := r.im.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	// The writer works in bursts (a batch of a few hundred records at a time): a deep window keeps the workers
	// parsing meanwhile instead of waiting for it.
	window := 512 * workers
	jobs := make(chan []*job, window/lookupBatch+1)
	order := make(chan *job, window)
	done := make(chan struct{})
	sem := semaphore.NewWeighted(maxInFlight)
	var wg sync.WaitGroup
	var prodErr error
	var prodWG sync.WaitGroup
	prodWG.Add(1)
	go func() {
		defer prodWG.Done()
		defer close(order)
		defer close(jobs)
		// Jobs go to the workers lookupBatch at a time (one look-up of known documents each). A partial batch is
		// sent before the producer may block, since the writer may be waiting for one of its jobs.
		var batch []*job
		send := func() error {
			if len(batch) == 0 {
				return nil
			}
			select {
			case jobs <- batch:
			case <-done:
				return context.Canceled
			}
			batch = nil
			return nil
		}
		prodErr = produce(func(j *job) error {
			wt := min(j.weight, maxInFlight)
			if wt > 0 && !sem.TryAcquire(wt) {
				if err := send(); err != nil {
					return err
				}
				// Acquire with a context that ends when the consumer stops, so a stopped run never blocks here.
				ctx, cancel := context.WithCancel(r.ctx)
				go func() {
					select {
					case <-done:
						cancel()
					case <-ctx.Done():
					}
				}()
				err := sem.Acquire(ctx, wt)
				cancel()
				if err != nil {
					return err
				}
			}
			j.weight = wt
			j.out = make(chan *result, 1)
			select {
			case order <- j:
			case <-done:
				return context.Canceled
			}
			if batch = append(batch, j); len(batch) == lookupBatch {
				return send()
			}
			return nil
		})
		if err := send(); prodErr == nil {
			prodErr = err
		}
	}()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var dec decoder
			for b := range jobs {
				select {
				case <-done:
					for _, j := range b {
						j.out <- &result{job: j, err: context.Canceled}
					}
					continue
				default:
				}
				r.processBatch(b, &dec)
			}
		}()
	}
	stop := func() {
		close(done)
		for range order { // let the producer finish
		}
		prodWG.Wait()
		wg.Wait()
	}
	for j := range order {
		res := <-j.out
		err := r.consume(res)
		if j.weight > 0 {
			sem.Release(j.weight)
		}
		if err != nil {
			stop()
			return err
		}
	}
	prodWG.Wait()
	wg.Wait()
	return prodErr
}

// decoder is a worker's reusable decompressor.
type decoder struct {
	fr io.ReadCloser
}

// inflate decompresses an entry whose declared size is size (at most max): straight into a buffer of that size,
// then checking that the stream ends there, so a lying header cannot make it read more.
func (d *decoder) inflate(name string, comp []byte, size uint64, max int64, budget *untrusted.Budget) ([]byte, error) {
	if d.fr == nil {
		d.fr = flate.NewReader(bytes.NewReader(comp))
	} else if err := d.fr.(flate.Resetter).Reset(bytes.NewReader(comp), nil); err != nil {
		return nil, untrusted.Invalid(name, "", "zip: %v", err)
	}
	if size > uint64(max) {
		return nil, untrusted.Invalid(name, "", "declares %d bytes uncompressed, more than the limit of %d", size, max)
	}
	out := make([]byte, size)
	r := untrusted.LimitReader(name, d.fr, max, budget)
	if _, err := io.ReadFull(r, out); err != nil {
		if untrusted.IsLimit(err) {
			return nil, err
		}
		return nil, untrusted.Invalid(name, "", "zip: %v", err)
	}
	var one [1]byte
	if n, _ := r.Read(one[:]); n > 0 {
		return nil, untrusted.Invalid(name, "", "zip: more data than the declared %d bytes: the archive is corrupt", size)
	}
	return out, nil
}

// lookupBatch is how many documents a worker takes at a time: it asks the store which of them are known in one
// look-up (two for zip entries: by their compressed form, then by their bytes).
const lookupBatch = 64

// processBatch reads, recognises and parses a batch of documents (in a worker), sending each result to its job.
func (r *run) processBatch(b []*job, dec *decoder) {
	docs := make([]doc, len(b))
	var blobs []vigil.DocKey
	for i, j := range b {
		docs[i] = r.blobKey(j)
		if docs[i].blob != nil {
			blobs = append(blobs, *docs[i].blob)
		}
	}
	var found map[vigil.DocKey]vigil.KnownDoc
	var err error
	if len(blobs) > 0 {
		found, err = r.w.Known(blobs)
	}
	var digests []vigil.DocKey
	for i, j := range b {
		if err != nil {
			docs[i].res = &result{job: j, err: err}
			continue
		}
		if docs[i].res != nil {
			continue
		}
		if docs[i].blob != nil {
			if kd, ok := found[*docs[i].blob]; ok {
				docs[i].res = &result{job: j, source: kd.Source, unchanged: kd.Records, known: true}
				continue
			}
		}
		r.read(j, dec, &docs[i])
		if docs[i].res == nil {
			digests = append(digests, vigil.DocKey{Digest: docs[i].doc.Digest})
		}
	}
	if err == nil && len(digests) > 0 {
		found, err = r.w.Known(digests)
	}
	for i, j := range b {
		d := &docs[i]
		switch {
		case d.res != nil:
		case err != nil:
			d.res = &result{job: j, err: err}
		default:
			if kd, ok := found[vigil.DocKey{Digest: d.doc.Digest}]; ok {
				d.res = &result{job: j, source: kd.Source, unchanged: kd.Records, known: true}
			} else {
				d.res = r.parse(j, d.raw, d.doc)
			}
		}
		j.out <- d.res
	}
}

// process runs one job through a worker's steps in the calling goroutine.
func (r *run) process(j *job, dec *decoder) *result {
	j.out = make(chan *result, 1)
	r.processBatch([]*job{j}, dec)
	return <-j.out
}

// doc is a document of a batch on its way through processBatch: res once it is decided (refused, rejected or
// known), else its bytes and SourceDoc.
type doc struct {
	blob *vigil.DocKey // a zip entry's key by its compressed form, when it has one
	raw  []byte
	doc  *vigil.SourceDoc
	res  *result
}

// blobKey decides a refused document, and keys a Deflate zip entry by its gzip form (ZipBlobDigest) so that a
// known one is recognised without being decompressed.
func (r *run) blobKey(j *job) doc {
	if j.refused != nil {
		res := &result{job: j, source: j.source}
		res.reject(j.name, recordName(j.name), j.refused)
		return doc{res: res}
	}
	if zf := j.zf; zf != nil && zf.Method == zip.Deflate && zf.UncompressedSize64 <= uint64(r.lim.MaxRecordSize) {
		return doc{blob: &vigil.DocKey{Blob: vigil.ZipBlobDigest(j.comp, zf.CRC32, zf.UncompressedSize64)}}
	}
	return doc{}
}

// read decompresses a zip entry (checking its size and checksum) and makes the document's SourceDoc, or decides
// its result when it cannot be read.
func (r *run) read(j *job, dec *decoder, d *doc) {
	res := &result{job: j}
	raw := j.raw
	var blob []byte
	if j.zf != nil {
		zf := j.zf
		if zf.UncompressedSize64 > uint64(r.lim.MaxRecordSize) {
			res.reject(j.name, "", untrusted.Invalid(j.name, "", "declares %d bytes uncompressed, more than the limit of %d", zf.UncompressedSize64, r.lim.MaxRecordSize))
			d.res = res
			return
		}
		comp := j.comp
		var err error
		switch zf.Method {
		case zip.Deflate:
			blob = vigil.ZipBlob(comp, zf.CRC32, zf.UncompressedSize64)
			raw, err = dec.inflate(j.name, comp, zf.UncompressedSize64, r.lim.MaxRecordSize, j.budget)
		case zip.Store:
			raw, err = comp, nil
		default:
			err = untrusted.Invalid(j.name, "", "zip: compression method %d is not supported", zf.Method)
		}
		if err != nil {
			if untrusted.IsLimit(err) && !untrusted.IsBudget(err) {
				res.reject(j.name, "", err)
			} else {
				res.err = err
			}
			d.res = res
			return
		}
		if uint64(len(raw)) != zf.UncompressedSize64 || crc32.ChecksumIEEE(raw) != zf.CRC32 {
			res.err = untrusted.Invalid(j.name, "", "zip: checksum or size mismatch: the archive is corrupt")
			d.res = res
			return
		}
	}
	d.raw = raw
	if blob != nil {
		d.doc = vigil.ZipSourceDoc("", "", j.name, blob, raw)
	} else {
		d.doc = vigil.NewSourceDoc("", "", j.name, raw)
	}
}

// parse recognises and parses one document that is not known.
func (r *run) parse(j *job, raw []byte, doc *vigil.SourceDoc) *result {
	res := &result{job: j}
	source := r.opt.Source
	if source == "auto" && j.hint != nil && j.hint.Load() == vigil.SourceOSV {
		// The entries of an OSV.dev archive are all OSV records: parse straight away, and detect only when that
		// fails (another kind of document in the archive, or an invalid record whose error detection confirms).
		doc.Source, doc.URL, doc.FetchedAt = vigil.SourceOSV, j.url, j.fetchedAt
		trial := &result{job: j, source: vigil.SourceOSV, doc: doc}
		parseOSV(r, j.name, raw, trial)
		if len(trial.rejects) == 0 {
			return trial
		}
	}
	if source == "auto" {
		head := raw
		if len(head) > feed.HeadSize {
			head = head[:feed.HeadSize]
		}
		s, err := feed.Detect(j.name, head)
		if errors.Is(err, feed.ErrSideFile) {
			res.skip = true
			return res
		}
		if err != nil {
			res.reject(j.name, "", err)
			return res
		}
		source = s
		if j.hint != nil {
			j.hint.CompareAndSwap("", s)
		}
	}
	doc.Source, doc.URL, doc.FetchedAt = source, j.url, j.fetchedAt
	res.source = source
	res.doc = doc
	parse := parsers[source]
	if parse == nil {
		res.doc = nil
		res.reject(j.name, "", untrusted.Invalid(j.name, "", "%s documents cannot be imported yet", source))
		return res
	}
	parse(r, j.name, raw, res)
	if res.doc != nil {
		res.doc.Rejected = len(res.rejects)
		res.doc.Records += len(res.rejects)
	}
	return res
}

// result is what a worker made of a job.
type result struct {
	job       *job
	err       error // stops the run
	skip      bool  // a side file (a CSAF provider listing): nothing to import
	source    string
	known     bool
	unchanged int
	doc       *vigil.SourceDoc // nil when nothing of the document is kept
	released  time.Time
	advs      []*vigil.PreparedAdvisory
	kev       *kevCatalog
	epss      []vigil.EPSSScore
	rejects   []vigil.RejectedRecord
	firstErr  error // the first rejection, returned whole when SkipInvalid is off
}

type kevCatalog struct {
	version string
	entries []vigil.KEVEntry
}

// reject records an invalid record (record: its id or index, "" for the whole document).
func (res *result) reject(file, record string, err error) {
	if res.firstErr == nil {
		res.firstErr = err
	}
	res.rejects = append(res.rejects, vigil.RejectedRecord{File: file, Record: record, Error: err.Error()})
}

// consume writes one result (in the writing goroutine, in input order).
func (r *run) consume(res *result) error {
	j := res.job
	r.prog.Bytes += j.size
	r.prog.File = j.name
	defer func() {
		if r.opt.Progress != nil {
			r.opt.Progress(vigil.ImportProgress{Records: r.prog.Records, Bytes: r.prog.Bytes, TotalBytes: r.total, File: r.prog.File})
		}
	}()
	if res.err != nil {
		return res.err
	}
	if res.skip {
		if r.im.Log != nil {
			r.im.Log.Info("skipped a provider listing (not a feed document)", "file", j.name)
		}
		return nil
	}
	if res.known {
		r.w.Unchanged(res.source, res.unchanged)
		r.prog.Records += int64(res.unchanged)
		return nil
	}
	src := res.source
	if src == "" {
		src = r.opt.Source
		if src == "auto" {
			src = "unknown"
		}
	}
	r.prog.Records += int64(len(res.rejects))
	if len(res.rejects) > 0 {
		if !r.opt.SkipInvalid {
			return res.firstErr
		}
		for _, rj := range res.rejects {
			r.w.Reject(src, rj)
		}
	}
	if res.doc == nil {
		return nil
	}
	ref, err := r.w.Document(res.doc)
	if err != nil {
		return err
	}
	if !res.released.IsZero() {
		r.w.SetReleased(ref, res.released)
	}
	for _, p := range res.advs {
		if err := r.w.Advisory(ref, p); err != nil {
			return err
		}
	}
	r.prog.Records += int64(len(res.advs))
	if res.kev != nil {
		if err := r.w.KEV(ref, res.kev.version, res.kev.entries); err != nil {
			return err
		}
		r.prog.Records += int64(len(res.kev.entries))
	}
	if res.epss != nil {
		if err := r.w.EPSS(ref, res.epss); err != nil {
			return err
		}
		r.prog.Records += int64(len(res.epss))
	}
	return nil
}

// parseCount parses a non-negative count given in a URL (NVD's startIndex).
func parseCount(s string) (int, error) {
	v, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || v < 0 {
		return 0, vigil.Errorf(vigil.EINVALID, "%q is not a count", s)
	}
	return v, nil
}

// readHead reads a whole (downloaded) file, at most max bytes.
func readHead(p string, max int64) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return untrusted.ReadAll(p, f, max)
}

// atomicString is a string set once and read by several workers.
type atomicString struct{ v atomic.Pointer[string] }

func (a *atomicString) Load() string {
	if p := a.v.Load(); p != nil {
		return *p
	}
	return ""
}

func (a *atomicString) CompareAndSwap(old, s string) {
	if a.Load() == old {
		a.v.CompareAndSwap(nil, &s)
	}
}

// windowReader serves an archive's reads from a window of a few megabytes read ahead: the entries of an OSV.dev
// archive are read in file order, two small reads each, and half a million entries would otherwise cost a million
// system calls.
type windowReader struct {
	f   io.ReaderAt
	mu  sync.Mutex
	buf []byte
	off int64
}

const readWindow = 4 << 20

func (w *windowReader) ReadAt(p []byte, off int64) (int, error) {
	if len(p) > readWindow/4 {
		return w.f.ReadAt(p, off)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if off < w.off || off+int64(len(p)) > w.off+int64(len(w.buf)) {
		if cap(w.buf) < readWindow {
			w.buf = make([]byte, readWindow)
		}
		w.buf = w.buf[:readWindow]
		n, err := w.f.ReadAt(w.buf, off)
		w.buf, w.off = w.buf[:n], off
		if n < len(p) {
			copy(p, w.buf)
			if err == nil {
				err = io.EOF
			}
			return n, err
		}
	}
	return copy(p, w.buf[off-w.off:]), nil
}
