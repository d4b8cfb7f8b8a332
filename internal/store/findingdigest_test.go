package store_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/storetest"
)

// TestFullSyncDigest: a full sync records the digest of what it applied, and a full sync of a result with that
// digest changes nothing and writes no event; but every other writer of the version's findings (a person closing
// or reopening one, a scoped sync, even a bare SQL statement) drops the digest in its own transaction, so the next
// full sync applies its result as if there had never been one: each step below ends exactly where a sync without
// digests ends. Both engines.
func TestFullSyncDigest(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := storetest.Admin()
		d := pump(t, db, "Pump")
		v := &vigil.DeviceVersion{DeviceID: d.ID, Version: "1.0"}
		other := &vigil.DeviceVersion{DeviceID: d.ID, Version: "2.0"}
		for _, x := range []*vigil.DeviceVersion{v, other} {
			if err := db.CreateVersion(ctx, x); err != nil {
				t.Fatal(err)
			}
		}
		django := vigil.Component{Name: "django", Version: "3.2", Purl: "pkg:pypi/django@3.2"}
		log4j := vigil.Component{Name: "log4j-core", Group: "org.apache.logging.log4j", Version: "2.14.1", Purl: "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"}
		f := func(c vigil.Component, id string, st vigil.FindingState) vigil.Finding {
			return vigil.Finding{Component: c, Vulnerability: id, State: st, Evidence: vigil.Evidence{Matcher: "test", Advisory: id}}
		}
		base := []vigil.Finding{f(django, "CVE-2023-1", ""), f(log4j, "CVE-2021-44228", ""), f(log4j, "CVE-2021-45046", vigil.FindingCouldNotEval)}
		noDjango := base[1:]
		findingID := func(vuln string) int64 {
			t.Helper()
			var id int64
			if err := db.SQL().QueryRow("SELECT id FROM findings WHERE version_id = $1 AND vuln_id = $2", v.ID, vuln).Scan(&id); err != nil {
				t.Fatalf("finding %s: %v", vuln, err)
			}
			return id
		}
		digest := func(id int64) (string, bool) {
			t.Helper()
			var s string
			err := db.SQL().QueryRow("SELECT digest FROM finding_digests WHERE version_id = $1", id).Scan(&s)
			if errors.Is(err, sql.ErrNoRows) {
				return "", false
			} else if err != nil {
				t.Fatal(err)
			}
			return s, true
		}
		events := func() int {
			t.Helper()
			var n int
			if err := db.SQL().QueryRow("SELECT COUNT(*) FROM audit_events").Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		exec := func(q string, args ...any) func(context.Context) error {
			return func(context.Context) error { _, err := db.SQL().Exec(q, args...); return err }
		}
		steps := []struct {
			name     string
			write    func(context.Context) error // another writer, before the sync; nil for none
			found    []vigil.Finding
			opened   int
			resolved int
			event    bool // the sync writes an audit event (it changed something)
			want     map[string]vigil.FindingState
		}{
			{name: "first sync", found: base, opened: 3, event: true,
				want: map[string]vigil.FindingState{"CVE-2023-1": "open", "CVE-2021-44228": "open", "CVE-2021-45046": "could_not_evaluate"}},
			{name: "same result, in another order", found: []vigil.Finding{base[2], base[0], base[1], base[0]},
				want: map[string]vigil.FindingState{"CVE-2023-1": "open", "CVE-2021-44228": "open", "CVE-2021-45046": "could_not_evaluate"}},
			{name: "a match resolves", found: noDjango, resolved: 1, event: true,
				want: map[string]vigil.FindingState{"CVE-2023-1": "resolved", "CVE-2021-44228": "open", "CVE-2021-45046": "could_not_evaluate"}},
			{name: "reopened by a person, not matched: resolves again",
				write: func(ctx context.Context) error {
					return db.SetFindingState(ctx, findingID("CVE-2023-1"), vigil.FindingOpen, "still there")
				},
				found: noDjango, resolved: 1, event: true,
				want: map[string]vigil.FindingState{"CVE-2023-1": "resolved", "CVE-2021-44228": "open", "CVE-2021-45046": "could_not_evaluate"}},
			{name: "closed by a person stays closed",
				write: func(ctx context.Context) error {
					return db.SetFindingState(ctx, findingID("CVE-2021-44228"), vigil.FindingClosed, "not reachable")
				},
				found: noDjango,
				want:  map[string]vigil.FindingState{"CVE-2023-1": "resolved", "CVE-2021-44228": "closed", "CVE-2021-45046": "could_not_evaluate"}},
			{name: "changed in SQL behind the store's back",
				write: exec("UPDATE findings SET state = 'resolved' WHERE vuln_id = 'CVE-2021-45046'"),
				found: noDjango, opened: 1, event: true,
				want: map[string]vigil.FindingState{"CVE-2023-1": "resolved", "CVE-2021-44228": "closed", "CVE-2021-45046": "could_not_evaluate"}},
			{name: "a scoped sync opened one",
				write: func(ctx context.Context) error {
					_, _, err := db.SyncFindingsOf(ctx, v.ID, []vigil.Finding{f(django, "CVE-2024-9", "")}, nil, []string{"CVE-2024-9"})
					return err
				},
				found: append([]vigil.Finding{f(django, "CVE-2024-9", "")}, noDjango...),
				want:  map[string]vigil.FindingState{"CVE-2023-1": "resolved", "CVE-2021-44228": "closed", "CVE-2021-45046": "could_not_evaluate", "CVE-2024-9": "open"}},
			{name: "the matcher now evaluates it", found: []vigil.Finding{f(django, "CVE-2024-9", ""), base[1], f(log4j, "CVE-2021-45046", "")}, event: true,
				want: map[string]vigil.FindingState{"CVE-2023-1": "resolved", "CVE-2021-44228": "closed", "CVE-2021-45046": "open", "CVE-2024-9": "open"}},
			{name: "another version's findings leave this digest", write: func(ctx context.Context) error {
				_, _, err := db.SyncFindings(ctx, other.ID, base)
				return err
			}, found: []vigil.Finding{f(django, "CVE-2024-9", ""), base[1], f(log4j, "CVE-2021-45046", "")},
				want: map[string]vigil.FindingState{"CVE-2023-1": "resolved", "CVE-2021-44228": "closed", "CVE-2021-45046": "open", "CVE-2024-9": "open"}},
		}
		for _, st := range steps {
			if st.write != nil {
				before, had := digest(v.ID)
				if err := st.write(ctx); err != nil {
					t.Fatalf("%s: %v", st.name, err)
				}
				after, has := digest(v.ID)
				if st.name == "another version's findings leave this digest" {
					if !had || !has || after != before {
						t.Errorf("%s: digest %q (%v) → %q (%v), want it kept", st.name, before, had, after, has)
					}
				} else if has {
					t.Errorf("%s: the version's digest survived the write", st.name)
				}
			}
			n := events()
			o, r, err := db.SyncFindings(ctx, v.ID, st.found)
			if err != nil || o != st.opened || r != st.resolved {
				t.Fatalf("%s: sync = +%d -%d, %v; want +%d -%d", st.name, o, r, err, st.opened, st.resolved)
			}
			if wrote := events() > n; wrote != st.event {
				t.Errorf("%s: audit event written = %v, want %v", st.name, wrote, st.event)
			}
			if got, ok := digest(v.ID); !ok || got != store.FindingsDigest(st.found) {
				t.Errorf("%s: digest after the sync = %q (%v), want the result's", st.name, got, ok)
			}
			fs, err := db.Findings(ctx, vigil.FindingFilter{VersionID: v.ID, States: vigil.FindingStates})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]vigil.FindingState{}
			for _, f := range fs {
				got[f.Vulnerability] = f.State
			}
			if diff := cmp.Diff(st.want, got); diff != "" {
				t.Errorf("%s: findings (-want +got):\n%s", st.name, diff)
			}
		}
	})
}
