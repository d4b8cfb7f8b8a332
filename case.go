package vigil

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// CaseState is where a case stands.
type CaseState string

// Case states.
const (
	CaseOpen CaseState = "open"
	// CaseNeedsReview: something changed that a person must look at before the case goes on (a withdrawn or
	// rejected advisory, a new version of the device carrying the vulnerability of a closed case). Nothing else
	// changes until a person decides, with a reason.
	CaseNeedsReview CaseState = "needs_review"
	// CaseClosed: a person closed it. Its records and every unmet obligation stay visible.
	CaseClosed CaseState = "closed"
)

// CaseStates lists the case states.
var CaseStates = []CaseState{CaseOpen, CaseNeedsReview, CaseClosed}

func (s CaseState) Validate() error { return OneOf("state", s, CaseStates) }
func (s CaseState) MarshalText() ([]byte, error) {
	return marshalWord("state", s, CaseStates)
}
func (s *CaseState) UnmarshalText(b []byte) error {
	return unmarshalWord("state", s, b, CaseStates)
}

// How a case's D0 was learned.
const (
	LearnedMatch    = "match"    // a finding matched an advisory
	LearnedReport   = "report"   // a researcher's or customer's report
	LearnedAdvisory = "advisory" // an advisory about the device itself
	LearnedManual   = "manual"   // entered by hand with a reason
)

