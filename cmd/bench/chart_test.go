package main

import (
	"encoding/xml"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fakeResult is one scenario's figures, its p99 in milliseconds.
func fakeResult(key, name string, rps float64, p99ms float64) result {
	return result{key: key, name: name, rps: rps, p99: time.Duration(p99ms * float64(time.Millisecond))}
}

// fakeResults are figures like those of BENCHMARKS.md, c's rate twice b's.
func fakeResults() []result {
	r := fakeResult
	return []result{
		r("hello", "Fiber hello-world (ceiling)", 106200, 6.59),
		r("a", "GET /articles/, anonymous", 38189, 10.20),
		r("b", "GET /articles/, logged in", 25000, 16.32),
		r("c", "GET article detail, logged in", 50000, 10.73),
		r("d", "GET /accounts/login/", 31692, 11.88),
		r("e1", "POST login, sequential (1 client)", 28, 88.15),
		r("e32", "POST login, 32 clients", 8352, 742.17),
		r("f", "POST create article, 32 clients", 8148, 28.00),
		r("b+e", "GET /articles/, logged in, while 32 clients log in", 10815, 92.98),
		r("m0", "300 users logged in, GET /articles/ (page 2 one time in ten), read-only", 41784, 9.89),
		r("m1", "300 users logged in, the same with 1% of requests creating an article", 32658, 10.45),
		r("g", "GET /articles/, logged in, 100,000 articles", 51453, 11.22),
	}
}

// fakePG is a PostgreSQL part like that of BENCHMARKS.md.
func fakePG() pgResults {
	r := fakeResult
	return pgResults{version: "15.20 (Debian 15.20-0+deb12u1)", results: map[int][]result{
		1: {r("b", "GET /articles/, logged in", 31456, 4.36), r("f", "POST create article, 32 clients", 3610, 19.18),
			r("m0", "many users, read-only", 29784, 4.49), r("m1", "many users, 1% writes", 11082, 14.90)},
		2: {r("b", "GET /articles/, logged in", 20571, 8.01), r("f", "POST create article, 32 clients", 2130, 45.67),
			r("m0", "many users, read-only", 18608, 12.71), r("m1", "many users, 1% writes", 8974, 498.99)},
	}}
}

// drawn is what a chart shows: its texts, and the widths of its bars (the
// rects of class "bar") by their tooltips.
type drawn struct {
	texts []string
	bars  map[string]float64
}

// parse reads svg as XML to its end, failing t on any error.
func parse(t *testing.T, svg string) drawn {
	t.Helper()
	d := drawn{bars: map[string]float64{}}
	dec := xml.NewDecoder(strings.NewReader(svg))
	var open []string // the elements the decoder is in
	var width float64 // of the last bar
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return d
		}
		if err != nil {
			t.Fatalf("the chart is not XML: %v\n%s", err, svg)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			open = append(open, tok.Name.Local)
			attrs := map[string]string{}
			for _, a := range tok.Attr {
				attrs[a.Name.Local] = a.Value
			}
			if attrs["class"] == "bar" {
				width, _ = strconv.ParseFloat(attrs["width"], 64)
			}
		case xml.EndElement:
			open = open[:len(open)-1]
		case xml.CharData:
			if len(open) == 0 {
				continue // the newline after the document
			}
			switch open[len(open)-1] {
			case "text":
				d.texts = append(d.texts, string(tok))
			case "title":
				d.bars[string(tok)] = width
			}
		}
	}
}

// widths are the bars' widths of one panel by "key, configuration", those
// whose tooltip ends with unit.
func (d drawn) widths(unit string) map[string]float64 {
	w := map[string]float64{}
	for title, width := range d.bars {
		if who, value, _ := strings.Cut(title, ": "); strings.HasSuffix(value, unit) {
			w[who] = width
		}
	}
	return w
}

