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
	MergedInto int64 `json:"merged_into,omitempty"`
	// Owner is the user who works the case ("" for nobody yet).
	Owner     string    `json:"owner,omitempty"`
	CreatedAt time.Time `json:"created_at"`
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
	Vuln     string // the case's id or any alias, in any letter case
	// Owner selects the cases a user owns; NoOwner those nobody owns (Owner is then ignored).
	Owner   string
	NoOwner bool
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
	// SplitCase moves findings out of a case into a new one (another vulnerability id wrongly united by an alias),
	// or opens the case's vulnerability on another device (a report covering two devices), with D0 kept.
	SplitCase(ctx context.Context, in SplitInput) (*Case, error)
	// SetCaseOwner gives a case to a user ("" for nobody), with a reason.
	SetCaseOwner(ctx context.Context, id int64, owner, reason string) error
	// SetVersionVEX records the VEX status of one version of the case's device; VersionVEX lists the records of a
	// case (with those of cases merged into it), oldest first: the newest for a version stands.
	SetVersionVEX(ctx context.Context, v *VersionVEX) error
	VersionVEX(ctx context.Context, caseID int64) ([]*VersionVEX, error)
	// SetCaseDisclosure appends a record of the case's disclosure coordination (ISO/IEC 29147) and needs
	// PermIntake; CaseDisclosures lists a case's records (with those of cases merged into it), oldest first: the
	// newest stands.
	SetCaseDisclosure(ctx context.Context, d *CaseDisclosure) error
	CaseDisclosures(ctx context.Context, caseID int64) ([]*CaseDisclosure, error)
}

