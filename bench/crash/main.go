// Command crash measures what issue 18 asks of crash safety: no acknowledged write is ever lost. It runs a real
// `vigil serve` (this program re-executed as the server, running the same cli.Run as the vigil command) on a store,
// sends concurrent writes through the JSON API (POST /api/v1/devices with an API token), logs every write the
// server acknowledged (201 with the new id) to a file, and kills the server with SIGKILL at a random moment. After
// each kill it checks that the store opens (`vigil audit verify` runs on it, and the next server start reaches
// /readyz), that `vigil audit verify` passes, and that every acknowledged write is in the store. It prints the
// figures: cycles, writes acknowledged, lost (target 0), and writes committed whose acknowledgement the kill
// swallowed (allowed: the client never heard back).
//
//	go run ./bench/crash [-engine sqlite|postgres] [-db DSN] [-cycles N] [-writers 4] [-run 300ms-1200ms]
//	go run ./bench/crash -scenario diskfull           # SQLite on a small tmpfs (needs root to mount)
//	go run ./bench/crash -scenario backup [-engine postgres]
//
// -scenario diskfull fills a size-limited tmpfs holding a SQLite store and imports a feed document into it: the
// import must fail with a clear error, leave no import run or advisory of it behind, and the store must open and
// verify; with room again the same import succeeds. -scenario backup takes `vigil db backup` (SQLite) or pg_dump
// (PostgreSQL) while writers write through the API, restores the copy into a fresh store, starts a server on it,
// and checks `audit verify` passes and every write acknowledged before the backup began is in it.
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
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/bench/internal/benchpg"
	"github.com/vigil-dev/vigil/internal/app"
	"github.com/vigil-dev/vigil/internal/cli"
	"github.com/vigil-dev/vigil/internal/service/audittrail"
)

// serveEnv marks the re-executed process as the server: it runs cli.Run on its arguments, as cmd/vigil does.
const serveEnv = "VIGIL_CRASH_SERVE"

func main() {
	if os.Getenv(serveEnv) != "" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := cli.Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench/crash:", err)
		os.Exit(1)
	}
}

