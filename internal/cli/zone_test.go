package cli_test

import (
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/store/storetest"
)

// TestCLIDatesInOrgZone: the audit log prints times in the organization's zone (Pacific/Kiritimati, UTC+14), and
// --since DATE is that zone's day: the organization created now is in the log since today there, and not since
// tomorrow there.
func TestCLIDatesInOrgZone(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			r := runner{t, storetest.MigratedDSN(t, engine)}
			r.ok("org", "create", "--name", "Acme", "--time-zone", "Pacific/Kiritimati")
			zone, _ := time.LoadLocation("Pacific/Kiritimati")
			today := time.Now().In(zone)
			out := r.ok("audit", "log", "--action", "org.create", "--since", today.Format(time.DateOnly))
			if !strings.Contains(out, "org.create") || !strings.Contains(out, "+14:00") {
				t.Errorf("audit log since today in Kiritimati: want the org.create event at a +14:00 time:\n%s", out)
			}
			if out := r.ok("audit", "log", "--action", "org.create", "--since", today.AddDate(0, 0, 1).Format(time.DateOnly)); strings.Contains(out, "org.create") {
				t.Errorf("audit log since tomorrow in Kiritimati lists today's event:\n%s", out)
			}
		})
	}
}
