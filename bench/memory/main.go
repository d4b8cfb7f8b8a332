// Command memory measures the peak resident memory of a real `vigil serve` process under the three loads issue 17
// found exhausting it, and checks that the server is still alive after each:
//
//   - logins: 100 concurrent sign-ins with wrong passwords, for 100 different (unknown) names from 100 client
//     addresses (127.0.0.2 … on loopback), so neither the per-address nor the per-name limit stops them before
//     the password hash;
//   - bomb: one upload through POST /api/v1/imports of a 4 MB .json.gz OSV record that expands to 4 GiB;
//   - sboms: 3 concurrent uploads of a 40 MB CycloneDX SBOM (20,000 components with 1.2 million properties in
//     all) through POST /api/v1/versions/{id}/sbom; one turned away (429) comes back after Retry-After, so the
//     statuses are the final ones and the time includes the wait.
//
// The server is built from this repository and started as a child process on SQLite or PostgreSQL; the peak is
// the kernel's VmHWM of that process, reset before each phase (bench/internal/procstat). It prints one line per
// phase: the peak, the HTTP statuses, the time, and whether /healthz answered afterwards. Target: every peak
// under 1 GiB and the server alive.
//
//	go run ./bench/memory [-engine sqlite|postgres] [-db DSN] [-logins 100] [-bomb-gib 4] [-sbom-mb 40] [-sboms 3]
//
// PostgreSQL comes from -db (an empty database), else $VIGIL_TEST_POSTGRES (an admin DSN: a database is created
// and dropped). This is a measurement, not a test.
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
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/vigil-dev/vigil/bench/internal/benchpg"
	"github.com/vigil-dev/vigil/bench/internal/procstat"
	"github.com/vigil-dev/vigil/internal/testfix"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench/memory:", err)
		os.Exit(1)
	}
}

type config struct {
	engine, db         string
	logins, sboms      int
	bombGiB, sbomMB    int
	work               string
	vigil, addr, token string
	versions           []int64
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("memory", flag.ContinueOnError)
	var c config
	fs.StringVar(&c.engine, "engine", "sqlite", "sqlite or postgres")
	fs.StringVar(&c.db, "db", "", "PostgreSQL DSN of an empty database (default: one created on $VIGIL_TEST_POSTGRES)")
	fs.IntVar(&c.logins, "logins", 100, "concurrent bad sign-ins")
	fs.IntVar(&c.bombGiB, "bomb-gib", 4, "what the gzip bomb expands to, GiB")
	fs.IntVar(&c.sbomMB, "sbom-mb", 40, "size of each SBOM, MB")
	fs.IntVar(&c.sboms, "sboms", 3, "concurrent SBOM uploads")
	if err := fs.Parse(args); err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "vigil-bench-memory-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	c.work = work
	dsn := "sqlite:" + filepath.Join(work, "vigil.db")
	if c.engine == "postgres" {
		d, drop, err := benchpg.Database(c.db, "vigil_bench_memory")
		if err != nil {
			return err
		}
		defer drop()
		dsn = d
	} else if c.engine != "sqlite" {
		return fmt.Errorf("-engine: %q is neither sqlite nor postgres", c.engine)
	}
	if err := c.build(); err != nil {
		return err
	}
	if err := c.seed(dsn); err != nil {
		return err
	}
	srv, err := c.serve(dsn)
	if err != nil {
		return err
	}
	defer func() {
		srv.Process.Signal(os.Interrupt)
		srv.Wait()
	}()
	pid := srv.Process.Pid
	fmt.Fprintf(stdout, "engine %s, server pid %d, resident at start %.0f MiB, load %.1f\n", c.engine, pid, procstat.RSSMBOf(pid), procstat.Load1())
	for _, ph := range []struct {
		name string
		fn   func() ([]int, error)
	}{
		{fmt.Sprintf("%d concurrent bad logins", c.logins), c.badLogins},
		{fmt.Sprintf("gzip bomb (%d GiB from one .json.gz)", c.bombGiB), c.bomb},
		{fmt.Sprintf("%d concurrent %d MB SBOM uploads", c.sboms, c.sbomMB), c.sbomUploads},
	} {
		time.Sleep(2 * time.Second) // let the previous phase's garbage go back
		procstat.ResetPeakOf(pid)
		start := time.Now()
		statuses, err := ph.fn()
		took := time.Since(start)
		peak := procstat.PeakMBOf(pid)
		alive := c.alive()
		fmt.Fprintf(stdout, "%-40s peak %6.0f MiB  %-28s %6.1f s  alive=%v\n", ph.name, peak, summarize(statuses), took.Seconds(), alive)
		if err != nil {
			fmt.Fprintf(stdout, "  error: %v\n", err)
		}
		if !alive {
			return errors.New("the server died")
		}
	}
	return nil
}