type config struct {
	engine, db, scenario string
	cycles, writers      int
	minRun, maxRun       time.Duration
	dir                  string
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("crash", flag.ContinueOnError)
	var c config
	var runs string
	fs.StringVar(&c.engine, "engine", "sqlite", "sqlite or postgres")
	fs.StringVar(&c.db, "db", "", "an empty PostgreSQL database (default: one created on $VIGIL_TEST_POSTGRES)")
	fs.StringVar(&c.scenario, "scenario", "kill", "kill (SIGKILL cycles), diskfull or backup")
	fs.IntVar(&c.cycles, "cycles", 0, "kill cycles (default 200 on SQLite, 20 on PostgreSQL)")
	fs.IntVar(&c.writers, "writers", 4, "concurrent API writers")
	fs.StringVar(&runs, "run", "300ms-1200ms", "how long the server runs under writes before the kill: a random time in MIN-MAX")
	if err := fs.Parse(args); err != nil {
		return err
	}
	lo, hi, ok := strings.Cut(runs, "-")
	var err1, err2 error
	c.minRun, err1 = time.ParseDuration(lo)
	c.maxRun, err2 = time.ParseDuration(hi)
	if !ok || err1 != nil || err2 != nil || c.minRun <= 0 || c.maxRun < c.minRun {
		return fmt.Errorf("-run: %q is not MIN-MAX (300ms-1200ms)", runs)
	}
	if c.cycles == 0 {
		c.cycles = map[string]int{"sqlite": 200, "postgres": 20}[c.engine]
	}
	dir, err := os.MkdirTemp("", "vigil-crash-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	c.dir = dir
	// The trail is signed as in production: every server, import and verification is given the audit key (the
	// servers inherit $VIGIL_AUDIT_KEY), so a kill must never leave an event unsigned or a signature torn.
	key := filepath.Join(dir, "audit.key")
	var keygen bytes.Buffer
	if code := cli.Run(context.Background(), []string{"--audit-key", key, "audit", "keygen"}, strings.NewReader(""), &keygen, &keygen); code != 0 {
		return fmt.Errorf("audit keygen: %s", keygen.String())
	}
	os.Setenv("VIGIL_AUDIT_KEY", key)
	switch c.scenario {
	case "kill":
		return killCycles(c, stdout)
	case "backup":
		return backupUnderLoad(c, stdout)
	case "diskfull":
		return diskFull(c, stdout)
	}
	return fmt.Errorf("-scenario: %q is not kill, diskfull or backup", c.scenario)
}

// store returns the DSN of a fresh store of the engine, and how to drop it.
func (c config) store(name string) (string, func(), error) {
	switch c.engine {
	case "sqlite":
		return "sqlite:" + filepath.Join(c.dir, name+".db"), func() {}, nil
	case "postgres":
		return benchpg.Database(c.db, "vigil_crash_"+name)
	}
	return "", nil, fmt.Errorf("-engine: %q is not sqlite or postgres", c.engine)
}

// seed creates the organization and an admin, and returns an API token of the admin's.
func seed(dsn string) (string, error) {
	ctx := app.CLIContext(context.Background())
	key, err := audittrail.LoadKey(os.Getenv("VIGIL_AUDIT_KEY"))
	if err != nil {
		return "", err
	}
	a, err := app.Open(ctx, dsn, nil, app.WithAuditKey(key)) // the trail is signed from its first event
	if err != nil {
		return "", err
	}
	defer a.Close()
	if err := a.Portfolio.CreateOrg(ctx, &vigil.Organization{Name: "Crash Test Medical", TimeZone: "UTC"}); err != nil {
		return "", err
	}
	if err := a.Accounts.CreateUser(ctx, &vigil.User{Name: "writer", Role: vigil.RoleAdmin}, "crash harness password"); err != nil {
		return "", err
	}
	_, secret, err := a.Accounts.CreateToken(ctx, "writer", "crash", time.Time{})
	return secret, err
}

// server is one `vigil serve` process.
type server struct {
	cmd  *exec.Cmd
	base string
}

// start runs `vigil serve` on dsn and waits until /readyz answers 200: the store opened and start-up is done.
func start(dsn, logPath string) (*server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	log, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	defer log.Close()
	cmd := exec.Command(os.Args[0], "--db", dsn, "serve", "--addr", addr, "--sync=false")
	cmd.Env = append(os.Environ(), serveEnv+"=1")
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: cmd, base: "http://" + addr}
	for deadline := time.Now().Add(2 * time.Minute); ; {
		res, err := http.Get(s.base + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		if time.Now().After(deadline) {
			s.kill()
			return nil, fmt.Errorf("the server did not become ready within 2 minutes (log: %s)", logPath)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *server) kill() {
	s.cmd.Process.Signal(syscall.SIGKILL)
	s.cmd.Wait()
}

// ack is one write the server acknowledged.
type ack struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// writers send device creations until stop closes; every acknowledged one is appended to the log (one JSON line,
// written before the next request) and to acked.
type writers struct {
	base, token string
	log         *os.File
	mu          sync.Mutex
	acked       []ack
	attempted   atomic.Int64
	client      *http.Client
}

func (w *writers) run(cycle, n int, stop <-chan struct{}) {
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seq := 0; ; seq++ {
				select {
				case <-stop:
					return
				default:
				}
				name := fmt.Sprintf("crash-c%03d-w%d-%05d", cycle, i, seq)
				body, _ := json.Marshal(map[string]any{"name": name, "class": "II", "pathway": "510k", "functions": []any{}})
				req, _ := http.NewRequest("POST", w.base+"/api/v1/devices", bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+w.token)
				req.Header.Set("Content-Type", "application/json")
				w.attempted.Add(1)
				res, err := w.client.Do(req)
				if err != nil {
					continue // the server is gone: not acknowledged
				}
				var d ack
				derr := json.NewDecoder(res.Body).Decode(&d)
				res.Body.Close()
				if res.StatusCode != http.StatusCreated || derr != nil || d.ID == 0 || d.Name != name {
					continue
				}
				line, _ := json.Marshal(d)
				w.mu.Lock()
				w.log.Write(append(line, '\n'))
				w.acked = append(w.acked, d)
				w.mu.Unlock()
			}
		}()
	}
	wg.Wait()
}

func (w *writers) snapshot() []ack {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]ack(nil), w.acked...)
}

