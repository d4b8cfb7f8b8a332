package web_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil/internal/cases"
	"github.com/vigil-dev/vigil/internal/store/storetest"
)

// TestDeadlinesAsOfAPI: the deadlines API and screen take as_of as the command line takes --as-of. The fixture's
// log4j finding (D0 2025-06-02, uncontrolled, the ISAO member's notice out) has its ED communication clock due
// 2025-07-02.
func TestDeadlinesAsOfAPI(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			e := newEnv(t, engine)
			tok := e.token("viewer")
			get := func(q string) []cases.Deadline {
				res, body := bearer(t, e.srv.URL, tok, "GET", "/api/v1/deadlines?"+q, nil)
				var ds []cases.Deadline
				if res.StatusCode != 200 || json.Unmarshal([]byte(body), &ds) != nil {
					t.Fatalf("deadlines?%s: %d %s", q, res.StatusCode, clip(body))
				}
				return ds
			}
			l4j, err := e.app.Cases.Finding(storetest.Admin(), e.log4j)
			if err != nil {
				t.Fatal(err)
			}
			left := func(ds []cases.Deadline, clock string) (int, bool) {
				for _, d := range ds {
					if d.Clock == clock && d.CaseID == l4j.CaseID {
						return d.DaysLeft, true
					}
				}
				return 0, false
			}
			if n, ok := left(get("as_of=2025-06-22"), "ed_communication"); !ok || n != 10 {
				t.Errorf("as of 2025-06-22: ed_communication %d days left (listed %v), want 10", n, ok)
			}
			if _, ok := left(get("as_of=2025-06-22&within=9"), "ed_communication"); ok {
				t.Errorf("as of 2025-06-22 within 9 days: ed_communication listed")
			}
			if n, ok := left(get(""), "ed_communication"); !ok || n != 30 {
				t.Errorf("today (2025-06-02): ed_communication %d days left (listed %v), want 30", n, ok)
			}
			res, body := bearer(t, e.srv.URL, tok, "GET", "/api/v1/deadlines?as_of=June", nil)
			if res.StatusCode != 400 || !strings.Contains(body, `as_of: \"June\" is not a date`) {
				t.Errorf("bad as_of: %d %s", res.StatusCode, clip(body))
			}
			c := e.login("viewer", password("viewer"))
			if res, body := c.get("/deadlines?as_of=2025-06-22"); res.StatusCode != 200 || !strings.Contains(body, "as of 2025-06-22") || !strings.Contains(body, `name="as_of" value="2025-06-22"`) {
				t.Errorf("deadlines screen as of 2025-06-22: %d %s", res.StatusCode, clip(body))
			}
		})
	}
}
