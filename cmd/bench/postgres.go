package main

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"gatehouse/models/pgschema"
)

// defaultPostgres is the server the PostgreSQL scenarios use unless
// BENCH_POSTGRES names another: the one every machine of the project runs.
const defaultPostgres = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// pgTimeout bounds each statement that sets up or drops a schema.
const pgTimeout = 5 * time.Second

// pgResults are the PostgreSQL scenarios' figures by number of instances;
// skipped says why there are none.
type pgResults struct {
	results map[int][]result
	version string
	skipped string
}

// postgres runs a few scenarios on PostgreSQL, with one instance and then
// two on the same database (each in a schema of its own, dropped after):
// the logged-in index (b), article creation (f), and the many users (m0,
// m1). With two instances the load is split between them, half the
// connections each, as a proxy without sticky sessions would.
func (b *bench) postgres(bin string) (pgResults, error) {
	base := os.Getenv("BENCH_POSTGRES")
	if base == "" {
		base = defaultPostgres
	}
	if err := pgschema.Exec(base, pgTimeout, "SELECT 1"); err != nil {
		fmt.Println("PostgreSQL scenarios skipped:", err)
		return pgResults{skipped: fmt.Sprintf("no PostgreSQL at %s (%v); set BENCH_POSTGRES", redact(base), err)}, nil
	}
	out := pgResults{results: map[int][]result{}}
	if err := pgschema.Query(base, pgTimeout, "SHOW server_version", &out.version); err != nil {
		return out, err
	}
	for _, instances := range pgInstances(b.pgOnly) {
		results, err := b.postgresWith(bin, base, instances)
		if err != nil {
			return out, err
		}
		out.results[instances] = results
	}
	return out, nil
}

// postgresWith runs the PostgreSQL scenarios with this many instances, on a
// fresh schema.
func (b *bench) postgresWith(bin, base string, instances int) ([]result, error) {
	fmt.Printf("PostgreSQL, %d instance(s)…\n", instances)
	schema, err := pgschema.New(base, "bench_", pgTimeout, nil)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err := schema.Drop(pgTimeout); err != nil {
			fmt.Println("bench:", err)
		}
	}()
	dbURL := schema.URL
	if err := prepare(dbURL, seedArticles); err != nil {
		return nil, err
	}
	var apps []*server
	defer func() {
		for _, app := range apps {
			app.stop()
		}
	}()
	// Each instance schedules on its share of the cores, as it would on a
	// machine of its own: two Go runtimes that each schedule for every
	// core of a shared machine fight over them (measured on 2 cores, m0:
	// 100 µs of CPU a request with two instances, 69 µs with a core each).
	procs := max(1, runtime.NumCPU()/instances)
	for i := range instances {
		suffix := "" // the second instance's profiles are BENCH_CPUPROFILE.2, …
		if i > 0 {
			suffix = fmt.Sprintf(".%d", i+1)
		}
		app, err := b.startOn(bin, dbURL, procs, suffix)
		if err != nil {
			return nil, err
		}
		apps = append(apps, app)
	}
	session, csrf, err := login(apps[0].url, benchUser)
	if err != nil {
		return nil, err
	}
	loggedIn := "sessionid=" + session + "; csrftoken=" + csrf
	createBody := url.Values{"csrfmiddlewaretoken": {csrf}, "title": {"Benchmark article"}, "content": {"Written under load."}}.Encode()
	users := filepath.Join(b.work, fmt.Sprintf("users-pg%d.txt", instances))
	fmt.Printf("logging %d users in…\n", manyUsers)
	if err := loginMany(apps[0].url, users); err != nil {
		return nil, err
	}
	scenarios := []struct {
		key, name string
		s         scenario
	}{
		{"b", "GET /articles/, logged in", scenario{path: "/articles/", cookie: loggedIn}},
		{"f", "POST create article, 32 clients", scenario{path: "/articles/create/", method: "POST", body: createBody, cookie: loggedIn}},
		{"m0", "many users, read-only", scenario{path: "/", script: manyScript, args: []string{users, "0"}}},
		{"m1", "many users, 1% writes", scenario{path: "/", script: manyScript, args: []string{users, "0.01"}}},
	}
	var results []result
	for _, sc := range scenarios {
		if !pgScenario(b.pgOnly, sc.key) {
			continue
		}
		r, err := b.wrkAll(apps, sc.key, sc.name, sc.s)
		if err != nil {
			return nil, err
		}
		results = append(results, r)
	}
	return results, nil
}

