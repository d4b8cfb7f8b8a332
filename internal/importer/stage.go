package importer

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/untrusted"
)

// staged is one URL input, fetched before the run's transaction begins: the temporary files it became, in order,
// or nothing when the server answered "not modified".
type staged struct {
	url         string
	notModified bool
	// etag and lastModified are the validators of a plain download, stored when the run commits.
	etag, lastModified string
	docs               []stagedDoc
	cursor             string // an NVD or ROLIE sync's new position ("" leaves it)
}

// stagedDoc is one downloaded file of a staged URL.
type stagedDoc struct {
	path      string // the temporary file
	name      string // as errors and the store name it
	url       string // provenance
	fetchedAt time.Time
	// page marks a document taken whole from a paged or listed source (an NVD page, a ROLIE advisory): it is kept
	// gzip-compressed and read as source. A plain download is read like a local file, its source detected.
	page   bool
	source string
}

// stager fetches an import's URLs into temporary files before its transaction, so that no network wait (retries,
// backoff, NVD's pauses between pages, a host that never answers) happens while the store's write lock is held.
// What it keeps on disk is bounded by the fetcher's MaxStaged; the importer removes the files when the run ends.
type stager struct {
	im     *Importer
	ctx    context.Context
	opt    vigil.ImportOptions
	lim    untrusted.Limits
	cursor string
	temps  *[]string
	kept   int64
}

// url fetches one URL: an NVD API endpoint page by page; a CSAF provider's ROLIE feed and the advisories it lists;
// anything else whole (conditionally, with the validators of the last import of that URL).
func (s *stager) url(raw string) (*staged, error) {
	if isNVDAPI(raw) {
		return s.nvd(raw)
	}
	etag, lm, err := s.im.Store.HTTPCache(s.ctx, raw)
	if err != nil {
		return nil, err
	}
	d, err := s.im.Fetcher.Download(s.ctx, raw, Conditional{ETag: etag, LastModified: lm})
	if err != nil {
		return nil, err
	}
	st := &staged{url: raw}
	if d.NotModified {
		st.notModified = true
		return st, nil
	}
	*s.temps = append(*s.temps, d.Path)
	if err := s.keep(raw, d.Size); err != nil {
		return nil, err
	}
	st.etag, st.lastModified = d.ETag, d.LastModified
	if entries, ok := rolieEntries(d.Path, s.lim); ok {
		return st, s.rolie(raw, entries, st)
	}
	st.docs = []stagedDoc{{path: d.Path, name: redact(raw), url: raw, fetchedAt: d.FetchedAt}}
	return st, nil
}

// keep counts n more bytes kept on disk for this run against the fetcher's bound.
func (s *stager) keep(raw string, n int64) error {
	s.kept += n
	if max := s.im.Fetcher.maxStaged(); s.kept > max {
		return vigil.Errorf(vigil.EINVALID, "%s: the downloads of this import exceed the limit of %d bytes kept on disk until it is written",
			redact(raw), max)
	}
	return nil
}

// spool keeps one fetched document (an NVD page, a ROLIE advisory) in a gzip-compressed temporary file until the
// transaction reads it: NVD's pages compress about tenfold, and a first sync fetches all of them.
func (s *stager) spool(raw, source string, resp *Response) (stagedDoc, error) {
	name := redact(raw)
	fh, err := os.CreateTemp(s.im.Fetcher.TempDir, TempPattern("fetch")+".json.gz")
	if err != nil {
		return stagedDoc{}, tempError(name, err)
	}
	*s.temps = append(*s.temps, fh.Name())
	zw, _ := gzip.NewWriterLevel(fh, gzip.BestSpeed)
	_, err = zw.Write(resp.Body)
	if cerr := zw.Close(); err == nil {
		err = cerr
	}
	if cerr := fh.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return stagedDoc{}, tempError(name, err)
	}
	st, err := os.Stat(fh.Name())
	if err != nil {
		return stagedDoc{}, tempError(name, err)
	}
	if err := s.keep(raw, st.Size()); err != nil {
		return stagedDoc{}, err
	}
	return stagedDoc{path: fh.Name(), name: name, url: name, fetchedAt: resp.FetchedAt, page: true, source: source}, nil
}