// verify runs `vigil audit verify` on the store (which opens it) and returns its output; an error when it fails.
func verify(dsn string) (string, error) {
	var out, errb bytes.Buffer
	code := cli.Run(context.Background(), []string{"--db", dsn, "audit", "verify"}, strings.NewReader(""), &out, &errb)
	if code != 0 {
		return "", fmt.Errorf("vigil audit verify: exit %d: %s%s", code, out.String(), errb.String())
	}
	return strings.TrimSpace(out.String()), nil
}

// check opens the store and returns how many of acked are missing, and how many devices the store holds.
func check(dsn string, acked []ack) (lost []ack, devices int, err error) {
	ctx := app.CLIContext(context.Background())
	a, err := app.Open(ctx, dsn, nil)
	if err != nil {
		return nil, 0, err
	}
	defer a.Close()
	ds, err := a.Portfolio.Devices(ctx)
	if err != nil {
		return nil, 0, err
	}
	have := make(map[ack]bool, len(ds))
	for _, d := range ds {
		have[ack{d.ID, d.Name}] = true
	}
	for _, k := range acked {
		if !have[k] {
			lost = append(lost, k)
		}
	}
	return lost, len(ds), nil
}

func killCycles(c config, stdout io.Writer) error {
	dsn, drop, err := c.store("kill")
	if err != nil {
		return err
	}
	defer drop()
	token, err := seed(dsn)
	if err != nil {
		return err
	}
	ackLog, err := os.Create(filepath.Join(c.dir, "acknowledged.jsonl"))
	if err != nil {
		return err
	}
	defer ackLog.Close()
	w := &writers{token: token, log: ackLog, client: &http.Client{Timeout: 30 * time.Second}}
	serverLog := filepath.Join(c.dir, "serve.log")
	began := time.Now()
	var lostTotal []ack
	var verifyFailures, openFailures int
	var lastVerify string
	fmt.Fprintf(stdout, "bench/crash: %s, %d cycles of SIGKILL under %d API writers, killed %s-%s after ready\n", c.engine, c.cycles, c.writers, c.minRun, c.maxRun)
	for cycle := 1; cycle <= c.cycles; cycle++ {
		s, err := start(dsn, serverLog)
		if err != nil {
			openFailures++
			fmt.Fprintf(stdout, "cycle %d: the store did not open: %v\n", cycle, err)
			break
		}
		w.base = s.base
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() { w.run(cycle, c.writers, stop); close(done) }()
		time.Sleep(c.minRun + rand.N(c.maxRun-c.minRun+1))
		s.kill()
		close(stop)
		<-done
		out, err := verify(dsn)
		if err != nil {
			verifyFailures++
			fmt.Fprintf(stdout, "cycle %d: %v\n", cycle, err)
		} else {
			lastVerify = out
		}
		acked := w.snapshot()
		lost, devices, err := check(dsn, acked)
		if err != nil {
			openFailures++
			fmt.Fprintf(stdout, "cycle %d: opening the store failed: %v\n", cycle, err)
			break
		}
		if len(lost) > 0 {
			fmt.Fprintf(stdout, "cycle %d: %d acknowledged writes lost, e.g. %+v\n", cycle, len(lost), lost[0])
			lostTotal = lost
		}
		if cycle%10 == 0 || cycle == c.cycles {
			fmt.Fprintf(stdout, "cycle %d: %d acknowledged, %d devices stored, lost %d, verify: %s\n", cycle, len(acked), devices, len(lost), lastVerify)
		}
		if cycle == c.cycles {
			// The last start: the store opens once more after the last kill.
			s, err := start(dsn, serverLog)
			if err != nil {
				openFailures++
				fmt.Fprintf(stdout, "after the last cycle: the store did not open: %v\n", err)
			} else {
				s.kill()
			}
			fmt.Fprintf(stdout, "\n| engine | cycles | writes attempted | acknowledged | lost | committed, ack swallowed by the kill | verify failures | store failed to open | time |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
			fmt.Fprintf(stdout, "| %s | %d | %d | %d | **%d** | %d | %d | %d | %s |\n", c.engine, c.cycles, w.attempted.Load(), len(acked), len(lostTotal),
				devices-len(acked)+len(lost), verifyFailures, openFailures, time.Since(began).Round(time.Second))
		}
	}
	if len(lostTotal) > 0 || verifyFailures > 0 || openFailures > 0 {
		return errors.New("acknowledged writes were lost, or the store failed to open or verify")
	}
	return nil
}
