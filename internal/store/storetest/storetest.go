// Package storetest runs storage tests against both engines: a fresh SQLite file and a fresh PostgreSQL database
// per test. PostgreSQL comes from $VIGIL_TEST_POSTGRES (an admin DSN; scripts/test starts a throwaway server and
// sets it), else this package starts a throwaway server itself with scripts/pg-throwaway. When neither works the
// test fails: a storage test never skips an engine, so a green run means both engines passed. A fresh migrated
// store is a copy of one migrated once per test binary (a template database, a template file): migrating every
// test's database from scratch was most of the storage suites' time on PostgreSQL. A package's fixture is made the
// same way (Seed): built once per engine through the services, then copied for each test.
package storetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/store"
)

// Clock is a settable clock for tests.
type Clock struct {
	mu sync.Mutex
	T  time.Time
}

// Now returns the clock's time and advances it by a millisecond, so successive events have distinct times.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.T = c.T.Add(time.Millisecond)
	return c.T
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.T = c.T.Add(d)
}

// NewClock returns a clock starting at t.
func NewClock(t time.Time) *Clock { return &Clock{T: t} }

var (
	pgOnce sync.Once
	pgDSN  string
	pgErr  error
	pgDir  string
)

// Main wraps testing.M so that a throwaway PostgreSQL server this package started is stopped at the end, and the
// migrated templates this test binary made are removed.
func Main(m *testing.M) {
	code := m.Run()
	dropTemplates()
	if pgDir != "" {
		exec.Command(script(), "stop", pgDir).Run()
	}
	os.Exit(code)
}

func script() string {
	dir, _ := os.Getwd()
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "scripts", "pg-throwaway")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "scripts/pg-throwaway"
		}
		dir = parent
	}
}

func adminDSN() (string, error) {
	pgOnce.Do(func() {
		if pgDSN = os.Getenv("VIGIL_TEST_POSTGRES"); pgDSN != "" {
			return
		}
		d, err := os.MkdirTemp("", "vigil-pg-")
		if err != nil {
			pgErr = err
			return
		}
		os.Chmod(d, 0o755)
		pgDir = filepath.Join(d, "pg")
		out, err := exec.Command(script(), "start", pgDir).Output()
		if err != nil {
			pgErr = fmt.Errorf("start throwaway PostgreSQL (set VIGIL_TEST_POSTGRES to use a running server): %v", err)
			return
		}
		s := string(out)
		i := strings.Index(s, "VIGIL_TEST_POSTGRES='")
		if i < 0 {
			pgErr = fmt.Errorf("pg-throwaway printed no DSN: %q", s)
			return
		}
		s = s[i+len("VIGIL_TEST_POSTGRES='"):]
		pgDSN = s[:strings.Index(s, "'")]
	})
	return pgDSN, pgErr
}

// Engines lists the engines every storage test runs on.
var Engines = []string{store.SQLite, store.Postgres}

// DSN returns a DSN for a fresh, empty database of the engine, dropped when the test ends.
func DSN(t testing.TB, engine string) string {
	t.Helper()
	if engine == store.SQLite {
		return "sqlite:" + filepath.Join(t.TempDir(), "vigil.db")
	}
	return createDatabase(t, "")
}

// createDatabase creates a PostgreSQL database for the test (with the clause, e.g. from a template) and drops it
// when the test ends.
func createDatabase(t testing.TB, clause string) string {
	t.Helper()
	admin, err := adminDSN()
	if err != nil {
		t.Fatalf("PostgreSQL is required for the storage suite and could not be reached: %v", err)
	}
	a, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	name := "vigil_test_" + randomHex()
	if _, err := a.Exec("CREATE DATABASE " + name + " " + clause); err != nil {
		t.Fatalf("PostgreSQL is required for the storage suite and could not be reached (%s): %v", redact(admin), err)
	}
	t.Cleanup(func() {
		a, err := sql.Open("pgx", admin)
		if err == nil {
			a.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
			a.Close()
		}
	})
	u, _ := url.Parse(admin)
	u.Path = "/" + name
	return u.String()
}

// MigratedDSN returns a DSN for a fresh database of the engine already migrated to the newest schema and holding
// no row, dropped when the test ends. It is what Open uses; use DSN for a test that migrates by itself (upgrades).
func MigratedDSN(t testing.TB, engine string) string {
	t.Helper()
	return migrated(t, engine).copy(t)
}

