package vigil_test

import (
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const mod = "github.com/vigil-dev/vigil"

type pkg struct {
	ImportPath string
	Imports    []string
	Deps       []string
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

// TestArchitecture enforces DESIGN.md's dependency rules so the layout stays true as the code grows.
func TestArchitecture(t *testing.T) {
	for _, v := range violations(listPackages(t)) {
		t.Error(v)
	}
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
		{ImportPath: mod + "/internal/cli", Imports: []string{mod + "/internal/web"}},
	}
	for _, b := range bad {
		if v := violations([]pkg{b}); len(v) == 0 {
			t.Errorf("%s importing %v: no violation reported", b.ImportPath, b.Imports)
		}
	}
}

func violations(pkgs []pkg) []string {
	var out []string
	errorf := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	engines := []string{"internal/version", "internal/cpe", "internal/match", "internal/risk", "internal/regulatory", "internal/calendar", "internal/audit", "internal/xsd"}
	parsers := []string{"internal/sbom", "internal/feed", "internal/untrusted"}
	adapters := []string{"internal/store", "internal/web", "internal/jobs"}
	concrete := []string{"internal/store", "internal/web", "internal/jobs", "internal/importer"}
	for _, p := range pkgs {
		for _, imp := range p.Imports {
			own := strings.HasPrefix(imp, mod)
			switch {
			case p.ImportPath == mod && !isStd(imp):
				errorf("root package imports %s: it may import only the standard library", imp)
			case rel(p.ImportPath) == "cmd/vigil" && own && imp != mod+"/internal/cli":
				errorf("cmd/vigil imports %s: main only calls cli.Run", imp)
			case under(p.ImportPath, engines...) && (under(imp, adapters...) || imp == "database/sql" || imp == "net/http" || under(imp, "internal/app", "internal/cli", "internal/importer")):
				errorf("engine %s imports %s: engines are pure (no adapter, no database/sql, no net/http)", rel(p.ImportPath), imp)
			case under(p.ImportPath, parsers...) && (under(imp, adapters...) || imp == "database/sql" || under(imp, "internal/importer", "internal/app")):
				errorf("parser %s imports %s: parsers touch no store", rel(p.ImportPath), imp)
			}
			for _, a := range adapters {
				if under(p.ImportPath, a) && own && under(imp, adapters...) && !under(imp, a) {
					errorf("adapter %s imports adapter %s: adapters never import each other", rel(p.ImportPath), rel(imp))
				}
			}
			if own && under(imp, concrete...) && !under(p.ImportPath, "internal/app") && !under(p.ImportPath, concrete...) &&
				!slices.Contains([]string{"internal/store/storetest"}, rel(p.ImportPath)) && !under(p.ImportPath, "bench") {
				errorf("%s imports %s: only internal/app knows concrete adapter types", rel(p.ImportPath), rel(imp))
			}
		}
	}
	return out
}
