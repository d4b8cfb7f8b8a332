package app_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/app"
	"github.com/vigil-dev/vigil/internal/cli"
	"github.com/vigil-dev/vigil/internal/importer"
	"github.com/vigil-dev/vigil/internal/jobs"
	"github.com/vigil-dev/vigil/internal/store/storetest"
	"github.com/vigil-dev/vigil/internal/testfix"
)

// instanceEnv makes the test binary one server of TestTwoServersShareTheJobs (see TestMain): its value is the
// server's name, and VIGIL_TEST_INSTANCE_DB and VIGIL_TEST_INSTANCE_FEEDS give the database and the feed host.
const instanceEnv = "VIGIL_TEST_INSTANCE"

// runInstance is what `vigil serve` runs — the app on the database, the feed scheduler, the web server — with a
// fetcher that may reach the test's feed host on loopback (the production fetcher refuses loopback, which is why
// this is the test binary and not the vigil command) and names the server in its User-Agent, so the feed host
// sees which server fetched what. Its lease is 2 s and it polls every 100 ms, so the test is quick.
func runInstance() int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	name := os.Getenv(instanceEnv)
	a, err := app.Open(ctx, os.Getenv("VIGIL_TEST_INSTANCE_DB"), nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer a.Close()
	a.Intel.Fetcher = &importer.Fetcher{Client: importer.NewClient(func(netip.Addr) error { return nil }),
		Allow: []string{os.Getenv("VIGIL_TEST_INSTANCE_FEEDS")}, AllowHTTP: true, UserAgent: name, Retries: 1,
		Sleep: func(context.Context, time.Duration) error { return nil }}
	s, err := a.Intel.Scheduler(ctx, jobs.Options{Owner: name, Lease: 2 * time.Second, Poll: 100 * time.Millisecond})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	err = a.Serve(ctx, app.ServeOptions{Addr: "127.0.0.1:0"})
	<-done
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// feedHost serves the KEV catalog to the servers and logs who fetched which path. Its path /hold never answers
// the first request (the server fetching it is killed meanwhile) and answers the next one.
type feedHost struct {
	mu      sync.Mutex
	fetched map[string][]string // path → the servers that fetched it, in order
	held    chan string         // the server whose /hold request is hanging
	catalog string              // the KEV catalog served
}

func (h *feedHost) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	h.fetched[r.URL.Path] = append(h.fetched[r.URL.Path], r.UserAgent())
	first := r.URL.Path == "/hold" && len(h.fetched["/hold"]) == 1
	h.mu.Unlock()
	if first {
		h.held <- r.UserAgent()
		<-r.Context().Done() // until its server dies
		return
	}
	http.ServeFile(w, r, h.catalog)
}

func (h *feedHost) servers(path string) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.fetched[path]...)
}

// TestTwoServersShareTheJobs runs two servers (separate processes, as two `vigil serve` would be) with real
// schedulers on one PostgreSQL database and five due feeds. Each feed is synced once between them, not once by
// each; the server caught fetching the /hold feed is killed with SIGKILL mid-sync, and once its lease expires the
// other server takes that sync over and completes it.
func TestTwoServersShareTheJobs(t *testing.T) {
	dsn := storetest.MigratedDSN(t, "postgres")
	host := &feedHost{fetched: map[string][]string{}, held: make(chan string, 1), catalog: testfix.Path(t, "cisa-kev", "known_exploited_vulnerabilities.json")}
	srv := httptest.NewServer(host)
	defer srv.Close()
	defer srv.CloseClientConnections()
	ctx := app.CLIContext(context.Background())
	a, err := app.Open(ctx, dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	paths := []string{"/kev-1", "/kev-2", "/kev-3", "/kev-4", "/hold"}
	for _, p := range paths {
		f := &vigil.Feed{Name: strings.TrimPrefix(p, "/"), Source: vigil.SourceKEV, URL: srv.URL + p, Every: 24 * time.Hour, Enabled: true}
		if err := a.Intel.SetFeed(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	u, _ := url.Parse(srv.URL)
	servers := map[string]*exec.Cmd{}
	for _, name := range []string{"server-a", "server-b"} {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), instanceEnv+"="+name, "VIGIL_TEST_INSTANCE_DB="+dsn, "VIGIL_TEST_INSTANCE_FEEDS="+u.Hostname())
		log, err := os.Create(filepath.Join(t.TempDir(), name+".log"))
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stdout, cmd.Stderr = log, log
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		servers[name] = cmd
		t.Cleanup(func() {
			cmd.Process.Kill()
			cmd.Wait()
			if t.Failed() {
				out, _ := os.ReadFile(log.Name())
				t.Logf("%s's output:\n%s", name, out)
			}
		})
	}
	synced := func(name string) bool {
		f, err := a.Intel.Feed(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		return !f.LastSuccess.IsZero()
	}
	// A guard against a hang, not a measure of speed.
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for guard := time.After(2 * time.Minute); !cond(); {
			select {
			case <-guard:
				t.Fatalf("gave up waiting until %s", what)
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	var killed string
	select {
	case killed = <-host.held:
	case <-time.After(2 * time.Minute):
		t.Fatal("no server fetched the /hold feed")
	}
	waitFor("the four other feeds are synced", func() bool {
		return synced("kev-1") && synced("kev-2") && synced("kev-3") && synced("kev-4")
	})
	if err := servers[killed].Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	servers[killed].Wait()
	waitFor("the killed server's sync is taken over", func() bool { return synced("hold") })
	// The survivor stops as `vigil serve` does on SIGTERM, finishing what it runs: after this nothing fetches.
	var survivor string
	for name, cmd := range servers {
		if name != killed {
			survivor = name
			cmd.Process.Signal(syscall.SIGTERM)
			if err := cmd.Wait(); err != nil {
				t.Errorf("%s on SIGTERM: %v", name, err)
			}
		}
	}
	for _, p := range paths[:4] {
		if got := host.servers(p); len(got) != 1 {
			t.Errorf("%s was fetched by %v: want one server, once", p, got)
		}
	}
	if got := host.servers("/hold"); len(got) != 2 || got[0] != killed || got[1] != survivor {
		t.Errorf("/hold was fetched by %v: want the killed %s, then %s taking its job over", got, killed, survivor)
	}
	// `vigil jobs` names the server that took the sync over, and the periodic re-match one of them completed.
	var out, errb bytes.Buffer
	if code := cli.Run(context.Background(), []string{"--db", dsn, "jobs"}, strings.NewReader(""), &out, &errb); code != 0 {
		t.Fatalf("vigil jobs: exit %d: %s", code, errb.String())
	}
	hold, rematch := "", ""
	for _, line := range strings.Split(out.String(), "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[0] == "feed:hold" {
			hold = line
		} else if len(f) > 0 && f[0] == "rematch" {
			rematch = line
		}
	}
	if !strings.Contains(hold, "free") || !strings.Contains(hold, survivor) {
		t.Errorf("vigil jobs shows feed:hold as %q: want free, last held by %s\n%s", hold, survivor, out.String())
	}
	if f := strings.Fields(rematch); len(f) != 7 || f[1] != "free" || !strings.HasPrefix(f[2], "server-") { // name, state, server, heartbeat and completion (date, time)
		t.Errorf("vigil jobs shows rematch as %q: want completed by one of the servers\n%s", rematch, out.String())
	}
	runs, err := a.Intel.Runs(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != len(paths) {
		t.Errorf("%d import runs, want %d: one per feed", len(runs), len(paths))
	}
}
