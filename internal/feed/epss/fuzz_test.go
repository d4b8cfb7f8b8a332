package epss

import (
	"bytes"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/untrusted"
)

// FuzzParse: no panic, errors are EINVALID naming the file, every score delivered is a dated CVE probability.
func FuzzParse(f *testing.F) {
	f.Add([]byte("#model_version:v2023.03.01,score_date:2025-02-20T00:00:00+0000\ncve,epss,percentile\nCVE-1999-0001,0.00383,0.73075\n"))
	lim := untrusted.Limits{MaxLineSize: 4 << 10, MaxFileSize: 1 << 20}
	f.Fuzz(func(t *testing.T, b []byte) {
		_, err := Parse("f.csv", bytes.NewReader(b), lim, func(s vigil.EPSSScore) error {
			if !cveID.MatchString(s.CVE) || s.Date.IsZero() || !(s.Score >= 0 && s.Score <= 1) || !(s.Percentile >= 0 && s.Percentile <= 1) {
				t.Fatalf("score %+v accepted", s)
			}
			return nil
		})
		if err != nil && (vigil.ErrorCode(err) != vigil.EINVALID || !strings.HasPrefix(err.Error(), "f.csv")) {
			t.Fatalf("error %q (code %s) does not name the file with EINVALID", err, vigil.ErrorCode(err))
		}
	})
}
