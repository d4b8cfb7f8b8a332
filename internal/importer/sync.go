package importer

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/feed"
	"github.com/vigil-dev/vigil/internal/feed/nvd"
)

// url imports one URL: an NVD API endpoint is paged; a CSAF provider's ROLIE feed is followed to the advisories it
// lists; anything else is downloaded (conditionally, with the validators of the last import of that URL) and read
// like a local file. The validators are stored with the run, so a failed run fetches again next time.
func (r *run) url(raw string) error {
	if isNVDAPI(raw) {
		return r.nvd(raw)
	}
	f := r.im.Fetcher
	etag, lm, err := r.im.Store.HTTPCache(r.ctx, raw)
	if err != nil {
		return err
	}
	d, err := f.Download(r.ctx, raw, Conditional{ETag: etag, LastModified: lm})
	if err != nil {
		return err
	}
	if d.NotModified {
		if r.opt.Source != "auto" {
			r.w.Touch(r.opt.Source)
		}
		if r.im.Log != nil {
			r.im.Log.Info("not modified since the last import", "url", redact(raw))
		}
		return nil
	}
	*r.temps = append(*r.temps, d.Path)
	if entries, ok := rolieEntries(d.Path, r.lim); ok {
		err = r.rolie(raw, entries)
	} else {
		err = r.path(d.Path, redact(raw), raw, d.FetchedAt)
	}
	if err != nil {
		return err
	}
	return r.w.SetHTTPCache(raw, d.ETag, d.LastModified)
}

// isNVDAPI reports whether raw is NVD's CVE API 2.0 endpoint (which is paged, not downloaded whole).
func isNVDAPI(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && strings.Contains(u.Path, "/rest/json/cves/2.0")
}

// ---- NVD

// nvdWindow is the longest lastModStartDate..lastModEndDate range NVD accepts.
const nvdWindow = 120 * 24 * time.Hour

// nvdTime is the timestamp format of NVD's date parameters.
const nvdTime = "2006-01-02T15:04:05.000Z07:00"

