package main

import (
	"fmt"
	"html"
	"maps"
	"math"
	"slices"
	"strings"
)

// chartFile is where the bench writes its chart, relative to the repository
// root, where it runs.
const chartFile = "cmd/bench/results.svg"

// The chart's layout, in pixels: the scenarios' labels take the left column,
// the bars run from plotLeft to plotRight, and their values are written in
// the margin after it.
const (
	chartWidth = 900
	plotLeft   = 290
	plotRight  = chartWidth - 64
	barHeight  = 14
	barGap     = 2  // between the bars of a group
	groupGap   = 12 // between groups
	lineHeight = 13 // of a scenario's name
	nameWidth  = 40 // characters in a line of a scenario's name, at 11 px
)

// series is one configuration's results, drawn in one colour.
type series struct {
	label, colour string
	results       []result
}

// group is one scenario: its key, its name in lines, and a bar for each
// configuration that ran it.
type group struct {
	key  string
	name []string
	bars []bar
}

// bar is one configuration's result in a group.
type bar struct {
	series *series
	r      result
}

// height is the group's without the gap after it: its bars' or its name's,
// whichever is taller.
func (g group) height() float64 {
	return max(float64(len(g.bars))*(barHeight+barGap)-barGap, float64(len(g.name))*lineHeight)
}

// chart draws the figures as a standalone SVG document of two panels,
// requests/s and p99, with a group of bars per scenario and a bar per
// configuration: results[0], the ceiling; SQLite, the rest of results; and
// PostgreSQL by number of instances, unless pg was skipped. measured says
// when, for the title.
func chart(results []result, pg pgResults, measured string) string {
	configs := []*series{
		{results[0].name, "#9e9e9e", results[:1]},
		{"SQLite", "#0072b2", results[1:]},
	}
	// Okabe and Ito's colours, told apart by colour-blind readers too.
	colours := []string{"#e69f00", "#009e73", "#cc79a7"}
	for i, n := range slices.Sorted(maps.Keys(pg.results)) {
		if pg.skipped == "" && len(pg.results[n]) > 0 {
			label := fmt.Sprintf("PostgreSQL, %d instances", n)
			if n == 1 {
				label = "PostgreSQL, 1 instance"
			}
			configs = append(configs, &series{label, colours[i%len(colours)], pg.results[n]})
		}
	}
	note := "PostgreSQL not measured"
	switch {
	case len(configs) > 2:
		note = "SQLite and PostgreSQL " + pg.version + " on the same machine"
	case pg.skipped != "":
		note += ": " + pg.skipped
	}

	// The scenarios in the order they ran, each with the configurations that ran it.
	var groups []group
	at := map[string]int{}
	for _, s := range configs {
		for _, r := range s.results {
			i, seen := at[r.key]
			if !seen {
				i, at[r.key] = len(groups), len(groups)
				groups = append(groups, group{key: r.key, name: wrap(r.name, nameWidth, 2)})
			}
			groups[i].bars = append(groups[i].bars, bar{s, r})
		}
	}

	rps := linearAxis(axis{
		title:   "Requests per second (longer is better)",
		value:   figure(func(r result) float64 { return r.rps }),
		label:   thousands("%.1fk", "%.0f"),
		tick:    thousands("%gk", "%g"),
		precise: func(v float64) string { return fmt.Sprintf("%.0f requests/s", v) },
	}, groups)
	// A log scale, for 4 ms and 700 ms to both read.
	p99 := logAxis(axis{
		title:   "p99 latency in ms, log scale (shorter is better)",
		value:   figure(func(r result) float64 { return r.p99.Seconds() * 1000 }),
		label:   millis,
		tick:    func(v float64) string { return fmt.Sprintf("%g", v) },
		precise: func(v float64) string { return fmt.Sprintf("p99 %.2f ms", v) },
	}, groups)

	var body strings.Builder
	text(&body, 16, 30, `font-size="18" font-weight="bold"`, "Gatehouse under load, measured "+measured)
	y := 52.0
	for _, line := range wrap(note, 140, 2) {
		text(&body, 16, y, `fill="#444"`, line)
		y += 16
	}
	x := 16.0
	for _, s := range configs {
		fmt.Fprintf(&body, `<rect x="%.1f" y="%.1f" width="12" height="12" fill="%s"/>`+"\n", x, y-2, s.colour)
		text(&body, x+17, y+8, "", s.label)
		x += 40 + 5.4*float64(len(s.label)) // about the label's width at 12 px
	}
	y = rps.panel(&body, y+40, groups, results[0])
	y = p99.panel(&body, y+16, groups, results[0])

	// The white background keeps the dark text readable in dark viewers.
	return fmt.Sprintf(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%.0f" viewBox="0 0 %[1]d %.0[2]f" `+
		`font-family="Helvetica, Arial, sans-serif" font-size="12" fill="#222">`+"\n"+
		`<rect width="100%%" height="100%%" fill="#fff"/>`+"\n%s</svg>\n", chartWidth, y, body.String())
}

