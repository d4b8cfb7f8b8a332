package regulatory

import (
	"bytes"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/regulatory/scenario"
)

const (
	memberDevice = `{"name":"Pump","class":"II","pathway":"510k","isao":{"member":true,"name":"Health-ISAC","criteria_evidenced":true}}`
	nonMember    = `{"name":"Pump","class":"II","pathway":"510k","isao":{"member":false}}`
	// uncontrolled learned on Fri 2025-01-10: D0+30 = Sun 2025-02-09, D0+45 = 2025-02-24, D0+60 = Tue 2025-03-11.
	uncontrolled = `{"id":"CVE-X","learned":"2025-01-10","risk":"uncontrolled"}`
	// on time for criteria 2 and 4, dated Mon 2025-01-20 (MLK Day); 806 due 10 federal working days later: 2025-02-03.
	onTime = `{"type":"customer_notified","date":"2025-01-20","elements":["a","b","c","d"]},
		{"type":"interim_controls","date":"2025-01-20"},{"type":"remediation_plan","date":"2025-01-20"},
		{"type":"isao_shared","date":"2025-01-20"}`
)

// mk assembles a facts document; an empty device or policy is left out.
func mk(asOf, device, vuln, events, policy string) string {
	var b strings.Builder
	b.WriteString(`{"as_of":"` + asOf + `"`)
	if policy != "" {
		b.WriteString(`,"policy":` + policy)
	}
	if device != "" {
		b.WriteString(`,"device":` + device)
	}
	b.WriteString(`,"vulnerability":` + vuln + `,"events":[` + events + `]}`)
	return b.String()
}