// wrkAll loads every app at once, the connections shared out between them,
// and sums their figures: requests/s and failures add up, latencies and
// RSS are the worst app's, CPU per request is all CPU over all requests.
func (b *bench) wrkAll(apps []*server, key, name string, sc scenario) (result, error) {
	if len(apps) == 1 {
		return b.wrk(apps[0], key, name, sc)
	}
	fmt.Printf("%s: %s, %d instances…\n", key, name, len(apps))
	sc.connections = connections / len(apps)
	type answer struct {
		r   result
		err error
	}
	answers := make(chan answer, len(apps))
	for i, app := range apps {
		go func() {
			r, err := b.wrk(app, fmt.Sprintf("%s-%d", key, i), "", sc)
			answers <- answer{r, err}
		}()
	}
	total := result{key: key, name: name}
	var cpu, db time.Duration
	var requests float64
	for range apps {
		a := <-answers
		if a.err != nil {
			return total, a.err
		}
		total.rps += a.r.rps
		total.p50 = max(total.p50, a.r.p50)
		total.p99 = max(total.p99, a.r.p99)
		total.failed += a.r.failed
		total.peakRSSKiB = max(total.peakRSSKiB, a.r.peakRSSKiB)
		cpu += a.r.cpuPerRequest * time.Duration(a.r.rps)
		// Each run read the database's CPU over the same time: its total
		// is any one's, not their sum.
		db = max(db, a.r.dbPerRequest*time.Duration(a.r.rps))
		requests += a.r.rps
	}
	if requests > 0 {
		total.cpuPerRequest = time.Duration(float64(cpu) / requests)
		total.dbPerRequest = time.Duration(float64(db) / requests)
	}
	return total, nil
}

// pgInstances are the numbers of instances BENCH_ONLY asks the PostgreSQL
// part for: pg1 one, pg2 two, else both.
func pgInstances(only string) []int {
	switch {
	case strings.HasPrefix(only, "pg1"):
		return []int{1}
	case strings.HasPrefix(only, "pg2"):
		return []int{2}
	}
	return []int{1, 2}
}

// pgScenario reports whether BENCH_ONLY (pg…:m0,m1) asks for the
// PostgreSQL scenario key; with no list, every one.
func pgScenario(only, key string) bool {
	_, list, found := strings.Cut(only, ":")
	return !found || slices.Contains(strings.Split(list, ","), key)
}

// redact hides a password in a URL.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unreadable URL)"
	}
	return u.Redacted()
}

// writePostgres adds the PostgreSQL figures beside SQLite's to table.
func writePostgres(table *strings.Builder, sqlite map[string]result, pg pgResults) {
	if pg.skipped != "" {
		fmt.Fprintf(table, "\nPostgreSQL not measured: %s.\n", pg.skipped)
		return
	}
	fmt.Fprintf(table, "\nPostgreSQL %s on the same machine (its default settings, durable commits), each configuration on a fresh schema; "+
		"with two instances, each on its share of the cores (GOMAXPROCS), wrk loads each with 16 connections at once: requests/s add up, p99 and peak RSS are the worse instance's.\n\n", pg.version)
	table.WriteString("| | scenario | SQLite, 1 instance | PostgreSQL, 1 instance | PostgreSQL, 2 instances |\n|---|---|---:|---:|---:|\n")
	cell := func(r result, onPostgres bool) string {
		db := ""
		if onPostgres {
			db = fmt.Sprintf(" + %s PostgreSQL", us(r.dbPerRequest))
		}
		return fmt.Sprintf("%.0f/s, p99 %s, %s%s CPU/req, %.1f MiB", r.rps, ms(r.p99), us(r.cpuPerRequest), db, float64(r.peakRSSKiB)/1024)
	}
	for i, one := range pg.results[1] {
		two := pg.results[2][i]
		fmt.Fprintf(table, "| %s | %s | %s | %s | %s |\n", one.key, one.name, cell(sqlite[one.key], false), cell(one, true), cell(two, true))
	}
	table.WriteString("\nTargets (PostgreSQL):\n\n")
	for _, n := range []int{1, 2} {
		m0, m1 := indexed(pg.results[n])["m0"], indexed(pg.results[n])["m1"]
		check(table, m1.rps >= 0.6*m0.rps && m1.p99 <= 3*m0.p99, "%s: (m1) %.0f requests/s, %.0f%% of (m0) %.0f (≥ 60%%), p99 %s vs %s, %.1f× (≤ 3×)",
			instances(n), m1.rps, 100*m1.rps/m0.rps, m0.rps, ms(m1.p99), ms(m0.p99), float64(m1.p99)/float64(m0.p99))
	}
	one, two := indexed(pg.results[1]), indexed(pg.results[2])
	check(table, one["m1"].rps >= 40*djangoPostgres, "(m1), one instance: %.0f× Django 3.2 + gunicorn on PostgreSQL (≥ 40×; Django's ~%d requests/s measured outside this run)",
		one["m1"].rps/djangoPostgres, djangoPostgres)
	for _, key := range []string{"m0", "m1"} {
		ratio := float64(two[key].cpuPerRequest) / float64(one[key].cpuPerRequest)
		check(table, ratio <= 1.2, "(%s) server CPU a request: two instances %s, one %s, %.2f× (≤ 1.2×)", key, us(two[key].cpuPerRequest), us(one[key].cpuPerRequest), ratio)
	}
}

// instances names a number of instances.
func instances(n int) string {
	if n == 1 {
		return "one instance"
	}
	return fmt.Sprintf("%d instances", n)
}

// indexed maps results by key.
func indexed(results []result) map[string]result {
	byKey := map[string]result{}
	for _, r := range results {
		byKey[r.key] = r
	}
	return byKey
}
