package importer_test

import (
	"testing"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/importer"
	"github.com/vigil-dev/vigil/internal/store/storetest"
	"github.com/vigil-dev/vigil/internal/testfix"
)

// BenchmarkImportOSVCorpus imports the real 13,946-record OSV corpus into a fresh store per iteration and reports
// records per second; BenchmarkReimportOSVCorpus imports it again over itself (every record unchanged). The
// 500,000-record figures come from bench/import.
func BenchmarkImportOSVCorpus(b *testing.B) {
	corpus := testfix.Path(b, "osv-corpus")
	for _, engine := range storetest.Engines {
		b.Run(engine, func(b *testing.B) {
			var records int
			for b.Loop() {
				b.StopTimer()
				db := storetest.Open(b, engine, nil)
				b.StartTimer()
				res, err := (&importer.Importer{Store: db}).Import(storetest.Admin(), []string{corpus}, vigil.ImportOptions{})
				if err != nil {
					b.Fatal(err)
				}
				records += res.Summaries[0].Added + res.Summaries[0].Withdrawn
			}
			b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

func BenchmarkReimportOSVCorpus(b *testing.B) {
	corpus := testfix.Path(b, "osv-corpus")
	for _, engine := range storetest.Engines {
		b.Run(engine, func(b *testing.B) {
			db := storetest.Open(b, engine, nil)
			im := &importer.Importer{Store: db}
			if _, err := im.Import(storetest.Admin(), []string{corpus}, vigil.ImportOptions{}); err != nil {
				b.Fatal(err)
			}
			var records int
			for b.Loop() {
				res, err := im.Import(storetest.Admin(), []string{corpus}, vigil.ImportOptions{})
				if err != nil {
					b.Fatal(err)
				}
				records += res.Summaries[0].Unchanged
			}
			b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
		})
	}
}