// determineCases cover what the shared scenarios do not: each policy choice, each 806 status, the MDR clocks,
// events after as_of, the warnings and risk derivation at the CVSS thresholds. Expectations are partial, in the
// scenario format; every date was counted by hand on a calendar.
var determineCases = []struct {
	name   string
	facts  string
	expect string
}{
	{
		name:  "KEV listing makes exploitability high: high x serious is uncontrolled",
		facts: mk("2025-01-11", memberDevice, `{"learned":"2025-01-10","severity":"serious","kev":true,"cvss":"CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:N/I:H/A:H"}`, ``, ``),
		expect: `{"risk":"uncontrolled","exploitability":"high","matrix":"vigil-default v1","change":"correction",
				"deadlines":{"ed_communication":"2025-02-09","ed_fix":"2025-03-11"},"part806":{"status":"conditional","due":null}}`,
	},
	{
		name:   "CVSS sub-score 1.6 (AV:N/AC:H/PR:N/UI:R) is medium: medium x critical is uncontrolled",
		facts:  mk("2025-01-11", memberDevice, `{"learned":"2025-01-10","severity":"critical","cvss":"CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:H/I:H/A:H"}`, ``, ``),
		expect: `{"risk":"uncontrolled","exploitability":"medium"}`,
	},
	{
		name:   "CVSS sub-score 1.6 is medium: medium x serious is controlled",
		facts:  mk("2025-01-11", memberDevice, `{"learned":"2025-01-10","severity":"serious","cvss":"CVSS:3.0/AV:N/AC:H/PR:N/UI:R/S:U/C:H/I:H/A:H"}`, ``, ``),
		expect: `{"risk":"controlled","exploitability":"medium","deadlines":{},"part806":{"status":"not_required","due":null}}`,
	},
	{
		name:   "CVSS sub-score 1.5 (AV:A/AC:L/PR:L/UI:R) is low: low x critical is controlled",
		facts:  mk("2025-01-11", memberDevice, `{"learned":"2025-01-10","severity":"critical","cvss":"CVSS:3.1/AV:A/AC:L/PR:L/UI:R/S:U/C:H/I:H/A:H"}`, ``, ``),
		expect: `{"risk":"controlled","exploitability":"low"}`,
	},
	{
		name:   "CVSS sub-score 2.8 (AV:N/AC:L/PR:L/UI:N) is high",
		facts:  mk("2025-01-11", memberDevice, `{"learned":"2025-01-10","severity":"serious","cvss":"CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H"}`, ``, ``),
		expect: `{"risk":"uncontrolled","exploitability":"high"}`,
	},
	{
		name:   "stated exploitability wins over KEV and CVSS",
		facts:  mk("2025-01-11", memberDevice, `{"learned":"2025-01-10","severity":"critical","exploitability":"low","kev":true,"cvss":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}`, ``, ``),
		expect: `{"risk":"controlled","exploitability":"low"}`,
	},
	{
		name:   "VEX not_affected is controlled even for catastrophic severity",
		facts:  mk("2025-01-11", memberDevice, `{"learned":"2025-01-10","severity":"catastrophic","exploitability":"high","vex_status":"not_affected"}`, ``, ``),
		expect: `{"risk":"controlled","current_risk":"controlled","change":"enhancement","enforcement_discretion":{"status":"not_applicable","criteria":[]},"deadlines":{}}`,
	},
	{
		name:   "recorded risk wins over confidentiality_only",
		facts:  mk("2025-01-11", memberDevice, `{"learned":"2025-01-10","risk":"uncontrolled","confidentiality_only":true}`, ``, ``),
		expect: `{"risk":"uncontrolled","premarket_evaluation":true}`,
	},
	{
		name:   "device's own acceptance matrix decides and is recorded",
		facts:  mk("2025-01-11", `{"pathway":"PMA","acceptance_matrix":{"name":"strict-icd","version":"3","uncontrolled":{"low":["negligible"]}}}`, `{"learned":"2025-01-10","severity":"negligible","exploitability":"low"}`, ``, ``),
		expect: `{"risk":"uncontrolled","matrix":"strict-icd v3","pma_periodic_report":true,"policy":{"acceptance_matrix":{"name":"strict-icd"}}}`,
	},
	{
		name:   "a recorded risk repeats the matrix that decided it; the policy shows the matrix in force now",
		facts:  mk("2025-01-11", memberDevice, `{"learned":"2025-01-10","risk":"uncontrolled","matrix":"ip3-strict v2"}`, ``, ``),
		expect: `{"risk":"uncontrolled","matrix":"ip3-strict v2","policy":{"acceptance_matrix":{"name":"vigil-default","version":"1"}}}`,
	},
	{
		name:   "the matrix may be given in the cells form; the determination shows the uncontrolled form",
		facts:  mk("2025-01-11", memberDevice, `{"learned":"2025-01-10","severity":"minor","exploitability":"medium"}`, ``, `{"acceptance_matrix":{"name":"all-u","version":"1","cells":{"high":{"negligible":"U","minor":"U","serious":"U","critical":"U","catastrophic":"U"},"medium":{"negligible":"U","minor":"U","serious":"U","critical":"U","catastrophic":"U"},"low":{"negligible":"U","minor":"U","serious":"U","critical":"U","catastrophic":"U"}}}}`),
		expect: `{"risk":"uncontrolled","matrix":"all-u v1","policy":{"acceptance_matrix":{"uncontrolled":{"medium":["negligible","minor","serious","critical","catastrophic"]}}}}`,
	},
	{
		name:   "NVD's parenthesized v2 vector is valid; exploitability then needs KEV or a stated level",
		facts:  mk("2025-01-11", memberDevice, `{"learned":"2025-01-10","severity":"serious","kev":true,"cvss":"(AV:N/AC:L/Au:N/C:P/I:P/A:P)"}`, ``, ``),
		expect: `{"risk":"uncontrolled","exploitability":"high"}`,
	},
	{
		name: "controlled then reassessed uncontrolled: clocks run from the reassessment (default policy)",
		facts: mk("2025-03-20", memberDevice, `{"learned":"2025-01-10","risk":"controlled"}`,
			`{"type":"reassessed","date":"2025-03-03","risk":"uncontrolled"},{"type":"customer_notified","date":"2025-03-05"}`, ``),
		expect: `{"risk":"uncontrolled","current_risk":"uncontrolled","change":"correction",
				"enforcement_discretion":{"status":"pending","criteria":[{"n":1,"status":"met"},{"n":2,"status":"pending"},{"n":3,"status":"pending"},{"n":4,"status":"pending"}]},
				"part806":{"status":"conditional","due":"2025-03-19"},
				"deadlines":{"ed_communication":"2025-04-02","ed_fix":"2025-05-02","part806":"2025-03-19"},
				"warnings":[{"code":"part806_window_passed"}],"policy":{"reassessment_clock":"reassessed"}}`,
	},
	{
		name: "controlled then reassessed uncontrolled with reassessment_clock=first: clocks from D0, already failed",
		facts: mk("2025-03-20", memberDevice, `{"learned":"2025-01-10","risk":"controlled"}`,
			`{"type":"reassessed","date":"2025-03-03","risk":"uncontrolled"},{"type":"customer_notified","date":"2025-03-05"}`, `{"reassessment_clock":"first"}`),
		expect: `{"risk":"uncontrolled",
				"enforcement_discretion":{"status":"failed","criteria":[{"n":1,"status":"met"},{"n":2,"status":"failed"},{"n":3,"status":"failed"},{"n":4,"status":"failed"}]},
				"part806":{"status":"overdue","due":"2025-03-19"},
				"deadlines":{"ed_communication":"2025-02-09","ed_fix":"2025-03-11","part806":"2025-03-19"},"warnings":[]}`,
	},
	{
		name: "routine notice before an uncontrolled reassessment does not initiate the correction",
		facts: mk("2025-03-20", memberDevice, `{"learned":"2025-01-10","risk":"controlled"}`,
			`{"type":"customer_notified","date":"2025-01-15"},{"type":"reassessed","date":"2025-03-03","risk":"uncontrolled"},{"type":"fix_distributed","date":"2025-03-10","validated":true}`, ``),
		expect: `{"risk":"uncontrolled","part806":{"status":"conditional","due":"2025-03-24"},
				"deadlines":{"ed_communication":"2025-04-02","ed_fix":"2025-05-02","part806":"2025-03-24"}}`,
	},
	{
		name:   "not_affected then reassessed uncontrolled after as_of: still controlled",
		facts:  mk("2025-02-01", memberDevice, `{"learned":"2025-01-10","vex_status":"not_affected"}`, `{"type":"reassessed","date":"2025-02-02","risk":"uncontrolled"}`, ``),
		expect: `{"risk":"controlled","current_risk":"controlled","deadlines":{}}`,
	},
	{
		name: "uncontrolled, reassessed controlled then uncontrolled again: current is the latest",
		facts: mk("2025-02-20", memberDevice, uncontrolled,
			`{"type":"reassessed","date":"2025-02-10","risk":"uncontrolled"},{"type":"reassessed","date":"2025-01-25","risk":"controlled","interim":true}`, ``),
		expect: `{"risk":"uncontrolled","current_risk":"uncontrolled","deadlines":{"ed_communication":"2025-02-09","ed_fix":"2025-03-11"}}`,
	},
	{
		name: "events after as_of are ignored",
		facts: mk("2025-01-20", memberDevice, uncontrolled, `{"type":"customer_notified","date":"2025-01-15","elements":["a","b","c","d"]},
				{"type":"interim_controls","date":"2025-01-15"},{"type":"remediation_plan","date":"2025-01-15"},
				{"type":"isao_shared","date":"2025-02-01"},{"type":"serious_adverse_event","date":"2025-02-05","remedial_action":true},
				{"type":"part806_filed","date":"2025-02-02"}`, ``),
		expect: `{"enforcement_discretion":{"status":"pending","criteria":[{"n":1,"status":"met"},{"n":2,"status":"met"},{"n":3,"status":"pending"},{"n":4,"status":"pending"}]},
				"part806":{"status":"conditional","due":"2025-01-30"},
				"deadlines":{"ed_communication":"2025-02-09","ed_fix":"2025-03-11","part806":"2025-01-30"},"warnings":[]}`,
	},
	{
		name: "correction_initiated wins over an earlier fix and a later notice; overdue when ED failed",
		facts: mk("2025-02-10", nonMember, uncontrolled, `{"type":"fix_distributed","date":"2025-01-11"},
				{"type":"correction_initiated","date":"2025-01-13"},{"type":"customer_notified","date":"2025-01-20"}`, ``),
		expect: `{"enforcement_discretion":{"status":"failed"},"part806":{"status":"overdue","due":"2025-01-28"},
				"deadlines":{"ed_communication":"2025-02-09","ed_fix":"2025-03-11","part806":"2025-01-28"},"warnings":[]}`,
	},
	{
		name:   "required, not overdue, on the due date; without initiation the due date is null",
		facts:  mk("2025-02-10", nonMember, uncontrolled, ``, ``),
		expect: `{"enforcement_discretion":{"status":"failed"},"part806":{"status":"required","due":null},"deadlines":{"ed_communication":"2025-02-09","ed_fix":"2025-03-11"}}`,
	},
	{
		name: "covered_by_mdr wins over filed; adverse event before learned is allowed and fails criterion 1; MDR clocks",
		facts: mk("2025-02-15", memberDevice, uncontrolled, `{"type":"serious_adverse_event","date":"2025-01-05","remedial_action":true},
				{"type":"mdr_filed","date":"2025-01-20","includes_correction":true},{"type":"part806_filed","date":"2025-01-25"},
				{"type":"customer_notified","date":"2025-01-15"}`, ``),
		expect: `{"enforcement_discretion":{"status":"failed","criteria":[{"n":1,"status":"failed"},{"n":2,"status":"failed"},{"n":3,"status":"pending"},{"n":4,"status":"failed"}]},
				"part806":{"status":"covered_by_mdr","due":"2025-01-30"},
				"deadlines":{"ed_communication":"2025-02-09","ed_fix":"2025-03-11","part806":"2025-01-30","mdr":"2025-02-04","mdr_5_day":"2025-01-10"}}`,
	},
	{
		name:   "mdr_filed without the correction does not cover 806",
		facts:  mk("2025-02-15", memberDevice, uncontrolled, `{"type":"serious_adverse_event","date":"2025-01-05"},{"type":"mdr_filed","date":"2025-01-20"},{"type":"customer_notified","date":"2025-01-15"}`, ``),
		expect: `{"part806":{"status":"overdue","due":"2025-01-30"},"deadlines":{"ed_communication":"2025-02-09","ed_fix":"2025-03-11","part806":"2025-01-30","mdr":"2025-02-04"}}`,
	},
	{
		name:   "filed wins over required even when late",
		facts:  mk("2025-03-01", nonMember, uncontrolled, `{"type":"customer_notified","date":"2025-01-15"},{"type":"part806_filed","date":"2025-02-05"}`, ``),
		expect: `{"part806":{"status":"filed","due":"2025-01-30"},"deadlines":{"ed_communication":"2025-02-09","ed_fix":"2025-03-11","part806":"2025-01-30"}}`,
	},
	{
		name:   "filed wins over waived",
		facts:  mk("2025-03-12", memberDevice, uncontrolled, onTime+`,{"type":"fix_distributed","date":"2025-03-11","validated":true,"remediation":"patch"},{"type":"part806_filed","date":"2025-01-22"}`, ``),
		expect: `{"enforcement_discretion":{"status":"met"},"part806":{"status":"filed","due":"2025-02-03"}}`,
	},
	{
		name:  "ED pending on D0+45 with no validated fix: both warnings",
		facts: mk("2025-02-24", memberDevice, uncontrolled, onTime, ``),
		expect: `{"enforcement_discretion":{"status":"pending","criteria":[{"n":1,"status":"met"},{"n":2,"status":"met"},{"n":3,"status":"pending"},{"n":4,"status":"met"}]},
				"part806":{"status":"conditional","due":"2025-02-03"},
				"warnings":[{"code":"ed_at_risk"},{"code":"part806_window_passed"}]}`,
	},
	{
		name:   "day D0+44: only the 806 window warning",
		facts:  mk("2025-02-23", memberDevice, uncontrolled, onTime, ``),
		expect: `{"warnings":[{"code":"part806_window_passed"}]}`,
	},
	{
		name:   "on the 806 due date the window has not passed",
		facts:  mk("2025-02-03", memberDevice, uncontrolled, onTime, ``),
		expect: `{"part806":{"status":"conditional","due":"2025-02-03"},"warnings":[]}`,
	},
	{
		name:   "an unvalidated fix does not meet criterion 3",
		facts:  mk("2025-03-12", memberDevice, uncontrolled, onTime+`,{"type":"fix_distributed","date":"2025-02-01","remediation":"patch"}`, ``),
		expect: `{"enforcement_discretion":{"status":"failed","criteria":[{"n":1,"status":"met"},{"n":2,"status":"met"},{"n":3,"status":"failed"},{"n":4,"status":"met"}]},"part806":{"status":"overdue","due":"2025-02-03"}}`,
	},
	{
		name: "a notice without element (d) does not meet criterion 2 but still initiates the correction",
		facts: mk("2025-02-10", memberDevice, uncontrolled, `{"type":"customer_notified","date":"2025-01-20","elements":["a","b","c"]},
				{"type":"interim_controls","date":"2025-01-20"},{"type":"remediation_plan","date":"2025-01-20"},{"type":"isao_shared","date":"2025-01-20"}`, ``),
		expect: `{"enforcement_discretion":{"status":"failed","criteria":[{"n":1,"status":"met"},{"n":2,"status":"failed"},{"n":3,"status":"pending"},{"n":4,"status":"met"}]},"part806":{"status":"overdue","due":"2025-02-03"}}`,
	},
	{
		name:   "ISAO membership not evidenced fails criterion 4 at once",
		facts:  mk("2025-01-11", `{"isao":{"member":true,"name":"H-ISAC"}}`, uncontrolled, ``, ``),
		expect: `{"enforcement_discretion":{"status":"failed","criteria":[{"n":1,"status":"met"},{"n":2,"status":"pending"},{"n":3,"status":"pending"},{"n":4,"status":"failed"}]}}`,
	},
	{
		name:   "no ISAO at all fails criterion 4",
		facts:  mk("2025-01-11", ``, uncontrolled, ``, ``),
		expect: `{"enforcement_discretion":{"status":"failed","criteria":[{"n":1,"status":"met"},{"n":2,"status":"pending"},{"n":3,"status":"pending"},{"n":4,"status":"failed"}]},"pma_periodic_report":false}`,
	},
	{
		name: "weekdays policy: 806 due on July 4th and 803.53 clock counts it",
		facts: mk("2025-07-01", memberDevice, `{"learned":"2025-06-02","risk":"uncontrolled"}`,
			`{"type":"customer_notified","date":"2025-06-20"},{"type":"serious_adverse_event","date":"2025-06-30","remedial_action":true}`, `{"working_days":"weekdays"}`),
		expect: `{"part806":{"due":"2025-07-04"},"policy":{"working_days":"weekdays"},
				"deadlines":{"ed_communication":"2025-07-02","ed_fix":"2025-08-01","part806":"2025-07-04","mdr":"2025-07-30","mdr_5_day":"2025-07-07"}}`,
	},
	{
		name: "federal policy: same facts skip July 4th",
		facts: mk("2025-07-01", memberDevice, `{"learned":"2025-06-02","risk":"uncontrolled"}`,
			`{"type":"customer_notified","date":"2025-06-20"},{"type":"serious_adverse_event","date":"2025-06-30","remedial_action":true}`, `{"working_days":"federal"}`),
		expect: `{"deadlines":{"ed_communication":"2025-07-02","ed_fix":"2025-08-01","part806":"2025-07-07","mdr":"2025-07-30","mdr_5_day":"2025-07-08"}}`,
	},
	{
		name: "5-day clock runs from the first adverse event needing remedial action",
		facts: mk("2025-07-20", memberDevice, `{"learned":"2025-06-02","risk":"controlled"}`,
			`{"type":"serious_adverse_event","date":"2025-07-10","remedial_action":true},{"type":"serious_adverse_event","date":"2025-07-01"}`, ``),
		expect: `{"risk":"controlled","enforcement_discretion":{"status":"not_applicable","criteria":[]},"part806":{"status":"not_required","due":null},
				"deadlines":{"mdr":"2025-07-31","mdr_5_day":"2025-07-17"}}`,
	},
	{
		name: "roll_deadlines moves a Sunday D0+30 to Monday",
		facts: mk("2025-02-10", memberDevice, uncontrolled, `{"type":"customer_notified","date":"2025-02-10"},{"type":"interim_controls","date":"2025-02-10"},
				{"type":"remediation_plan","date":"2025-02-10"},{"type":"isao_shared","date":"2025-02-10"}`, `{"roll_deadlines":true}`),
		expect: `{"enforcement_discretion":{"criteria":[{"n":1,"status":"met"},{"n":2,"status":"met"},{"n":3,"status":"pending"},{"n":4,"status":"met"}]},
				"deadlines":{"ed_communication":"2025-02-10","ed_fix":"2025-03-11","part806":"2025-02-25"}}`,
	},
	{
		name: "without roll_deadlines the same Monday actions are late",
		facts: mk("2025-02-10", memberDevice, uncontrolled, `{"type":"customer_notified","date":"2025-02-10"},{"type":"interim_controls","date":"2025-02-10"},
				{"type":"remediation_plan","date":"2025-02-10"},{"type":"isao_shared","date":"2025-02-10"}`, ``),
		expect: `{"enforcement_discretion":{"status":"failed","criteria":[{"n":1,"status":"met"},{"n":2,"status":"failed"},{"n":3,"status":"pending"},{"n":4,"status":"failed"}]},
				"deadlines":{"ed_communication":"2025-02-09","ed_fix":"2025-03-11","part806":"2025-02-25"}}`,
	},
	{
		name:   "adverse event and MDR before learned are allowed",
		facts:  mk("2025-01-11", memberDevice, uncontrolled, `{"type":"serious_adverse_event","date":"2024-12-01"},{"type":"mdr_filed","date":"2024-12-20"}`, ``),
		expect: `{"deadlines":{"ed_communication":"2025-02-09","ed_fix":"2025-03-11","mdr":"2024-12-31"}}`,
	},
	{
		name: "criterion 2 and 4 actions entered after ed_communication warn in event order after the 806 warning; one entered on the deadline does not",
		facts: mk("2025-02-20", memberDevice, uncontrolled, `{"type":"isao_shared","date":"2025-01-25","recorded":"2025-02-12"},
			{"type":"customer_notified","date":"2025-01-20","recorded":"2025-02-10","elements":["a","b","c","d"]},
			{"type":"interim_controls","date":"2025-01-20","recorded":"2025-02-09"},
			{"type":"remediation_plan","date":"2025-01-20","recorded":"2025-02-15"}`, ``),
		expect: `{"enforcement_discretion":{"status":"pending","criteria":[{"n":1,"status":"met"},{"n":2,"status":"met"},{"n":3,"status":"pending"},{"n":4,"status":"met"}]},
				"part806":{"status":"conditional","due":"2025-02-03"},
				"warnings":[{"code":"part806_window_passed"},{"code":"late_entry","event":0},{"code":"late_entry","event":1},{"code":"late_entry","event":3}]}`,
	},
	{
		name: "a validated fix entered after ed_fix warns and still meets criterion 3; an incomplete notice or an unvalidated fix entered late does not",
		facts: mk("2025-03-30", memberDevice, uncontrolled, `{"type":"customer_notified","date":"2025-01-20","recorded":"2025-02-20","elements":["a","b"]},
			{"type":"fix_distributed","date":"2025-03-01","recorded":"2025-03-20"},
			{"type":"fix_distributed","date":"2025-03-05","recorded":"2025-03-12","validated":true,"remediation":"patch"},
			{"type":"interim_controls","date":"2025-01-20","recorded":"2025-01-20"}`, ``),
		expect: `{"enforcement_discretion":{"status":"failed","criteria":[{"n":1,"status":"met"},{"n":2,"status":"failed"},{"n":3,"status":"met"},{"n":4,"status":"failed"}]},
				"warnings":[{"code":"late_entry","event":2}]}`,
	},
	{
		name: "ed_at_risk comes first; an action dated after its deadline is late, not a late entry",
		facts: mk("2025-02-25", memberDevice, uncontrolled, `{"type":"customer_notified","date":"2025-01-20","recorded":"2025-02-25"},
			{"type":"interim_controls","date":"2025-01-20"},{"type":"remediation_plan","date":"2025-01-20"},{"type":"isao_shared","date":"2025-01-20"},
			{"type":"remediation_plan","date":"2025-02-10","recorded":"2025-02-25"}`, ``),
		expect: `{"enforcement_discretion":{"status":"pending"},
				"warnings":[{"code":"ed_at_risk"},{"code":"part806_window_passed"},{"code":"late_entry","event":0}]}`,
	},
	{
		name:   "an action entered late that happens after as_of is ignored",
		facts:  mk("2025-01-15", memberDevice, uncontrolled, `{"type":"interim_controls","date":"2025-01-20","recorded":"2025-03-01"}`, ``),
		expect: `{"warnings":[]}`,
	},
	{
		name: "a controlled risk has no deadlines, so nothing is entered late",
		facts: mk("2025-03-30", memberDevice, `{"learned":"2025-01-10","risk":"controlled"}`, `{"type":"customer_notified","date":"2025-01-20","recorded":"2025-03-20"},
			{"type":"fix_distributed","date":"2025-01-21","recorded":"2025-03-20","validated":true}`, ``),
		expect: `{"enforcement_discretion":{"status":"not_applicable","criteria":[]},"warnings":[]}`,
	},
}