// migrated returns the engine's migrated template, made by the first caller.
func migrated(t testing.TB, engine string) *template {
	t.Helper()
	tpl := templates[engine]
	tpl.once.Do(func() { tpl.make(engine) })
	if tpl.err != nil {
		t.Fatalf("migrate the %s template store: %v", engine, tpl.err)
	}
	return tpl
}

// copy returns a DSN for a fresh copy of the template, dropped (or removed) when the test ends.
func (tpl *template) copy(t testing.TB) string {
	t.Helper()
	if tpl.path != "" {
		path := filepath.Join(t.TempDir(), "vigil.db")
		b, err := os.ReadFile(tpl.path)
		if err == nil {
			err = os.WriteFile(path, b, 0o600)
		}
		if err != nil {
			t.Fatal(err)
		}
		return "sqlite:" + path
	}
	return createDatabase(t, copyOf(tpl.name))
}

// copyOf is the CREATE DATABASE clause that copies a template by its files: PostgreSQL's default since 15 writes
// the whole copy through the WAL, four times the server's CPU for a test's small store.
func copyOf(name string) string { return "TEMPLATE " + name + " STRATEGY FILE_COPY" }

// Seed is a store seeded once per test binary and engine, which tests get copies of as they get copies of the
// migrated template: a package's fixture built through its services (users with hashed passwords, cases, signed
// records) costs many times what copying the database it leaves costs, and most of a web or app test's time was
// building it again.
type Seed[T any] struct {
	mu      sync.Mutex
	engines map[string]*seeded[T]
}

type seeded[T any] struct {
	once  sync.Once
	tpl   template
	value T
}

// DSN returns a DSN for a fresh copy of the engine's seeded store, dropped when the test ends, and what seed
// returned when it seeded it. The first caller on an engine runs seed, with its own t, on a fresh migrated store
// at dsn; seed must close every connection it opened to dsn before it returns (PostgreSQL copies no database
// someone is connected to). When seed fails, that test fails and so does every later caller on the engine.
func (s *Seed[T]) DSN(t testing.TB, engine string, seed func(t testing.TB, dsn string) T) (string, T) {
	t.Helper()
	s.mu.Lock()
	if s.engines == nil {
		s.engines = map[string]*seeded[T]{}
	}
	sd := s.engines[engine]
	if sd == nil {
		sd = &seeded[T]{}
		s.engines[engine] = sd
	}
	s.mu.Unlock()
	sd.once.Do(func() {
		done := false
		defer func() {
			if !done && sd.tpl.err == nil {
				sd.tpl.err = fmt.Errorf("seeding failed in %s", t.Name())
			}
		}()
		dsn := sd.tpl.from(t, migrated(t, engine))
		if sd.tpl.err != nil {
			return
		}
		sd.value = seed(t, dsn)
		done = true
	})
	if sd.tpl.err != nil {
		t.Fatalf("the seeded %s store: %v", engine, sd.tpl.err)
	}
	return sd.tpl.copy(t), sd.value
}

// from makes tpl a copy of src, registered to be dropped when the test binary ends, and returns its DSN.
func (tpl *template) from(t testing.TB, src *template) string {
	t.Helper()
	if src.path != "" {
		dir, err := os.MkdirTemp("", "vigil-template-")
		if err == nil {
			tpl.path = filepath.Join(dir, "vigil.db")
			extra.add(tpl)
			var b []byte
			if b, err = os.ReadFile(src.path); err == nil {
				err = os.WriteFile(tpl.path, b, 0o600)
			}
		}
		tpl.err = err
		return "sqlite:" + tpl.path
	}
	a, err := sql.Open("pgx", pgDSN)
	if err != nil {
		tpl.err = err
		return ""
	}
	defer a.Close()
	tpl.name = fmt.Sprintf("%s%d_%s", templatePrefix, time.Now().Unix(), randomHex())
	if _, err := a.Exec("CREATE DATABASE " + tpl.name + " " + copyOf(src.name)); err != nil {
		tpl.err = err
		return ""
	}
	extra.add(tpl)
	u, _ := url.Parse(pgDSN)
	u.Path = "/" + tpl.name
	return u.String()
}

// extra lists the seeded templates, for dropTemplates.
var extra registry

type registry struct {
	mu   sync.Mutex
	tpls []*template
}

func (r *registry) add(tpl *template) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tpls = append(r.tpls, tpl)
}

// template is one engine's migrated, empty store that tests' stores are copied from.
type template struct {
	once sync.Once
	name string // PostgreSQL: the database
	path string // SQLite: the file
	err  error
}

