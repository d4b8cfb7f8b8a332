// Command web measures Vigil's web application under load: a portfolio of 200 device versions and 100,000 findings
// (1% assessed, a third of those uncontrolled risks with notices and fixes, some resolved, KEV-listed CVEs among
// them) is seeded into SQLite or PostgreSQL, `vigil serve`'s handler runs on loopback, and concurrent signed-in
// clients load the dashboard, the case queue, pages of the findings list (filters and cursors at random) and finding
// pages. It reports the latency percentiles per screen, the error count and the throughput.
//
//	go run ./bench/web [-engine sqlite|postgres] [-db DSN] [-clients 50] [-duration 30s] [-think 0] [-writes 0]
//
// -writes adds a PSIRT at work: that many assessments a second (at random times) posted through the API, each of
// which moves the portfolio's state on, so the cached dashboard, counts and pages are rebuilt while the readers
// read. Writes are reported apart; "all" is the reads.
//
// -think is each client's mean pause between requests (exponential): 0 is a closed loop, the server's worst case;
// a second is closer to fifty people at work. The seeded store is kept (-work) and reused by later runs. PostgreSQL
// comes from -db, else $VIGIL_TEST_POSTGRES (an admin DSN: a database is created), else a throwaway server is
// started with scripts/pg-throwaway and stopped at the end. This is a measurement, not a test.
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/pprof"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/bench/internal/benchdb"
	"github.com/vigil-dev/vigil/internal/app"
	"github.com/vigil-dev/vigil/internal/cases"
	"github.com/vigil-dev/vigil/internal/store"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bench/web:", err)
		os.Exit(1)
	}
}

type config struct {
	engine, dsn, work, testdata string
	versions, findings          int
	assessed                    float64
	clients                     int
	duration, warmup, think     time.Duration
	writes                      float64
	seed                        uint64
	jsonOut                     bool
	cpuprofile                  string
	keep                        bool
}

func run(args []string, stdout, stderr io.Writer) error {
	var c config
	fs := flag.NewFlagSet("bench/web", flag.ContinueOnError)
	fs.StringVar(&c.engine, "engine", "sqlite", "sqlite or postgres")
	fs.StringVar(&c.dsn, "db", "", "database DSN (default: a file under -work, or a PostgreSQL database)")
	fs.StringVar(&c.work, "work", filepath.Join(os.TempDir(), "vigil-web-bench"), "work directory (the seeded SQLite store is kept here)")
	fs.StringVar(&c.testdata, "testdata", "", "the shared testdata folder (default: ../shared/testdata beside the repository)")
	fs.IntVar(&c.versions, "versions", 200, "device versions")
	fs.IntVar(&c.findings, "findings", 100_000, "findings")
	fs.Float64Var(&c.assessed, "assessed", 0.01, "share of findings assessed")
	fs.IntVar(&c.clients, "clients", 50, "concurrent signed-in clients")
	fs.DurationVar(&c.duration, "duration", 30*time.Second, "measured time")
	fs.DurationVar(&c.warmup, "warmup", 5*time.Second, "unmeasured time before it")
	fs.DurationVar(&c.think, "think", 0, "mean pause between a client's requests (0: closed loop)")
	fs.Float64Var(&c.writes, "writes", 0, "assessments posted per second while the clients read (0: none)")
	fs.Uint64Var(&c.seed, "seed", 1, "random seed")
	fs.BoolVar(&c.jsonOut, "json", false, "print the result as JSON")
	fs.StringVar(&c.cpuprofile, "cpuprofile", "", "write a CPU profile of the measured part to this file")
	fs.BoolVar(&c.keep, "keep", false, "keep the PostgreSQL database (and server) for another run with -db")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if c.testdata == "" {
		c.testdata = findTestdata()
	}
	if err := os.MkdirAll(c.work, 0o755); err != nil {
		return err
	}
	ctx := context.Background()
	stopPG := func() {}
	if c.dsn == "" {
		switch c.engine {
		case store.SQLite:
			c.dsn = "sqlite:" + filepath.Join(c.work, fmt.Sprintf("web-%d-%d.db", c.versions, c.findings))
		case store.Postgres:
			dsn, stop, err := postgres(c)
			if err != nil {
				return err
			}
			c.dsn, stopPG = dsn, stop
			if c.keep {
				stopPG = func() { fmt.Fprintf(stderr, "kept: -db '%s'\n", dsn) }
			}
		default:
			return fmt.Errorf("-engine %q: want sqlite or postgres", c.engine)
		}
	}
	defer stopPG()
	clock := &benchClock{}
	db, err := store.Open(ctx, c.dsn, clock)
	if err != nil {
		return err
	}
	defer db.Close()
	a, err := app.Open(ctx, c.dsn, clock)
	if err != nil {
		return err
	}
	defer a.Close()
	pw := "bench-password-0123456789"
	t0 := time.Now()
	seeded, err := seed(ctx, db, a, clock, c, pw, stderr)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	if seeded {
		fmt.Fprintf(stderr, "seeded %d versions and %d findings on %s in %s\n", c.versions, c.findings, db.Engine(), time.Since(t0).Round(time.Second))
	}
	clock.set(time.Time{}) // the real clock from here on
	if db.Engine() == store.Postgres {
		// What autovacuum does within a minute of a bulk load: without statistics the planner takes the state
		// index for selective and sorts the whole table for a page.
		if _, err := db.SQL().ExecContext(ctx, "ANALYZE"); err != nil {
			return err
		}
	}

	h, err := a.Handler(app.ServeOptions{})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	base := "http://" + ln.Addr().String()

	ids, err := benchdb.IDs(ctx, db.SQL(), "SELECT id FROM findings ORDER BY id")
	if err != nil {
		return err
	}
	res, err := load(ctx, db, base, c, ids, stderr)
	if err != nil {
		return err
	}
	res.Engine, res.Versions, res.Findings, res.Clients, res.Think, res.CPUs = db.Engine(), c.versions, c.findings, c.clients, c.think.String(), runtime.NumCPU()
	if la, err := os.ReadFile("/proc/loadavg"); err == nil {
		res.LoadAvg = strings.Join(strings.Fields(string(la))[:3], " ")
	}
	if c.jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	res.print(stdout)
	return nil
}

