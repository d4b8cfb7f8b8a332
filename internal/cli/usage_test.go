package cli_test

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestUnknownSubcommands checks that a mistyped verb (or flag value) is invalid input (exit 2) naming what was
// meant, at every level, and never opens the database: `vigil audit verfy` used to print the help and exit 0, which a script took
// for a verified trail.
func TestUnknownSubcommands(t *testing.T) {
	db := filepath.Join(t.TempDir(), "never-created.db")
	r := runner{t, "sqlite:" + db}
	for _, tc := range []struct {
		args []string
		code int
		want string // in stdout or stderr
	}{
		{[]string{"audit", "verfy"}, 2, `unknown command "verfy" for "vigil audit"; did you mean verify?`},
		{[]string{"nosuch"}, 2, `unknown command "nosuch" for "vigil"`},
		{[]string{"vuln", "shw", "CVE-2021-44228"}, 2, "did you mean show?"},
		{[]string{"case", "event", "ad", "12"}, 2, `for "vigil case event"; did you mean add?`},
		{[]string{"threat", "asset", "remove"}, 2, "commands: add, update"},
		{[]string{"feeds", "synk", "osv"}, 2, `unknown command "synk" for "vigil feeds"; did you mean sync?`},
		{[]string{"--format", "json", "token", "craete"}, 2, `"code": "EINVALID"`},
		{[]string{"serve", "--trusted-proxy", "10.0.0.0/33"}, 2, `--trusted-proxy: "10.0.0.0/33" is neither`},
		{[]string{"serve", "--trusted-proxy", "10.0.0.0/8,proxy.example"}, 2, `"proxy.example"`},
		{[]string{"audit"}, 0, "Available Commands:"},
		{[]string{"audit", "--help"}, 0, "verify"},
	} {
		code, out, errs := r.run("", tc.args...)
		if code != tc.code || !strings.Contains(out+errs, tc.want) {
			t.Errorf("vigil %v: exit %d (%q %q), want exit %d naming %q", tc.args, code, out, errs, tc.code, tc.want)
		}
	}
	if m, _ := filepath.Glob(db + "*"); len(m) != 0 {
		t.Errorf("a mistyped command opened the database: %v", m)
	}
}