// axis maps one figure of a result onto the plot's width.
type axis struct {
	title   string
	value   func(result) float64
	label   func(float64) string // a bar's value, short
	tick    func(float64) string
	precise func(float64) string // a bar's value in its tooltip
	log     bool
	lo, hi  float64
	ticks   []float64
}

// linearAxis completes a to run from 0 to a round number at or above every
// value, with a tick every round step, 6 steps at most.
func linearAxis(a axis, groups []group) axis {
	top := 0.0
	for _, g := range groups {
		for _, b := range g.bars {
			top = max(top, a.value(b.r))
		}
	}
	if top == 0 {
		top = 1
	}
	unit := math.Pow(10, math.Floor(math.Log10(top))-1)
	var step float64
	for _, m := range []float64{1, 2, 5, 10, 20} {
		if step = m * unit; math.Ceil(top/step) <= 6 {
			break
		}
	}
	steps := math.Ceil(top / step)
	a.hi = steps * step
	for i := range int(steps) + 1 {
		a.ticks = append(a.ticks, float64(i)*step)
	}
	return a
}

// logAxis completes a to run from the power of ten at or below the smallest
// positive value to the one at or above the largest, ticked at 1, 2 and 5
// times each power.
func logAxis(a axis, groups []group) axis {
	lo, hi := math.Inf(1), 0.0
	for _, g := range groups {
		for _, b := range g.bars {
			if v := a.value(b.r); v > 0 {
				lo, hi = min(lo, v), max(hi, v)
			}
		}
	}
	if hi == 0 {
		lo, hi = 1, 1
	}
	from, to := math.Floor(math.Log10(lo)), math.Ceil(math.Log10(hi))
	if to == from {
		to++
	}
	a.log, a.lo, a.hi = true, math.Pow(10, from), math.Pow(10, to)
	for e := from; e < to; e++ {
		for _, m := range []float64{1, 2, 5} {
			a.ticks = append(a.ticks, m*math.Pow(10, e))
		}
	}
	a.ticks = append(a.ticks, a.hi)
	return a
}

// x is the length of v's bar: 0 at the axis's start (and below it, where a
// log scale has no place for 0), the plot's width at its end.
func (a axis) x(v float64) float64 {
	f := v / a.hi
	if a.log {
		f = math.Log10(v/a.lo) / math.Log10(a.hi/a.lo)
	}
	if !(f > 0) {
		return 0
	}
	return min(f, 1) * (plotRight - plotLeft)
}

