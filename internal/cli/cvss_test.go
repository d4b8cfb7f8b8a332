package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func runCVSS(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(context.Background(), args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func TestCVSSCommand(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantExit int
		want     map[string]any // stdout, decoded; nil when stdout must be empty
		inStderr string
	}{
		{"v3.1", []string{"cvss", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}, ExitOK,
			map[string]any{"version": "3.1", "vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
				"base_score": 9.8, "severity": "CRITICAL", "exploitability": 3.9}, ""},
		{"v3.0 with temporal and environmental, table format still JSON", []string{"cvss", "--format", "table",
			"CVSS:3.0/AV:N/AC:L/PR:N/UI:R/S:C/C:H/I:H/A:N/E:H/RL:O/RC:C/CR:H/IR:H/AR:H/MAV:N/MAC:L/MPR:L/MUI:N/MS:C/MC:H/MI:H/MA:H"}, ExitOK,
			map[string]any{"version": "3.0",
				"vector":     "CVSS:3.0/AV:N/AC:L/PR:N/UI:R/S:C/C:H/I:H/A:N/E:H/RL:O/RC:C/CR:H/IR:H/AR:H/MAV:N/MAC:L/MPR:L/MUI:N/MS:C/MC:H/MI:H/MA:H",
				"base_score": 9.3, "severity": "CRITICAL", "exploitability": 2.8, "temporal_score": 8.9, "environmental_score": 9.5}, ""},
		{"v2", []string{"--format", "json", "cvss", "AV:N/AC:L/Au:N/C:P/I:P/A:P"}, ExitOK,
			map[string]any{"version": "2.0", "vector": "AV:N/AC:L/Au:N/C:P/I:P/A:P",
				"base_score": 7.5, "severity": "HIGH", "exploitability": 10.0}, ""},
		{"v4.0 with threat", []string{"cvss", "CVSS:4.0/AV:P/AC:H/AT:P/PR:H/UI:A/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H/E:P"}, ExitOK,
			map[string]any{"version": "4.0", "vector": "CVSS:4.0/AV:P/AC:H/AT:P/PR:H/UI:A/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H/E:P",
				"base_score": 7.3, "severity": "HIGH", "exploitability": nil, "threat_score": 5.9, "nomenclature": "CVSS-BT"}, ""},
		{"malformed, json", []string{"--format", "json", "cvss", "CVSS:3.1/AV:N/AC:L"}, ExitInvalid,
			map[string]any{"error": map[string]any{"code": "EINVALID",
				"message": `cvss v3.1 vector "CVSS:3.1/AV:N/AC:L": base metric "PR": missing`}}, ""},
		{"out of order v4.0, json", []string{"--format", "json", "cvss", "CVSS:4.0/AC:L/AV:N/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"}, ExitInvalid,
			map[string]any{"error": map[string]any{"code": "EINVALID",
				"message": `cvss v4.0 vector "CVSS:4.0/AC:L/AV:N/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N": metric "AV": out of order (it must come before "AC")`}}, ""},
		{"malformed, table: message on stderr", []string{"cvss", "AV:N/AC:L/Au:N/C:P/I:P/A:Q"}, ExitInvalid,
			nil, `metric "A": value "Q" is not one of N, P, C`},
		{"no vector", []string{"cvss"}, ExitInvalid, nil, "want 1 argument"},
		{"two vectors", []string{"cvss", "AV:N/AC:L/Au:N/C:P/I:P/A:P", "AV:N/AC:L/Au:N/C:P/I:P/A:P"}, ExitInvalid, nil, "want 1 argument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCVSS(t, tt.args...)
			if code != tt.wantExit {
				t.Errorf("exit = %d, want %d (stderr %q)", code, tt.wantExit, stderr)
			}
			if tt.want == nil {
				if stdout != "" {
					t.Errorf("stdout %q, want nothing", stdout)
				}
			} else {
				var got map[string]any
				if err := json.Unmarshal([]byte(stdout), &got); err != nil {
					t.Fatalf("stdout is not JSON: %v\n%s", err, stdout)
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("mismatch (-want +got):\n%s", diff)
				}
			}
			if !strings.Contains(stderr, tt.inStderr) {
				t.Errorf("stderr %q does not say %q", stderr, tt.inStderr)
			}
		})
	}
}
