package vigil

import (
	"context"
	"strings"
	"time"
)

// FindingState is where a finding stands.
type FindingState string

// Finding states.
const (
	FindingOpen         FindingState = "open"               // matched and not yet resolved
	FindingCouldNotEval FindingState = "could_not_evaluate" // a version the comparator cannot order: never a silent miss
	FindingResolved     FindingState = "resolved"           // no longer matches (advisory revised, component changed)
	// FindingNeedsReview is a finding whose matching advisory was withdrawn (OSV withdrawn, NVD Rejected): it no
	// longer matches, but its clocks may still bind, so nothing else changes until a person decides, with a
	// reason, to close it or to reopen it.
	FindingNeedsReview FindingState = "needs_review"
	// FindingClosed is the state of a finding a person closed (fix distributed and verified, or not applicable).
	FindingClosed FindingState = "closed"
)

// FindingStates lists the finding states.
var FindingStates = []FindingState{FindingOpen, FindingCouldNotEval, FindingNeedsReview, FindingResolved, FindingClosed}

// FindingStatesToWork are the states a default list shows: what someone must still act on.
var FindingStatesToWork = []FindingState{FindingOpen, FindingCouldNotEval, FindingNeedsReview}

func (s FindingState) Validate() error { return OneOf("state", s, FindingStates) }

// ParseFindingStates reads a state filter as every front end takes it: values repeated or comma-separated, "all"
// for every state, blanks ignored. Nil means the default (FindingStatesToWork).
func ParseFindingStates(values []string) ([]FindingState, error) {
	var out []FindingState
	for _, v := range values {
		for _, x := range strings.Split(v, ",") {
			switch x = strings.TrimSpace(x); x {
			case "":
			case "all":
				out = append(out, FindingStates...)
			default:
				if err := FindingState(x).Validate(); err != nil {
					return nil, err
				}
				out = append(out, FindingState(x))
			}
		}
	}
	return out, nil
}
func (s FindingState) MarshalText() ([]byte, error) {
	return marshalWord("state", s, FindingStates)
}
func (s *FindingState) UnmarshalText(b []byte) error {
	return unmarshalWord("state", s, b, FindingStates)
}

// Evidence explains why a component matched a vulnerability.
type Evidence struct {
	Matcher  string `json:"matcher"`            // e.g. "osv-ecosystem:PyPI", "nvd-cpe", "csaf-product"
	Source   string `json:"source,omitempty"`   // advisory source
	Advisory string `json:"advisory,omitempty"` // the id as the source names it
	Range    string `json:"range"`              // the range, versions entry or CPE criterion that matched
	Fixed    string `json:"fixed,omitempty"`    // first fixed version when known
	Reason   string `json:"reason,omitempty"`   // why it could not be evaluated, when it could not
	// VersionWarning is set when the answer rests on a version the ecosystem's own tool orders only with a
	// warning (dpkg on "a-0", apk on "1.0bc"): Vigil orders it as that tool does, and says so here.
	VersionWarning string `json:"version_warning,omitempty"`
}

// Finding is one (component, vulnerability) pair: a component of a device version matched by an advisory.
type Finding struct {
	ID            int64        `json:"id,omitempty"`
	VersionID     int64        `json:"version_id,omitempty"`
	Component     Component    `json:"component"`
	Vulnerability string       `json:"vulnerability"` // the id as the feed names it
	Aliases       []string     `json:"aliases,omitempty"`
	State         FindingState `json:"state"`
	Evidence      Evidence     `json:"evidence"`
	FirstSeen     time.Time    `json:"first_seen,omitzero"`
	ResolvedAt    time.Time    `json:"resolved_at,omitzero"`
	// Learned is the day this finding was learned of (the day it first appeared, in the organization's time zone,
	// unless given): evidence of learning. D0, where the clocks start, is its case's (the earliest of its findings'
	// unless corrected).
	Learned  Date  `json:"learned"`
	DeviceID int64 `json:"device_id,omitempty"`
	// Source is how it was found: match, researcher, csaf-signal, manual; or review, a matched finding a person
	// reopened after its advisory was withdrawn, which stands on that decision and which matching no longer moves.
	Source string `json:"source,omitempty"`
	// CaseID is the case the finding is evidence of: the device's case of the same vulnerability (by any alias).
	CaseID int64 `json:"case_id,omitempty"`
}

