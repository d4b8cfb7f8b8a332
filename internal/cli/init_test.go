package cli_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil/internal/store/storetest"
)

// TestInit: `vigil init` makes an empty store usable (the organization and its first admin, who can then act), says
// what to do next, leaves the store empty when a field is refused, and refuses a store that is already set up.
func TestInit(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			r := runner{t, storetest.MigratedDSN(t, engine)}
			const pw = "correct horse battery staple\n"
			for _, tc := range []struct {
				name, stdin, want string
				args              []string
			}{
				{"no org and no terminal", pw, "--org is required when stdin is not a terminal", []string{"init"}},
				{"bad time zone", pw, `time_zone: "Mars/Olympus" is not an IANA time zone`, []string{"init", "--org", "Acme", "--time-zone", "Mars/Olympus"}},
				{"short password", "short\n", "password: at least", []string{"init", "--org", "Acme", "--admin", "alice"}},
				{"no password", "", "password: read from stdin", []string{"init", "--org", "Acme"}},
				{"bad ISAO file", pw, "--isaos", []string{"init", "--org", "Acme", "--isaos", "/nonexistent/isaos.json"}},
			} {
				code, _, errs := r.run(tc.stdin, tc.args...)
				if code != 2 || !strings.Contains(errs, tc.want) {
					t.Errorf("%s: exit %d, stderr %q; want 2 and %q", tc.name, code, errs, tc.want)
				}
			}
			// Nothing was written by the refusals: init still finds an empty store.
			code, out, errs := r.run(pw, "init", "--org", "Acme Medical", "--fei", "3001234567", "--time-zone", "America/Chicago", "--admin", "alice")
			if code != 0 {
				t.Fatalf("init: exit %d: %s", code, errs)
			}
			for _, want := range []string{`Created organization "Acme Medical"`, "time zone America/Chicago", `admin "alice"`, "Next steps", "vigil device create", "sign in as alice"} {
				if !strings.Contains(out, want) {
					t.Errorf("init output lacks %q:\n%s", want, out)
				}
			}
			var orgs []struct {
				Name     string `json:"name"`
				TimeZone string `json:"time_zone"`
				FEI      string `json:"fei_number"`
			}
			if err := json.Unmarshal([]byte(r.ok("org", "list", "--format", "json")), &orgs); err != nil || len(orgs) != 1 ||
				orgs[0].Name != "Acme Medical" || orgs[0].TimeZone != "America/Chicago" || orgs[0].FEI != "3001234567" {
				t.Errorf("orgs after init: %+v %v", orgs, err)
			}
			var users []struct {
				Name string `json:"name"`
				Role string `json:"role"`
			}
			if err := json.Unmarshal([]byte(r.ok("user", "list", "--format", "json")), &users); err != nil || len(users) != 1 || users[0].Name != "alice" || users[0].Role != "admin" {
				t.Errorf("users after init: %+v %v", users, err)
			}
			if code, _, errs := r.run(pw, "init", "--org", "Other", "--admin", "bob"); code != 2 || !strings.Contains(errs, "already set up") {
				t.Errorf("second init: exit %d, %q", code, errs)
			}
			if !strings.Contains(r.ok("audit", "log"), "org.create") {
				t.Error("init's writes are not in the audit trail")
			}
		})
	}
}
