package cli_test

import (
	"strings"
	"testing"

	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/storetest"
)

// TestConsigneeDelete: `vigil consignee delete` needs a reason, removes the consignee, and the audit trail keeps it.
func TestConsigneeDelete(t *testing.T) {
	r := runner{t, storetest.MigratedDSN(t, store.SQLite)}
	r.ok("org", "create", "--name", "Acme")
	r.ok("consignee", "create", "--name", "General Hospital", "--contact", "biomed@example.org")
	if code, _, errs := r.run("", "consignee", "delete", "1"); code != 2 || !strings.Contains(errs, "reason: required to delete a consignee") {
		t.Errorf("delete without a reason: exit %d, %q", code, errs)
	}
	r.ok("consignee", "delete", "1", "--reason", "Site closed.")
	if out := r.ok("consignee", "list"); strings.Contains(out, "General Hospital") {
		t.Errorf("still listed after delete:\n%s", out)
	}
	if audit := r.ok("audit", "log", "--action", "consignee.delete", "--format", "json"); !strings.Contains(audit, "Site closed.") || !strings.Contains(audit, "General Hospital") {
		t.Errorf("audit:\n%s", audit)
	}
}
