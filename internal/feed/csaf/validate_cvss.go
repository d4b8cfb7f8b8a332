package csaf

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strings"

	gocvss20 "github.com/pandatix/go-cvss/20"
	gocvss30 "github.com/pandatix/go-cvss/30"
	gocvss31 "github.com/pandatix/go-cvss/31"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/vigil-dev/vigil/internal/untrusted"
)

// cvssObject is one cvss_v2 or cvss_v3 object of a score, decoded generically so the tests see it as written.
type cvssObject struct {
	path string // JSON pointer of the object
	v3   bool
	raw  json.RawMessage
	obj  map[string]any // nil when the value is not a JSON object
}

func (o cvssObject) str(key string) string {
	s, _ := o.obj[key].(string)
	return s
}

func (o cvssObject) num(key string) (float64, bool) {
	n, ok := o.obj[key].(float64)
	return n, ok
}

// version3 picks 3.0 or 3.1 for a cvss_v3 object: its version, else its vector's prefix.
func (o cvssObject) version3() string {
	switch v := o.str("version"); v {
	case "3.0", "3.1":
		return v
	}
	if strings.HasPrefix(o.str("vectorString"), "CVSS:3.0/") {
		return "3.0"
	}
	return "3.1"
}

func (c *checker) cvssObjects() []cvssObject {
	var out []cvssObject
	for i, v := range c.doc.Vulnerabilities {
		for j, s := range v.Scores {
			for _, x := range []struct {
				key string
				v3  bool
				raw json.RawMessage
			}{{"cvss_v2", false, s.CVSSv2}, {"cvss_v3", true, s.CVSSv3}} {
				if len(x.raw) == 0 || string(x.raw) == "null" {
					continue
				}
				o := cvssObject{path: fmt.Sprintf("/vulnerabilities/%d/scores/%d/%s", i, j, x.key), v3: x.v3, raw: x.raw}
				if err := json.Unmarshal(x.raw, &o.obj); err != nil {
					o.obj = nil
				}
				out = append(out, o)
			}
		}
	}
	return out
}

func test617(c *checker) {
	for i, v := range c.doc.Vulnerabilities {
		first := map[string]int{} // product + "\x00" + CVSS version → score index
		for j, s := range v.Scores {
			var versions []string
			if len(s.CVSSv2) > 0 && string(s.CVSSv2) != "null" {
				versions = append(versions, "2.0")
			}
			if len(s.CVSSv3) > 0 && string(s.CVSSv3) != "null" {
				o := cvssObject{}
				_ = json.Unmarshal(s.CVSSv3, &o.obj) // a malformed object still counts as a v3 score; 6.1.8 reports it
				versions = append(versions, o.version3())
			}
			for _, ver := range versions {
				for _, id := range dedupe(s.Products) {
					key := id + "\x00" + ver
					if k, dup := first[key]; dup {
						c.fail(fmt.Sprintf("/vulnerabilities/%d/scores/%d", i, j), "product %q already has a CVSS %s score (scores/%d)", untrusted.Clip(id), ver, k)
					} else {
						first[key] = j
					}
				}
			}
		}
	}
}

func test618(c *checker) {
	for _, o := range c.cvssObjects() {
		sch := c.sch.cvss20
		if o.v3 {
			sch = c.sch.cvss31
			if o.version3() == "3.0" {
				sch = c.sch.cvss30
			}
		}
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(o.raw))
		if err != nil {
			c.fail(o.path, "not JSON: %v", err)
			continue
		}
		errs, err := schemaErrors(sch, inst, o.path)
		if err != nil {
			c.fail(o.path, "%v", err)
		}
		c.errs = append(c.errs, errs...)
	}
}

// scores is what a vector computes to.
type scores struct {
	base, temporal, environmental float64
}

func computeScores(o cvssObject) (scores, error) {
	vec := o.str("vectorString")
	if !o.v3 {
		v, err := gocvss20.ParseVector(vec)
		if err != nil {
			return scores{}, err
		}
		return scores{v.BaseScore(), v.TemporalScore(), v.EnvironmentalScore()}, nil
	}
	if strings.HasPrefix(vec, "CVSS:3.0/") {
		v, err := gocvss30.ParseVector(vec)
		if err != nil {
			return scores{}, err
		}
		return scores{v.BaseScore(), v.TemporalScore(), v.EnvironmentalScore()}, nil
	}
	v, err := gocvss31.ParseVector(vec)
	if err != nil {
		return scores{}, err
	}
	return scores{v.BaseScore(), v.TemporalScore(), v.EnvironmentalScore()}, nil
}

