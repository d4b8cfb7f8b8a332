package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/regulatory/scenario"
	"github.com/vigil-dev/vigil/internal/testfix"
)

func runDetermine(t *testing.T, stdin []byte, args ...string) (int, []byte, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(context.Background(), append([]string{"determine"}, args...), bytes.NewReader(stdin), &out, &errb)
	return code, out.Bytes(), errb.String()
}

// TestDetermineScenarios runs every shared scenario through the command line three ways (FILE, "-" and no
// argument) and checks the exit code and the JSON on stdout against the scenario's partial expectation.
func TestDetermineScenarios(t *testing.T) {
	cases, err := scenario.Load(testfix.Path(t, "scenarios"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) == 0 {
		t.Fatal("no scenarios")
	}
	dir := t.TempDir()
	for _, sc := range cases {
		file := filepath.Join(dir, sc.File)
		if err := os.WriteFile(file, sc.Facts, 0o600); err != nil {
			t.Fatal(err)
		}
		wantExit := ExitOK
		if sc.WantCode() == vigil.EINVALID {
			wantExit = ExitInvalid
		} else if sc.WantCode() != "" {
			wantExit = ExitFailure
		}
		for _, how := range []struct {
			name  string
			stdin []byte
			args  []string
		}{
			{"file", nil, []string{file}},
			{"scenario file as shipped", nil, []string{testfix.Path(t, "scenarios", sc.File)}},
			{"dash", sc.Facts, []string{"-"}},
			{"stdin", sc.Facts, nil},
		} {
			t.Run(sc.File+"/"+how.name, func(t *testing.T) {
				code, out, stderr := runDetermine(t, how.stdin, how.args...)
				if code != wantExit {
					t.Errorf("exit = %d, want %d (stderr %q)", code, wantExit, stderr)
				}
				for _, d := range scenario.Diff(sc.Expect, out) {
					t.Errorf("%s: %s", sc.Name, d)
				}
			})
		}
	}
}

// TestDetermineTable: --format table, asked for by name, prints the determination as rows (the risk, each criterion,
// Part 806 with its date, the clocks); without it the output stays JSON.
func TestDetermineTable(t *testing.T) {
	file := testfix.Path(t, "scenarios", "s06-u2-icd-hardcoded-password-no-isao.json")
	code, out, stderr := runDetermine(t, nil, "--format", "table", file)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		"risk                    uncontrolled      current: uncontrolled\n",
		"enforcement discretion  failed",
		"  criterion 4           failed            the manufacturer is not a member of an ISAO\n",
		"part 806                required          due 2025-07-07\n",
		"deadline                ED fix            2025-08-01\n",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if bytes.Contains(out, []byte("{")) {
		t.Errorf("table output holds JSON:\n%s", out)
	}
	if code, _, stderr := runDetermine(t, []byte(`{}`), "--format", "table"); code != ExitInvalid || !strings.Contains(stderr, "vulnerability.learned") {
		t.Errorf("invalid facts with a table: exit %d, %q", code, stderr)
	}
	for _, args := range [][]string{{file}, {"--format", "json", file}} {
		if _, out, _ := runDetermine(t, nil, args...); !json.Valid(out) {
			t.Errorf("determine %v: not JSON:\n%s", args, out)
		}
	}
}

func TestDetermineErrors(t *testing.T) {
	valid := []byte(`{"as_of":"2025-03-01","vulnerability":{"learned":"2025-01-10","risk":"controlled"}}`)
	tests := []struct {
		name     string
		stdin    []byte
		args     []string
		wantExit int
		wantMsg  string // a substring of error.message; "" means success
	}{
		{"unknown severity", []byte(`{"as_of":"2025-03-01","vulnerability":{"learned":"2025-01-10","severity":"high","exploitability":"low"}}`), nil, ExitInvalid, "vulnerability.severity"},
		{"malformed event date", []byte(`{"vulnerability":{"learned":"2025-01-10","risk":"controlled"},"events":[{"type":"interim_controls","date":"2025-02-30"}]}`), nil, ExitInvalid, "events[0].date"},
		{"not JSON", []byte(`risk: uncontrolled`), nil, ExitInvalid, "want a JSON object"},
		{"empty stdin", nil, nil, ExitInvalid, "want a JSON object"},
		{"two arguments", valid, []string{"a.json", "b.json"}, ExitInvalid, "at most 1 argument"},
		{"missing file", nil, []string{filepath.Join(t.TempDir(), "nope.json")}, ExitInvalid, "nope.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, _ := runDetermine(t, tt.stdin, tt.args...)
			if code != tt.wantExit {
				t.Errorf("exit = %d, want %d; stdout %s", code, tt.wantExit, out)
			}
			var doc struct {
				Risk  string `json:"risk"`
				Error *struct {
					Code    string `json:"code"`
					Message string `json:"message"`
				} `json:"error"`
			}
			if err := json.Unmarshal(out, &doc); err != nil {
				t.Fatalf("stdout is not JSON: %v\n%s", err, out)
			}
			if tt.wantMsg == "" {
				if doc.Error != nil || doc.Risk == "" {
					t.Errorf("want a determination, got %s", out)
				}
				return
			}
			if doc.Error == nil || doc.Error.Code != vigil.EINVALID || !strings.Contains(doc.Error.Message, tt.wantMsg) {
				t.Errorf("want EINVALID naming %q, got %s", tt.wantMsg, out)
			}
		})
	}
}