// nvd pages through the NVD CVE API: when the URL gives lastModStartDate it is followed as given; else, for a
// scheduled sync, the CVEs modified since the feed's cursor (the end of its last successful window) up to now, in
// windows of at most 120 days; else (a first sync) every CVE. Each page is one document of the run. The new
// cursor is returned in the result so the scheduler stores it with the success.
func (s *stager) nvd(raw string) (*staged, error) {
	f := s.im.Fetcher
	if s.opt.Source != "auto" && s.opt.Source != vigil.SourceNVD {
		return nil, vigil.Errorf(vigil.EINVALID, "%s: an NVD API URL cannot be read as %s", redact(raw), s.opt.Source)
	}
	base, err := url.Parse(raw)
	if err != nil {
		return nil, vigil.Errorf(vigil.EINVALID, "%q is not a URL", raw)
	}
	q := base.Query()
	type window struct{ from, to time.Time }
	var windows []window
	now := f.now().UTC()
	if q.Get("lastModStartDate") == "" && s.cursor != "" {
		from, err := time.Parse(time.RFC3339Nano, s.cursor)
		if err != nil {
			return nil, vigil.Errorf(vigil.EINVALID, "feed %s: cursor %q is not a time", s.opt.Feed, s.cursor)
		}
		for from.Before(now) {
			to := from.Add(nvdWindow)
			if to.After(now) {
				to = now
			}
			windows = append(windows, window{from, to})
			from = to
		}
	} else {
		windows = []window{{}} // the URL's own parameters, or everything
	}
	hdr := http.Header{}
	if f.NVDKey != "" {
		hdr.Set("apiKey", f.NVDKey)
	}
	delay := f.NVDDelay
	if delay <= 0 {
		delay = 6 * time.Second
		if f.NVDKey != "" {
			delay = 600 * time.Millisecond
		}
	}
	if q.Get("resultsPerPage") == "" {
		q.Set("resultsPerPage", "2000")
	}
	st := &staged{url: raw}
	first := true
	for _, win := range windows {
		if !win.from.IsZero() {
			q.Set("lastModStartDate", win.from.Format(nvdTime))
			q.Set("lastModEndDate", win.to.Format(nvdTime))
		}
		start := 0
		if v := q.Get("startIndex"); v != "" && first {
			var err error
			if start, err = parseCount(v); err != nil {
				return nil, vigil.Errorf(vigil.EINVALID, "%s: startIndex %q is not a number", redact(raw), v)
			}
		}
		for {
			if !first {
				if err := f.sleep(s.ctx, delay); err != nil {
					return nil, err
				}
			}
			first = false
			q.Set("startIndex", strconv.Itoa(start))
			u := *base
			u.RawQuery = q.Encode()
			resp, err := f.Get(s.ctx, u.String(), hdr, Conditional{}, s.lim.MaxFileSize)
			if err != nil {
				return nil, err
			}
			d, err := s.spool(u.String(), vigil.SourceNVD, resp)
			if err != nil {
				return nil, err
			}
			st.docs = append(st.docs, d)
			// Only the envelope is read now (the page is parsed in the transaction): it says where the next starts.
			page := nvdEnvelope(resp.Body)
			if page == nil {
				break
			}
			next, more := page.Next()
			if !more {
				break
			}
			start = next
		}
	}
	if len(windows) > 0 && !windows[len(windows)-1].to.IsZero() {
		st.cursor = windows[len(windows)-1].to.Format(time.RFC3339Nano)
	} else if s.opt.Feed != "" {
		st.cursor = now.Format(time.RFC3339Nano)
	}
	return st, nil
}

// rolie fetches the advisories a ROLIE feed lists: for a scheduled sync only those updated after the feed's cursor.
// Entries are taken in id order; each advisory URL must be allow-listed like any other.
func (s *stager) rolie(feedURL string, entries []rolieEntry, st *staged) error {
	var since time.Time
	if s.cursor != "" {
		since, _ = time.Parse(time.RFC3339Nano, s.cursor)
	}
	slices.SortFunc(entries, func(a, b rolieEntry) int { return strings.Compare(a.ID, b.ID) })
	source := vigil.SourceCSAF
	if s.opt.Source != "auto" {
		source = s.opt.Source
	}
	latest := since
	for _, e := range entries {
		if !since.IsZero() && !e.Updated.After(since) {
			continue
		}
		src := e.Content.Src
		if src == "" {
			for _, l := range e.Link {
				if l.Rel == "self" {
					src = l.Href
				}
			}
		}
		if src == "" {
			continue
		}
		if ref, err := url.Parse(feedURL); err == nil {
			if u, err := ref.Parse(src); err == nil {
				src = u.String()
			}
		}
		resp, err := s.im.Fetcher.Get(s.ctx, src, nil, Conditional{}, s.lim.MaxRecordSize)
		if err != nil {
			return err
		}
		d, err := s.spool(src, source, resp)
		if err != nil {
			return err
		}
		st.docs = append(st.docs, d)
		if e.Updated.After(latest) {
			latest = e.Updated
		}
	}
	if !latest.IsZero() {
		st.cursor = latest.UTC().Format(time.RFC3339Nano)
	}
	return nil
}

// staged imports, inside the transaction, what stager.url fetched for one URL, and keeps its validators.
func (r *run) staged(st *staged) error {
	if st.notModified {
		if r.opt.Source != "auto" {
			r.w.Touch(r.opt.Source)
		}
		if r.im.Log != nil {
			r.im.Log.Info("not modified since the last import", "url", redact(st.url))
		}
		return nil
	}
	for _, d := range st.docs {
		if !d.page {
			if err := r.path(d.path, d.name, d.url, d.fetchedAt); err != nil {
				return err
			}
			continue
		}
		b, err := readGzip(d.name, d.path, r.lim.MaxFileSize)
		if err != nil {
			return err
		}
		j := &job{name: d.name, url: d.url, fetchedAt: d.fetchedAt, raw: b, size: int64(len(b))}
		if err := r.consume(r.processAs(j, d.source)); err != nil {
			return err
		}
	}
	if st.cursor != "" {
		r.newCursor = st.cursor
	}
	if st.etag == "" && st.lastModified == "" {
		return nil
	}
	return r.w.SetHTTPCache(st.url, st.etag, st.lastModified)
}

// readGzip reads back a document stager.spool kept, at most max bytes.
func readGzip(name, p string, max int64) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, tempError(name, err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, tempError(name, err)
	}
	return untrusted.ReadAll(name, zr, max)
}

// tempError reports a failure to keep a download on disk. A full disk is the operator's to fix and is said so; the
// server's folder is not named (the user gave only the URL).
func tempError(name string, err error) error {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return vigil.Errorf(vigil.EUNAVAILABLE, "%s: no space left on the server's disk for the download: free space (or set TMPDIR), then try again", name)
	}
	return fmt.Errorf("%s: keeping the download: %w", name, err)
}
