package dashboard

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/hamlet-vn/hamlet/internal/i18n"
)

// Charts drawn on the server as inline SVG: no script, no library, legible
// on a phone. Horizontal positions are percentages of the chart's width and
// text sizes are pixels, so a chart fills a phone's screen or an office
// monitor without its labels shrinking; the line chart's plot is a nested
// SVG stretched to its box with non-scaling strokes. Colours come from the
// stylesheet's classes (the page's CSP allows no inline style).

type barItem struct {
	Label string
	Value float64 // the bar's length relative to max
	Text  string  // what is written after the bar
	Link  string  // optional drill-down link
	Title string  // tooltip
}

const (
	barRow = 26 // a row with its label beside the bar
	// A label longer than sideLabel runes does not fit beside the bar on a
	// phone: every label of that chart goes above its bar, whole (a skill's
	// official name, a hamlet with its former commune), never cut.
	sideLabel  = 16
	stackedRow = 40
)

func esc(s string) string { return html.EscapeString(s) }

// hbarChart draws one bar per item, the longest max long.
func hbarChart(title string, items []barItem, max float64, class string) template.HTML {
	if len(items) == 0 {
		return ""
	}
	if max <= 0 {
		max = 1
	}
	stacked := false
	for _, it := range items {
		stacked = stacked || utf8.RuneCountInString(it.Label) > sideLabel
	}
	row := barRow
	if stacked {
		row = stackedRow
	}
	h := len(items)*row + 8
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart hbar %s" width="100%%" height="%d" role="img" aria-label="%s"><title>%s</title>`, class, h, esc(title), esc(title))
	for i, it := range items {
		y := 4 + i*row
		w := it.Value / max * 100
		if w < 0 || math.IsNaN(w) {
			w = 0
		}
		tip := it.Title
		if tip == "" {
			tip = it.Label + ": " + it.Text
		}
		fmt.Fprintf(&b, `<g><title>%s</title>`, esc(tip))
		label := esc(it.Label)
		// Beside: the bar lives between 38%% and 86%% of the width. Stacked:
		// the label on its own line, the bar under it from 0 to 84%%.
		lx, ly, bx, by, bw := "0", y+16, 38.0, y+4, 48.0
		if stacked {
			ly, bx, by, bw = y+13, 0, y+19, 84
		}
		if it.Link != "" {
			fmt.Fprintf(&b, `<a href="%s"><text class="lbl link" x="%s" y="%d">%s</text></a>`, esc(it.Link), lx, ly, label)
		} else {
			fmt.Fprintf(&b, `<text class="lbl" x="%s" y="%d">%s</text>`, lx, ly, label)
		}
		fmt.Fprintf(&b, `<rect class="track" x="%g%%" y="%d" width="%g%%" height="16" rx="2"/>`, bx, by, bw)
		fmt.Fprintf(&b, `<rect class="bar" x="%g%%" y="%d" width="%.2f%%" height="16" rx="2"/>`, bx, by, w*bw/100)
		fmt.Fprintf(&b, `<text class="val" x="100%%" y="%d" text-anchor="end">%s</text></g>`, by+12, esc(it.Text))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

type lineSeries struct {
	Name   string
	Class  string
	Values []float64
}

// lineChart draws series over labelled x positions (weeks or months) with
// a y axis from 0 and a legend; xkeys (the buckets' first days) mark the
// points (data-x).
func lineChart(title string, xlabels, xkeys []string, series []lineSeries, lang string) template.HTML {
	n := len(xlabels)
	if n == 0 {
		return ""
	}
	max := 0.0
	for _, s := range series {
		for _, v := range s.Values {
			max = math.Max(max, v)
		}
	}
	top := niceCeil(max)
	if top < 10 && math.Mod(top, 2) == 1 {
		top++ // counts: the ½ gridline names a whole number (0, 1, 2; not 0, 1, 1)
	}
	const plotTop, plotH, legendH = 10, 180, 26
	height := plotTop + plotH + 24 + legendH
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart line" width="100%%" height="%d" role="img" aria-label="%s"><title>%s</title>`, height, esc(title), esc(title))
	// Grid and y labels: 0, ½, top.
	for _, f := range []float64{0, 0.5, 1} {
		y := float64(plotTop) + float64(plotH)*(1-f)
		fmt.Fprintf(&b, `<line class="grid" x1="9%%" x2="100%%" y1="%.1f" y2="%.1f"/>`, y, y)
		fmt.Fprintf(&b, `<text class="axis" x="8%%" y="%.1f" text-anchor="end">%s</text>`, y+4, esc(i18n.Int(int64(math.Round(top*f)), lang)))
	}
	// The plot: x in 0..n-1 (or 0..1 for one point), y in 0..top.
	w := float64(max1(n-1, 1))
	fmt.Fprintf(&b, `<svg x="10%%" y="%d" width="88%%" height="%d" viewBox="0 0 %g %g" preserveAspectRatio="none" overflow="visible">`, plotTop, plotH, w, top)
	for _, s := range series {
		var pts []string
		for i, v := range s.Values {
			x := float64(i)
			if n == 1 {
				x = 0.5
			}
			pts = append(pts, fmt.Sprintf("%g,%g", x, top-v))
		}
		fmt.Fprintf(&b, `<polyline class="ln %s" fill="none" vector-effect="non-scaling-stroke" points="%s"/>`, s.Class, strings.Join(pts, " "))
	}
	b.WriteString(`</svg>`)
	// Points with tooltips, in percentages so they stay round.
	for _, s := range series {
		for i, v := range s.Values {
			xp := 10 + 88*float64(i)/w
			if n == 1 {
				xp = 54
			}
			y := float64(plotTop) + float64(plotH)*(1-v/top)
			fmt.Fprintf(&b, `<circle class="pt %s" cx="%.2f%%" cy="%.1f" r="3" data-x="%s"><title>%s %s: %s</title></circle>`,
				s.Class, xp, y, esc(xkeys[i]), esc(s.Name), esc(xlabels[i]), esc(i18n.Int(int64(v), lang)))
		}
	}
	// X labels: at most about 8.
	step := max1((n+7)/8, 1)
	for i := 0; i < n; i += step {
		xp := 10 + 88*float64(i)/w
		if n == 1 {
			xp = 54
		}
		anchor := "middle"
		if i == 0 && n > 1 {
			anchor = "start"
		}
		fmt.Fprintf(&b, `<text class="axis" x="%.2f%%" y="%d" text-anchor="%s">%s</text>`, xp, plotTop+plotH+18, anchor, esc(xlabels[i]))
	}
	// Legend.
	ly := plotTop + plotH + 24 + 16
	for i, s := range series {
		xp := 10 + float64(i)*30
		fmt.Fprintf(&b, `<rect class="key %s" x="%.1f%%" y="%d" width="14" height="4"/>`, s.Class, xp, ly-6)
		fmt.Fprintf(&b, `<text class="axis legend" x="%.1f%%" dx="18" y="%d">%s</text>`, xp, ly, esc(s.Name))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func max1(a, b int) int {
	if a > b {
		return a
	}
	return b
}

// niceCeil rounds up to 1, 2 or 5 times a power of ten (at least 1).
func niceCeil(v float64) float64 {
	if v <= 1 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}