// severity3 is the CVSS v3 qualitative rating of a score.
func severity3(s float64) string {
	switch {
	case s == 0:
		return "NONE"
	case s < 4:
		return "LOW"
	case s < 7:
		return "MEDIUM"
	case s < 9:
		return "HIGH"
	}
	return "CRITICAL"
}

func sameScore(a, b float64) bool { return math.Round(a*10) == math.Round(b*10) }

func test619(c *checker) {
	for _, o := range c.cvssObjects() {
		if o.obj == nil || o.str("vectorString") == "" {
			continue
		}
		s, err := computeScores(o)
		if err != nil {
			continue // an unparsable vector is 6.1.8's finding
		}
		for _, x := range []struct {
			score, severity string
			want            float64
		}{{"baseScore", "baseSeverity", s.base}, {"temporalScore", "temporalSeverity", s.temporal}, {"environmentalScore", "environmentalSeverity", s.environmental}} {
			if got, ok := o.num(x.score); ok && !sameScore(got, x.want) {
				c.fail(o.path+"/"+x.score, "is %v but the vector computes to %.1f", got, x.want)
			}
			if !o.v3 {
				continue
			}
			if got := o.str(x.severity); got != "" && got != severity3(x.want) {
				c.fail(o.path+"/"+x.severity, "is %s but the vector's score %.1f is %s", untrusted.Clip(got), x.want, severity3(x.want))
			}
		}
	}
}

// Metric property names of the FIRST CVSS JSON schemas and their vector abbreviations and values (6.1.10).
type metric struct {
	abbr   string
	values map[string]string // property value → vector value
}

