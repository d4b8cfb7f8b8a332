package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"testing"

	"github.com/vigil-dev/vigil/internal/store/storetest"
)

var newTile = regexp.MustCompile(`<b>(\d+)</b> new since`)

// TestNewSinceKeepsUntilSeen: the dashboard's "new since" tile counts findings from when the user last marked them
// seen, not from their previous sign-in: signing in again keeps the count (it reset to 0 on every visit before),
// and "Mark all as seen" starts it again from now.
func TestNewSinceKeepsUntilSeen(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			e := newEnv(t, engine)
			count := func(c *client) string {
				t.Helper()
				res, body := c.get("/")
				m := newTile.FindStringSubmatch(body)
				if res.StatusCode != 200 || m == nil {
					t.Fatalf("dashboard: %d, no new-since tile", res.StatusCode)
				}
				return m[1]
			}
			first := count(e.login("psirt", password("psirt")))
			if first == "0" {
				t.Fatal("the fixture's findings are not new on a first visit")
			}
			again := e.login("psirt", password("psirt"))
			if got := count(again); got != first {
				t.Errorf("after signing in again: %s new, want %s (nothing was looked at)", got, first)
			}
			res, _ := again.postForm("/dashboard/seen", url.Values{"csrf": {again.csrf}})
			if res.StatusCode != http.StatusSeeOther {
				t.Fatalf("mark seen: %d", res.StatusCode)
			}
			if got := count(again); got != "0" {
				t.Errorf("after marking seen: %s new, want 0", got)
			}
			if got := count(e.login("admin", password("admin"))); got != first {
				t.Errorf("another user's count changed with psirt's: %s, want %s", got, first)
			}
		})
	}
}
