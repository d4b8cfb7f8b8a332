package kev

import (
	"bytes"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/untrusted"
)

var fuzzLim = untrusted.Limits{MaxRecordSize: 1 << 20, MaxDepth: 32, MaxFileSize: 4 << 20, MaxLineSize: 64 << 10}

// check is what both fuzz targets demand: no panic, errors are EINVALID naming the file, accepted entries valid.
func check(t *testing.T, cat Catalog, err error) {
	t.Helper()
	if err != nil && (vigil.ErrorCode(err) != vigil.EINVALID || !strings.HasPrefix(err.Error(), "f")) {
		t.Fatalf("error %q (code %s) does not name the file with EINVALID", err, vigil.ErrorCode(err))
	}
	for _, e := range cat.Entries {
		if !cveID.MatchString(e.CVE) || e.DateAdded.IsZero() || e.DueDate.IsZero() {
			t.Fatalf("entry %+v accepted", e)
		}
		for _, c := range e.CWEs {
			if c == "" || strings.TrimSpace(c) != c {
				t.Fatalf("CWE %q accepted", c)
			}
		}
	}
}

func FuzzJSON(f *testing.F) {
	f.Add([]byte(`{"count":1,"vulnerabilities":[{"cveID":"CVE-2024-1234","dateAdded":"2024-01-01","dueDate":"2024-01-22","cwes":["CWE-79"]}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		cat, err := ParseJSON("f.json", bytes.NewReader(b), fuzzLim)
		check(t, cat, err)
	})
}

func FuzzCSV(f *testing.F) {
	f.Add([]byte(header + "CVE-2024-1234,V,P,N,2024-01-01,D,A,2024-01-22,Known,,\"CWE-79, CWE-80\"\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		cat, err := ParseCSV("f.csv", bytes.NewReader(b), fuzzLim)
		check(t, cat, err)
	})
}
