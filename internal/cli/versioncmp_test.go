package cli

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// runVersionCompare executes "compare" as Run would (versionCompareCmd is not registered on its own) and returns
// the exit code, stdout and stderr.
func runVersionCompare(t *testing.T, format string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	env := &Env{Ctx: context.Background(), Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr,
		Format: format, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	cmd := versionCompareCmd(env)
	cmd.SetArgs(args)
	cmd.SetOut(&stdout)
	cmd.SetErr(&stderr)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	code := ExitOK
	if err := cmd.ExecuteContext(env.Ctx); err != nil {
		code = reportError(env, err)
	}
	return code, stdout.String(), stderr.String()
}

func TestVersionCompareCmd(t *testing.T) {
	tests := []struct {
		name       string
		format     string
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string // part of stderr
	}{
		{"less", "table", []string{"PyPI", "1.0.dev1", "1.0"}, ExitOK, "<\n", ""},
		{"equal with a leading v", "table", []string{"Go", "v1.2.3", "1.2.3"}, ExitOK, "=\n", ""},
		{"greater by epoch", "table", []string{"Debian:12", "1:1.0-1", "2.0-1"}, ExitOK, ">\n", ""},
		{"RPM tilde", "table", []string{"Red Hat:rhel_aus:8.4::appstream", "1.0~rc1", "1.0"}, ExitOK, "<\n", ""},
		{"Alpine suffix", "table", []string{"Alpine:v3.18", "1.2.3-r1", "1.2.3-r0"}, ExitOK, ">\n", ""},
		{"Ubuntu suffix", "table", []string{"Ubuntu:22.04:LTS", "1.1.1f-1ubuntu2.16", "1.1.1f-1ubuntu2.9"}, ExitOK, ">\n", ""},
		{"Bitnami", "table", []string{"Bitnami", "1.2.3", "1.2.3-debian-12-r4"}, ExitOK, ">\n", ""},
		{"ecosystem in any case", "table", []string{"maven", "1.0-SNAPSHOT", "1.0"}, ExitOK, "<\n", ""},
		{"json", "json", []string{"npm", "1.0.0-rc.1", "1.0.0"}, ExitOK,
			"{\n  \"ecosystem\": \"npm\",\n  \"a\": \"1.0.0-rc.1\",\n  \"b\": \"1.0.0\",\n  \"result\": \"<\",\n  \"order\": -1\n}\n", ""},
		{"invalid version", "table", []string{"npm", "latest", "1.0.0"}, ExitInvalid, "",
			`vigil: invalid npm version "latest": must start with a digit`},
		{"invalid second version", "table", []string{"Debian", "1.0", "1:"}, ExitInvalid, "",
			`invalid Debian version "1:"`},
		{"ordered with dpkg's warning", "table", []string{"Debian", "1.0", "abc"}, ExitOK, "<\n",
			`vigil: warning: Debian version "abc": dpkg warns: version number does not start with digit`},
		{"warning as json", "json", []string{"Alpine", "1.0bc", "1.0"}, ExitOK, "{\n  \"ecosystem\": \"Alpine\",\n" +
			"  \"a\": \"1.0bc\",\n  \"b\": \"1.0\",\n  \"result\": \">\",\n  \"order\": 1,\n  \"warnings\": [\n" +
			"    \"Alpine version \\\"1.0bc\\\": apk calls it invalid at \\\"c\\\" (a letter may only follow a number) and " +
			"orders it by the part before\"\n  ]\n}\n", ""},
		{"Maven 4: .X is -X", "table", []string{"Maven", "2-abc", "2.0.abc"}, ExitOK, "=\n", ""},
		{"RubyGems: - is .pre.", "table", []string{"RubyGems", "1.2.3-1", "1.2.3.pre.1"}, ExitOK, "=\n", ""},
		{"unknown ecosystem", "table", []string{"Cobol", "1", "2"}, ExitInvalid, "", `unknown ecosystem "Cobol"`},
		{"too few arguments", "table", []string{"npm", "1.0.0"}, ExitInvalid, "", "want 3 argument(s), got 2"},
		{"invalid version as json", "json", []string{"Go", "", "1"}, ExitInvalid,
			"{\n  \"error\": {\n    \"code\": \"EINVALID\",\n    \"message\": \"invalid Go version \\\"\\\": empty\"\n  }\n}\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runVersionCompare(t, tt.format, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit code = %d, want %d (stderr %q)", code, tt.wantCode, stderr)
			}
			if diff := cmp.Diff(tt.wantStdout, stdout); diff != "" {
				t.Errorf("stdout (-want +got):\n%s", diff)
			}
			if tt.wantStderr == "" && stderr != "" {
				t.Errorf("unexpected stderr %q", stderr)
			}
			if !strings.Contains(stderr, tt.wantStderr) {
				t.Errorf("stderr %q does not contain %q", stderr, tt.wantStderr)
			}
		})
	}
}

func TestVersionCompareCmdUse(t *testing.T) {
	cmd := versionCompareCmd(&Env{})
	if cmd.Use != "compare ECOSYSTEM A B" || cmd.Name() != "compare" {
		t.Errorf("Use = %q", cmd.Use)
	}
}
