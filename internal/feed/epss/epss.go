// Package epss parses FIRST's daily EPSS scores file (epss_scores-YYYY-MM-DD.csv, plain or gzipped) into
// vigil.EPSSScore values, each dated by the file's leading "#model_version:v2023.03.01,score_date:2025-02-20T00:00:00+0000"
// line. A daily file is about 300,000 rows, so rows are streamed to a callback and each line is bounded.
//
// Rejected, stopping the read (EINVALID naming the file, the line and the field): a first line that is not the
// #model_version/score_date comment, a score_date that is not a date, a header other than cve,epss,percentile,
// a line longer than Limits.MaxLineSize, more rows than Limits.MaxRecords. Rejected per row, skipping it (counted
// in a *feed.Rejects returned after the other rows are delivered): not three fields, a cve that is not
// CVE-YYYY-N, an epss or percentile that is not a number in 0..1. Accepted leniently: CRLF line ends, blank lines,
// a missing model_version (left empty), unknown extra keys in the comment line.
package epss

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/feed"
	"github.com/vigil-dev/vigil/internal/untrusted"
)

// Header is what the file's first line says.
type Header struct {
	ModelVersion string     `json:"model_version,omitempty"`
	ScoreDate    vigil.Date `json:"score_date"`
	// Rows is how many score rows the file held (valid or not).
	Rows int `json:"rows"`
}

var cveID = regexp.MustCompile(`^CVE-\d{4}-\d{4,}$`)

// Parse reads an EPSS scores file from r (gzip is recognised by its magic bytes) and calls fn for each score in
// file order. An error from fn stops the read and is returned as it is.
func Parse(name string, r io.Reader, lim untrusted.Limits, fn func(s vigil.EPSSScore) error) (Header, error) {
	lim = lim.WithDefaults()
	var h Header
	br := bufio.NewReaderSize(r, 64<<10)
	if magic, err := br.Peek(2); err == nil && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return h, untrusted.Invalid(name, "", "gzip: %v", err)
		}
		defer zr.Close()
		br = bufio.NewReaderSize(gzipErrors{name, untrusted.LimitReader(name, zr, lim.MaxFileSize, nil)}, 64<<10)
	} else {
		br = bufio.NewReaderSize(untrusted.LimitReader(name, br, lim.MaxFileSize, nil), 64<<10)
	}
	lines := &lineReader{name: name, br: br, max: lim.MaxLineSize}

	first, err := lines.next()
	if err == io.EOF {
		return h, untrusted.Invalid(name, "", "empty: want the #model_version:...,score_date:... line")
	} else if err != nil {
		return h, err
	}
	first = bytes.TrimPrefix(first, []byte("\xef\xbb\xbf")) // a UTF-8 byte order mark
	if h, err = parseComment(name, first); err != nil {
		return h, err
	}
	hdr, err := lines.next()
	if err == io.EOF {
		return h, untrusted.Invalid(name, "line 2", "missing the cve,epss,percentile header")
	} else if err != nil {
		return h, err
	}
	if got := strings.ToLower(strings.ReplaceAll(string(hdr), " ", "")); got != "cve,epss,percentile" {
		return h, untrusted.Invalid(name, "line 2", "header %q: want cve,epss,percentile", truncate(string(hdr)))
	}
	rejects := &feed.Rejects{Name: name}
	for {
		line, err := lines.next()
		if err == io.EOF {
			break
		} else if err != nil {
			return h, err
		}
		if len(line) == 0 {
			continue
		}
		h.Rows++
		if h.Rows > lim.MaxRecords {
			return h, untrusted.Invalid(name, fmt.Sprintf("line %d", lines.n), "more than the limit of %d rows", lim.MaxRecords)
		}
		s, field, err := parseRow(line)
		if err != nil {
			rejects.Add(untrusted.Invalid(name, fmt.Sprintf("line %d: %s", lines.n, field), "%v", err))
			continue
		}
		s.Date, s.ModelVersion = h.ScoreDate, h.ModelVersion
		if err := fn(s); err != nil {
			return h, err
		}
	}
	return h, rejects.Err()
}

