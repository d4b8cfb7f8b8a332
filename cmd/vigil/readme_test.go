package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestReadmeWalkthrough runs the README's "first hour" exactly as written: the ```sh blocks between the
// walkthrough markers, in order, in one bash with -euo pipefail, from the repository's root, with the real
// `go install` and the real binary. Only the surroundings are the test's: HOME and GOPATH are temporary (the store
// and the installed binary land there), the module and build caches are the caller's, and GOPROXY=off keeps it
// offline. A command that fails, or a finding, assessment or clock the README promises that does not appear, fails
// the test.
func TestReadmeWalkthrough(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	script := walkthrough(t, string(readme))
	goenv := func(name string) string {
		out, err := exec.Command("go", "env", name).Output()
		if err != nil {
			t.Fatalf("go env %s: %v", name, err)
		}
		return strings.TrimSpace(string(out))
	}
	tmp := t.TempDir()
	home, gopath := filepath.Join(tmp, "home"), filepath.Join(tmp, "gopath")
	for _, d := range []string{home, gopath} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("bash", "-c", "set -euo pipefail\n"+script)
	cmd.Dir = root
	var env []string
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "VIGIL_") || k == "HOME" || k == "GOPATH" || k == "GOFLAGS" {
			continue
		}
		env = append(env, kv)
	}
	cmd.Env = append(env, "HOME="+home, "GOPATH="+gopath, "GOMODCACHE="+goenv("GOMODCACHE"), "GOCACHE="+goenv("GOCACHE"),
		"GOPROXY=off", "GOTOOLCHAIN=local")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("walkthrough failed: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	if _, err := os.Stat(filepath.Join(gopath, "bin", "vigil")); err != nil {
		t.Errorf("go install did not put vigil in $GOPATH/bin: %v", err)
	}
	if _, err := os.Stat(filepath.Join(home, "vigil-first-hour.db")); err != nil {
		t.Errorf("the walkthrough's store is not in $HOME: %v", err)
	}
	out := stdout.String()
	for _, want := range []string{
		`Created organization "Acme Medical"`,
		"findings: 3 opened",
		"WolfSSL@4.8.1          CVE-2022-25640",
		"Newtonsoft.Json@9.0.1  GHSA-5crp-9r3c-p9vr",
		": risk uncontrolled",
		"ed_communication",
		"customer_notified (Customer notice CN-2026-14;",
		"# Vulnerability summary: CVE-2022-25640 in Infusion Pump IP-3 3.2.1",
		"enforcement discretion  met", // the facts document: FDA example U1, everything on time
	} {
		if !strings.Contains(out, want) {
			t.Errorf("walkthrough output lacks %q:\n%s", want, out)
		}
	}
}

// walkthrough returns the shell of the README's walkthrough: every ```sh block between the markers.
func walkthrough(t *testing.T, readme string) string {
	start, end := strings.Index(readme, "<!-- walkthrough -->"), strings.Index(readme, "<!-- /walkthrough -->")
	if start < 0 || end < start {
		t.Fatal("README.md: no <!-- walkthrough --> ... <!-- /walkthrough --> section")
	}
	blocks := regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(readme[start:end], -1)
	if len(blocks) == 0 {
		t.Fatal("README.md: the walkthrough has no ```sh block")
	}
	var b strings.Builder
	for _, m := range blocks {
		b.WriteString(m[1])
	}
	return b.String()
}