// SplitInput says what a split takes out of a case: findings of the case (they move to the new case), the new
// case's vulnerability id (default: the case's; an alias of the case given here leaves it), and its device
// (default: the case's; another device opens the vulnerability there, with no findings moved). The new case keeps
// D0: the vulnerability was learned when the case was. Its records start empty: it is assessed on its own.
type SplitInput struct {
	CaseID        int64   `json:"-"`
	Findings      []int64 `json:"findings,omitempty"`
	Vulnerability string  `json:"vulnerability,omitempty"`
	DeviceID      int64   `json:"device_id,omitempty"`
	Reason        string  `json:"reason"`
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

// VEXJustification says why a version is not affected. Vigil takes either vocabulary a VEX format uses: OpenVEX
// 0.2.0's (also CSAF VEX's flags and CISA's minimum requirements) or CycloneDX 1.6's analysis justification; each
// maps to the other (OpenVEX, CycloneDX), so one recorded status publishes in every format.
type VEXJustification string

// OpenVEX 0.2.0 / CSAF justifications.
const (
	JustComponentNotPresent       VEXJustification = "component_not_present"
	JustVulnerableCodeNotPresent  VEXJustification = "vulnerable_code_not_present"
	JustNotInExecutePath          VEXJustification = "vulnerable_code_not_in_execute_path"
	JustCannotBeControlled        VEXJustification = "vulnerable_code_cannot_be_controlled_by_adversary"
	JustInlineMitigationsExist    VEXJustification = "inline_mitigations_already_exist"
	JustCodeNotPresent            VEXJustification = "code_not_present" // CycloneDX 1.6 from here on
	JustCodeNotReachable          VEXJustification = "code_not_reachable"
	JustRequiresConfiguration     VEXJustification = "requires_configuration"
	JustRequiresDependency        VEXJustification = "requires_dependency"
	JustRequiresEnvironment       VEXJustification = "requires_environment"
	JustProtectedByCompiler       VEXJustification = "protected_by_compiler"
	JustProtectedAtRuntime        VEXJustification = "protected_at_runtime"
	JustProtectedAtPerimeter      VEXJustification = "protected_at_perimeter"
	JustProtectedByMitigatingCtrl VEXJustification = "protected_by_mitigating_control"
)

// VEXJustifications lists both vocabularies, OpenVEX's first.
var VEXJustifications = []VEXJustification{JustComponentNotPresent, JustVulnerableCodeNotPresent, JustNotInExecutePath,
	JustCannotBeControlled, JustInlineMitigationsExist, JustCodeNotPresent, JustCodeNotReachable, JustRequiresConfiguration,
	JustRequiresDependency, JustRequiresEnvironment, JustProtectedByCompiler, JustProtectedAtRuntime, JustProtectedAtPerimeter,
	JustProtectedByMitigatingCtrl}

func (j VEXJustification) Validate() error { return OneOf("justification", j, VEXJustifications) }
func (j VEXJustification) MarshalText() ([]byte, error) {
	return marshalWord("justification", j, VEXJustifications)
}
func (j *VEXJustification) UnmarshalText(b []byte) error {
	return unmarshalWord("justification", j, b, VEXJustifications)
}

// OpenVEX is the justification in OpenVEX's (and CSAF's) vocabulary: a CycloneDX one maps to the nearest.
func (j VEXJustification) OpenVEX() VEXJustification {
	switch j {
	case JustCodeNotPresent:
		return JustVulnerableCodeNotPresent
	case JustCodeNotReachable:
		return JustNotInExecutePath
	case JustRequiresConfiguration, JustRequiresDependency, JustRequiresEnvironment:
		return JustCannotBeControlled
	case JustProtectedByCompiler, JustProtectedAtRuntime, JustProtectedAtPerimeter, JustProtectedByMitigatingCtrl:
		return JustInlineMitigationsExist
	}
	return j
}

// CycloneDX is the justification in CycloneDX 1.6's vocabulary: an OpenVEX one maps to the nearest.
func (j VEXJustification) CycloneDX() VEXJustification {
	switch j {
	case JustComponentNotPresent, JustVulnerableCodeNotPresent:
		return JustCodeNotPresent
	case JustNotInExecutePath:
		return JustCodeNotReachable
	case JustCannotBeControlled:
		return JustRequiresEnvironment
	case JustInlineMitigationsExist:
		return JustProtectedByMitigatingCtrl
	}
	return j
}

// VersionVEX is the VEX status of one version of a case's device, as a person decided it: one version may be
// not_affected (with a justification or an impact statement saying why) while others are affected. Records are
// appended, never edited: the newest for a version stands, and the audit trail keeps every earlier one. The VEX
// documents Vigil publishes are made from these.
type VersionVEX struct {
	ID        int64     `json:"id"`
	CaseID    int64     `json:"case_id"`
	VersionID int64     `json:"version_id"`
	Version   string    `json:"version,omitempty"` // the version's name (read, not stored)
	Status    VEXStatus `json:"status"`
	// Justification (not_affected only) is the machine-readable reason; ImpactStatement the words. OpenVEX asks for
	// one of them on a not_affected statement.
	Justification   VEXJustification `json:"justification,omitempty"`
	ImpactStatement string           `json:"impact_statement,omitempty"`
	// ActionStatement (affected) says what users should do; FixedIn (fixed) the version that fixes it.
	ActionStatement string    `json:"action_statement,omitempty"`
	FixedIn         string    `json:"fixed_in,omitempty"`
	Reason          string    `json:"reason"`
	CreatedAt       time.Time `json:"created_at"`
	Actor           string    `json:"actor"`
}

// Validate checks a VEX status as a person gave it: a known status; a justification only (and a justification or
// an impact statement always) with not_affected; a reason.
func (v *VersionVEX) Validate() error {
	if err := v.Status.Validate(); err != nil {
		return err
	}
	if v.Justification != "" {
		if err := v.Justification.Validate(); err != nil {
			return err
		}
		if v.Status != VEXNotAffected {
			return Errorf(EINVALID, "justification: only a not_affected status has one (this one is %s)", v.Status)
		}
	}
	if v.Status == VEXNotAffected && v.Justification == "" && strings.TrimSpace(v.ImpactStatement) == "" {
		return Errorf(EINVALID, "justification: not_affected needs a justification or an impact statement saying why")
	}
	if v.FixedIn != "" && v.Status != VEXFixed {
		return Errorf(EINVALID, "fixed_in: only a fixed status names the version that fixes it")
	}
	if strings.TrimSpace(v.Reason) == "" {
		return Errorf(EINVALID, "reason: required: say what the status rests on")
	}
	return texts(field{"impact_statement", v.ImpactStatement, MaxText}, field{"action_statement", v.ActionStatement, MaxText},
		field{"fixed_in", v.FixedIn, MaxName}, field{"reason", v.Reason, MaxText})
}
