// Command outage measures what issue 17 found: a feed sync against a feed host that is down took the whole server
// down with it (on SQLite every token GET, event POST and login answered 500 after 10–24 s while /healthz said
// ok). It runs a real server on the demo portfolio, configures a feed whose host hangs (accepts the connection and
// never answers) or refuses connections, syncs that feed over and over for the whole window (as `vigil feeds sync`
// does), and meanwhile sends the requests people make: token GETs (/api/v1/devices), event POSTs
// (/api/v1/findings/{id}/events) and sign-ins (POST /login). It prints, per kind, the requests that succeeded, the
// statuses of the others and the latency, and what /healthz said once a second. Target: every request succeeds.
//
//	go run ./bench/outage [-engine sqlite|postgres] [-db DSN] [-mode hang|refuse] [-duration 2m] [-workers 4]
//
// The server runs in this process (the feed host is on loopback, which the production fetcher's SSRF guard
// refuses; here a fetcher that admits 127.0.0.1 is wired in, as the tests do) and is reached over HTTP. PostgreSQL
// comes from -db (an empty database), else $VIGIL_TEST_POSTGRES (an admin DSN: a database is created and dropped).
// This is a measurement, not a test.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/bench/internal/benchpg"
	"github.com/vigil-dev/vigil/internal/app"
	"github.com/vigil-dev/vigil/internal/importer"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench/outage:", err)
		os.Exit(1)
	}
}

type config struct {
	engine, db, mode string
	duration         time.Duration
	workers          int
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("outage", flag.ContinueOnError)
	var c config
	fs.StringVar(&c.engine, "engine", "sqlite", "sqlite or postgres")
	fs.StringVar(&c.db, "db", "", "PostgreSQL DSN of an empty database (default: one created on $VIGIL_TEST_POSTGRES)")
	fs.StringVar(&c.mode, "mode", "hang", "hang: the feed host accepts and never answers; refuse: it refuses connections")
	fs.DurationVar(&c.duration, "duration", 2*time.Minute, "how long the outage and the load last")
	fs.IntVar(&c.workers, "workers", 4, "concurrent clients")
	if err := fs.Parse(args); err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "vigil-bench-outage-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	dsn := "sqlite:" + filepath.Join(work, "vigil.db")
	switch c.engine {
	case "postgres":
		d, drop, err := benchpg.Database(c.db, "vigil_bench_outage")
		if err != nil {
			return err
		}
		defer drop()
		dsn = d
	case "sqlite":
	default:
		return fmt.Errorf("-engine: %q is neither sqlite nor postgres", c.engine)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	feedURL, stopFeed, err := feedHost(c.mode)
	if err != nil {
		return err
	}
	defer stopFeed()

	actx := app.CLIContext(ctx)
	a, err := app.Open(actx, dsn, nil)
	if err != nil {
		return err
	}
	defer a.Close()
	pw, err := a.SeedDemo(actx)
	if err != nil {
		return err
	}
	_, token, err := a.Accounts.CreateToken(actx, "admin", "bench", time.Now().Add(24*time.Hour))
	if err != nil {
		return err
	}
	fs2, err := a.Cases.Findings(actx, vigil.FindingFilter{})
	if err != nil || len(fs2) == 0 {
		return fmt.Errorf("the demo has no findings: %v", err)
	}
	finding := fs2[0].ID
	if err := a.Intel.SetFeed(actx, &vigil.Feed{Name: "outage", Source: vigil.SourceOSV, URL: feedURL, Every: time.Hour, Enabled: true}); err != nil {
		return err
	}

	addrc := make(chan string, 1)
	served := make(chan error, 1)
	go func() {
		served <- a.Serve(ctx, app.ServeOptions{Addr: "127.0.0.1:0", SessionIdle: vigil.DefaultSessionIdle, Ready: func(s string) { addrc <- s }})
	}()
	base := "http://" + <-addrc

	// The feed is synced again as soon as each attempt fails, for the whole window.
	fetcher := &importer.Fetcher{Client: importer.NewClient(func(ip netip.Addr) error {
		if ip.IsLoopback() {
			return nil
		}
		return importer.PublicAddr(ip)
	}), AllowHTTP: true}
	a.Intel.Fetcher = fetcher
	syncs := &syncLog{}
	lctx, stopLoad := context.WithTimeout(ctx, c.duration)
	defer stopLoad()
	var bg sync.WaitGroup
	bg.Add(1)
	go func() {
		defer bg.Done()
		sctx := app.CLIContext(lctx)
		for lctx.Err() == nil {
			start := time.Now()
			_, err := a.Intel.SyncFeed(sctx, "outage")
			syncs.add(time.Since(start), err)
		}
	}()
	time.Sleep(3 * time.Second) // the sync is under way, as in the repro

	fmt.Fprintf(stdout, "engine %s, feed host %s (%s), %d clients for %s\n", c.engine, c.mode, feedURL, c.workers, c.duration)
	stats := map[string]*kind{"token GET": {}, "event POST": {}, "login": {}}
	health := &kind{}
	bg.Add(1)
	go func() {
		defer bg.Done()
		cl := &http.Client{Timeout: 30 * time.Second}
		for lctx.Err() == nil {
			start := time.Now()
			res, err := cl.Get(base + "/healthz")
			health.add(time.Since(start), res, err, http.StatusOK)
			time.Sleep(time.Second)
		}
	}()
	ops := []func(*http.Client) (string, *http.Response, error){
		func(cl *http.Client) (string, *http.Response, error) {
			req, _ := http.NewRequest("GET", base+"/api/v1/devices", nil)
			req.Header.Set("Authorization", "Bearer "+token)
			res, err := cl.Do(req)
			return "token GET", res, err
		},
		func(cl *http.Client) (string, *http.Response, error) {
			body, _ := json.Marshal(map[string]any{"type": "isao_shared", "date": time.Now().UTC().Format("2006-01-02"), "note": "bench/outage"})
			req, _ := http.NewRequest("POST", fmt.Sprintf("%s/api/v1/findings/%d/events", base, finding), bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Content-Type", "application/json")
			res, err := cl.Do(req)
			return "event POST", res, err
		},
		func(*http.Client) (string, *http.Response, error) {
			res, err := login(base, pw)
			return "login", res, err
		},
	}
	want := map[string]int{"token GET": http.StatusOK, "event POST": http.StatusCreated, "login": http.StatusSeeOther}
	var wg sync.WaitGroup
	for w := range c.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl := &http.Client{Timeout: 30 * time.Second}
			for i := w; lctx.Err() == nil; i++ {
				start := time.Now()
				name, res, err := ops[i%len(ops)](cl)
				stats[name].add(time.Since(start), res, err, want[name])
			}
		}()
	}
	wg.Wait()
	bg.Wait()
	names := []string{"token GET", "event POST", "login"}
	var ok, all int
	for _, n := range names {
		fmt.Fprintln(stdout, stats[n].line(n))
		ok += stats[n].ok
		all += stats[n].n
	}
	fmt.Fprintf(stdout, "%-12s %d/%d succeeded (%.1f%%)\n", "all", ok, all, 100*float64(ok)/float64(max(all, 1)))
	fmt.Fprintln(stdout, health.line("/healthz"))
	fmt.Fprintln(stdout, syncs.line())
	cancel()
	if err := <-served; err != nil {
		return err
	}
	return nil
}

