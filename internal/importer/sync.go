package importer

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/vigil-dev/vigil/internal/feed"
	"github.com/vigil-dev/vigil/internal/feed/nvd"
	"github.com/vigil-dev/vigil/internal/untrusted"
)

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
func rolieEntries(p string, lim untrusted.Limits) ([]rolieEntry, bool) {
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
	if err := untrusted.CheckJSON(p, b, lim); err != nil {
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