func TestDetermineCases(t *testing.T) {
	for _, tt := range determineCases {
		t.Run(tt.name, func(t *testing.T) {
			got := result(t, []byte(tt.facts))
			for _, d := range scenario.Diff([]byte(tt.expect), got) {
				t.Error(d)
			}
			if t.Failed() {
				t.Logf("got: %s", got)
			}
		})
	}
}

// invalidCases are bad inputs, each with the field its EINVALID message must name.
var invalidCases = []struct {
	name, facts, wantField string
}{
	{"unknown severity", mk("2025-02-01", "", `{"learned":"2025-01-10","severity":"high","exploitability":"high"}`, ``, ``), "vulnerability.severity"},
	{"unknown severity even when risk is recorded", mk("2025-02-01", "", `{"learned":"2025-01-10","severity":"bad","risk":"controlled"}`, ``, ``), "vulnerability.severity"},
	{"unknown exploitability", mk("2025-02-01", "", `{"learned":"2025-01-10","severity":"minor","exploitability":"extreme"}`, ``, ``), "vulnerability.exploitability"},
	{"unknown risk", mk("2025-02-01", "", `{"learned":"2025-01-10","risk":"acceptable"}`, ``, ``), "vulnerability.risk"},
	{"unknown vex_status", mk("2025-02-01", "", `{"learned":"2025-01-10","risk":"controlled","vex_status":"unknown"}`, ``, ``), "vulnerability.vex_status"},
	{"unknown pathway", mk("2025-02-01", `{"pathway":"510(k)"}`, uncontrolled, ``, ``), "device.pathway"},
	{"unknown class", mk("2025-02-01", `{"class":"IV"}`, uncontrolled, ``, ``), "device.class"},
	{"unknown working_days", mk("2025-02-01", "", uncontrolled, ``, `{"working_days":"business"}`), "policy.working_days"},
	{"unknown reassessment_clock", mk("2025-02-01", "", uncontrolled, ``, `{"reassessment_clock":"later"}`), "policy.reassessment_clock"},
	{"bad device matrix", mk("2025-02-01", `{"acceptance_matrix":{"name":"m","uncontrolled":{"high":["fatal"]}}}`, uncontrolled, ``, ``), "device.acceptance_matrix.uncontrolled.high[0]"},
	{"matrix without a name", mk("2025-02-01", "", uncontrolled, ``, `{"acceptance_matrix":{"uncontrolled":{"high":["serious"]}}}`), "policy.acceptance_matrix.name"},
	{"matrix in both forms", mk("2025-02-01", `{"acceptance_matrix":{"name":"m","version":"1","uncontrolled":{},"cells":{}}}`, uncontrolled, ``, ``), "device.acceptance_matrix"},
	{"matrix without a version", mk("2025-02-01", `{"acceptance_matrix":{"name":"m","uncontrolled":{}}}`, uncontrolled, ``, ``), "device.acceptance_matrix.version"},
	{"policy matrix with an unknown field", mk("2025-02-01", "", uncontrolled, ``, `{"acceptance_matrix":{"name":"m","version":"1","uncontroled":{}}}`), "policy.acceptance_matrix"},
	{"recorded matrix id with a control character", mk("2025-02-01", "", `{"learned":"2025-01-10","risk":"controlled","matrix":"m\u0001 v1"}`, ``, ``), "vulnerability.matrix"},
	{"cvss of an unknown version", mk("2025-02-01", "", `{"learned":"2025-01-10","risk":"controlled","cvss":"CVSS:5.0/AV:N"}`, ``, ``), "vulnerability.cvss"},
	{"unknown remediation", mk("2025-02-01", "", uncontrolled, `{"type":"fix_distributed","date":"2025-01-20","remediation":"rollback"}`, ``), "events[0].remediation"},
	{"unknown event type at index 3", mk("2025-02-01", "", uncontrolled, onTime+`,{"type":"patched","date":"2025-01-20"}`, ``), "events[4].type"},
	{"missing event type", mk("2025-02-01", "", uncontrolled, `{"date":"2025-01-20"}`, ``), "events[0].type"},
	{"malformed event date", mk("2025-02-01", "", uncontrolled, `{"type":"interim_controls","date":"2025-01-20"},{"type":"interim_controls","date":"2025-01-20"},{"type":"interim_controls","date":"2025-01-20"},{"type":"remediation_plan","date":"2025-13-01"}`, ``), "events[3].date"},
	{"impossible event date", mk("2025-02-01", "", uncontrolled, `{"type":"interim_controls","date":"2025-02-30"}`, ``), "events[0].date"},
	{"recorded before the date", mk("2025-02-01", "", uncontrolled, `{"type":"interim_controls","date":"2025-01-20"},{"type":"customer_notified","date":"2025-01-20","recorded":"2025-01-19"}`, ``), "events[1].recorded"},
	{"recorded before the date after as_of is still checked", mk("2025-01-15", "", uncontrolled, `{"type":"remediation_plan","date":"2025-01-20","recorded":"2025-01-12"}`, ``), "events[0].recorded"},
	{"malformed recorded", mk("2025-02-01", "", uncontrolled, `{"type":"interim_controls","date":"2025-01-20","recorded":"20 Jan"}`, ``), "events[0].recorded"},
	{"missing event date", mk("2025-02-01", "", uncontrolled, `{"type":"interim_controls"}`, ``), "events[0].date"},
	{"action before learned", mk("2025-02-01", "", uncontrolled, `{"type":"interim_controls","date":"2025-01-09"}`, ``), "events[0].date"},
	{"reassessment before learned", mk("2025-02-01", "", uncontrolled, `{"type":"reassessed","date":"2025-01-09","risk":"controlled"}`, ``), "events[0].date"},
	{"invalid event after as_of is still checked", mk("2025-02-01", "", uncontrolled, `{"type":"fix_distributed","date":"2025-03-01","remediation":"hope"}`, ``), "events[0].remediation"},
	{"action before learned after as_of is still checked", mk("2024-12-01", "", uncontrolled, `{"type":"customer_notified","date":"2025-01-01"}`, ``), "events[0].date"},
	{"reassessed without risk", mk("2025-02-01", "", uncontrolled, `{"type":"reassessed","date":"2025-01-20"}`, ``), "events[0].risk"},
	{"reassessed with unknown risk", mk("2025-02-01", "", uncontrolled, `{"type":"reassessed","date":"2025-01-20","risk":"ok"}`, ``), "events[0].risk"},
	{"unknown notice element", mk("2025-02-01", "", uncontrolled, `{"type":"customer_notified","date":"2025-01-20","elements":["a","e"]}`, ``), "events[0].elements[1]"},
	{"missing learned", `{"as_of":"2025-02-01","vulnerability":{"risk":"uncontrolled"}}`, "vulnerability.learned"},
	{"malformed learned", `{"as_of":"2025-02-01","vulnerability":{"learned":"10/01/2025","risk":"uncontrolled"}}`, "vulnerability.learned"},
	{"malformed as_of", mk("2025/02/01", "", uncontrolled, ``, ``), "as_of"},
	{"severity required for the matrix", mk("2025-02-01", "", `{"learned":"2025-01-10","exploitability":"high"}`, ``, ``), "vulnerability.severity"},
	{"exploitability underivable from a v4 vector", mk("2025-02-01", "", `{"learned":"2025-01-10","severity":"critical","cvss":"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"}`, ``, ``), "vulnerability.exploitability"},
	{"exploitability underivable without cvss", mk("2025-02-01", "", `{"learned":"2025-01-10","severity":"critical","kev":false}`, ``, ``), "vulnerability.exploitability"},
	{"malformed cvss", mk("2025-02-01", "", `{"learned":"2025-01-10","severity":"critical","cvss":"CVSS:3.1/AV:N"}`, ``, ``), "vulnerability.cvss"},
	{"epss out of range", mk("2025-02-01", "", `{"learned":"2025-01-10","risk":"controlled","epss":1.5}`, ``, ``), "vulnerability.epss"},
	{"wrong type", mk("2025-02-01", "", `{"learned":"2025-01-10","risk":"controlled","kev":"yes"}`, ``, ``), "vulnerability.kev"},
	{"wrong type in an event", mk("2025-02-01", "", uncontrolled, `{"type":"fix_distributed","date":"2025-01-20","validated":"true"}`, ``), "events[0].validated"},
	{"event not an object", mk("2025-02-01", "", uncontrolled, `"customer_notified"`, ``), "events[0]"},
	{"events not an array", `{"as_of":"2025-02-01","vulnerability":` + uncontrolled + `,"events":{}}`, "events"},
	{"not an object", `[1,2]`, "facts"},
	{"malformed JSON", `{"as_of":"2025-02-01",`, "facts"},
	{"trailing data", `{"as_of":"2025-02-01","vulnerability":` + uncontrolled + `} {}`, "facts"},
}