// benchClock is the real clock, or a set time while seeding (so findings are spread over months).
type benchClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *benchClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.t.IsZero() {
		return time.Now()
	}
	c.t = c.t.Add(time.Microsecond)
	return c.t
}

func (c *benchClock) set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func findTestdata() string {
	dir, _ := os.Getwd()
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(filepath.Dir(dir), "shared", "testdata")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "../shared/testdata"
		}
		dir = parent
	}
}

func repoRoot() string {
	dir, _ := os.Getwd()
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "."
		}
		dir = parent
	}
}

// postgres returns a fresh database on $VIGIL_TEST_POSTGRES or on a throwaway server.
func postgres(c config) (string, func(), error) {
	admin := os.Getenv("VIGIL_TEST_POSTGRES")
	stop := func() {}
	if admin == "" {
		dir := filepath.Join(c.work, "pg")
		os.RemoveAll(dir)
		os.Chmod(c.work, 0o755)
		script := filepath.Join(repoRoot(), "scripts", "pg-throwaway")
		out, err := exec.Command(script, "start", dir).Output()
		if err != nil {
			return "", nil, fmt.Errorf("start PostgreSQL with %s: %v", script, err)
		}
		m := regexp.MustCompile(`VIGIL_TEST_POSTGRES='([^']+)'`).FindSubmatch(out)
		if m == nil {
			return "", nil, fmt.Errorf("pg-throwaway printed no DSN")
		}
		admin = string(m[1])
		stop = func() { exec.Command(script, "stop", dir).Run() }
	}
	adb, err := sql.Open("pgx", admin)
	if err != nil {
		stop()
		return "", nil, err
	}
	defer adb.Close()
	name := fmt.Sprintf("vigil_web_bench_%d", time.Now().UnixNano())
	if _, err := adb.Exec("CREATE DATABASE " + name); err != nil {
		stop()
		return "", nil, err
	}
	u, _ := url.Parse(admin)
	u.Path = "/" + name
	drop := func() {
		if adb, err := sql.Open("pgx", admin); err == nil {
			adb.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
			adb.Close()
		}
		stop()
	}
	return u.String(), drop, nil
}

// ---- the portfolio

var functions = []vigil.ClinicalFunction{{Name: "therapy delivery", Severity: vigil.HarmCatastrophic}, {Name: "alarms", Severity: vigil.HarmCritical},
	{Name: "display", Severity: vigil.HarmSerious}, {Name: "workflow", Severity: vigil.HarmMinor}, {Name: "event log (PHI)", Severity: vigil.HarmNegligible}}