// build compiles vigil from the repository this command is in.
func (c *config) build() error {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		return fmt.Errorf("find the module: %v", err)
	}
	c.vigil = filepath.Join(c.work, "vigil")
	cmd := exec.Command("go", "build", "-o", c.vigil, "./cmd/vigil")
	cmd.Dir = strings.TrimSpace(string(out))
	cmd.Stderr = os.Stderr
	return cmd.Run()
}

// seed creates the organization, a device with one version per SBOM upload, and a PSIRT user with a token.
func (c *config) seed(dsn string) error {
	cli := func(stdin string, args ...string) ([]byte, error) {
		cmd := exec.Command(c.vigil, append(args, "--db", dsn, "--format", "json")...)
		cmd.Stdin = strings.NewReader(stdin)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("vigil %s: %v: %s", strings.Join(args, " "), err, stderr.String())
		}
		return out, nil
	}
	if _, err := cli("", "org", "create", "--name", "Bench Medical", "--time-zone", "UTC"); err != nil {
		return err
	}
	if _, err := cli("", "device", "create", "--name", "Bench Pump", "--class", "II", "--pathway", "510k", "--number", "K000001"); err != nil {
		return err
	}
	for i := range c.sboms {
		out, err := cli("", "version", "create", fmt.Sprintf("1.%d", i), "--device", "Bench Pump")
		if err != nil {
			return err
		}
		var v struct{ ID int64 }
		if err := json.Unmarshal(out, &v); err != nil {
			return err
		}
		c.versions = append(c.versions, v.ID)
	}
	if _, err := cli("bench-password-123\n", "user", "add", "bench", "--role", "psirt"); err != nil {
		return err
	}
	out, err := cli("", "token", "create", "--user", "bench")
	if err != nil {
		return err
	}
	var tok struct{ Secret string }
	if err := json.Unmarshal(out, &tok); err != nil {
		return err
	}
	c.token = tok.Secret
	return nil
}