// TestDetermineInvalid checks that every kind of bad input is EINVALID and that the message names the field.
func TestDetermineInvalid(t *testing.T) {
	for _, tt := range invalidCases {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DetermineJSON(strings.NewReader(tt.facts), today)
			if vigil.ErrorCode(err) != vigil.EINVALID {
				t.Fatalf("code = %q, want EINVALID (%v)", vigil.ErrorCode(err), err)
			}
			if msg := vigil.ErrorMessage(err); !strings.HasPrefix(msg, tt.wantField+":") && !strings.Contains(msg, "message="+tt.wantField+":") {
				t.Errorf("message %q does not name %s", msg, tt.wantField)
			}
		})
	}
}

func TestDetermineLimits(t *testing.T) {
	big := bytes.Repeat([]byte(" "), MaxFactsBytes+1)
	if _, err := DetermineJSON(bytes.NewReader(big), today); vigil.ErrorCode(err) != vigil.EINVALID {
		t.Errorf("oversized facts: code %q, want EINVALID", vigil.ErrorCode(err))
	}
	events := strings.Repeat(`{},`, MaxEvents) + `{}`
	_, err := DetermineJSON(strings.NewReader(mk("2025-02-01", "", uncontrolled, events, ``)), today)
	if vigil.ErrorCode(err) != vigil.EINVALID || !strings.Contains(err.Error(), "events") {
		t.Errorf("too many events: %v, want EINVALID naming events", err)
	}
}

