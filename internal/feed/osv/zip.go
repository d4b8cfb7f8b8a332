package osv

import (
	"archive/zip"
	"bytes"
	"io"
	"os"
	"runtime"
	"strings"
	"sync"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/feed"
	"github.com/vigil-dev/vigil/internal/untrusted"
)

// ReadZip streams the OSV records of an OSV.dev-style all.zip: one record per entry, entries in name order (feed
// skips side files and directories). fn is called once per valid record, from the calling goroutine and in order;
// decompression and parsing run in parallel ahead of it (GOMAXPROCS workers, a bounded window), because a full
// import decodes hundreds of thousands of records while fn writes them to a database.
//
// Limits: the archive may hold at most lim.MaxEntries entries, each at most lim.MaxRecordSize bytes uncompressed
// (declared and actual), and all of them together at most lim.MaxTotalSize; exceeding the total, a corrupt archive
// or an error from fn stops the read and is returned. An invalid record (or one over the per-record size) is
// skipped: the others are delivered and ReadZip then returns a *feed.Rejects (EINVALID) counting and naming them.
// The names given to fn and in errors are the entry names (PYSEC-2021-1.json); ReadZipFile prefixes the path.
func ReadZip(r io.ReaderAt, size int64, lim untrusted.Limits, fn func(name string, a vigil.Advisory) error) error {
	return readZip("", r, size, lim, fn)
}

// ReadZipFile is ReadZip on the file at path, naming records path!entry.
func ReadZipFile(path string, lim untrusted.Limits, fn func(name string, a vigil.Advisory) error) error {
	f, err := os.Open(path)
	if err != nil {
		return untrusted.Invalid(path, "", "%v", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return untrusted.Invalid(path, "", "%v", err)
	}
	return readZip(path, f, st.Size(), lim, fn)
}

// result is one entry's outcome; fatal marks errors that end the whole read (the archive is corrupt or over its
// total budget) rather than rejecting one record.
type result struct {
	name  string
	a     vigil.Advisory
	err   error
	fatal bool
}

type job struct {
	f    *zip.File
	name string
	out  chan result
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func readZip(archive string, r io.ReaderAt, size int64, lim untrusted.Limits, fn func(name string, a vigil.Advisory) error) error {
	lim = lim.WithDefaults()
	label := archive
	if label == "" {
		label = "zip archive"
	}
	files, err := feed.OpenZip(label, r, size, lim)
	if err != nil {
		return err
	}
	budget := untrusted.NewBudget(lim.MaxTotalSize)
	rejects := &feed.Rejects{Name: label}

	workers := runtime.GOMAXPROCS(0)
	window := 4 * workers
	jobs := make(chan job, window)
	order := make(chan chan result, window)
	done := make(chan struct{})
	var wg sync.WaitGroup

	wg.Add(1)
	go func() { // producer: hands out entries in order, and the consumer their result slots in the same order
		defer wg.Done()
		defer close(order)
		defer close(jobs)
		for _, f := range files {
			j := job{f: f, name: feed.EntryName(archive, f.Name), out: make(chan result, 1)}
			select {
			case jobs <- j:
			case <-done:
				return
			}
			select {
			case order <- j.out:
			case <-done:
				return
			}
		}
	}()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				select {
				case <-done:
					j.out <- result{name: j.name, err: io.ErrClosedPipe, fatal: true}
					continue
				default:
				}
				j.out <- decodeEntry(j, lim, budget)
			}
		}()
	}
	stop := func() {
		close(done)
		// Drain so the producer and workers can finish, then wait for them: no goroutine outlives the call.
		for range order {
		}
		wg.Wait()
	}

	for out := range order {
		res := <-out
		if res.err != nil {
			if res.fatal {
				stop()
				return res.err
			}
			rejects.Add(res.err)
			continue
		}
		if err := fn(res.name, res.a); err != nil {
			stop()
			return err
		}
	}
	wg.Wait()
	return rejects.Err()
}

func decodeEntry(j job, lim untrusted.Limits, budget *untrusted.Budget) result {
	res := result{name: j.name}
	if strings.HasSuffix(strings.ToLower(j.f.Name), ".zip") {
		res.err = untrusted.Invalid(j.name, "", "a zip inside a zip is not supported")
		return res
	}
	if j.f.UncompressedSize64 > uint64(lim.MaxRecordSize) {
		// An honest oversized record costs only itself; the archive's total budget is not charged.
		res.err = untrusted.Invalid(j.name, "", "declares %d bytes uncompressed, more than the limit of %d", j.f.UncompressedSize64, lim.MaxRecordSize)
		return res
	}
	rc, err := feed.OpenEntry(j.name, j.f, lim.MaxRecordSize, budget)
	if err != nil {
		res.err, res.fatal = err, true
		return res
	}
	defer rc.Close()
	buf := bufPool.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= 4<<20 { // do not let one huge record pin its buffer in the pool
			buf.Reset()
			bufPool.Put(buf)
		}
	}()
	buf.Reset()
	buf.Grow(int(j.f.UncompressedSize64))
	if _, err := buf.ReadFrom(rc); err != nil {
		// Over the per-record size is this record's problem; anything else (a corrupt stream, the total budget)
		// means the archive cannot be trusted further.
		res.err = err
		res.fatal = !untrusted.IsLimit(err) || untrusted.IsBudget(err)
		return res
	}
	res.a, res.err = ParseBytes(j.name, buf.Bytes(), lim)
	return res
}
