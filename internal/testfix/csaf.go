package testfix

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// CSAFRefResult is the CSAF TC's reference validator's verdict on one file.
type CSAFRefResult struct {
	File    string `json:"file"`
	IsValid bool   `json:"isValid"`
	Errors  []struct {
		Test, InstancePath, Message string
	} `json:"errors"`
}

// CSAFReferenceValidate runs @secvisogram/csaf-validator-lib (the strict CSAF 2.0 schema and every mandatory
// test) on files through node (csafvalidate.mjs). The library is looked for in $VIGIL_CSAF_VALIDATOR_LIB, else
// where .ci/run installs it; without node or the library the test is skipped, except under CI=1, where it fails.
func CSAFReferenceValidate(t testing.TB, files ...string) []CSAFRefResult {
	t.Helper()
	lib := os.Getenv("VIGIL_CSAF_VALIDATOR_LIB")
	if lib == "" {
		home, _ := os.UserHomeDir()
		lib = filepath.Join(home, ".cache", "vigil-tools", "csaf-validator", "node_modules", "@secvisogram", "csaf-validator-lib")
	}
	node, err := exec.LookPath("node")
	if _, serr := os.Stat(filepath.Join(lib, "validateStrict.js")); err != nil || serr != nil {
		need(t, "node or @secvisogram/csaf-validator-lib missing ("+lib+"): install them as .ci/run does")
	}
	_, here, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(here), "csafvalidate.mjs")
	out, err := exec.Command(node, append([]string{script, lib}, files...)...).Output()
	if err != nil {
		t.Fatalf("node csafvalidate.mjs: %v %s", err, out)
	}
	var res []CSAFRefResult
	for _, line := range bytes.Split(bytes.TrimSpace(out), []byte("\n")) {
		var r CSAFRefResult
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatalf("validator output %q: %v", line, err)
		}
		res = append(res, r)
	}
	if len(res) != len(files) {
		t.Fatalf("validator judged %d of %d files", len(res), len(files))
	}
	return res
}

// CSAFChecker finds gocsaf's csaf_checker (go install github.com/gocsaf/csaf/v3/cmd/csaf_checker@v3.7.0; .ci/run
// does): $VIGIL_CSAF_CHECKER, PATH, then $(go env GOPATH)/bin. Missing: skipped, or failed under CI=1.
func CSAFChecker(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("VIGIL_CSAF_CHECKER"); p != "" {
		return p
	}
	if p, err := exec.LookPath("csaf_checker"); err == nil {
		return p
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		p := filepath.Join(string(bytes.TrimSpace(out)), "bin", "csaf_checker")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	need(t, "csaf_checker not installed: go install github.com/gocsaf/csaf/v3/cmd/csaf_checker@v3.7.0")
	return ""
}

func need(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}