// Case is one vulnerability on one device, across every affected version: the unit of the FDA flow. It has one D0,
// one determination and one set of clocks, whatever number of versions (findings) it covers. Its assessments and
// events are dated records; a correction is a new record (a Retraction), never an edit.
type Case struct {
	ID       int64  `json:"id"`
	DeviceID int64  `json:"device_id"`
	Device   string `json:"device"` // the device's name (read, not stored)
	// Vulnerability is the canonical id (a CVE when one is known), Aliases the other ids the case is found by. A
	// report with no CVE yet has a provisional id (Provisional).
	Vulnerability string    `json:"vulnerability"`
	Aliases       []string  `json:"aliases"`
	Provisional   bool      `json:"provisional,omitempty"`
	State         CaseState `json:"state"`
	// Learned is D0: the earliest evidence of learning (a match, a report, an advisory). LearnedHow says which
	// (LearnedMatch, ...), LearnedEvidence where the evidence is; a correction of D0 is audited with its reason.
	Learned         Date   `json:"learned"`
	LearnedHow      string `json:"learned_how"`
	LearnedEvidence string `json:"learned_evidence,omitempty"`
	// MergedInto is the case this one was merged into as a duplicate (0: not merged). A merged case keeps its
	// records; its findings, assessments and events count under the case it was merged into.
	MergedInto int64     `json:"merged_into,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
}

// IDs returns the case's vulnerability id and its aliases.
func (c *Case) IDs() []string { return append([]string{c.Vulnerability}, c.Aliases...) }

// CheckText applies Text to what a person typed for a case.
func (c *Case) CheckText() error {
	if err := texts(field{"vulnerability", c.Vulnerability, MaxName}, field{"learned_evidence", c.LearnedEvidence, MaxText}); err != nil {
		return err
	}
	return textList("aliases", c.Aliases, MaxName)
}

// Record kinds a retraction names.
const (
	RecordAssessment = "assessment"
	RecordEvent      = "event"
)

// RecordRef names one record of a case as people type it: "A12" (assessment 12) or "E7" (event 7).
type RecordRef struct {
	Kind string // RecordAssessment or RecordEvent
	ID   int64
}

func (r RecordRef) String() string {
	if r.Kind == RecordAssessment {
		return "A" + strconv.FormatInt(r.ID, 10)
	}
	return "E" + strconv.FormatInt(r.ID, 10)
}

// ParseRecordRef reads "A12" or "E7" (either case); anything else is EINVALID.
func ParseRecordRef(s string) (RecordRef, error) {
	s = strings.TrimSpace(s)
	if len(s) >= 2 {
		id, err := strconv.ParseInt(s[1:], 10, 64)
		if err == nil && id > 0 {
			switch s[0] {
			case 'A', 'a':
				return RecordRef{RecordAssessment, id}, nil
			case 'E', 'e':
				return RecordRef{RecordEvent, id}, nil
			}
		}
	}
	return RecordRef{}, Errorf(EINVALID, "record: %q: want A<id> for an assessment or E<id> for an event (as `case show` lists them)", Clip(40, s))
}

func (r RecordRef) MarshalText() ([]byte, error) { return []byte(r.String()), nil }
func (r *RecordRef) UnmarshalText(b []byte) error {
	x, err := ParseRecordRef(string(b))
	*r = x
	return err
}

// Retraction withdraws one record of a case (an assessment or an event) with a reason: the record stays, struck
// through, and the determination is made without it. A record superseded by a corrected one is retracted naming
// it (SupersededBy).
type Retraction struct {
	ID           int64     `json:"id"`
	CaseID       int64     `json:"case_id"`
	Record       RecordRef `json:"record"`
	SupersededBy string    `json:"superseded_by,omitempty"`
	Reason       string    `json:"reason"`
	CreatedAt    time.Time `json:"created_at"`
	Actor        string    `json:"actor"`
}

// CaseFilter selects cases. Zero States means open and needs_review; merged cases are never listed.
type CaseFilter struct {
	States   []CaseState
	DeviceID int64
	Vuln     string // the case's id or any alias
}

// ParseCaseStates reads a state filter as ParseFindingStates does ("all", comma lists).
func ParseCaseStates(values []string) ([]CaseState, error) {
	var out []CaseState
	for _, v := range values {
		for _, x := range strings.Split(v, ",") {
			switch x = strings.TrimSpace(x); x {
			case "":
			case "all":
				out = append(out, CaseStates...)
			default:
				if err := CaseState(x).Validate(); err != nil {
					return nil, err
				}
				out = append(out, CaseState(x))
			}
		}
	}
	return out, nil
}

// CaseService keeps cases and their dated records. Reads need PermRead; opening, assessing, correcting D0,
// retracting, merging and changing state need PermAssess; events need PermEvent. Writes are audited with their
// reason. Unknown ids are ENOTFOUND; bad input EINVALID naming the field.
type CaseService interface {
	Case(ctx context.Context, id int64) (*Case, error)
	Cases(ctx context.Context, f CaseFilter) ([]*Case, error)
	// OpenCase opens a case not from matching (a report, an advisory about the device); ECONFLICT when the device
	// already has a case of the vulnerability (by any alias).
	OpenCase(ctx context.Context, c *Case, reason string) error
	// Assess appends an assessment (its CaseID and Date set); it never replaces one.
	Assess(ctx context.Context, a *Assessment) error
	// Assessments are oldest first by date, then entry: the first is the one that started the clocks.
	Assessments(ctx context.Context, caseID int64) ([]*Assessment, error)
	AddCaseEvent(ctx context.Context, e *CaseEvent) error
	CaseEvents(ctx context.Context, caseID int64) ([]*CaseEvent, error)
	// Retract withdraws a record of the case with a reason; ECONFLICT when it is already retracted.
	Retract(ctx context.Context, r *Retraction) error
	Retractions(ctx context.Context, caseID int64) ([]*Retraction, error)
	// SetLearned corrects D0, with a reason and a reference to the evidence.
	SetLearned(ctx context.Context, caseID int64, learned Date, reason, evidence string) error
	SetCaseState(ctx context.Context, id int64, state CaseState, reason string) error
	// MergeCases merges a duplicate case into another of the same device: its findings, assessments and events
	// count under into from then on; the duplicate is kept, marked merged.
	MergeCases(ctx context.Context, into, dup int64, reason string) error
}

// CanonicalVuln picks a case's id among a vulnerability's ids: the first CVE, else the first id.
func CanonicalVuln(ids []string) (id string, aliases []string) {
	for _, x := range ids {
		if strings.HasPrefix(strings.ToUpper(x), "CVE-") {
			id = x
			break
		}
	}
	if id == "" && len(ids) > 0 {
		id = ids[0]
	}
	aliases = []string{}
	for _, x := range ids {
		if x != id && x != "" && !containsFold(aliases, x) && !strings.EqualFold(x, id) {
			aliases = append(aliases, x)
		}
	}
	return id, aliases
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// String names a case in messages: "case 12 (CVE-2024-1 on Infusio IP-3)".
func (c *Case) String() string {
	return fmt.Sprintf("case %d (%s on %s)", c.ID, c.Vulnerability, c.Device)
}
