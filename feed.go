package vigil

import (
	"encoding/json"
	"net/url"
	"strings"
	"time"
)

// Feed is one configured intelligence source: where it is fetched from, how often, and how its last syncs went.
type Feed struct {
	Name        string          `json:"name"`
	Source      string          `json:"source"` // nvd, osv, kev, epss, csaf, stix, taxii
	URL         string          `json:"url"`
	Every       time.Duration   `json:"-"`
	Schedule    string          `json:"schedule"` // Every as ScheduleText gives it ("24h", "1h30m")
	Enabled     bool            `json:"enabled"`
	LastAttempt time.Time       `json:"last_attempt,omitzero"`
	LastSuccess time.Time       `json:"last_success,omitzero"`
	LastError   string          `json:"last_error,omitempty"`
	Failures    int             `json:"failures"` // consecutive failed attempts
	NextAttempt time.Time       `json:"next_attempt,omitzero"`
	Cursor      string          `json:"cursor,omitempty"` // NVD: the lastModEndDate the last sync reached
	Counts      json.RawMessage `json:"counts,omitempty"` // the last successful run's summaries
}

// ScheduleText is a sync interval as people write it and --every reads it back: "24h", "1h30m", "15m", not
// time.Duration's "24h0m0s".
func ScheduleText(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// Failing reports whether the feed's last attempt failed.
func (f *Feed) Failing() bool { return f.Failures > 0 }

// FeedSources are the sources a feed may be read as.
var FeedSources = []string{SourceNVD, SourceOSV, SourceKEV, SourceEPSS, SourceCSAF, SourceSTIX, SourceTAXII}

// Validate checks a feed's configuration.
func (f *Feed) Validate() error {
	if err := Text("name", f.Name, 64); err != nil {
		return err
	}
	if f.Name == "" || strings.ContainsAny(f.Name, " \t\r\n/") {
		return Errorf(EINVALID, "name: %q must be 1-64 characters without spaces or slashes", f.Name)
	}
	if err := OneOf("source", f.Source, FeedSources); err != nil {
		return err
	}
	u, err := url.Parse(f.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return Errorf(EINVALID, "url: %q is not an http(s) URL", f.URL)
	}
	if f.Every < time.Minute || f.Every > 31*24*time.Hour {
		return Errorf(EINVALID, "schedule: %v is outside 1m..744h", f.Every)
	}
	return nil
}

// FeedAttempt is the outcome of one scheduled sync.
type FeedAttempt struct {
	At     time.Time
	Err    error     // nil on success
	Next   time.Time // when the scheduler will try again
	Cursor string    // the new cursor on success ("" keeps the old one)
	Counts any       // the run's summaries on success
}

// IntelRun is one import run as recorded.
type IntelRun struct {
	ID        int64          `json:"id"`
	StartedAt time.Time      `json:"started_at"`
	Actor     string         `json:"actor"`
	Summaries []IntelSummary `json:"summaries"`
}

// IntelSummary is what one import run did to one source: the `vigil import --format json` contract. A record is
// counted once: added (new), updated (a revision replaced the merged view; the earlier one is kept), unchanged
// (nothing written), withdrawn (it became withdrawn or rejected by its source: newly or by a revision), or rejected
// (invalid, skipped with --skip-invalid).
type IntelSummary struct {
	Source    string           `json:"source"`
	Added     int              `json:"added"`
	Updated   int              `json:"updated"`
	Unchanged int              `json:"unchanged"`
	Withdrawn int              `json:"withdrawn"`
	Rejected  []RejectedRecord `json:"rejected"`
}

// RejectedRecord is one invalid record skipped by an import run: the file, the record (its id or index when known) and why.
type RejectedRecord struct {
	File   string `json:"file"`
	Record string `json:"record"`
	Error  string `json:"error"`
}

// IntelResult is the outcome of one import run.
type IntelResult struct {
	Run       int64          `json:"run"`
	Summaries []IntelSummary `json:"summaries"`
	// Changed lists the package keys whose advisories were added, revised or withdrawn (old and new keys of a
	// revision), sorted: the portfolio re-matches only the device versions holding them.
	Changed []PackageKey `json:"-"`
	// Signals counts the cybersecurity signals raised on our devices by CSAF advisories in this run.
	Signals int `json:"signals"`
}

// ImportSources lists the values of ImportOptions.Source: "auto" detects each document's source.
var ImportSources = []string{"auto", SourceNVD, SourceOSV, SourceKEV, SourceEPSS, SourceCSAF, SourceSTIX}

// ImportOptions control one import run of intelligence (`vigil import`, a feed sync, an upload).
type ImportOptions struct {
	// Source is "auto" (or "") to detect each document's source from its content, or one of the sources: every
	// document is then read as that source.
	Source string
	// SkipInvalid imports the valid records and lists each invalid one under its source's rejected records, where
	// by default the first invalid record stops the run and nothing is kept.
	SkipInvalid bool
	// Progress, when set, is called from the writing goroutine after each document.
	Progress func(ImportProgress)
	// Feed names the configured feed a scheduled sync runs for (its cursor is read and advanced); empty for a
	// command-line import.
	Feed string
	// Display is the name the one input is shown and stored under in place of its path: an upload's own file
	// name, not the temporary file it was written to.
	Display string
}

// ImportProgress is the state of an import run: records and bytes processed so far and, when known, the total bytes to read.
type ImportProgress struct {
	Records    int64
	Bytes      int64
	TotalBytes int64
	File       string
}