// seed fills an empty store; it reports false when the store already holds the portfolio.
func seed(ctx context.Context, db *store.DB, a *app.App, clock *benchClock, c config, pw string, log io.Writer) (bool, error) {
	sys := vigil.WithActor(ctx, vigil.Actor{System: true, Name: "bench"})
	if orgs, err := db.Orgs(sys); err != nil {
		return false, err
	} else if len(orgs) > 0 {
		return false, nil
	}
	r := rand.New(rand.NewPCG(c.seed, 7))
	start := time.Now().AddDate(0, 0, -180).UTC().Truncate(24 * time.Hour).Add(14 * time.Hour)
	clock.set(start)
	if err := db.CreateOrg(sys, &vigil.Organization{Name: "Bench Medical", TimeZone: "UTC", CVDAckDays: 5,
		ISAOs: []vigil.ISAOMembership{{Name: "Health-ISAC", Since: vigil.NewDate(2020, 1, 1), Documents: vigil.EvidenceNotes("a", "b", "c", "d")}}}); err != nil {
		return false, err
	}
	if err := db.CreateUser(sys, &vigil.User{Name: "bench", Role: vigil.RoleAdmin}, pw); err != nil {
		return false, err
	}
	// KEV: the real catalog, so the dashboard has known-exploited CVEs to find among the findings.
	kevCVEs, err := importKEV(sys, a, c)
	if err != nil {
		fmt.Fprintf(log, "bench/web: no KEV catalog (%v): the KEV panel will be empty\n", err)
	}
	perVersion := c.findings / c.versions
	const compsPerVersion = 50
	devices := max(1, c.versions/10)
	var versionIDs []int64
	for d := 0; d < devices; d++ {
		dev := &vigil.Device{Name: fmt.Sprintf("Device %02d", d+1), Model: fmt.Sprintf("M-%02d", d+1), Class: []string{"II", "III"}[d%2],
			Pathway: []vigil.Pathway{vigil.Pathway510k, vigil.PathwayPMA}[d%2], CyberDevice: true, Functions: functions}
		if err := db.CreateDevice(sys, dev); err != nil {
			return false, err
		}
		for v := 0; v < c.versions/devices; v++ {
			ver := &vigil.DeviceVersion{DeviceID: dev.ID, Version: fmt.Sprintf("%d.%d.0", 1+v/3, v%3), Status: vigil.VersionMarketed, UnitsFielded: 100 + r.IntN(5000)}
			if err := db.CreateVersion(sys, ver); err != nil {
				return false, err
			}
			versionIDs = append(versionIDs, ver.ID)
		}
	}
	// Components: 50 per version from a pool of 400 packages; findings: the version's share, spread over its
	// components, each naming a CVE (a few of them KEV-listed), first seen on a day of the last six months.
	for i, vid := range versionIDs {
		clock.set(start.Add(time.Duration(float64(180*24*time.Hour) * float64(i) / float64(len(versionIDs)))))
		comps := make([]vigil.Component, compsPerVersion)
		for j := range comps {
			p := (i*7 + j*13) % 400
			comps[j] = vigil.Component{Name: fmt.Sprintf("lib-%03d", p), Version: fmt.Sprintf("1.%d.%d", p%9, (i/10)%5),
				Purl: fmt.Sprintf("pkg:npm/lib-%03d@1.%d.%d", p, p%9, (i/10)%5), Type: "library"}
		}
		if err := db.SetComponents(sys, vid, comps, "bench.cdx.json"); err != nil {
			return false, err
		}
		found := make([]vigil.Finding, perVersion)
		for k := range found {
			comp := comps[k%compsPerVersion]
			vuln := fmt.Sprintf("CVE-%d-%05d", 2019+k%6, (k*37+i)%20000)
			if len(kevCVEs) > 0 && k%97 == 0 {
				vuln = kevCVEs[(k/97+i)%len(kevCVEs)]
			}
			found[k] = vigil.Finding{Component: comp, Vulnerability: vuln, Evidence: vigil.Evidence{Matcher: "osv-ecosystem:npm", Source: "osv", Advisory: "GHSA-bench",
				Range: ">=1.0.0, <1.9.9 (SEMVER)", Fixed: "1.9.9"}}
		}
		if _, _, err := db.SyncFindings(sys, vid, found); err != nil {
			return false, err
		}
		if (i+1)%20 == 0 {
			fmt.Fprintf(log, "seeded %d/%d versions\n", i+1, len(versionIDs))
		}
	}
	// Some fixes reached the field: a tenth of the versions drop a component later, resolving its findings.
	clock.set(start.Add(150 * 24 * time.Hour))
	for i, vid := range versionIDs {
		if i%10 != 3 {
			continue
		}
		comps, err := db.Components(sys, vid)
		if err != nil {
			return false, err
		}
		fs, err := db.Findings(sys, vigil.FindingFilter{VersionID: vid})
		if err != nil {
			return false, err
		}
		drop := comps[0].Name
		var keep []vigil.Finding
		for _, f := range fs {
			if f.Component.Name != drop {
				keep = append(keep, *f)
			}
		}
		if _, _, err := db.SyncFindings(sys, vid, keep); err != nil {
			return false, err
		}
	}
	// Assessments: 1%, a third uncontrolled (therapy delivery reached), with notices, controls and some fixes.
	clock.set(time.Time{})
	ids, err := benchdb.IDs(ctx, db.SQL(), "SELECT id FROM findings ORDER BY id")
	if err != nil {
		return false, err
	}
	cs := a.Cases
	n := int(float64(len(ids)) * c.assessed)
	today := vigil.DateOf(time.Now(), nil)
	for k := 0; k < n; k++ {
		id := ids[r.IntN(len(ids))]
		f, err := db.Finding(sys, id)
		if err != nil {
			return false, err
		}
		fn := []string{"workflow"}
		if k%3 == 0 {
			fn = []string{"therapy delivery"}
		}
		if _, err := cs.Assess(sys, cases.AssessInput{CaseID: f.CaseID, CVSS: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", Functions: fn,
			Rationale: "Bench assessment."}); err != nil {
			return false, fmt.Errorf("assess %d: %w", id, err)
		}
		if k%3 != 0 {
			continue
		}
		d := f.Learned.AddDays(5 + k%20)
		if d.After(today) {
			d = today
		}
		ev := []*vigil.CaseEvent{{Type: "customer_notified", Date: d, Note: "Customer notice", Details: vigil.EventData{Elements: []string{"a", "b", "c", "d"}}},
			{Type: "interim_controls", Date: d, Note: "Segment the network"}, {Type: "remediation_plan", Date: d, Note: "Plan"}}
		if fix := f.Learned.AddDays(20 + k%50); k%2 == 0 && !fix.After(today) {
			ev = append(ev, &vigil.CaseEvent{Type: "fix_distributed", Date: fix, Note: "Patch", Details: vigil.EventData{Validated: true, Remediation: "patch"}})
		}
		for _, e := range ev {
			e.CaseID = f.CaseID
			if err := cs.RecordEvent(sys, e); err != nil {
				return false, fmt.Errorf("event on %d: %w", id, err)
			}
		}
	}
	return true, nil
}

