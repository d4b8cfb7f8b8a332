package web

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Charts are drawn on the server as SVG (templates/partials.html renders these structs), so they need no script,
// pass the Content-Security-Policy, print, and show in a browser test's screenshot like the rest of the page.
// Colours come from classes in vigil.css, never from inline styles (the CSP forbids those).

// barChart is a horizontal bar chart: one row per bar, an optional second value drawn over the first.
type barChart struct {
	Title  string
	Width  int
	Height int
	Bars   []bar
	Empty  string // shown instead of the chart when there is nothing to draw
	Legend []legend
}

type bar struct {
	Label      string
	Href       string
	Class      string
	Value      int
	Extra      int // drawn over the bar from the left (e.g. the uncontrolled part)
	Y          float64
	W, ExtraW  float64
	LabelX     float64
	ValueX     float64
	ValueLabel string
}

type legend struct {
	Class, Label string
}

const (
	barLabelW = 150.0
	barRowH   = 26.0
	barGap    = 8.0
	chartW    = 520
)

func newBarChart(title string, counts []Count, classOf func(Count) string, hrefOf func(Count) string) barChart {
	c := barChart{Title: title, Width: chartW}
	maxN := 0
	for _, x := range counts {
		maxN = max(maxN, x.N)
	}
	if maxN == 0 {
		c.Empty = "Nothing to show yet."
		c.Height = 40
		return c
	}
	plotW := float64(chartW) - barLabelW - 60
	for i, x := range counts {
		b := bar{Label: clipText(24, x.Label), Value: x.N, Extra: x.Extra, Y: float64(i)*(barRowH+barGap) + 4}
		b.W = round1(math.Max(1, float64(x.N)/float64(maxN)*plotW))
		if x.Extra > 0 {
			b.ExtraW = round1(math.Max(1, float64(x.Extra)/float64(maxN)*plotW))
		}
		b.LabelX = barLabelW - 8
		b.ValueX = round1(barLabelW + b.W + 6)
		b.ValueLabel = strconv.Itoa(x.N)
		if x.Extra > 0 {
			b.ValueLabel += " (" + strconv.Itoa(x.Extra) + ")"
		}
		if classOf != nil {
			b.Class = classOf(x)
		}
		if hrefOf != nil {
			b.Href = hrefOf(x)
		}
		c.Bars = append(c.Bars, b)
	}
	c.Height = int(float64(len(counts))*(barRowH+barGap)) + 8
	return c
}

// lineChart is a time series drawn as an area with a line on top.
type lineChart struct {
	Title   string
	Width   int
	Height  int
	Line    string
	Area    string
	XTicks  []tick
	YTicks  []tick
	Last    string // the latest value, labelled at the end of the line
	LastX   float64
	LastY   float64
	Empty   string
	PlotX0  float64
	PlotX1  float64
	PlotY0  float64
	PlotY1  float64
	Caption string
}

type tick struct {
	X, Y  float64
	Label string
}

func newLineChart(title string, pts []Point) lineChart {
	c := lineChart{Title: title, Width: chartW, Height: 220, PlotX0: 44, PlotX1: float64(chartW) - 40, PlotY0: 12, PlotY1: 190}
	if len(pts) < 3 {
		// Two points are a line from the day before the first finding to today: it says nothing about a trend.
		c.Empty = "Not enough history yet."
		if len(pts) > 0 {
			last := pts[len(pts)-1]
			c.Empty = fmt.Sprintf("%d open on %s. The trend shows from the third day of history.", last.N, last.Date)
		}
		c.Height = 40
		return c
	}
	maxN := 0
	for _, p := range pts {
		maxN = max(maxN, p.N)
	}
	top := niceCeil(maxN)
	x := func(i int) float64 { return c.PlotX0 + float64(i)/float64(len(pts)-1)*(c.PlotX1-c.PlotX0) }
	y := func(n int) float64 { return c.PlotY1 - float64(n)/float64(top)*(c.PlotY1-c.PlotY0) }
	var line strings.Builder
	for i, p := range pts {
		cmd := "L"
		if i == 0 {
			cmd = "M"
		}
		fmt.Fprintf(&line, "%s%.1f %.1f ", cmd, x(i), y(p.N))
	}
	c.Line = strings.TrimSpace(line.String())
	c.Area = fmt.Sprintf("%s L%.1f %.1f L%.1f %.1f Z", c.Line, x(len(pts)-1), c.PlotY1, x(0), c.PlotY1)
	for i := 0; i <= 4; i++ {
		n := top * i / 4
		c.YTicks = append(c.YTicks, tick{X: c.PlotX0 - 6, Y: y(n), Label: compact(n)})
	}
	step := max(1, (len(pts)-1)/5)
	for i := 0; i < len(pts); i += step {
		c.XTicks = append(c.XTicks, tick{X: x(i), Y: c.PlotY1 + 16, Label: pts[i].Date.Time().Format("Jan 2")})
	}
	last := pts[len(pts)-1]
	c.Last, c.LastX, c.LastY = compact(last.N), round1(x(len(pts)-1)+4), round1(y(last.N)-6)
	for i := range c.YTicks {
		c.YTicks[i].Y = round1(c.YTicks[i].Y)
	}
	for i := range c.XTicks {
		c.XTicks[i].X = round1(c.XTicks[i].X)
	}
	return c
}

// round1 keeps SVG coordinates to a tenth of a unit: finer is invisible and bloats the page.
func round1(f float64) float64 { return math.Round(f*10) / 10 }

// niceCeil returns the top of an axis with four equal, round steps that reaches n: 4 × (1, 2, 2.5 or 5 × 10^k).
func niceCeil(n int) int {
	need := (n + 3) / 4
	if need < 1 {
		need = 1
	}
	for p := 1; ; p *= 10 {
		for _, m := range []int{10, 20, 25, 50} {
			if step := m * p / 10; m*p%10 == 0 && step >= need {
				return 4 * step
			}
		}
	}
}

func compact(n int) string {
	switch {
	case n >= 10000:
		return strconv.Itoa(n/1000) + "k"
	case n >= 1000:
		return strconv.FormatFloat(float64(n)/1000, 'f', 1, 64) + "k"
	}
	return strconv.Itoa(n)
}

// histogram buckets durations in days, with the median, for the PM2025 time metrics.
type histogram struct {
	Chart  barChart
	Median string
	N      int
}

func newHistogram(title string, ms []Metric, edges []int) histogram {
	h := histogram{N: len(ms)}
	counts := make([]Count, len(edges)+1)
	for i := range counts {
		switch {
		case i == 0:
			counts[i].Label = "≤ " + strconv.Itoa(edges[0]) + " days"
		case i == len(edges):
			counts[i].Label = "> " + strconv.Itoa(edges[i-1]) + " days"
		default:
			counts[i].Label = strconv.Itoa(edges[i-1]+1) + "–" + strconv.Itoa(edges[i]) + " days"
		}
	}
	days := make([]int, 0, len(ms))
	for _, m := range ms {
		i := sort.SearchInts(edges, m.Days)
		counts[i].N++
		days = append(days, m.Days)
	}
	if len(days) > 0 {
		sort.Ints(days)
		med := float64(days[len(days)/2])
		if len(days)%2 == 0 {
			med = float64(days[len(days)/2-1]+days[len(days)/2]) / 2
		}
		h.Median = strconv.FormatFloat(med, 'f', -1, 64) + " days"
	}
	h.Chart = newBarChart(title, counts, func(c Count) string { return "bar-metric" }, nil)
	if len(ms) == 0 {
		h.Chart.Empty = "No finding has reached this step yet."
	}
	return h
}