// TestDetermineAsOfDefault checks that a document without as_of is judged as of the caller's today.
func TestDetermineAsOfDefault(t *testing.T) {
	d, err := DetermineJSON(strings.NewReader(`{"vulnerability":`+uncontrolled+`,"device":`+memberDevice+`}`), vigil.NewDate(2025, 3, 12))
	if err != nil {
		t.Fatal(err)
	}
	if d.AsOf.String() != "2025-03-12" || d.EnforcementDiscretion.Status != StatusFailed {
		t.Errorf("as_of = %s, ED = %s; want 2025-03-12, failed (every ED deadline passed)", d.AsOf, d.EnforcementDiscretion.Status)
	}
	if _, err := Determine(Facts{Vulnerability: Vulnerability{Learned: vigil.NewDate(2025, 1, 1), Risk: vigil.RiskControlled}}); vigil.ErrorCode(err) != vigil.EINVALID {
		t.Errorf("Determine without as_of: %v, want EINVALID", err)
	}
}

// TestRationaleNamesRules checks that every conclusion names its rule and every policy choice is echoed.
func TestRationaleNamesRules(t *testing.T) {
	d, err := DetermineJSON(strings.NewReader(mk("2025-02-24", memberDevice, uncontrolled, onTime, ``)), today)
	if err != nil {
		t.Fatal(err)
	}
	prefixes := []string{"G2016 §", "21 CFR ", "Policy ", "Events: "}
	for _, r := range d.Rationale {
		ok := false
		for _, p := range prefixes {
			ok = ok || strings.HasPrefix(r, p)
		}
		if !ok || !strings.HasSuffix(r, ".") {
			t.Errorf("rationale sentence %q does not name its rule", r)
		}
	}
	all := strings.Join(d.Rationale, "\n")
	for _, want := range []string{"working_days=federal", "roll_deadlines=false", "reassessment_clock=reassessed",
		"acceptance_matrix=vigil-default v1", "cvd_ack_working_days=5", "criterion 1", "criterion 2", "criterion 3",
		"criterion 4", "21 CFR 806.10(b)", "21 CFR 814.39"} {
		if !strings.Contains(all, want) {
			t.Errorf("rationale lacks %q:\n%s", want, all)
		}
	}
}