var templates = map[string]*template{store.SQLite: {}, store.Postgres: {}}

// templatePrefix names the template databases; the Unix time after it lets a later run drop the ones a killed
// test binary left behind.
const templatePrefix = "vigil_template_"

func (tpl *template) make(engine string) {
	ctx := context.Background()
	var dsn string
	if engine == store.SQLite {
		dir, err := os.MkdirTemp("", "vigil-template-")
		if err != nil {
			tpl.err = err
			return
		}
		tpl.path = filepath.Join(dir, "vigil.db")
		dsn = "sqlite:" + tpl.path
	} else {
		admin, err := adminDSN()
		if err != nil {
			tpl.err = err
			return
		}
		a, err := sql.Open("pgx", admin)
		if err != nil {
			tpl.err = err
			return
		}
		defer a.Close()
		dropStaleTemplates(a)
		tpl.name = fmt.Sprintf("%s%d_%s", templatePrefix, time.Now().Unix(), randomHex())
		if _, err := a.Exec("CREATE DATABASE " + tpl.name); err != nil {
			tpl.err = err
			return
		}
		u, _ := url.Parse(admin)
		u.Path = "/" + tpl.name
		dsn = u.String()
	}
	db, err := store.Open(ctx, dsn, NewClock(time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC)))
	if err != nil {
		tpl.err = err
		return
	}
	// Closed, so that SQLite folds its WAL into the file and PostgreSQL sees no session on the template (CREATE
	// DATABASE ... TEMPLATE refuses a template someone is connected to).
	tpl.err = db.Close()
}

// dropStaleTemplates removes templates older than a day: those of test binaries killed before Main could.
func dropStaleTemplates(a *sql.DB) {
	rows, err := a.Query("SELECT datname FROM pg_database WHERE datname LIKE $1", templatePrefix+"%")
	if err != nil {
		return
	}
	var stale []string
	for rows.Next() {
		var name string
		if rows.Scan(&name) != nil {
			continue
		}
		stamp, _, _ := strings.Cut(strings.TrimPrefix(name, templatePrefix), "_")
		if sec, err := strconv.ParseInt(stamp, 10, 64); err == nil && time.Since(time.Unix(sec, 0)) > 24*time.Hour {
			stale = append(stale, name)
		}
	}
	rows.Close()
	for _, name := range stale {
		a.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
	}
}

func dropTemplates() {
	tpls := append([]*template{templates[store.SQLite], templates[store.Postgres]}, extra.tpls...)
	var a *sql.DB
	for _, tpl := range tpls {
		if tpl.path != "" {
			os.RemoveAll(filepath.Dir(tpl.path))
		}
		if tpl.name == "" {
			continue
		}
		if a == nil {
			var err error
			if a, err = sql.Open("pgx", pgDSN); err != nil {
				return
			}
			defer a.Close()
		}
		a.Exec("DROP DATABASE IF EXISTS " + tpl.name + " WITH (FORCE)")
	}
}

func randomHex() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(unparsable DSN)"
	}
	return u.Redacted()
}

// SecretKey is the secret key of the stores Open returns (a fixed value: the tests need no secrecy): it seals the
// credentials they keep (webhook signing secrets, SMTP and TAXII passwords).
var SecretKey = bytes.Repeat([]byte{9}, 32)

// Open returns a migrated store of the engine on a fresh database with a test clock and SecretKey.
func Open(t testing.TB, engine string, clock vigil.Clock) *store.DB {
	t.Helper()
	if clock == nil {
		clock = NewClock(time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC))
	}
	db, err := store.Open(context.Background(), MigratedDSN(t, engine), clock, store.WithSecretKey(SecretKey))
	if err != nil {
		t.Fatalf("open %s: %v", engine, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Each runs fn as a subtest on every engine, each with its own fresh store.
func Each(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	for _, e := range Engines {
		t.Run(e, func(t *testing.T) {
			fn(t, Open(t, e, nil))
		})
	}
}

// Must returns a check that fails the test with any error it is given, for fixtures that make many writes in a
// row.
func Must(t testing.TB) func(error) {
	return func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
}

// Admin is a context acting as the system (the CLI operator).
func Admin() context.Context {
	return vigil.WithActor(context.Background(), vigil.Actor{System: true, Name: "test"})
}

// As is a context acting as a user with a role.
func As(name, role string) context.Context {
	return vigil.WithActor(context.Background(), vigil.Actor{UserID: 1, Name: name, Role: role})
}
