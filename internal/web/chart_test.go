package web

import (
	"testing"

	"github.com/vigil-dev/vigil"
)

// TestLineChartNeedsThreePoints: a series of two points (the day before the first finding, and today) is not drawn
// as a line, which would show a jump from zero as if it were a trend; the chart says how many are open instead.
func TestLineChartNeedsThreePoints(t *testing.T) {
	day := vigil.NewDate(2025, 6, 1)
	pts := []Point{{Date: day, N: 0}, {Date: day.AddDays(1), N: 12}, {Date: day.AddDays(2), N: 10}}
	for _, tc := range []struct {
		name  string
		pts   []Point
		empty string
	}{
		{"none", nil, "Not enough history yet."},
		{"two points", pts[:2], "12 open on 2025-06-02. The trend shows from the third day of history."},
		{"three points", pts, ""},
	} {
		c := newLineChart("Open findings over time", tc.pts)
		if c.Empty != tc.empty {
			t.Errorf("%s: Empty = %q, want %q", tc.name, c.Empty, tc.empty)
		}
		if drawn := c.Line != ""; drawn != (tc.empty == "") {
			t.Errorf("%s: line %q drawn = %v", tc.name, c.Line, drawn)
		}
	}
}