func TestCVDAckDue(t *testing.T) {
	tests := []struct {
		pol  Policy
		from string
		want string
	}{
		{Policy{}, "2025-07-01", "2025-07-09"},                        // 5 federal working days over July 4th
		{Policy{WorkingDays: "weekdays"}, "2025-07-01", "2025-07-08"}, // July 4th counts
		{Policy{CVDAckWorkingDays: 2}, "2025-07-03", "2025-07-08"},    // over the holiday and the weekend
	}
	for _, tt := range tests {
		from, _ := vigil.ParseDate(tt.from)
		if got := tt.pol.CVDAckDue(from); got.String() != tt.want {
			t.Errorf("%+v.CVDAckDue(%s) = %s, want %s", tt.pol, tt.from, got, tt.want)
		}
	}
}

func BenchmarkDetermineJSON(b *testing.B) {
	doc := []byte(mk("2025-02-24", memberDevice, uncontrolled, onTime+`,{"type":"fix_distributed","date":"2025-03-01","validated":true}`, ``))
	for b.Loop() {
		if _, err := DetermineJSON(bytes.NewReader(doc), today); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDetermine(b *testing.B) {
	f, err := DecodeFacts(strings.NewReader(mk("2025-02-24", memberDevice, uncontrolled, onTime, ``)), today)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Determine(f); err != nil {
			b.Fatal(err)
		}
	}
}
