package risk

import (
	"math"
	"strings"
	"testing"

	gocvss20 "github.com/pandatix/go-cvss/20"
	gocvss40 "github.com/pandatix/go-cvss/40"

	"github.com/vigil-dev/vigil"
)

// FuzzParseCVSS checks that no input panics, that every error is EINVALID, that what parses has scores in range
// and parses again to the same result, and (differentially) that v2.0 and v4.0 scores stay within one rounding
// step of go-cvss, whose parsers and scoring this package replaces for those versions. Seeds are in
// testdata/fuzz/FuzzParseCVSS.
func FuzzParseCVSS(f *testing.F) {
	for _, s := range []string{
		"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
		"CVSS:3.0/S:U/AV:N/AC:L/PR:H/UI:N/C:L/I:L/A:N/E:F/RL:X",
		"AV:N/AC:L/Au:S/C:C/I:C/A:C/E:F/RL:U/RC:C/CDP:LM/TD:M/CR:M/IR:L/AR:L",
		"CVSS:4.0/AV:N/AC:L/AT:P/PR:H/UI:A/VC:N/VI:H/VA:L/SC:N/SI:N/SA:L/E:P/CR:L/MSI:S/U:Red",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, vector string) {
		c, err := ParseCVSS(vector)
		if err != nil {
			if code := vigil.ErrorCode(err); code != vigil.EINVALID {
				t.Fatalf("code %q for %q: %v", code, vector, err)
			}
			return
		}
		for _, s := range []*float64{&c.BaseScore, c.TemporalScore, c.ThreatScore, c.EnvironmentalScore, c.Exploitability} {
			if s != nil && (math.IsNaN(*s) || *s < 0 || *s > 10) {
				t.Fatalf("%q: score %v out of range: %+v", vector, *s, c)
			}
		}
		if !contains([]string{SeverityNone, SeverityLow, SeverityMedium, SeverityHigh, SeverityCritical}, c.Severity) {
			t.Fatalf("%q: severity %q", vector, c.Severity)
		}
		again, err := ParseCVSS(c.Vector)
		if err != nil || again.Score() != c.Score() || again.BaseScore != c.BaseScore {
			t.Fatalf("%q does not parse again to the same scores: %v", c.Vector, err)
		}
		near := func(a, b float64) bool { return math.Abs(a-b) <= 0.1+1e-9 }
		switch c.Version {
		case CVSS40:
			lib, err := gocvss40.ParseVector(c.Vector)
			if err != nil {
				t.Fatalf("%q: go-cvss rejects what we accept: %v", c.Vector, err)
			}
			if !near(lib.Score(), c.Score()) {
				t.Fatalf("%q: score %v, go-cvss %v", c.Vector, c.Score(), lib.Score())
			}
		case CVSS20:
			// go-cvss v2 needs whole temporal/environmental groups; compare only where it parses.
			lib, err := gocvss20.ParseVector(c.Vector)
			if err != nil {
				return
			}
			if !near(lib.BaseScore(), c.BaseScore) {
				t.Fatalf("%q: base %v, go-cvss %v", c.Vector, c.BaseScore, lib.BaseScore())
			}
			if c.EnvironmentalScore != nil && !near(lib.EnvironmentalScore(), *c.EnvironmentalScore) {
				t.Fatalf("%q: environmental %v, go-cvss %v", c.Vector, *c.EnvironmentalScore, lib.EnvironmentalScore())
			}
		}
	})
}

// TestParseCVSSAgreesWithGoCVSS4 runs the differential check the other way round on the published v4.0 vectors:
// what go-cvss parses, ParseCVSS parses too.
func TestParseCVSSAgreesWithGoCVSS4(t *testing.T) {
	for _, file := range []string{"vectors_simple4", "vectors_security4", "vectors_threat4", "vectors_supplemental4"} {
		for _, p := range readPublished(t, file) {
			for _, v := range []string{p.vector, p.vector + "/U:X", strings.Replace(p.vector, "/AV:N", "/AV:N/AV:N", 1)} {
				_, libErr := gocvss40.ParseVector(v)
				_, err := ParseCVSS(v)
				if (libErr == nil) != (err == nil) {
					t.Errorf("%s:%d %q: go-cvss error %v, ParseCVSS error %v", file, p.line, v, libErr, err)
				}
			}
		}
	}
}