func importKEV(ctx context.Context, a *app.App, c config) ([]string, error) {
	path := filepath.Join(c.testdata, "cisa-kev", "known_exploited_vulnerabilities.json")
	if _, err := os.Stat(path); err != nil {
		return nil, err
	}
	if _, err := a.Intel.Import(ctx, []string{path}, vigil.ImportOptions{Source: vigil.SourceKEV}); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var cat struct {
		Vulnerabilities []struct {
			CVE string `json:"cveID"`
		} `json:"vulnerabilities"`
	}
	if err := json.Unmarshal(b, &cat); err != nil {
		return nil, err
	}
	var out []string
	for i, v := range cat.Vulnerabilities {
		if i%7 == 0 { // a sample: some of the portfolio's CVEs are listed, most are not
			out = append(out, v.CVE)
		}
	}
	sort.Strings(out)
	return out, nil
}

// ---- the load

type sample struct {
	screen string
	d      time.Duration
	err    bool
}

// Result is what a run measured.
type Result struct {
	Engine   string            `json:"engine"`
	Versions int               `json:"versions"`
	Findings int               `json:"findings"`
	Clients  int               `json:"clients"`
	Think    string            `json:"think"`
	CPUs     int               `json:"cpus"`
	LoadAvg  string            `json:"loadavg"`
	Seconds  float64           `json:"seconds"`
	Requests int               `json:"requests"`
	Errors   int               `json:"errors"`
	RPS      float64           `json:"requests_per_second"`
	Screens  map[string]*Stats `json:"screens"`
	All      *Stats            `json:"all"`
}

