package cases_test

import (
	"testing"
	"time"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/cases"
	"github.com/vigil-dev/vigil/internal/store/storetest"
)

// TestDeadlinesAsOf: `deadlines --as-of` computes every clock as it stood that day from the same records, and
// --within and --overdue count from that day. The finding (D0 2025-06-02) is assessed uncontrolled; a serious
// adverse event on 2025-06-05 fails ED criterion 1 and starts the 30-day MDR clock (due 07-05).
func TestDeadlinesAsOf(t *testing.T) {
	each(t, func(t *testing.T, fx *fixture) {
		ctx := storetest.Admin()
		if _, err := fx.svc.Assess(ctx, cases.AssessInput{CaseID: fx.finding.CaseID, CVSS: networkVector, Threats: []string{"T-1"}, Rationale: "remote rate change"}); err != nil {
			t.Fatal(err)
		}
		fx.clock.T = time.Date(2025, 6, 12, 15, 0, 0, 0, time.UTC)
		if err := fx.svc.RecordEvent(ctx, &vigil.CaseEvent{CaseID: fx.finding.CaseID, Type: "serious_adverse_event", Date: vigil.NewDate(2025, 6, 5), Note: "complaint C-88"}); err != nil {
			t.Fatal(err)
		}
		type row struct {
			left    int
			overdue bool
		}
		for _, tc := range []struct {
			name string
			flt  cases.DeadlineFilter
			want map[string]*row // clock → its row; nil: the clock must not be listed
		}{
			{"before the adverse event: ED clocks run", cases.DeadlineFilter{AsOf: vigil.NewDate(2025, 6, 3)},
				map[string]*row{"ed_communication": {29, false}, "ed_fix": {59, false}, "mdr": nil}},
			{"after it: ED lost, MDR due in 15 days", cases.DeadlineFilter{AsOf: vigil.NewDate(2025, 6, 20)},
				map[string]*row{"ed_communication": nil, "ed_fix": nil, "mdr": {15, false}}},
			{"within 14 days of 06-20: nothing", cases.DeadlineFilter{AsOf: vigil.NewDate(2025, 6, 20), Within: 14},
				map[string]*row{"mdr": nil}},
			{"overdue as of 07-10: the MDR by 5 days", cases.DeadlineFilter{AsOf: vigil.NewDate(2025, 7, 10), OverdueOnly: true},
				map[string]*row{"mdr": {-5, true}}},
			{"today (06-12)", cases.DeadlineFilter{}, map[string]*row{"mdr": {23, false}}},
		} {
			ds, err := fx.svc.Deadlines(ctx, tc.flt)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]row{}
			for _, d := range ds {
				got[d.Clock] = row{d.DaysLeft, d.Overdue}
				if tc.flt.OverdueOnly && !d.Overdue || tc.flt.Within > 0 && d.DaysLeft > tc.flt.Within {
					t.Errorf("%s: %s (%d days) passed the filter", tc.name, d.Clock, d.DaysLeft)
				}
			}
			for clock, want := range tc.want {
				g, listed := got[clock]
				switch {
				case want == nil && listed:
					t.Errorf("%s: %s listed (%+v), want it absent", tc.name, clock, g)
				case want != nil && (!listed || g != *want):
					t.Errorf("%s: %s = %+v (listed %v), want %+v", tc.name, clock, g, listed, *want)
				}
			}
		}
	})
}
