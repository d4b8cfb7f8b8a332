package risk

import (
	gocvss30 "github.com/pandatix/go-cvss/30"
	gocvss31 "github.com/pandatix/go-cvss/31"
)

// specV3 is CVSS v3.0 and v3.1 (FIRST specification documents, §2-4 and Table 15), in the preferred order.
var specV3 = []metricSpec{
	{"AV", []string{"N", "A", "L", "P"}, true},
	{"AC", []string{"L", "H"}, true},
	{"PR", []string{"N", "L", "H"}, true},
	{"UI", []string{"N", "R"}, true},
	{"S", []string{"U", "C"}, true},
	{"C", []string{"H", "L", "N"}, true},
	{"I", []string{"H", "L", "N"}, true},
	{"A", []string{"H", "L", "N"}, true},
	{"E", []string{"X", "H", "F", "P", "U"}, false},
	{"RL", []string{"X", "U", "W", "T", "O"}, false},
	{"RC", []string{"X", "C", "R", "U"}, false},
	{"CR", []string{"X", "H", "M", "L"}, false},
	{"IR", []string{"X", "H", "M", "L"}, false},
	{"AR", []string{"X", "H", "M", "L"}, false},
	{"MAV", []string{"X", "N", "A", "L", "P"}, false},
	{"MAC", []string{"X", "L", "H"}, false},
	{"MPR", []string{"X", "N", "L", "H"}, false},
	{"MUI", []string{"X", "N", "R"}, false},
	{"MS", []string{"X", "U", "C"}, false},
	{"MC", []string{"X", "H", "L", "N"}, false},
	{"MI", []string{"X", "H", "L", "N"}, false},
	{"MA", []string{"X", "H", "L", "N"}, false},
}

// v3Scorer is what both go-cvss v3 types offer.
type v3Scorer interface {
	BaseScore() float64
	TemporalScore() float64
	EnvironmentalScore() float64
	Exploitability() float64
}

// scoreV3 scores a v3.x vector with go-cvss, which reproduces every published v3.0 and v3.1 test vector (the
// v3.0 and v3.1 round-up functions differ, and the library implements each).
func scoreV3(c *CVSS) error {
	var s v3Scorer
	if c.Version == CVSS30 {
		v, err := gocvss30.ParseVector(c.Vector)
		if err != nil {
			return err
		}
		s = v
	} else {
		v, err := gocvss31.ParseVector(c.Vector)
		if err != nil {
			return err
		}
		s = v
	}
	c.BaseScore = s.BaseScore()
	c.Severity = rating(c.BaseScore)
	c.Exploitability = ptr(roundHalfUp1(s.Exploitability()))
	if c.defined("E", "RL", "RC") {
		c.TemporalScore = ptr(s.TemporalScore())
	}
	if c.defined("CR", "IR", "AR", "MAV", "MAC", "MPR", "MUI", "MS", "MC", "MI", "MA") {
		c.EnvironmentalScore = ptr(s.EnvironmentalScore())
	}
	return nil
}