// Stats are one screen's latencies in milliseconds.
type Stats struct {
	N      int     `json:"n"`
	Errors int     `json:"errors"`
	P50    float64 `json:"p50_ms"`
	P90    float64 `json:"p90_ms"`
	P99    float64 `json:"p99_ms"`
	Max    float64 `json:"max_ms"`
}

func stats(ss []sample) *Stats {
	st := &Stats{N: len(ss)}
	ds := make([]float64, 0, len(ss))
	for _, s := range ss {
		if s.err {
			st.Errors++
		}
		ds = append(ds, float64(s.d.Microseconds())/1000)
	}
	if len(ds) == 0 {
		return st
	}
	slices.Sort(ds)
	q := func(p float64) float64 { return ds[min(len(ds)-1, int(math.Ceil(p*float64(len(ds))))-1)] }
	st.P50, st.P90, st.P99, st.Max = q(0.50), q(0.90), q(0.99), ds[len(ds)-1]
	return st
}

// session opens a browser session for the bench user directly in the store (the sign-in form is rate-limited per
// address, as it should be, and fifty clients on loopback share one) and returns a client carrying its cookie.
func session(ctx context.Context, db *store.DB, base string) (*http.Client, error) {
	u, err := db.UserByName(ctx, "bench")
	if err != nil {
		return nil, err
	}
	secret, _, err := db.CreateSession(ctx, u, 8*time.Hour)
	if err != nil {
		return nil, err
	}
	jar, _ := cookiejar.New(nil)
	bu, _ := url.Parse(base)
	jar.SetCookies(bu, []*http.Cookie{{Name: "vigil_session", Value: secret, Path: "/"}})
	return &http.Client{Jar: jar, Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 4}}, nil
}

func load(ctx context.Context, db *store.DB, base string, c config, ids []int64, log io.Writer) (*Result, error) {
	clients := make([]*http.Client, c.clients)
	for i := range clients {
		hc, err := session(ctx, db, base)
		if err != nil {
			return nil, err
		}
		clients[i] = hc
	}
	fmt.Fprintf(log, "%d clients signed in; warming up for %s, then measuring for %s\n", c.clients, c.warmup, c.duration)
	var prof *os.File
	if c.cpuprofile != "" {
		f, err := os.Create(c.cpuprofile)
		if err != nil {
			return nil, err
		}
		prof = f
		go func() {
			time.Sleep(c.warmup)
			pprof.StartCPUProfile(f)
		}()
	}
	var mu sync.Mutex
	var samples, writes []sample
	warmEnd := time.Now().Add(c.warmup)
	end := warmEnd.Add(c.duration)
	var wg sync.WaitGroup
	for i, hc := range clients {
		wg.Add(1)
		go func(i int, hc *http.Client) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(c.seed, uint64(i)))
			for time.Now().Before(end) {
				screen, path := pick(r, ids)
				t0 := time.Now()
				res, err := hc.Get(base + path)
				bad := err != nil
				if err == nil {
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
					bad = res.StatusCode != 200
				}
				d := time.Since(t0)
				if t0.After(warmEnd) {
					mu.Lock()
					samples = append(samples, sample{screen, d, bad})
					mu.Unlock()
				}
				if c.think > 0 {
					time.Sleep(time.Duration(r.ExpFloat64() * float64(c.think)))
				}
			}
		}(i, hc)
	}
	if c.writes > 0 {
		ws, err := writer(ctx, db, base, c, ids, warmEnd, end)
		if err != nil {
			return nil, err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			got := ws()
			mu.Lock()
			writes = got
			mu.Unlock()
		}()
	}
	wg.Wait()
	if prof != nil {
		pprof.StopCPUProfile()
		prof.Close()
	}
	res := &Result{Seconds: c.duration.Seconds(), Requests: len(samples), Screens: map[string]*Stats{}}
	by := map[string][]sample{}
	for _, s := range samples {
		by[s.screen] = append(by[s.screen], s)
		if s.err {
			res.Errors++
		}
	}
	for k, v := range by {
		res.Screens[k] = stats(v)
	}
	res.All = stats(samples)
	if len(writes) > 0 {
		res.Screens["write (assess)"] = stats(writes)
		res.Errors += res.Screens["write (assess)"].Errors
	}
	res.RPS = float64(len(samples)) / c.duration.Seconds()
	return res, nil
}