// parseComment reads "#model_version:v2023.03.01,score_date:2025-02-20T00:00:00+0000".
func parseComment(name string, line []byte) (Header, error) {
	var h Header
	s := string(line)
	if !strings.HasPrefix(s, "#") {
		return h, untrusted.Invalid(name, "line 1", "%q: want the #model_version:...,score_date:... line", truncate(s))
	}
	var date string
	for _, kv := range strings.Split(s[1:], ",") {
		k, v, _ := strings.Cut(kv, ":")
		switch strings.TrimSpace(k) {
		case "model_version":
			h.ModelVersion = strings.TrimSpace(v)
		case "score_date":
			date = strings.TrimSpace(v)
		}
	}
	if date == "" {
		return h, untrusted.Invalid(name, "line 1: score_date", "missing: the scores cannot be dated")
	}
	for _, layout := range []string{"2006-01-02T15:04:05-0700", time.RFC3339Nano, time.DateOnly} {
		if t, err := time.Parse(layout, date); err == nil {
			h.ScoreDate = vigil.DateOf(t, time.UTC)
			return h, nil
		}
	}
	return h, untrusted.Invalid(name, "line 1: score_date", "%q is not a date", truncate(date))
}

func parseRow(line []byte) (vigil.EPSSScore, string, error) {
	var s vigil.EPSSScore
	f := bytes.Split(line, []byte(","))
	if len(f) != 3 {
		return s, "fields", fmt.Errorf("%d fields, want 3 (cve,epss,percentile)", len(f))
	}
	s.CVE = string(f[0])
	if !cveID.MatchString(s.CVE) {
		return s, "cve", fmt.Errorf("%q is not a CVE id (CVE-YYYY-NNNN)", truncate(s.CVE))
	}
	var err error
	if s.Score, err = prob(f[1]); err != nil {
		return s, "epss", err
	}
	if s.Percentile, err = prob(f[2]); err != nil {
		return s, "percentile", err
	}
	return s, "", nil
}

// prob parses a probability: a finite number in 0..1.
func prob(b []byte) (float64, error) {
	v, err := strconv.ParseFloat(string(b), 64)
	if err != nil || v < 0 || v > 1 || v != v {
		return 0, fmt.Errorf("%q is not a number in 0..1", truncate(string(b)))
	}
	return v, nil
}

func truncate(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

// lineReader yields lines without their line end, refusing one longer than max without buffering it.
type lineReader struct {
	name string
	br   *bufio.Reader
	max  int
	n    int // number of the line last returned
	long []byte
}

func (l *lineReader) next() ([]byte, error) {
	l.n++
	l.long = l.long[:0]
	for {
		frag, err := l.br.ReadSlice('\n')
		if len(l.long)+len(frag) > l.max+2 { // +2 for the line end
			return nil, untrusted.Invalid(l.name, fmt.Sprintf("line %d", l.n), "longer than the limit of %d bytes", l.max)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			l.long = append(l.long, frag...)
			continue
		}
		line := frag
		if len(l.long) > 0 {
			line = append(l.long, frag...)
		}
		if err == io.EOF {
			if len(line) == 0 {
				return nil, io.EOF
			}
		} else if err != nil {
			var named *vigil.Error
			if errors.As(err, &named) { // a limit or a decompression error, which already names the file
				return nil, err
			}
			return nil, untrusted.Invalid(l.name, fmt.Sprintf("line %d", l.n), "read: %v", err)
		}
		line = bytes.TrimRight(line, "\r\n")
		return line, nil
	}
}

// gzipErrors names the file in a decompression error.
type gzipErrors struct {
	name string
	r    io.Reader
}

func (g gzipErrors) Read(p []byte) (int, error) {
	n, err := g.r.Read(p)
	if err != nil && err != io.EOF && !untrusted.IsLimit(err) {
		err = untrusted.Invalid(g.name, "", "gzip: %v", err)
	}
	return n, err
}
