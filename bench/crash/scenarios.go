package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/vigil-dev/vigil/bench/internal/benchpg"
	"github.com/vigil-dev/vigil/internal/app"
	"github.com/vigil-dev/vigil/internal/cli"
)

// backupUnderLoad takes a backup while writers write through the API, restores it into a fresh store, starts a
// server on it and checks that it verifies and holds every write acknowledged before the backup began.
func backupUnderLoad(c config, stdout io.Writer) error {
	dsn, drop, err := c.store("backup")
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
	s, err := start(dsn, filepath.Join(c.dir, "serve.log"))
	if err != nil {
		return err
	}
	w := &writers{base: s.base, token: token, log: ackLog, client: &http.Client{Timeout: 30 * time.Second}}
	stop, done := make(chan struct{}), make(chan struct{})
	go func() { w.run(0, c.writers, stop); close(done) }()
	time.Sleep(2 * time.Second)
	before := w.snapshot()
	file := filepath.Join(c.dir, "backup.copy")
	began := time.Now()
	var restored string
	switch c.engine {
	case "sqlite":
		var out, errb bytes.Buffer
		if code := cli.Run(context.Background(), []string{"--db", dsn, "db", "backup", file}, strings.NewReader(""), &out, &errb); code != 0 {
			return fmt.Errorf("vigil db backup: exit %d: %s", code, errb.String())
		}
		restored = "sqlite:" + file
	case "postgres":
		if out, err := exec.Command("pg_dump", "--format=custom", "--file="+file, "--dbname="+dsn).CombinedOutput(); err != nil {
			return fmt.Errorf("pg_dump: %v: %s", err, out)
		}
		var dropRestored func()
		restored, dropRestored, err = benchpg.Database("", "vigil_crash_restored")
		if err != nil {
			return err
		}
		defer dropRestored()
		if out, err := exec.Command("pg_restore", "--no-owner", "--exit-on-error", "--dbname="+restored, file).CombinedOutput(); err != nil {
			return fmt.Errorf("pg_restore: %v: %s", err, out)
		}
	}
	took := time.Since(began)
	during := len(w.snapshot()) - len(before)
	time.Sleep(time.Second) // writes go on after the backup too
	close(stop)
	<-done
	s.cmd.Process.Signal(syscall.SIGTERM)
	s.cmd.Wait()
	all := w.snapshot()
	out, verr := verify(restored)
	rs, err := start(restored, filepath.Join(c.dir, "serve-restored.log"))
	if err != nil {
		return fmt.Errorf("a server on the restored copy: %v", err)
	}
	rs.kill()
	lost, devices, err := check(restored, before)
	if err != nil {
		return err
	}
	lostLive, _, err := check(dsn, all)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "bench/crash backup under write load (%s, %d writers)\n\n", c.engine, c.writers)
	fmt.Fprintf(stdout, "| engine | acknowledged before the backup | during it | in the copy | lost from the copy | lost from the live store | backup took | restored copy: server ready | audit verify on the copy |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
	verdict := out
	if verr != nil {
		verdict = "FAILED: " + verr.Error()
	}
	fmt.Fprintf(stdout, "| %s | %d | %d | %d devices | **%d** | **%d** | %s | yes | %s |\n", c.engine, len(before), during, devices, len(lost), len(lostLive),
		took.Round(time.Millisecond), verdict)
	if verr != nil || len(lost) > 0 || len(lostLive) > 0 {
		return fmt.Errorf("the backup lost acknowledged writes or does not verify")
	}
	return nil
}

// diskFull imports a feed document into a SQLite store on a tmpfs with almost no room left: the import must fail
// with a clear error and write nothing; the store must open and verify; with room again the import succeeds.
func diskFull(c config, stdout io.Writer) error {
	if c.engine != "sqlite" {
		return fmt.Errorf("-scenario diskfull runs on SQLite only: filling the disk of the PostgreSQL server every engineer shares would fail their work too")
	}
	feed, err := kevCatalog()
	if err != nil {
		return err
	}
	mnt := filepath.Join(c.dir, "small")
	if err := os.Mkdir(mnt, 0o700); err != nil {
		return err
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", mnt).CombinedOutput(); err != nil {
		return fmt.Errorf("mounting a 24 MiB tmpfs needs root: %v: %s", err, out)
	}
	defer exec.Command("umount", mnt).Run()
	dsn := "sqlite:" + filepath.Join(mnt, "vigil.db")
	if _, err := seed(dsn); err != nil {
		return err
	}
	// Leave 256 KiB: the store opens and reads, but a 1.2 MB catalog's import cannot fit.
	var st syscall.Statfs_t
	if err := syscall.Statfs(mnt, &st); err != nil {
		return err
	}
	free := int64(st.Bavail) * int64(st.Bsize)
	filler := filepath.Join(mnt, "filler")
	if err := os.WriteFile(filler, make([]byte, max(0, free-256<<10)), 0o600); err != nil {
		return fmt.Errorf("filling the tmpfs: %v", err)
	}
	var out, errb bytes.Buffer
	code := cli.Run(context.Background(), []string{"--db", dsn, "import", feed}, strings.NewReader(""), &out, &errb)
	msg := strings.TrimSpace(errb.String())
	runs, err := importRuns(dsn)
	if err != nil {
		return fmt.Errorf("the store does not open after the failed import: %v", err)
	}
	vout, verr := verify(dsn)
	s, serr := start(dsn, filepath.Join(c.dir, "serve.log"))
	if serr == nil {
		s.kill()
	}
	os.Remove(filler)
	var out2, errb2 bytes.Buffer
	code2 := cli.Run(context.Background(), []string{"--db", dsn, "import", feed}, strings.NewReader(""), &out2, &errb2)
	runs2, _ := importRuns(dsn)
	fmt.Fprintf(stdout, "bench/crash disk full during an import (SQLite on a 24 MiB tmpfs, 256 KiB left, importing %s)\n\n", filepath.Base(feed))
	fmt.Fprintf(stdout, "full disk: exit %d, %q\nimport runs left behind: %d\naudit verify: %s %v\nserver start on it: %v\nwith room again: exit %d, import runs %d %s\n",
		code, msg, runs, vout, verr, errOr(serr, "ready"), code2, runs2, strings.TrimSpace(errb2.String()))
	if code == 0 || runs != 0 || verr != nil || serr != nil || code2 != 0 || runs2 != 1 {
		return fmt.Errorf("disk full: the import did not fail cleanly, or the store did not recover")
	}
	return nil
}

func errOr(err error, ok string) string {
	if err != nil {
		return err.Error()
	}
	return ok
}

func importRuns(dsn string) (int, error) {
	ctx := app.CLIContext(context.Background())
	a, err := app.Open(ctx, dsn, nil)
	if err != nil {
		return 0, err
	}
	defer a.Close()
	runs, err := a.Intel.Runs(ctx, 1000)
	return len(runs), err
}

// kevCatalog finds the KEV catalog in shared/testdata ($VIGIL_TESTDATA, or above the working directory).
func kevCatalog() (string, error) {
	rel := filepath.Join("cisa-kev", "known_exploited_vulnerabilities.json")
	if d := os.Getenv("VIGIL_TESTDATA"); d != "" {
		return filepath.Join(d, rel), nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		for _, cand := range []string{filepath.Join(dir, "shared", "testdata", rel), filepath.Join(dir, "..", "shared", "testdata", rel)} {
			if _, err := os.Stat(cand); err == nil {
				return cand, nil
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("shared/testdata/%s not found: set $VIGIL_TESTDATA", rel)
		}
		dir = parent
	}
}