var (
	v3Base   = map[string]string{"NONE": "N", "LOW": "L", "HIGH": "H"}
	v3Req    = map[string]string{"LOW": "L", "MEDIUM": "M", "HIGH": "H", "NOT_DEFINED": "X"}
	v3ModCIA = map[string]string{"NONE": "N", "LOW": "L", "HIGH": "H", "NOT_DEFINED": "X"}
	v3AV     = map[string]string{"NETWORK": "N", "ADJACENT_NETWORK": "A", "LOCAL": "L", "PHYSICAL": "P"}
	v3MAV    = map[string]string{"NETWORK": "N", "ADJACENT_NETWORK": "A", "LOCAL": "L", "PHYSICAL": "P", "NOT_DEFINED": "X"}

	v3Metrics = map[string]metric{
		"attackVector":                  {"AV", v3AV},
		"attackComplexity":              {"AC", map[string]string{"LOW": "L", "HIGH": "H"}},
		"privilegesRequired":            {"PR", v3Base},
		"userInteraction":               {"UI", map[string]string{"NONE": "N", "REQUIRED": "R"}},
		"scope":                         {"S", map[string]string{"UNCHANGED": "U", "CHANGED": "C"}},
		"confidentialityImpact":         {"C", v3Base},
		"integrityImpact":               {"I", v3Base},
		"availabilityImpact":            {"A", v3Base},
		"exploitCodeMaturity":           {"E", map[string]string{"UNPROVEN": "U", "PROOF_OF_CONCEPT": "P", "FUNCTIONAL": "F", "HIGH": "H", "NOT_DEFINED": "X"}},
		"remediationLevel":              {"RL", map[string]string{"OFFICIAL_FIX": "O", "TEMPORARY_FIX": "T", "WORKAROUND": "W", "UNAVAILABLE": "U", "NOT_DEFINED": "X"}},
		"reportConfidence":              {"RC", map[string]string{"UNKNOWN": "U", "REASONABLE": "R", "CONFIRMED": "C", "NOT_DEFINED": "X"}},
		"confidentialityRequirement":    {"CR", v3Req},
		"integrityRequirement":          {"IR", v3Req},
		"availabilityRequirement":       {"AR", v3Req},
		"modifiedAttackVector":          {"MAV", v3MAV},
		"modifiedAttackComplexity":      {"MAC", map[string]string{"LOW": "L", "HIGH": "H", "NOT_DEFINED": "X"}},
		"modifiedPrivilegesRequired":    {"MPR", v3ModCIA},
		"modifiedUserInteraction":       {"MUI", map[string]string{"NONE": "N", "REQUIRED": "R", "NOT_DEFINED": "X"}},
		"modifiedScope":                 {"MS", map[string]string{"UNCHANGED": "U", "CHANGED": "C", "NOT_DEFINED": "X"}},
		"modifiedConfidentialityImpact": {"MC", v3ModCIA},
		"modifiedIntegrityImpact":       {"MI", v3ModCIA},
		"modifiedAvailabilityImpact":    {"MA", v3ModCIA},
	}

	v2Impact = map[string]string{"NONE": "N", "PARTIAL": "P", "COMPLETE": "C"}
	v2Req    = map[string]string{"LOW": "L", "MEDIUM": "M", "HIGH": "H", "NOT_DEFINED": "ND"}

	v2Metrics = map[string]metric{
		"accessVector":               {"AV", map[string]string{"NETWORK": "N", "ADJACENT_NETWORK": "A", "LOCAL": "L"}},
		"accessComplexity":           {"AC", map[string]string{"HIGH": "H", "MEDIUM": "M", "LOW": "L"}},
		"authentication":             {"Au", map[string]string{"MULTIPLE": "M", "SINGLE": "S", "NONE": "N"}},
		"confidentialityImpact":      {"C", v2Impact},
		"integrityImpact":            {"I", v2Impact},
		"availabilityImpact":         {"A", v2Impact},
		"exploitability":             {"E", map[string]string{"UNPROVEN": "U", "PROOF_OF_CONCEPT": "POC", "FUNCTIONAL": "F", "HIGH": "H", "NOT_DEFINED": "ND"}},
		"remediationLevel":           {"RL", map[string]string{"OFFICIAL_FIX": "OF", "TEMPORARY_FIX": "TF", "WORKAROUND": "W", "UNAVAILABLE": "U", "NOT_DEFINED": "ND"}},
		"reportConfidence":           {"RC", map[string]string{"UNCONFIRMED": "UC", "UNCORROBORATED": "UR", "CONFIRMED": "C", "NOT_DEFINED": "ND"}},
		"collateralDamagePotential":  {"CDP", map[string]string{"NONE": "N", "LOW": "L", "LOW_MEDIUM": "LM", "MEDIUM_HIGH": "MH", "HIGH": "H", "NOT_DEFINED": "ND"}},
		"targetDistribution":         {"TD", map[string]string{"NONE": "N", "LOW": "L", "MEDIUM": "M", "HIGH": "H", "NOT_DEFINED": "ND"}},
		"confidentialityRequirement": {"CR", v2Req},
		"integrityRequirement":       {"IR", v2Req},
		"availabilityRequirement":    {"AR", v2Req},
	}
)

// vectorMetrics splits a vector into abbreviation → value, skipping the CVSS:3.x prefix.
func vectorMetrics(vec string) map[string]string {
	m := map[string]string{}
	for _, part := range strings.Split(vec, "/") {
		k, v, ok := strings.Cut(part, ":")
		if ok && k != "CVSS" {
			m[k] = v
		}
	}
	return m
}

func test6110(c *checker) {
	for _, o := range c.cvssObjects() {
		vec := o.str("vectorString")
		if o.obj == nil || vec == "" {
			continue
		}
		metrics, notDefined := v2Metrics, "ND"
		if o.v3 {
			metrics, notDefined = v3Metrics, "X"
			if v := o.str("version"); v != "" && !strings.HasPrefix(vec, "CVSS:"+v+"/") {
				c.fail(o.path+"/version", "version %s does not match the vector %q", untrusted.Clip(v), untrusted.Clip(vec))
			}
		}
		inVector := vectorMetrics(vec)
		for _, prop := range sortedKeys(metrics) {
			val := o.str(prop)
			if val == "" {
				continue
			}
			m := metrics[prop]
			want, ok := m.values[val]
			if !ok {
				continue // not a value of the enumeration: 6.1.8 reports it
			}
			got, ok := inVector[m.abbr]
			if !ok {
				got = notDefined
			}
			if got != want {
				c.fail(o.path+"/"+prop, "is %s but the vector says %s:%s", val, m.abbr, got)
			}
		}
	}
}
