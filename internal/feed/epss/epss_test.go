package epss

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/feed"
	"github.com/vigil-dev/vigil/internal/testfix"
	"github.com/vigil-dev/vigil/internal/untrusted"
)

func read(t *testing.T, elem ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(testfix.Path(t, elem...))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func gz(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func collect(name string, r io.Reader, lim untrusted.Limits) (Header, []vigil.EPSSScore, error) {
	var out []vigil.EPSSScore
	h, err := Parse(name, r, lim, func(s vigil.EPSSScore) error {
		out = append(out, s)
		return nil
	})
	return h, out, err
}

func TestExample(t *testing.T) {
	plain := read(t, "epss", "vunnel", "example-1.csv")
	date := vigil.NewDate(2025, 2, 20)
	mk := func(cve string, e, p float64) vigil.EPSSScore {
		return vigil.EPSSScore{CVE: cve, Score: e, Percentile: p, Date: date, ModelVersion: "v2023.03.01"}
	}
	want := []vigil.EPSSScore{
		mk("CVE-1999-0001", 0.00383, 0.73075), mk("CVE-1999-0002", 0.01328, 0.85996), mk("CVE-1999-0003", 0.04409, 0.92440),
		mk("CVE-1999-0004", 0.00917, 0.82963), mk("CVE-1999-0005", 0.91963, 0.99214),
	}
	for _, tt := range []struct {
		name string
		data []byte
	}{
		{"plain", plain},
		{"gzipped", gz(t, plain)},
		{"crlf and trailing blank lines", []byte(strings.ReplaceAll(string(plain), "\n", "\r\n") + "\r\n\r\n")},
		{"no final newline", bytes.TrimRight(plain, "\n")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h, got, err := collect("epss.csv", bytes.NewReader(tt.data), untrusted.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(Header{ModelVersion: "v2023.03.01", ScoreDate: date, Rows: 5}, h, cmp.AllowUnexported(vigil.Date{})); diff != "" {
				t.Errorf("header (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(want, got, cmp.AllowUnexported(vigil.Date{})); diff != "" {
				t.Errorf("scores (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMalformedFixtures(t *testing.T) {
	tests := []struct {
		file, want string
	}{
		{"invalid-header.csv", `invalid-header.csv: line 2: header "invalid,header,format": want cve,epss,percentile`},
		{"missing-date.csv", "missing-date.csv: line 1: score_date: missing: the scores cannot be dated"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			b := read(t, "epss", "vunnel", tt.file)
			for _, data := range [][]byte{b, gz(t, b)} {
				n := 0
				_, err := Parse(tt.file, bytes.NewReader(data), untrusted.Limits{}, func(vigil.EPSSScore) error { n++; return nil })
				if vigil.ErrorCode(err) != vigil.EINVALID || n != 0 {
					t.Fatalf("err = %v after %d scores, want EINVALID before any", err, n)
				}
				if got := err.Error(); got != tt.want {
					t.Errorf("got  %q\nwant %q", got, tt.want)
				}
			}
		})
	}
}

func TestRejectedRows(t *testing.T) {
	doc := "#model_version:v2025.03.14,score_date:2025-06-01T00:00:00+0000\ncve,epss,percentile\n" +
		"CVE-2024-0001,0.5,0.9\n" +
		"CVE-2024-0002,1.5,0.9\n" +
		"CVE-2024-0003,0.5,NaN\n" +
		"CVE-2024-0004,0.5\n" +
		"cve-2024-5,0.1,0.2\n" +
		"CVE-2024-0006,abc,0.2\n" +
		"CVE-2024-0007,1e-5,1\n"
	h, got, err := collect("e.csv", strings.NewReader(doc), untrusted.Limits{})
	rej, ok := feed.IsRejects(err)
	if !ok {
		t.Fatalf("err = %v, want *feed.Rejects", err)
	}
	var msgs []string
	for _, e := range rej.Errs {
		msgs = append(msgs, e.Error())
	}
	want := []string{
		`e.csv: line 4: epss: "1.5" is not a number in 0..1`,
		`e.csv: line 5: percentile: "NaN" is not a number in 0..1`,
		`e.csv: line 6: fields: 2 fields, want 3 (cve,epss,percentile)`,
		`e.csv: line 7: cve: "cve-2024-5" is not a CVE id (CVE-YYYY-NNNN)`,
		`e.csv: line 8: epss: "abc" is not a number in 0..1`,
	}
	if diff := cmp.Diff(want, msgs); diff != "" {
		t.Errorf("rejects (-want +got):\n%s", diff)
	}
	if len(got) != 2 || got[1].CVE != "CVE-2024-0007" || got[1].Score != 1e-5 || got[1].Percentile != 1 || h.Rows != 7 ||
		!got[0].Date.Equal(vigil.NewDate(2025, 6, 1)) {
		t.Errorf("header %+v scores %+v", h, got)
	}
}

func TestFatal(t *testing.T) {
	head := "#model_version:v1,score_date:2025-01-01\ncve,epss,percentile\n"
	tests := []struct {
		name string
		r    io.Reader
		lim  untrusted.Limits
		want string
	}{
		{"empty", strings.NewReader(""), untrusted.Limits{}, "e.csv: empty: want the #model_version:...,score_date:... line"},
		{"old format without comment", strings.NewReader("cve,epss,percentile\nCVE-2020-0001,0.1,0.2\n"), untrusted.Limits{},
			`e.csv: line 1: "cve,epss,percentile": want the #model_version:...,score_date:... line`},
		{"bad date", strings.NewReader("#model_version:v1,score_date:20/02/2025\ncve,epss,percentile\n"), untrusted.Limits{},
			`e.csv: line 1: score_date: "20/02/2025" is not a date`},
		{"no header", strings.NewReader("#score_date:2025-01-01\n"), untrusted.Limits{}, "e.csv: line 2: missing the cve,epss,percentile header"},
		{"1 GiB single line", testfix.Endless(head+"CVE-2024-0001,", 1<<30), untrusted.Limits{},
			"e.csv: line 3: longer than the limit of 1048576 bytes"},
		{"1 GiB first line", testfix.Endless("#", 1<<30), untrusted.Limits{}, "e.csv: line 1: longer than the limit of 1048576 bytes"},
		{"gzip bomb", bytes.NewReader(gz(t, append([]byte(head), make([]byte, 8<<20)...))), untrusted.Limits{MaxFileSize: 1 << 20, MaxLineSize: 16 << 20},
			"e.csv: larger than the limit of 1048576 bytes"},
		{"too many rows", strings.NewReader(head + strings.Repeat("CVE-2024-0001,0.1,0.2\n", 4)), untrusted.Limits{MaxRecords: 3},
			"e.csv: line 6: more than the limit of 3 rows"},
		{"corrupt gzip", bytes.NewReader(gz(t, []byte(head))[:20]), untrusted.Limits{}, "e.csv: gzip: unexpected EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			_, _, err := collect("e.csv", tt.r, tt.lim)
			runtime.ReadMemStats(&after)
			if _, isRej := feed.IsRejects(err); isRej || vigil.ErrorCode(err) != vigil.EINVALID {
				t.Fatalf("err = %v, want a fatal EINVALID", err)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
				t.Errorf("allocated %d bytes, want < 64 MiB", alloc)
			}
		})
	}
}

func TestFnErrorStops(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	_, err := Parse("e.csv", bytes.NewReader(read(t, "epss", "vunnel", "example-1.csv")), untrusted.Limits{}, func(vigil.EPSSScore) error {
		n++
		return stop
	})
	if err != stop || n != 1 {
		t.Errorf("n=%d err=%v, want 1 and the fn error", n, err)
	}
}
