package web_test

import (
	"fmt"
	"html"
	"net/url"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/store/storetest"
)

// TestSignDialog signs the log4j case's determination from the case page's dialog as a regulatory user: the
// dialog is offered to roles that may sign and not to a viewer, a wrong password or another user's name is
// refused on the page, and once signed the manifestation (printed name, date and time in the organization's zone,
// meaning) is shown under the assessment on the case page and through the API.
func TestSignDialog(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			e := newEnv(t, engine)
			page := fmt.Sprintf("/cases/%d", e.log4jCase)
			if _, body := e.login(vigil.RoleViewer, password(vigil.RoleViewer)).get(page); strings.Contains(body, `action="`+page+`/sign"`) {
				t.Fatal("a viewer is offered the signing dialog")
			}
			c := e.login(vigil.RoleRegulatory, password(vigil.RoleRegulatory))
			if _, body := c.get(page); !strings.Contains(body, `action="`+page+`/sign"`) || !strings.Contains(body, `type="password" name="password"`) {
				t.Fatalf("the case page offers no signing dialog with a password:\n%s", clip(body))
			}
			sign := func(signer, pw string) (int, string) {
				res, body := c.postForm(page+"/sign", url.Values{"csrf": {c.csrf}, "meaning": {"approval"}, "signer": {signer}, "password": {pw}})
				return res.StatusCode, html.UnescapeString(body)
			}
			for _, tc := range []struct{ signer, pw, want string }{
				{"regulatory", "wrong password", "wrong user name or password"},
				{"admin", password(vigil.RoleAdmin), "you can sign only as yourself"},
			} {
				if code, body := sign(tc.signer, tc.pw); code < 400 || !strings.Contains(body, "The signature was not made: ") || !strings.Contains(body, tc.want) {
					t.Errorf("sign as %s: %d, want the page with %q\n%s", tc.signer, code, tc.want, clip(body))
				}
			}
			if code, body := sign("regulatory", password(vigil.RoleRegulatory)); code != 303 {
				t.Fatalf("sign: %d %s", code, clip(body))
			}
			_, body := c.get(page)
			if want := "Electronically signed by Pat regulatory Fixture (regulatory) on 2025-06-02 14:00:00 UTC (+00:00) for approval; signs assessment"; !strings.Contains(html.UnescapeString(body), want) {
				t.Fatalf("the case page does not show %q:\n%s", want, clip(body))
			}
			res, body := c.api("GET", "/api/v1/signatures?kind=assessment&id=1", nil)
			if res.StatusCode != 200 || !strings.Contains(body, `"printed_name": "Pat regulatory Fixture"`) || !strings.Contains(body, `"meaning": "approval"`) {
				t.Fatalf("GET signatures: %d %s", res.StatusCode, body)
			}
		})
	}
}