// panel draws the axis's title, grid and bars for every group from y down,
// and returns the y below it.
func (a axis) panel(b *strings.Builder, y float64, groups []group, ceiling result) float64 {
	text(b, 16, y, `font-size="14" font-weight="bold"`, a.title)
	top := y + 14
	bottom := top
	for _, g := range groups {
		bottom += g.height() + groupGap
	}
	// The grid and the ceiling's line first, for the bars to cover them.
	for _, t := range a.ticks {
		x := plotLeft + a.x(t)
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1[1]f" y2="%.1[3]f" stroke="#e0e0e0"/>`+"\n", x, top, bottom)
		text(b, x, bottom+12, `text-anchor="middle" font-size="11" fill="#666"`, a.tick(t))
	}
	x := plotLeft + a.x(a.value(ceiling))
	fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1[1]f" y2="%.1[3]f" stroke="#9e9e9e" stroke-dasharray="4 3"/>`+"\n", x, top, bottom)

	y = top + groupGap/2
	for i, g := range groups {
		if i > 0 {
			fmt.Fprintf(b, `<line x1="16" y1="%.1f" x2="%d" y2="%.1[1]f" stroke="#eeeeee"/>`+"\n", y-groupGap/2, plotRight)
		}
		h := g.height()
		text(b, 16, y+h/2+4, `font-weight="bold"`, g.key)
		ny := y + (h-float64(len(g.name))*lineHeight)/2 + 10
		for _, line := range g.name {
			text(b, 58, ny, `font-size="11" fill="#555"`, line)
			ny += lineHeight
		}
		by := y + (h-float64(len(g.bars))*(barHeight+barGap)+barGap)/2
		for _, bar := range g.bars {
			v := a.value(bar.r)
			w := a.x(v)
			fmt.Fprintf(b, `<rect class="bar" x="%d" y="%.1f" width="%.1f" height="%d" fill="%s"><title>%s</title></rect>`+"\n",
				plotLeft, by, w, barHeight, bar.series.colour, html.EscapeString(g.key+", "+bar.series.label+": "+a.precise(v)))
			// A white halo keeps the value readable over the grid.
			text(b, plotLeft+w+4, by+barHeight-3, `font-size="11" stroke="#fff" stroke-width="3" paint-order="stroke"`, a.label(v))
			by += barHeight + barGap
		}
		y += h + groupGap
	}
	return bottom + 30
}

// figure reads a result's figure as f does, but as 0 where it is not a
// number (a scenario that answered nothing), for the chart to stay drawable.
func figure(f func(result) float64) func(result) float64 {
	return func(r result) float64 {
		v := f(r)
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			return 0
		}
		return v
	}
}

// thousands formats values of a thousand and more in thousands with
// format, the others with small.
func thousands(format, small string) func(float64) string {
	return func(v float64) string {
		if v >= 1000 {
			return fmt.Sprintf(format, v/1000)
		}
		return fmt.Sprintf(small, v)
	}
}

// millis formats a duration in ms with two significant digits or more.
func millis(v float64) string {
	switch {
	case v < 10:
		return fmt.Sprintf("%.1f ms", v)
	case v < 1000:
		return fmt.Sprintf("%.0f ms", v)
	}
	return fmt.Sprintf("%.1f s", v/1000)
}

// text writes s, escaped, at x and y with the given attributes.
func text(b *strings.Builder, x, y float64, attrs, s string) {
	fmt.Fprintf(b, `<text x="%.1f" y="%.1f" %s>%s</text>`+"\n", x, y, attrs, html.EscapeString(s))
}

// wrap breaks s at spaces into lines of about width characters, lines at
// most, the last ending in "…" when s does not fit: SVG does not wrap text.
func wrap(s string, width, lines int) []string {
	var out []string
	line := ""
	for _, word := range strings.Fields(s) {
		if line != "" && len([]rune(line))+1+len([]rune(word)) > width {
			out, line = append(out, line), ""
		}
		line = strings.TrimSpace(line + " " + word)
	}
	out = append(out, line)
	if len(out) > lines {
		out = out[:lines]
		out[lines-1] += " …"
	}
	return out
}