func TestChartDrawsEveryScenarioAndConfiguration(t *testing.T) {
	results, pg := fakeResults(), fakePG()
	svg := chart(results, pg, "2026-11-30 15:02 UTC")
	d := parse(t, svg)

	for _, want := range []string{"Fiber hello-world (ceiling)", "SQLite", "PostgreSQL, 1 instance", "PostgreSQL, 2 instances",
		"2026-11-30 15:02 UTC", "106.2k", "742 ms", "4.4 ms", "28"} {
		if !strings.Contains(strings.Join(d.texts, "\n"), want) {
			t.Errorf("no %q in the chart's texts %q", want, d.texts)
		}
	}
	for _, r := range results {
		if !slices.Contains(d.texts, r.key) {
			t.Errorf("no label for scenario %s", r.key)
		}
	}
	// Two panels, of 12 bars for SQLite and 4 for each PostgreSQL configuration.
	if n := len(d.bars); n != 2*(12+4+4) {
		t.Errorf("%d bars, want 40", n)
	}
	if strings.Contains(svg, "not measured") {
		t.Error("the chart says PostgreSQL was not measured")
	}
}

func TestChartBarsAreProportional(t *testing.T) {
	results, pg := fakeResults(), fakePG()
	rps := parse(t, chart(results, pg, "today")).widths(" requests/s")
	byConfig := map[string][]result{"SQLite": results[1:], "PostgreSQL, 1 instance": pg.results[1], "PostgreSQL, 2 instances": pg.results[2]}

	if b, c := rps["b, SQLite"], rps["c, SQLite"]; b == 0 || math.Abs(c-2*b) > 1 {
		t.Errorf("c's bar (%.1f px) is not twice b's (%.1f px)", c, b)
	}
	perRequest := rps["hello, "+results[0].name] / results[0].rps
	for config, rs := range byConfig {
		for _, r := range rs {
			who := r.key + ", " + config
			w, ok := rps[who]
			if !ok {
				t.Errorf("no requests/s bar for %s", who)
			}
			if want := r.rps * perRequest; math.Abs(w-want) > 1 {
				t.Errorf("%s's bar is %.1f px, want %.1f", who, w, want)
			}
		}
	}
}

func TestChartP99GrowsWithLatency(t *testing.T) {
	results := fakeResults()
	p99 := parse(t, chart(results, pgResults{skipped: "no PostgreSQL"}, "today")).widths(" ms")
	sort.Slice(results, func(i, j int) bool { return results[i].p99 < results[j].p99 })
	for i := 1; i < len(results); i++ {
		shorter, longer := results[i-1].key, results[i].key
		if p99[shorter+", SQLite"] >= p99[longer+", SQLite"] {
			t.Errorf("%s's p99 bar is not shorter than %s's", shorter, longer)
		}
	}
}

func TestChartWithoutPostgreSQL(t *testing.T) {
	for _, pg := range []pgResults{
		{skipped: `no PostgreSQL at postgres://postgres@127.0.0.1:5432/test?sslmode=disable (dial tcp 127.0.0.1:5432: connect: connection refused); set BENCH_POSTGRES`},
		{results: map[int][]result{}},
	} {
		svg := chart(fakeResults(), pg, "today")
		d := parse(t, svg)
		if !strings.Contains(strings.Join(d.texts, " "), "PostgreSQL not measured") {
			t.Errorf("with %+v, the chart does not say PostgreSQL was not measured", pg)
		}
		if n := len(d.bars); n != 2*12 {
			t.Errorf("%d bars, want 24 (SQLite's alone)", n)
		}
	}
}

func TestChartOfZerosHasNoNaN(t *testing.T) {
	results := fakeResults()
	results[2].rps, results[2].p99 = 0, 0
	results[3].rps = math.NaN() // 0 requests over 0 s
	pg := fakePG()
	for i := range pg.results[2] {
		pg.results[2][i].rps, pg.results[2][i].p99 = 0, 0
	}
	for _, svg := range []string{
		chart(results, pg, "today"),
		chart([]result{{key: "hello"}, {key: "a"}}, pgResults{}, "today"),
	} {
		parse(t, svg)
		if strings.Contains(svg, "NaN") || strings.Contains(svg, "Inf") {
			t.Errorf("NaN or Inf in the chart:\n%s", svg)
		}
	}
}

func TestChartEscapesText(t *testing.T) {
	results := fakeResults()
	results[1].name = `<script>"a" & 'b'</script>`
	svg := chart(results, fakePG(), "<today>")
	d := parse(t, svg)
	if strings.Contains(svg, "<script>") || !strings.Contains(strings.Join(d.texts, " "), `<script>"a" &`) {
		t.Error("the scenario's name is not escaped")
	}
}
