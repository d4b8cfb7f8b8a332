package web_test

import (
	"encoding/json"
	"fmt"
	"html"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/store/storetest"
)

// TestDatesInOrgZone: with the organization on Pacific/Kiritimati (UTC+14), the fixture's 2025-06-02 14:00 UTC is
// 2025-06-03 04:00 there. The finding page shows its first-seen time in that zone, and the audit API's since and
// until days start at that zone's midnight (in UTC days the assessment would fall on 06-02).
func TestDatesInOrgZone(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			e := newEnv(t, engine)
			orgs, err := e.db.Orgs(sys())
			if err != nil {
				t.Fatal(err)
			}
			o := orgs[0]
			o.TimeZone = "Pacific/Kiritimati"
			if err := e.db.UpdateOrg(sys(), o, "the PSIRT works from Kiritimati"); err != nil {
				t.Fatal(err)
			}
			c := e.login(vigil.RoleViewer, password(vigil.RoleViewer))
			if res, body := c.get(fmt.Sprintf("/findings/%d", e.log4j)); res.StatusCode != 200 || !strings.Contains(html.UnescapeString(body), "first seen 2025-06-03 04:00 +14") {
				t.Errorf("finding page: %d, want first seen 2025-06-03 04:00 +14: %s", res.StatusCode, clip(body))
			}
			tok := e.token(vigil.RoleViewer)
			assessed := func(q string) int {
				res, body := bearer(t, e.srv.URL, tok, "GET", "/api/v1/audit?action=case.assess&"+q, nil)
				var evs []vigil.AuditEvent
				if res.StatusCode != 200 || json.Unmarshal([]byte(body), &evs) != nil {
					t.Fatalf("audit?%s: %d %s", q, res.StatusCode, clip(body))
				}
				return len(evs)
			}
			for _, tc := range []struct {
				q    string
				want int
			}{{"since=2025-06-03", 1}, {"since=2025-06-04", 0}, {"until=2025-06-03", 0}, {"until=2025-06-04", 1}} {
				if got := assessed(tc.q); got != tc.want {
					t.Errorf("audit of the assessment with %s: %d events, want %d", tc.q, got, tc.want)
				}
			}
		})
	}
}
