package osv

import (
	"archive/zip"
	"io"
	"os"
	"testing"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/testfix"
	"github.com/vigil-dev/vigil/internal/untrusted"
)

// corpusRecords loads every record of the osv-corpus archives into memory, so the parse benchmark measures parsing
// only.
func corpusRecords(b *testing.B) [][]byte {
	b.Helper()
	var recs [][]byte
	for _, eco := range []string{"Go", "PyPI", "Bitnami"} {
		zr, err := zip.OpenReader(testfix.Path(b, "osv-corpus", eco, "all.zip"))
		if err != nil {
			b.Fatal(err)
		}
		for _, f := range zr.File {
			rc, err := f.Open()
			if err != nil {
				b.Fatal(err)
			}
			data, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				b.Fatal(err)
			}
			recs = append(recs, data)
		}
		zr.Close()
	}
	return recs
}

// BenchmarkParseJSON reports the cost of one record (ns/op and allocs/op are per record), cycling through all
// 13,946 corpus records.
func BenchmarkParseJSON(b *testing.B) {
	recs := corpusRecords(b)
	var bytes int64
	for _, r := range recs {
		bytes += int64(len(r))
	}
	b.SetBytes(bytes / int64(len(recs)))
	lim := untrusted.DefaultLimits()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := ParseJSON("r.json", recs[i%len(recs)], lim); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadZip reads the three corpus archives (13,946 records) per op, in parallel as ReadZip does.
func BenchmarkReadZip(b *testing.B) {
	var paths []string
	for _, eco := range []string{"Go", "PyPI", "Bitnami"} {
		paths = append(paths, testfix.Path(b, "osv-corpus", eco, "all.zip"))
	}
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		n = 0
		for _, p := range paths {
			f, err := os.Open(p)
			if err != nil {
				b.Fatal(err)
			}
			st, err := f.Stat()
			if err != nil {
				b.Fatal(err)
			}
			if err := ReadZip(f, st.Size(), untrusted.Limits{}, func(string, vigil.Advisory) error { n++; return nil }); err != nil {
				b.Fatal(err)
			}
			f.Close()
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/record")
}
