package vigil_test

import (
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

const mod = "github.com/vigil-dev/vigil"

type pkg struct {
	ImportPath string
	Imports    []string
	Standard   bool
}

func listPackages(t *testing.T) []pkg {
	t.Helper()
	out, err := exec.Command("go", "list", "-json", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []pkg
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

func rel(path string) string {
	if path == mod {
		return "."
	}
	return strings.TrimPrefix(path, mod+"/")
}

func under(path string, prefixes ...string) bool {
	r := rel(path)
	for _, p := range prefixes {
		if r == p || strings.HasPrefix(r, p+"/") {
			return true
		}
	}
	return false
}

func isStd(path string) bool { return !strings.Contains(strings.SplitN(path, "/", 2)[0], ".") }

// The rooms of docs/ARCHITECTURE.md. Every package under internal/ is in exactly one; a new package is added to
// one of these lists (and the page) before it is used.
var (
	engines  = []string{"internal/version", "internal/cpe", "internal/match", "internal/risk", "internal/regulatory", "internal/calendar", "internal/audit", "internal/report", "internal/secret", "internal/pgpkey"}
	parsers  = []string{"internal/sbom", "internal/feed", "internal/untrusted", "internal/xsd", "internal/vex", "internal/publish"}
	intake   = []string{"internal/importer", "internal/jobs"}
	services = []string{"internal/service", "internal/cases"}
	readside = []string{"internal/readmodel"}
	adapters = []string{"internal/store", "internal/web", "internal/mailer"}
	front    = []string{"internal/cli", "internal/web"}
	wiring   = []string{"internal/app"}
	support  = []string{"internal/testfix", "internal/store/storetest"}
)

func classified(path string) bool {
	return under(path, engines...) || under(path, parsers...) || under(path, intake...) || under(path, services...) ||
		under(path, readside...) || under(path, adapters...) || under(path, front...) || under(path, wiring...) || under(path, support...)
}

// TestArchitecture enforces docs/ARCHITECTURE.md's dependency rules so the layout stays true as the code grows.
func TestArchitecture(t *testing.T) {
	pkgs := listPackages(t)
	for _, v := range violations(pkgs) {
		t.Error(v)
	}
	// The command line and the web layer see the store through no other package's exported API either.
	for _, p := range pkgs {
		if !under(p.ImportPath, front...) {
			continue
		}
		for _, imp := range p.Imports {
			if !strings.HasPrefix(imp, mod+"/internal/") || under(imp, "internal/store") {
				continue
			}
			out, err := exec.Command("go", "doc", "-all", imp).Output()
			if err != nil {
				t.Fatalf("go doc %s: %v", imp, err)
			}
			if v := reexportsStore(rel(imp), string(out)); v != "" {
				t.Errorf("%s imports %s, %s", rel(p.ImportPath), rel(imp), v)
			}
		}
	}
}

var storeType = regexp.MustCompile(`\bstore\.[A-Z]\w*`)

// reexportsStore reports a store type named in a package's exported API (go doc -all output).
func reexportsStore(path, doc string) string {
	if m := storeType.FindString(doc); m != "" {
		return fmt.Sprintf("whose exported API names %s: the store reaches the command line and the web layer only through the services", m)
	}
	return ""
}

// TestArchitectureRulesBite checks that each rule catches a violation.
func TestArchitectureRulesBite(t *testing.T) {
	bad := []pkg{
		{ImportPath: mod, Imports: []string{"github.com/spf13/cobra"}},
		{ImportPath: mod + "/cmd/vigil", Imports: []string{mod + "/internal/store"}},
		{ImportPath: mod + "/internal/regulatory", Imports: []string{"database/sql"}},
		{ImportPath: mod + "/internal/match", Imports: []string{"net/http"}},
		{ImportPath: mod + "/internal/feed/osv", Imports: []string{mod + "/internal/store"}},
		{ImportPath: mod + "/internal/web", Imports: []string{mod + "/internal/store"}},
		{ImportPath: mod + "/internal/cli", Imports: []string{mod + "/internal/store"}},
		{ImportPath: mod + "/internal/cli", Imports: []string{mod + "/internal/web"}},
		{ImportPath: mod + "/internal/service/portfolio", Imports: []string{mod + "/internal/store"}},
		{ImportPath: mod + "/internal/service/portfolio", Imports: []string{mod + "/internal/app"}},
		{ImportPath: mod + "/internal/cases", Imports: []string{"database/sql"}},
		{ImportPath: mod + "/internal/jobs", Imports: []string{mod + "/internal/store"}},
		{ImportPath: mod + "/internal/importer", Imports: []string{mod + "/internal/store"}},
		{ImportPath: mod + "/internal/importer", Imports: []string{mod + "/internal/service/portfolio"}},
		{ImportPath: mod + "/internal/readmodel", Imports: []string{mod + "/internal/store"}},
		{ImportPath: mod + "/internal/mailer", Imports: []string{mod + "/internal/store"}},
		{ImportPath: mod + "/internal/service/notify", Imports: []string{mod + "/internal/mailer"}},
		{ImportPath: mod + "/internal/newthing"},
	}
	for _, b := range bad {
		if v := violations([]pkg{b}); len(v) == 0 {
			t.Errorf("%s importing %v: no violation reported", b.ImportPath, b.Imports)
		}
	}
	if reexportsStore("internal/app", "type App struct {\n\tStore *store.DB\n}") == "" {
		t.Errorf("an exported *store.DB in a package the CLI imports: no violation reported")
	}
}

func violations(pkgs []pkg) []string {
	var out []string
	errorf := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	for _, p := range pkgs {
		if under(p.ImportPath, "internal") && !classified(p.ImportPath) {
			errorf("%s is in no room: add it to one in arch_test.go and docs/ARCHITECTURE.md", rel(p.ImportPath))
		}
		for _, imp := range p.Imports {
			own := strings.HasPrefix(imp, mod)
			switch {
			case p.ImportPath == mod && !isStd(imp):
				errorf("root package imports %s: it may import only the standard library", imp)
			case rel(p.ImportPath) == "cmd/vigil" && own && imp != mod+"/internal/cli":
				errorf("cmd/vigil imports %s: main only calls cli.Run", imp)
			case under(p.ImportPath, engines...) && (imp == "database/sql" || imp == "net/http" || own && !under(imp, engines...) && imp != mod):
				errorf("engine %s imports %s: engines are pure (the root, other engines and the standard library only)", rel(p.ImportPath), imp)
			case under(p.ImportPath, parsers...) && (imp == "database/sql" || own && !under(imp, parsers...) && !under(imp, engines...) && imp != mod):
				errorf("parser %s imports %s: parsers read bytes into domain values and touch no store", rel(p.ImportPath), imp)
			case under(p.ImportPath, "internal/importer") && own && imp != mod && !under(imp, engines...) && !under(imp, parsers...):
				errorf("importer imports %s: it writes through vigil.IntelWriter and its own Store interface (the root, engines and parsers only)", rel(imp))
			case under(p.ImportPath, "internal/jobs") && own && imp != mod:
				errorf("jobs imports %s: the scheduler takes what it runs as interfaces", rel(imp))
			case under(p.ImportPath, "internal/mailer") && own && imp != mod:
				errorf("mailer imports %s: it speaks SMTP for the outbox and knows only the root", rel(imp))
			case under(p.ImportPath, services...) && (imp == "database/sql" || own && (under(imp, adapters...) || under(imp, front...) || under(imp, wiring...))):
				errorf("service %s imports %s: a use case works through interfaces the wiring fills, never an adapter", rel(p.ImportPath), rel(imp))
			case under(p.ImportPath, readside...) && (imp == "database/sql" || own && (under(imp, "internal/store") || under(imp, "internal/cli") || under(imp, wiring...))):
				errorf("read model %s imports %s: read models compute the screens' answers over an interface the wiring fills", rel(p.ImportPath), rel(imp))
			case under(p.ImportPath, front...) && own && under(imp, "internal/store"):
				errorf("%s imports %s: the command line and the web layer call services, never the store", rel(p.ImportPath), rel(imp))
			case under(p.ImportPath, "internal/cli") && own && under(imp, "internal/web"):
				errorf("%s imports %s: the command line and the web layer are two fronts on the same services", rel(p.ImportPath), rel(imp))
			case own && under(imp, "internal/store") && !under(p.ImportPath, "internal/store") && !under(p.ImportPath, wiring...) &&
				!under(p.ImportPath, "bench"):
				errorf("%s imports %s: only internal/app knows the store", rel(p.ImportPath), rel(imp))
			case own && under(imp, "internal/app") && !under(p.ImportPath, "internal/cli") && !under(p.ImportPath, "bench"):
				errorf("%s imports %s: only the command line (and the benches) open the app", rel(p.ImportPath), rel(imp))
			}
		}
	}
	return out
}
