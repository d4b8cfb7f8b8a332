package risk

import (
	"bufio"
	"encoding/json"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/testfix"
)

// published is one line of Red Hat's CVSS test suite: a vector and the scores it must give. NaN marks a score the
// line says is absent ("None").
type published struct {
	line   int
	vector string
	scores []float64
}

// readPublished reads a redhat-cvss vectors file: "<vector> - (<base>, <temporal>, <env>)" for v2/v3 ("None"
// for an absent v2 score), "<vector> - (<score>,)" or "<vector> - <score>" for v4.0.
func readPublished(t *testing.T, name string) []published {
	t.Helper()
	f, err := os.Open(testfix.Path(t, "cvss-vectors", "redhat-cvss", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []published
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		vec, rest, ok := strings.Cut(line, " - ")
		if !ok {
			t.Fatalf("%s:%d: no \" - \" separator", name, n)
		}
		p := published{line: n, vector: vec}
		for _, s := range strings.Split(strings.Trim(rest, "() "), ",") {
			s = strings.TrimSpace(s)
			switch s {
			case "":
				continue
			case "None":
				p.scores = append(p.scores, math.NaN())
			default:
				f, err := strconv.ParseFloat(s, 64)
				if err != nil {
					t.Fatalf("%s:%d: score %q: %v", name, n, s, err)
				}
				p.scores = append(p.scores, f)
			}
		}
		out = append(out, p)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func scoreOr(p *float64, or float64) float64 {
	if p == nil {
		return or
	}
	return *p
}

// TestParseCVSSPublished checks every vector of the shared CVSS test suite against its published scores.
func TestParseCVSSPublished(t *testing.T) {
	tests := []struct {
		file    string
		lines   int
		version string
	}{
		{"vectors_simple2", 729, CVSS20},
		{"vectors_cvsslib2", 24, CVSS20},
		{"vectors_calculator2", 5, CVSS20},
		{"vectors_simple3", 2592, CVSS30},
		{"vectors_cvsslib3", 29, CVSS30},
		{"vectors_calculator3", 2, CVSS30},
		{"vectors_simple31", 2592, CVSS31},
		{"vectors_simple4", 1058, CVSS40},
		{"vectors_security4", 54, CVSS40},
		{"vectors_threat4", 6, CVSS40},
		{"vectors_supplemental4", 576, CVSS40},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			vectors := readPublished(t, tt.file)
			if len(vectors) != tt.lines {
				t.Fatalf("%d vectors, want %d", len(vectors), tt.lines)
			}
			failures := 0
			fail := func(p published, format string, args ...any) {
				failures++
				if failures <= 10 {
					t.Errorf("line %d %s: "+format, append([]any{p.line, p.vector}, args...)...)
				}
			}
			for _, p := range vectors {
				c, err := ParseCVSS(p.vector)
				if err != nil {
					fail(p, "%v", err)
					continue
				}
				if c.Version != tt.version {
					fail(p, "version %q, want %q", c.Version, tt.version)
				}
				var got []float64
				switch {
				case tt.version == CVSS40:
					got = []float64{c.Score()}
				case tt.version == CVSS20:
					got = []float64{c.BaseScore, scoreOr(c.TemporalScore, math.NaN()), scoreOr(c.EnvironmentalScore, math.NaN())}
				default:
					// Red Hat states every v3 score, also for groups the vector leaves out. A temporal group left
					// out scores as the base score. The environmental formula, though, differs from the base one
					// (in v3.1 with a changed scope), so for a vector without environmental metrics the test
					// states one that means "not defined" (CR:M weighs 1, as X does) to get that score.
					temporal := scoreOr(c.TemporalScore, c.BaseScore)
					env := c.EnvironmentalScore
					if env == nil {
						if c.Metric("CR") != "" {
							fail(p, "CR given but no environmental score")
							continue
						}
						ce, err := ParseCVSS(p.vector + "/CR:M")
						if err != nil {
							fail(p, "with CR:M: %v", err)
							continue
						}
						env = ce.EnvironmentalScore
					}
					got = []float64{c.BaseScore, temporal, scoreOr(env, math.NaN())}
				}
				if !cmp.Equal(p.scores, got, cmp.Comparer(func(a, b float64) bool {
					return a == b || (math.IsNaN(a) && math.IsNaN(b))
				})) {
					fail(p, "scores %v, want %v", got, p.scores)
				}
			}
			if failures > 0 {
				t.Errorf("%d of %d vectors wrong", failures, len(vectors))
			}
		})
	}
}

func TestParseCVSS(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	tests := []struct {
		name   string
		vector string
		want   CVSS
	}{
		{"v3.1 critical", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
			CVSS{Version: "3.1", Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", BaseScore: 9.8,
				Severity: "CRITICAL", Exploitability: f(3.9)}},
		{"v3.0 medium with scope change", "CVSS:3.0/AV:N/AC:L/PR:L/UI:R/S:C/C:L/I:L/A:N",
			CVSS{Version: "3.0", Vector: "CVSS:3.0/AV:N/AC:L/PR:L/UI:R/S:C/C:L/I:L/A:N", BaseScore: 5.4,
				Severity: "MEDIUM", Exploitability: f(2.3)}},
		{"v3.1 no impact", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N",
			CVSS{Version: "3.1", Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", BaseScore: 0,
				Severity: "NONE", Exploitability: f(3.9)}},
		{"v3.1 exploitability boundary 2.8", "CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
			CVSS{Version: "3.1", Vector: "CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", BaseScore: 8.8,
				Severity: "HIGH", Exploitability: f(2.8)}},
		{"v3.0 temporal and environmental", "CVSS:3.0/AV:N/AC:L/PR:N/UI:R/S:C/C:H/I:H/A:N/E:H/RL:O/RC:C/CR:H/IR:H/AR:H/MAV:N/MAC:L/MPR:L/MUI:N/MS:C/MC:H/MI:H/MA:H",
			CVSS{Version: "3.0", Vector: "CVSS:3.0/AV:N/AC:L/PR:N/UI:R/S:C/C:H/I:H/A:N/E:H/RL:O/RC:C/CR:H/IR:H/AR:H/MAV:N/MAC:L/MPR:L/MUI:N/MS:C/MC:H/MI:H/MA:H",
				BaseScore: 9.3, Severity: "CRITICAL", Exploitability: f(2.8), TemporalScore: f(8.9), EnvironmentalScore: f(9.5)}},
		{"v3.0 metrics in another order are valid", "CVSS:3.0/S:U/AV:N/AC:L/PR:H/UI:N/C:L/I:L/A:N/E:F/RL:X",
			CVSS{Version: "3.0", Vector: "CVSS:3.0/S:U/AV:N/AC:L/PR:H/UI:N/C:L/I:L/A:N/E:F/RL:X", BaseScore: 3.8,
				Severity: "LOW", Exploitability: f(1.2), TemporalScore: f(3.7)}},
		{"v3.1 temporal all not defined is no temporal score", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:X/RL:X/RC:X",
			CVSS{Version: "3.1", Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:X/RL:X/RC:X", BaseScore: 9.8,
				Severity: "CRITICAL", Exploitability: f(3.9)}},
		{"surrounding space trimmed", "  CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N\n",
			CVSS{Version: "3.1", Vector: "CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", BaseScore: 1.6,
				Severity: "LOW", Exploitability: f(0.1)}},
		{"v2 base", "AV:N/AC:L/Au:N/C:C/I:C/A:C",
			CVSS{Version: "2.0", Vector: "AV:N/AC:L/Au:N/C:C/I:C/A:C", BaseScore: 10, Severity: "HIGH", Exploitability: f(10)}},
		{"v2 low", "AV:L/AC:H/Au:M/C:N/I:N/A:P",
			CVSS{Version: "2.0", Vector: "AV:L/AC:H/Au:M/C:N/I:N/A:P", BaseScore: 0.8, Severity: "LOW", Exploitability: f(1.2)}},
		{"v2 temporal rounds 8.55 up", "AV:N/AC:L/Au:S/C:C/I:C/A:C/E:F/RL:U/RC:C",
			CVSS{Version: "2.0", Vector: "AV:N/AC:L/Au:S/C:C/I:C/A:C/E:F/RL:U/RC:C", BaseScore: 9, Severity: "HIGH",
				Exploitability: f(8), TemporalScore: f(8.6)}},
		{"v2 partial temporal and environmental groups", "AV:L/AC:L/Au:S/C:P/I:P/A:P/E:U/RC:C/CDP:LM/TD:L/IR:H/AR:M",
			CVSS{Version: "2.0", Vector: "AV:L/AC:L/Au:S/C:P/I:P/A:P/E:U/RC:C/CDP:LM/TD:L/IR:H/AR:M", BaseScore: 4.3,
				Severity: "MEDIUM", Exploitability: f(3.1), TemporalScore: f(3.7), EnvironmentalScore: f(1.5)}},
		{"v4.0 base", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
			CVSS{Version: "4.0", Vector: "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", BaseScore: 9.3,
				Severity: "CRITICAL", Nomenclature: "CVSS-B"}},
		{"v4.0 rounding of x.x5 goes up", "CVSS:4.0/AV:N/AC:L/AT:P/PR:H/UI:A/VC:N/VI:H/VA:L/SC:N/SI:N/SA:L",
			CVSS{Version: "4.0", Vector: "CVSS:4.0/AV:N/AC:L/AT:P/PR:H/UI:A/VC:N/VI:H/VA:L/SC:N/SI:N/SA:L", BaseScore: 5.7,
				Severity: "MEDIUM", Nomenclature: "CVSS-B"}},
		{"v4.0 threat", "CVSS:4.0/AV:P/AC:H/AT:P/PR:H/UI:A/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H/E:U",
			CVSS{Version: "4.0", Vector: "CVSS:4.0/AV:P/AC:H/AT:P/PR:H/UI:A/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H/E:U", BaseScore: 7.3,
				Severity: "HIGH", ThreatScore: f(4.1), Nomenclature: "CVSS-BT"}},
		{"v4.0 threat and environmental", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:U/MAV:L",
			CVSS{Version: "4.0", Vector: "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:U/MAV:L", BaseScore: 9.3,
				Severity: "CRITICAL", ThreatScore: f(8.1), EnvironmentalScore: f(6.1), Nomenclature: "CVSS-BTE"}},
		{"v4.0 supplemental only", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N/S:N/AU:N/R:A/V:D/RE:L/U:Clear",
			CVSS{Version: "4.0", Vector: "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N/S:N/AU:N/R:A/V:D/RE:L/U:Clear", BaseScore: 0,
				Severity: "NONE", Nomenclature: "CVSS-B"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseCVSS(tt.vector)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(CVSS{}), cmp.FilterPath(func(p cmp.Path) bool {
				return p.Last().String() == ".metrics"
			}, cmp.Ignore())); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseCVSSInvalid(t *testing.T) {
	tests := []struct {
		name, vector string
		inMessage    string // the field the message must name
	}{
		{"empty", "", "empty"},
		{"blank", "   ", "empty"},
		{"garbage", "hello", `"hello"`},
		{"unknown version", "CVSS:3.2/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "CVSS:3.2"},
		{"v2 with a prefix", "CVSS:2.0/AV:N/AC:L/Au:N/C:C/I:C/A:C", "CVSS:2.0"},
		{"prefix only", "CVSS:3.1/", "empty metric"},
		{"lower-case prefix", "cvss:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "cvss:3.1"},
		{"v3 missing base metric", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H", `"A"`},
		{"v3 bad value", "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", `"AV"`},
		{"v3 lower-case value", "CVSS:3.1/AV:n/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", `"AV"`},
		{"v3 duplicate", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/AV:N", `"AV": given twice`},
		{"v3 unknown metric", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/ZZ:1", `"ZZ"`},
		{"v3 v4 metric", "CVSS:3.1/AV:N/AC:L/AT:N/PR:N/UI:N/S:U/C:H/I:H/A:H", `"AT"`},
		{"v3 trailing slash", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/", "empty metric"},
		{"v3 double slash", "CVSS:3.1/AV:N//AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "empty metric"},
		{"v3 no colon", "CVSS:3.1/AV:N/ACL/PR:N/UI:N/S:U/C:H/I:H/A:H", `"ACL"`},
		{"v3 empty value", "CVSS:3.1/AV:/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", `"AV"`},
		{"v3 temporal value of v2", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:POC", `"E"`},
		{"v3.0 PR:U (allowed by a schema typo, not by the specification)", "CVSS:3.0/AV:N/AC:L/PR:U/UI:N/S:U/C:H/I:H/A:H", `"PR"`},
		{"v2 out of order", "AC:L/AV:N/Au:N/C:C/I:C/A:C", `"AV": out of order`},
		{"v2 temporal before base ends", "AV:N/AC:L/Au:N/C:C/I:C/E:F/A:C", `"A": out of order`},
		{"v2 environmental before temporal", "AV:N/AC:L/Au:N/C:C/I:C/A:C/CDP:L/E:F", `"E": out of order`},
		{"v2 missing base metric", "AV:N/AC:L/Au:N/C:C/I:C", `"A"`},
		{"v2 v3 value", "AV:P/AC:L/Au:N/C:C/I:C/A:C", `"AV"`},
		{"v2 duplicate", "AV:N/AC:L/Au:N/C:C/I:C/A:C/E:F/E:F", `"E": given twice`},
		{"v2 too many metrics", "AV:N/AC:L/Au:N/C:C/I:C/A:C/E:F/RL:U/RC:C/CDP:L/TD:L/CR:L/IR:L/AR:L/X:Y", "more metrics"},
		{"v4 out of order base", "CVSS:4.0/AC:L/AV:N/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", `"AV": out of order`},
		{"v4 threat after environmental", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/CR:H/E:A", `"E": out of order`},
		{"v4 supplemental before environmental", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/S:N/MAV:L", `"MAV": out of order`},
		{"v4 missing base", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N", `"SA"`},
		{"v4 SI:S only as modified", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:S/SA:N", `"SI"`},
		{"v4 U lower case", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/U:red", `"U"`},
		{"v4 v3 metric", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/RL:O", `"RL"`},
		{"too long", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H" + strings.Repeat("/E:X", 200), "longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseCVSS(tt.vector)
			if vigil.ErrorCode(err) != vigil.EINVALID {
				t.Fatalf("code = %q, want EINVALID (%v)", vigil.ErrorCode(err), err)
			}
			if msg := vigil.ErrorMessage(err); !strings.Contains(msg, tt.inMessage) {
				t.Errorf("message %q does not name %q", msg, tt.inMessage)
			}
		})
	}
}

// TestCVSSJSON pins the JSON shape `vigil cvss` prints: exploitability is always present (null for v4.0) and the
// optional scores only when the vector has their metrics.
func TestCVSSJSON(t *testing.T) {
	tests := []struct{ vector, want string }{
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
			`{"version":"3.1","vector":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H","base_score":9.8,"severity":"CRITICAL","exploitability":3.9}`},
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:U/MAV:A",
			`{"version":"3.1","vector":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:U/MAV:A","base_score":9.8,"severity":"CRITICAL","exploitability":3.9,"temporal_score":9,"environmental_score":8.1}`},
		{"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
			`{"version":"4.0","vector":"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N","base_score":9.3,"severity":"CRITICAL","exploitability":null,"nomenclature":"CVSS-B"}`},
		{"AV:L/AC:H/Au:M/C:N/I:N/A:N",
			`{"version":"2.0","vector":"AV:L/AC:H/Au:M/C:N/I:N/A:N","base_score":0,"severity":"LOW","exploitability":1.2}`},
	}
	for _, tt := range tests {
		t.Run(tt.vector, func(t *testing.T) {
			c, err := ParseCVSS(tt.vector)
			if err != nil {
				t.Fatal(err)
			}
			got, err := json.Marshal(c)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, string(got)); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCVSSMetric(t *testing.T) {
	c, err := ParseCVSS("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:P")
	if err != nil {
		t.Fatal(err)
	}
	got := []string{c.Metric("AV"), c.Metric("E"), c.Metric("RL"), c.Metric("nope")}
	if diff := cmp.Diff([]string{"N", "P", "", ""}, got); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
}

// BenchmarkParseCVSS measures parsing and scoring one vector of each version.
func BenchmarkParseCVSS(b *testing.B) {
	for _, v := range []string{
		"AV:N/AC:L/Au:N/C:C/I:C/A:C/E:F/RL:U/RC:C",
		"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
		"CVSS:3.0/AV:N/AC:L/PR:N/UI:R/S:C/C:H/I:H/A:N/E:H/RL:O/RC:C/CR:H/IR:H/AR:H/MAV:N/MAC:L/MPR:L/MUI:N/MS:C/MC:H/MI:H/MA:H",
		"CVSS:4.0/AV:N/AC:L/AT:P/PR:H/UI:A/VC:N/VI:H/VA:L/SC:N/SI:N/SA:L",
		"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:U/CR:M/MAV:L/MSI:S",
	} {
		b.Run(v[:8], func(b *testing.B) {
			for b.Loop() {
				if _, err := ParseCVSS(v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