// Assessment is one recorded risk assessment of a case: the inputs, the binary determination and why. A later
// assessment (a re-assessment) adds a record with its own date; none is ever changed, so the one that started a
// clock stays visible, and a mistaken one is retracted by a Retraction.
type Assessment struct {
	ID     int64 `json:"id"`
	CaseID int64 `json:"case_id"`
	// Date is the day the assessment was made (its effective date); CreatedAt is when it was entered.
	Date      Date      `json:"date"`
	CreatedAt time.Time `json:"created_at"`
	Actor     string    `json:"actor"`
	// CVSS is the assessed vector (often from the medical-device rubric), Rubric the answers behind it.
	CVSS   string            `json:"cvss,omitempty"`
	Rubric map[string]string `json:"rubric,omitempty"`
	// Exploitability is low, medium or high; ExploitabilityReason explains an override of the derived level.
	Exploitability       Exploitability `json:"exploitability,omitempty"`
	ExploitabilityReason string         `json:"exploitability_reason,omitempty"`
	// Severity of patient harm, taken from the clinical functions reached unless overridden with SeverityReason.
	Severity       string   `json:"severity,omitempty"`
	SeverityReason string   `json:"severity_reason,omitempty"`
	Functions      []string `json:"functions,omitempty"` // clinical functions the vulnerability can reach
	Controls       []string `json:"controls,omitempty"`  // mitigations and compensating controls in place
	// ConfidentialityOnly: only PHI confidentiality is at stake, which is not patient harm (G2016 §IV.F).
	ConfidentialityOnly bool      `json:"confidentiality_only"`
	VEXStatus           VEXStatus `json:"vex_status,omitempty"`
	Risk                Risk      `json:"risk"`
	Interim             bool      `json:"interim,omitempty"` // a reassessment after interim controls
	Matrix              string    `json:"matrix,omitempty"`  // the acceptance matrix name and version used
	Rationale           string    `json:"rationale"`
	SSVC                string    `json:"ssvc,omitempty"` // the patch-priority aid: defer, scheduled, out-of-cycle, immediate
	// Signals are the ISAO signals the assessment considered, cited with it (G2016 §IX item 4); given when it is
	// recorded (the signals list the assessments citing them).
	Signals []int64 `json:"signals,omitempty"`
}

// CaseEvent is one dated regulatory event of a case (customer notified, fix distributed, MDR filed, ...), as the
// Determination API names them. Date is when it happened, CreatedAt when it was entered. Events are append-only: a
// mistaken one is retracted by a Retraction.
type CaseEvent struct {
	ID        int64     `json:"id"`
	CaseID    int64     `json:"case_id"`
	Type      string    `json:"type"`
	Date      Date      `json:"date"`
	Details   EventData `json:"details"`
	Note      string    `json:"note,omitempty"` // what and where the evidence is (document number, link)
	CreatedAt time.Time `json:"created_at"`
	Actor     string    `json:"actor"`
}

// EventData are the type-specific fields of a CaseEvent.
type EventData struct {
	Elements           []string `json:"elements,omitempty"`
	Validated          bool     `json:"validated,omitempty"`
	Remediation        string   `json:"remediation,omitempty"`
	Risk               Risk     `json:"risk,omitempty"`
	Interim            bool     `json:"interim,omitempty"`
	RemedialAction     bool     `json:"remedial_action,omitempty"`
	IncludesCorrection bool     `json:"includes_correction,omitempty"`
}

// FindingFilter selects findings.
type FindingFilter struct {
	CaseID    int64
	DeviceID  int64
	VersionID int64
	States    []FindingState // default: FindingStatesToWork (open, could_not_evaluate, needs_review)
	Vuln      string
	Limit     int
}

// FindingService keeps findings. Every finding belongs to a case (CaseService), which holds its assessments and
// events. Writes are audited with a reason.
type FindingService interface {
	Finding(ctx context.Context, id int64) (*Finding, error)
	Findings(ctx context.Context, f FindingFilter) ([]*Finding, error)
	// SyncFindings makes a version's matched findings equal to found: new ones open (joining the device's case of
	// their vulnerability, or opening one), missing ones resolve.
	SyncFindings(ctx context.Context, versionID int64, found []Finding) (opened, resolved int, err error)
	// CreateFinding records a finding learned other than by matching; it joins or opens its case like a match.
	CreateFinding(ctx context.Context, f *Finding, reason string) error
	SetFindingState(ctx context.Context, id int64, state FindingState, reason string) error
}
