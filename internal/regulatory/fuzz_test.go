package regulatory

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/regulatory/scenario"
	"github.com/vigil-dev/vigil/internal/testfix"
)

var update = flag.Bool("update", false, "rewrite the FuzzDetermine seed corpus from the scenarios and test tables")

// TestFuzzSeeds writes (with -update) and checks the seed corpus: every shared scenario's facts and every facts
// document of the test tables.
func TestFuzzSeeds(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzDetermine")
	if *update {
		var docs [][]byte
		cases, err := scenario.Load(testfix.Path(t, "scenarios"))
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cases {
			docs = append(docs, c.Facts)
		}
		for _, c := range determineCases {
			docs = append(docs, []byte(c.facts))
		}
		for _, c := range invalidCases {
			docs = append(docs, []byte(c.facts))
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for i, doc := range docs {
			body := "go test fuzz v1\n[]byte(" + strconv.Quote(string(doc)) + ")\n"
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed-%03d", i)), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	seeds, err := filepath.Glob(filepath.Join(dir, "seed-*"))
	if err != nil || len(seeds) < 11 {
		t.Fatalf("seed corpus: %d files (%v); run go test -run TestFuzzSeeds -update", len(seeds), err)
	}
}

// FuzzDetermine feeds arbitrary facts documents to the engine. Seeds are in testdata/fuzz/FuzzDetermine (the
// shared scenarios and the extra cases). Whatever the input, the engine must not panic, must answer EINVALID or a
// determination, and the determination must be internally consistent: no clock before D0, statuses that agree
// with the dates, and the same answer twice.
func FuzzDetermine(f *testing.F) {
	f.Add([]byte(mk("2025-02-24", memberDevice, uncontrolled, onTime, ``)))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := DetermineJSON(bytes.NewReader(data), today)
		if err != nil {
			if vigil.ErrorCode(err) != vigil.EINVALID {
				t.Fatalf("error %v has code %q, want EINVALID", err, vigil.ErrorCode(err))
			}
			return
		}
		again, err := DetermineJSON(bytes.NewReader(data), today)
		if err != nil {
			t.Fatalf("second run failed: %v", err)
		}
		if diff := cmp.Diff(d, again, cmp.AllowUnexported(vigil.Date{})); diff != "" {
			t.Fatalf("not deterministic:\n%s", diff)
		}
		if _, err := json.Marshal(d); err != nil {
			t.Fatalf("marshal: %v", err)
		}
		facts, err := DecodeFacts(bytes.NewReader(data), today)
		if err != nil {
			t.Fatal(err)
		}
		checkInvariants(t, facts, d)
	})
}

func checkInvariants(t *testing.T, f Facts, d Determination) {
	t.Helper()
	learned, asOf := f.Vulnerability.Learned, d.AsOf
	if !slices.Contains(vigil.Risks, d.Risk) || !slices.Contains(vigil.Risks, d.CurrentRisk) {
		t.Fatalf("risk %q current %q", d.Risk, d.CurrentRisk)
	}
	ed, p806, dl := d.EnforcementDiscretion, d.Part806, d.Deadlines
	if d.Risk == vigil.RiskControlled {
		if d.Change != "enhancement" || ed.Status != StatusNotApplicable || len(ed.Criteria) != 0 ||
			p806.Status != Part806NotRequired || !p806.Due.IsZero() || d.PremarketEvaluation ||
			!dl.EDCommunication.IsZero() || !dl.EDFix.IsZero() || !dl.Part806.IsZero() || len(d.Warnings) != 0 {
			t.Fatalf("controlled risk with correction consequences: %+v", d)
		}
	} else {
		if d.Change != "correction" || !d.PremarketEvaluation || len(ed.Criteria) != 4 || p806.Status == Part806NotRequired {
			t.Fatalf("uncontrolled risk without correction consequences: %+v", d)
		}
		// D0 is learned or a later reassessment; the clocks run from it (and roll_deadlines only moves them later).
		d0 := dl.EDCommunication.AddDays(-edCommunicationDays)
		if d.Policy.RollDeadlines {
			d0 = learned
		} else if dl.EDFix.Sub(dl.EDCommunication) != edFixDays-edCommunicationDays {
			t.Fatalf("ED clocks %s/%s are not 30 days apart", dl.EDCommunication, dl.EDFix)
		}
		if d0.Before(learned) || dl.EDCommunication.Sub(learned) < edCommunicationDays || dl.EDFix.Sub(learned) < edFixDays {
			t.Fatalf("ED clocks %s/%s before D0 (learned %s)", dl.EDCommunication, dl.EDFix, learned)
		}
		want := StatusMet
		for i, c := range ed.Criteria {
			if c.N != i+1 || !slices.Contains([]string{StatusMet, StatusFailed, StatusPending}, c.Status) {
				t.Fatalf("criterion %d: %+v", i+1, c)
			}
			if c.Status == StatusPending && ((c.N == 2 || c.N == 4) && asOf.After(dl.EDCommunication) || c.N == 3 && asOf.After(dl.EDFix) || c.N == 1) {
				t.Fatalf("criterion %d pending as of %s after its deadline: %+v", c.N, asOf, d.Deadlines)
			}
			if c.Status == StatusFailed {
				want = StatusFailed
			} else if c.Status == StatusPending && want != StatusFailed {
				want = StatusPending
			}
		}
		if ed.Status != want {
			t.Fatalf("ED status %s, criteria say %s", ed.Status, want)
		}
		if !p806.Due.IsZero() && !p806.Due.After(d0) {
			t.Fatalf("806 due %s not after D0 %s", p806.Due, d0)
		}
		if !dl.Part806.Equal(p806.Due) {
			t.Fatalf("deadlines.part806 %s != part806.due %s", dl.Part806, p806.Due)
		}
		switch p806.Status {
		case Part806Waived:
			if ed.Status != StatusMet {
				t.Fatalf("waived with ED %s", ed.Status)
			}
		case Part806Conditional:
			if ed.Status != StatusPending {
				t.Fatalf("conditional with ED %s", ed.Status)
			}
		case Part806Required:
			if ed.Status != StatusFailed || !p806.Due.IsZero() && asOf.After(p806.Due) {
				t.Fatalf("required with ED %s, due %s, as of %s", ed.Status, p806.Due, asOf)
			}
		case Part806Overdue:
			if ed.Status != StatusFailed || p806.Due.IsZero() || !asOf.After(p806.Due) {
				t.Fatalf("overdue with ED %s, due %s, as of %s", ed.Status, p806.Due, asOf)
			}
		case Part806Filed, Part806CoveredByMDR:
		default:
			t.Fatalf("unknown 806 status %q", p806.Status)
		}
		for _, w := range d.Warnings {
			switch w.Code {
			case WarnEDAtRisk:
				if ed.Status != StatusPending || asOf.Before(learned.AddDays(edAtRiskDays)) {
					t.Fatalf("ed_at_risk with ED %s as of %s, D0 %s", ed.Status, asOf, d0)
				}
			case WarnPart806WindowPassed:
				if ed.Status != StatusPending || !asOf.After(p806.Due) {
					t.Fatalf("part806_window_passed with ED %s as of %s, due %s", ed.Status, asOf, p806.Due)
				}
			case WarnLateEntry:
				if w.Event == nil || *w.Event < 0 || *w.Event >= len(f.Events) {
					t.Fatalf("late_entry without a valid event index: %+v", w)
				}
				ev, deadline := f.Events[*w.Event], dl.EDCommunication
				if ev.Type == EventFixDistributed {
					deadline = dl.EDFix
				}
				if ev.Date.After(asOf) || ev.Date.After(deadline) || !ev.Recorded.After(deadline) {
					t.Fatalf("late_entry for %+v with deadline %s as of %s", ev, deadline, asOf)
				}
			default:
				t.Fatalf("unknown warning %q", w.Code)
			}
		}
	}
	// The MDR clocks run from an adverse event that has happened; none is ever before it.
	if !dl.MDR.IsZero() {
		sae := vigil.Date{}
		for _, ev := range f.Events {
			if ev.Type == EventSeriousAdverseEvent && !ev.Date.After(asOf) && (sae.IsZero() || ev.Date.Before(sae)) {
				sae = ev.Date
			}
		}
		if sae.IsZero() || dl.MDR.Sub(sae) < mdrDays {
			t.Fatalf("mdr %s without an adverse event 30 days before it (first %s)", dl.MDR, sae)
		}
		if !dl.MDR5Day.IsZero() && !dl.MDR5Day.After(sae) {
			t.Fatalf("mdr_5_day %s not after the first adverse event %s", dl.MDR5Day, sae)
		}
	} else if !dl.MDR5Day.IsZero() {
		t.Fatalf("mdr_5_day %s without mdr", dl.MDR5Day)
	}
	if d.Rationale == nil || d.Warnings == nil || ed.Criteria == nil {
		t.Fatal("nil slices would marshal as null")
	}
}

// FuzzDetermineEvents reaches deeper than FuzzDetermine, whose mutations mostly break the JSON: it builds valid
// facts from a compact program (three bytes per event: type, day offset from learned, flags and entry delay) and
// checks the same invariants.
func FuzzDetermineEvents(f *testing.F) {
	f.Add(uint16(40), uint8(1), uint8(0), []byte{0, 10, 1, 1, 10, 0, 2, 10, 0, 3, 10, 0, 5, 35, 1})
	f.Add(uint16(70), uint8(0), uint8(3), []byte{6, 5, 1, 0, 20, 0, 7, 22, 2, 8, 23, 4})
	f.Add(uint16(200), uint8(2), uint8(1), []byte{9, 30, 0, 4, 12, 0, 7, 0, 2})
	f.Add(uint16(70), uint8(0), uint8(3), []byte{0, 10, 240, 5, 50, 81})
	f.Fuzz(func(t *testing.T, asOfOff uint16, risk, flags uint8, prog []byte) {
		learned := vigil.NewDate(2024, 12, 20)
		facts := Facts{
			AsOf:   learned.AddDays(int(asOfOff%400) - 20),
			Device: Device{Pathway: vigil.Pathways[int(flags)%len(vigil.Pathways)]},
			Vulnerability: Vulnerability{Learned: learned, Severity: vigil.HarmSeverities[int(risk/4)%5],
				Exploitability: vigil.Exploitabilities[int(risk/32)%3]},
		}
		switch risk % 4 {
		case 0:
			facts.Vulnerability.Risk = vigil.RiskUncontrolled
		case 1:
			facts.Vulnerability.Risk = vigil.RiskControlled
		case 2:
			facts.Vulnerability.ConfidentialityOnly = true
		}
		if flags&1 != 0 {
			facts.Device.ISAO = &ISAO{Member: true, CriteriaEvidenced: flags&2 != 0}
		}
		if flags&4 != 0 {
			facts.Policy.WorkingDays = "weekdays"
		}
		facts.Policy.RollDeadlines = flags&8 != 0
		if flags&16 != 0 {
			facts.Policy.ReassessmentClock = ReassessmentClockFirst
		}
		for i := 0; i+2 < len(prog) && len(facts.Events) < 64; i += 3 {
			typ := EventTypes[int(prog[i])%len(EventTypes)]
			off := int(prog[i+1])
			if !isAction(typ) {
				off -= 30 // adverse events may precede learning of the cause
			}
			ev := Event{Type: typ, Date: learned.AddDays(off), Validated: prog[i+2]&1 != 0,
				RemedialAction: prog[i+2]&1 != 0, IncludesCorrection: prog[i+2]&2 != 0, Interim: prog[i+2]&4 != 0}
			if typ == EventReassessed {
				ev.Risk = vigil.Risks[int(prog[i+2]>>1)%2]
			}
			if prog[i+2]&16 != 0 {
				ev.Recorded = ev.Date.AddDays(int(prog[i+2]>>5) * 15)
			}
			if typ == EventCustomerNotified && prog[i+2]&8 != 0 {
				ev.Elements = NoticeElements[:int(prog[i+2]>>4)%5]
			}
			facts.Events = append(facts.Events, ev)
		}
		d, err := Determine(facts)
		if err != nil {
			t.Fatalf("valid facts rejected: %v", err)
		}
		checkInvariants(t, facts, d)
	})
}