// feedHost starts a feed host that fails as mode says and returns an all.zip URL on it.
func feedHost(mode string) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	u := "http://" + ln.Addr().String() + "/all.zip"
	switch mode {
	case "refuse":
		ln.Close() // nothing listens on the port any more
		return u, func() {}, nil
	case "hang":
		stop := make(chan struct{})
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-stop:
			case <-r.Context().Done():
			}
		})}
		go srv.Serve(ln)
		return u, func() { close(stop); srv.Close() }, nil
	}
	ln.Close()
	return "", nil, fmt.Errorf("-mode: %q is neither hang nor refuse", mode)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

var logins atomic.Int64

// login signs in as admin through the form, as a new browser does (the form's CSRF token, then the POST), each time
// from the next of 250 loopback addresses: the server's per-address sign-in limit is not what is measured here.
func login(base, pw string) (*http.Response, error) {
	n := logins.Add(1)
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 1, byte(1+n%250))}}
	jar, _ := cookiejar.New(nil)
	cl := &http.Client{Jar: jar, Timeout: 30 * time.Second, Transport: &http.Transport{DialContext: d.DialContext},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	defer cl.CloseIdleConnections()
	res, err := cl.Get(base + "/login")
	if err != nil {
		return nil, err
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := csrfField.FindSubmatch(b)
	if m == nil {
		return res, nil // the login page itself failed: counted by its status
	}
	return cl.PostForm(base+"/login", url.Values{"csrf": {string(m[1])}, "name": {"admin"}, "password": {pw}})
}

// kind tallies one kind of request.
type kind struct {
	mu       sync.Mutex
	n, ok    int
	statuses map[string]int
	lat      []time.Duration
}

func (k *kind) add(d time.Duration, res *http.Response, err error, want int) {
	status := "error"
	if err == nil {
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		status = fmt.Sprint(res.StatusCode)
	} else if errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "Timeout") {
		status = "timeout"
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.statuses == nil {
		k.statuses = map[string]int{}
	}
	k.n++
	if err == nil && res.StatusCode == want {
		k.ok++
	} else {
		k.statuses[status]++
	}
	k.lat = append(k.lat, d)
}

func (k *kind) line(name string) string {
	k.mu.Lock()
	defer k.mu.Unlock()
	slices.Sort(k.lat)
	q := func(p float64) time.Duration {
		if len(k.lat) == 0 {
			return 0
		}
		return k.lat[min(len(k.lat)-1, int(p*float64(len(k.lat))))]
	}
	var other []string
	for s, n := range k.statuses {
		other = append(other, fmt.Sprintf("%s×%d", s, n))
	}
	sort.Strings(other)
	return fmt.Sprintf("%-12s %5d/%-5d succeeded (%5.1f%%)  p50 %-8s p99 %-8s max %-8s others: %s", name, k.ok, k.n,
		100*float64(k.ok)/float64(max(k.n, 1)), q(0.5).Round(time.Millisecond), q(0.99).Round(time.Millisecond),
		q(1).Round(time.Millisecond), strings.Join(other, " "))
}

// syncLog tallies the feed's sync attempts.
type syncLog struct {
	mu   sync.Mutex
	n    int
	took []time.Duration
	last error
}

func (s *syncLog) add(d time.Duration, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	s.took = append(s.took, d.Round(100*time.Millisecond))
	s.last = err
}

func (s *syncLog) line() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	last := vigil.ErrorMessage(s.last)
	if errors.Is(s.last, context.Canceled) || errors.Is(s.last, context.DeadlineExceeded) {
		last = "cut off at the end of the window"
	}
	return fmt.Sprintf("feed syncs   %d attempts taking %v; last error: %s", s.n, s.took, last)
}