// nvd pages through the NVD CVE API: when the URL gives lastModStartDate it is followed as given; else, for a
// scheduled sync, the CVEs modified since the feed's cursor (the end of its last successful window) up to now, in
// windows of at most 120 days; else (a first sync) every CVE. Each page is one document of the run. The new
// cursor is returned in the result so the scheduler stores it with the success.
func (r *run) nvd(raw string) error {
	f := r.im.Fetcher
	base, err := url.Parse(raw)
	if err != nil {
		return vigil.Errorf(vigil.EINVALID, "%q is not a URL", raw)
	}
	q := base.Query()
	type window struct{ from, to time.Time }
	var windows []window
	now := f.now().UTC()
	if q.Get("lastModStartDate") == "" && r.cursor != "" {
		from, err := time.Parse(time.RFC3339Nano, r.cursor)
		if err != nil {
			return vigil.Errorf(vigil.EINVALID, "feed %s: cursor %q is not a time", r.opt.Feed, r.cursor)
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
	first := true
	for _, win := range windows {
		if !win.from.IsZero() {
			q.Set("lastModStartDate", win.from.Format(nvdTime))
			q.Set("lastModEndDate", win.to.Format(nvdTime))
		}
		start := 0
		if s := q.Get("startIndex"); s != "" && first {
			var err error
			if start, err = parseCount(s); err != nil {
				return vigil.Errorf(vigil.EINVALID, "%s: startIndex %q is not a number", redact(raw), s)
			}
		}
		for {
			if !first {
				if err := f.sleep(r.ctx, delay); err != nil {
					return err
				}
			}
			first = false
			q.Set("startIndex", strconv.Itoa(start))
			u := *base
			u.RawQuery = q.Encode()
			resp, err := f.Get(r.ctx, u.String(), hdr, Conditional{}, r.lim.MaxFileSize)
			if err != nil {
				return err
			}
			j := &job{name: redact(u.String()), url: redact(u.String()), fetchedAt: resp.FetchedAt, raw: resp.Body, size: int64(len(resp.Body))}
			if r.opt.Source != "auto" && r.opt.Source != vigil.SourceNVD {
				return vigil.Errorf(vigil.EINVALID, "%s: an NVD API URL cannot be read as %s", j.name, r.opt.Source)
			}
			res := r.processAs(j, vigil.SourceNVD)
			page := res.nvdPage
			if res.known {
				// A page imported before is not parsed again, but its envelope still says where the next one starts.
				page = nvdEnvelope(resp.Body)
			}
			if err := r.consume(res); err != nil {
				return err
			}
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
		r.newCursor = windows[len(windows)-1].to.Format(time.RFC3339Nano)
	} else if r.opt.Feed != "" {
		r.newCursor = now.Format(time.RFC3339Nano)
	}
	return nil
}

// processAs runs a job through a worker's steps in the calling goroutine, reading it as source.
func (r *run) processAs(j *job, source string) *result {
	saved := r.opt.Source
	r.opt.Source = source
	defer func() { r.opt.Source = saved }()
	var dec decoder
	return r.process(j, &dec)
}

// ---- CSAF providers (ROLIE)

type rolieEntry struct {
	ID      string    `json:"id"`
	Updated time.Time `json:"updated"`
	Content struct {
		Src string `json:"src"`
	} `json:"content"`
	Link []struct {
		Rel  string `json:"rel"`
		Href string `json:"href"`
	} `json:"link"`
}

// rolieEntries reads a CSAF provider's ROLIE feed (feed.entry[]), reporting ok false for any other document.
func rolieEntries(p string, lim feed.Limits) ([]rolieEntry, bool) {
	b, err := readHead(p, lim.MaxFileSize)
	if err != nil || !bytes.HasPrefix(bytes.TrimSpace(b), []byte("{")) {
		return nil, false
	}
	head := b
	if len(head) > feed.HeadSize {
		head = head[:feed.HeadSize]
	}
	if _, err := feed.Detect(p, head); !errors.Is(err, feed.ErrSideFile) {
		return nil, false
	}
	if err := feed.CheckDepth(p, b, lim.MaxDepth); err != nil {
		return nil, false
	}
	var doc struct {
		Feed struct {
			Entry []rolieEntry `json:"entry"`
		} `json:"feed"`
	}
	if json.Unmarshal(b, &doc) != nil || len(doc.Feed.Entry) == 0 {
		return nil, false
	}
	return doc.Feed.Entry, true
}

// rolie imports the advisories a ROLIE feed lists: for a scheduled sync only those updated after the feed's cursor.
// Entries are taken in id order; each advisory URL must be allow-listed like any other.
func (r *run) rolie(feedURL string, entries []rolieEntry) error {
	var since time.Time
	if r.cursor != "" {
		since, _ = time.Parse(time.RFC3339Nano, r.cursor)
	}
	slices.SortFunc(entries, func(a, b rolieEntry) int { return strings.Compare(a.ID, b.ID) })
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
		resp, err := r.im.Fetcher.Get(r.ctx, src, nil, Conditional{}, r.lim.MaxRecordSize)
		if err != nil {
			return err
		}
		j := &job{name: redact(src), url: redact(src), fetchedAt: resp.FetchedAt, raw: resp.Body, size: int64(len(resp.Body))}
		if err := r.consume(r.processAs(j, r.sourceOr(vigil.SourceCSAF))); err != nil {
			return err
		}
		if e.Updated.After(latest) {
			latest = e.Updated
		}
	}
	if !latest.IsZero() {
		r.newCursor = latest.UTC().Format(time.RFC3339Nano)
	}
	return nil
}

func (r *run) sourceOr(s string) string {
	if r.opt.Source != "auto" {
		return r.opt.Source
	}
	return s
}

// nvdEnvelope reads only the paging fields of an NVD API page.
func nvdEnvelope(b []byte) *nvd.Page {
	var v struct {
		ResultsPerPage  int               `json:"resultsPerPage"`
		StartIndex      int               `json:"startIndex"`
		TotalResults    int               `json:"totalResults"`
		Vulnerabilities []json.RawMessage `json:"vulnerabilities"`
	}
	if json.Unmarshal(b, &v) != nil {
		return nil
	}
	return &nvd.Page{ResultsPerPage: v.ResultsPerPage, StartIndex: v.StartIndex, TotalResults: v.TotalResults, Vulnerabilities: len(v.Vulnerabilities)}
}