// writer prepares a PSIRT that assesses random findings through the API at c.writes a second until end, and
// returns the function that runs it and reports the writes made after warmEnd.
func writer(ctx context.Context, db *store.DB, base string, c config, ids []int64, warmEnd, end time.Time) (func() []sample, error) {
	admin := vigil.WithActor(ctx, vigil.Actor{System: true, Name: "bench"})
	_, secret, err := db.CreateToken(admin, "bench", fmt.Sprintf("bench-writer-%d", time.Now().UnixNano()), time.Now().Add(time.Hour))
	if err != nil {
		return nil, err
	}
	hc := &http.Client{Timeout: 60 * time.Second}
	return func() []sample {
		r := rand.New(rand.NewPCG(c.seed, 99))
		var out []sample
		for time.Now().Before(end) {
			time.Sleep(time.Duration(r.ExpFloat64() / c.writes * float64(time.Second)))
			id := ids[r.IntN(len(ids))]
			body := fmt.Sprintf(`{"cvss":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H","functions":["%s"],"rationale":"bench: reachable from the hospital network"}`,
				functions[r.IntN(len(functions))].Name)
			req, _ := http.NewRequestWithContext(ctx, "POST", fmt.Sprintf("%s/api/v1/findings/%d/assessments", base, id), strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+secret)
			req.Header.Set("Content-Type", "application/json")
			t0 := time.Now()
			res, err := hc.Do(req)
			bad := err != nil
			if err == nil {
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				bad = res.StatusCode != http.StatusCreated
			}
			if t0.After(warmEnd) {
				out = append(out, sample{"write (assess)", time.Since(t0), bad})
			}
		}
		return out
	}, nil
}

// pick chooses a screen as people use them: the finding pages most, then lists (the case queue and the findings),
// then the dashboard.
func pick(r *rand.Rand, ids []int64) (string, string) {
	switch x := r.IntN(12); {
	case x < 2:
		return "dashboard", "/"
	case x < 4:
		q := url.Values{}
		name := "cases queue"
		switch r.IntN(4) {
		case 1:
			q.Set("uncontrolled", "1")
			name = "cases uncontrolled"
		case 2:
			q.Set("sort", "epss")
			q.Set("desc", "1")
			name = "cases by epss"
		case 3:
			q.Set("device", fmt.Sprint(1+r.IntN(20)))
			name = "cases device"
		}
		return name, "/cases?" + q.Encode()
	case x < 7:
		q := url.Values{}
		name := "findings list"
		switch r.IntN(4) {
		case 1:
			q.Set("risk", string(vigil.RiskUncontrolled))
			name = "findings risk"
		case 2:
			q.Set("after", fmt.Sprint(ids[r.IntN(len(ids))]))
			name = "findings older"
		case 3:
			q.Set("device", fmt.Sprint(1+r.IntN(20)))
			name = "findings device"
		}
		return name, "/findings?" + q.Encode()
	default:
		return "finding page", fmt.Sprintf("/findings/%d", ids[r.IntN(len(ids))])
	}
}

func (r *Result) print(w io.Writer) {
	fmt.Fprintf(w, "%s · %d versions · %d findings · %d clients · think %s · %d CPUs · load %s\n", r.Engine, r.Versions, r.Findings, r.Clients, r.Think, r.CPUs, r.LoadAvg)
	fmt.Fprintf(w, "%-16s %8s %7s %9s %9s %9s %9s\n", "screen", "requests", "errors", "p50 ms", "p90 ms", "p99 ms", "max ms")
	keys := make([]string, 0, len(r.Screens))
	for k := range r.Screens {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	row := func(name string, s *Stats) {
		fmt.Fprintf(w, "%-16s %8d %7d %9.1f %9.1f %9.1f %9.1f\n", name, s.N, s.Errors, s.P50, s.P90, s.P99, s.Max)
	}
	for _, k := range keys {
		row(k, r.Screens[k])
	}
	row("all", r.All)
	fmt.Fprintf(w, "%.0f requests/s over %.0f s\n", r.RPS, r.Seconds)
}