// serve starts `vigil serve` on a free loopback port and waits until /healthz answers.
func (c *config) serve(dsn string) (*exec.Cmd, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	c.addr = ln.Addr().String()
	ln.Close()
	cmd := exec.Command(c.vigil, "serve", "--addr", c.addr, "--sync=false", "--db", dsn)
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	for range 100 {
		if c.alive() {
			return cmd, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	cmd.Process.Kill()
	return nil, errors.New("the server did not come up")
}

func (c *config) alive() bool {
	cl := http.Client{Timeout: 5 * time.Second}
	res, err := cl.Get("http://" + c.addr + "/healthz")
	if err != nil {
		return false
	}
	res.Body.Close()
	return res.StatusCode == http.StatusOK
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// badLogins signs in c.logins times at once, each from its own loopback address with its own unknown name.
func (c *config) badLogins() ([]int, error) {
	type client struct {
		http *http.Client
		csrf string
	}
	clients := make([]client, c.logins)
	for i := range clients {
		jar, _ := cookiejar.New(nil)
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, byte(1+(i+1)/250), byte(2+(i+1)%250))}}
		h := &http.Client{Jar: jar, Timeout: 5 * time.Minute, Transport: &http.Transport{DialContext: d.DialContext},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		res, err := h.Get("http://" + c.addr + "/login")
		if err != nil {
			return nil, err
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		m := csrfField.FindSubmatch(b)
		if m == nil {
			return nil, errors.New("no CSRF field on the login page")
		}
		clients[i] = client{h, string(m[1])}
	}
	return concurrently(c.logins, func(i int) (int, error) {
		form := url.Values{"csrf": {clients[i].csrf}, "name": {fmt.Sprintf("nobody-%d", i)}, "password": {"wrong password " + fmt.Sprint(i)}}
		res, err := clients[i].http.PostForm("http://"+c.addr+"/login", form)
		if err != nil {
			return 0, err
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode, nil
	})
}

// bomb uploads one OSV record compressed to about a thousandth of its size.
func (c *config) bomb() ([]int, error) {
	var b bytes.Buffer
	if err := testfix.GzipBomb(&b, `{"id":"GHSA-bomb-bomb-bomb","modified":"2024-01-01T00:00:00Z","details":"`, int64(c.bombGiB)<<30); err != nil {
		return nil, err
	}
	code, msg, err := c.post("/api/v1/imports?name=GHSA-bomb-bomb-bomb.json.gz", b.Bytes())
	if err == nil && code != http.StatusCreated {
		fmt.Printf("  bomb (%.1f MB) answered: %s\n", float64(b.Len())/1e6, strings.TrimSpace(msg))
	}
	return []int{code}, err
}

// sbomUploads uploads c.sboms copies of a large CycloneDX SBOM at once, each to its own version.
func (c *config) sbomUploads() ([]int, error) {
	doc := testfix.PropertiesSBOM(c.sbomMB << 20)
	var mu sync.Mutex
	msgs := map[string]int{}
	codes, err := concurrently(c.sboms, func(i int) (int, error) {
		path := fmt.Sprintf("/api/v1/versions/%d/sbom?name=big-%d.cdx.json", c.versions[i], i)
		code, msg, err := c.post(path, doc)
		for tries := 0; code == http.StatusTooManyRequests && tries < 20; tries++ {
			// Turned away for want of an upload slot: come back when told, as a script should.
			mu.Lock()
			msgs["429, then retried after Retry-After"]++
			mu.Unlock()
			time.Sleep(retryAfter)
			code, msg, err = c.post(path, doc)
		}
		if code != http.StatusCreated && err == nil {
			mu.Lock()
			msgs[fmt.Sprintf("%d %s", code, clip(strings.TrimSpace(msg)))]++
			mu.Unlock()
		}
		return code, err
	})
	for m, n := range msgs {
		fmt.Printf("  %d× %s\n", n, m)
	}
	return codes, err
}

// retryAfter is the server's Retry-After for a busy upload slot.
const retryAfter = 10 * time.Second

func (c *config) post(path string, body []byte) (int, string, error) {
	req, _ := http.NewRequestWithContext(context.Background(), "POST", "http://"+c.addr+path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/octet-stream")
	cl := http.Client{Timeout: 10 * time.Minute}
	res, err := cl.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
	return res.StatusCode, string(msg), nil
}

// concurrently runs fn(0..n-1) at once and returns the statuses; transport errors count as status 0.
func concurrently(n int, fn func(i int) (int, error)) ([]int, error) {
	codes := make([]int, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			codes[i], errs[i] = fn(i)
		}()
	}
	close(start)
	wg.Wait()
	return codes, errors.Join(errs...)
}

func summarize(codes []int) string {
	n := map[int]int{}
	for _, c := range codes {
		n[c]++
	}
	keys := make([]int, 0, len(n))
	for k := range n {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%d×%d", n[k], k))
	}
	return "HTTP " + strings.Join(parts, " ")
}

func clip(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}
