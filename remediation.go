package vigil

import (
	"context"
	"time"
)

// Update cycles of FD&C Act 524B(b)(2): a justified regular cycle for known unacceptable vulnerabilities, and out
// of cycle, as soon as possible, for critical ones that could cause uncontrolled risk (internal/risk's SSVC
// decision names the same words).
const (
	CycleRegular    = "regular"
	CycleOutOfCycle = "out-of-cycle"
)

// UpdateCycles lists the update cycles.
var UpdateCycles = []string{CycleRegular, CycleOutOfCycle}

// CompensatingControl is one interim control users put in place until the fix (G2016 §IV: a safeguard outside
// the device design, configured in the field): what it is, where it is documented for users (an IFU section, a
// customer letter), and since when it has been in place.
type CompensatingControl struct {
	What       string `json:"what"`
	Documented string `json:"documented"`
	Since      Date   `json:"since"`
}

// RemediationPlan is one version of a case's remediation plan (G2016 §VII.B criterion 2): the interim
// compensating controls, the planned fix and the timeline rationale. Plans are never edited: a change is a new
// version (Version 1, 2, ...) with its reason, and every version is kept, so the plan that stood on any day can be
// shown. Date is the day the version was decided; CreatedAt when it was entered.
type RemediationPlan struct {
	ID       int64                 `json:"id"`
	CaseID   int64                 `json:"case_id"`
	Version  int                   `json:"version"`
	Date     Date                  `json:"date"`
	Controls []CompensatingControl `json:"controls"`
	// FixRelease is the planned release that carries the fix (a device version, e.g. "3.2.2"), TargetDate when it
	// is planned to be distributed; Cycle is regular or out-of-cycle (524B(b)(2)), and SSVC the patch-priority
	// decision that justifies it (e.g. "out-of-cycle (out-of-cycle cycle)", as an assessment records it).
	FixRelease string `json:"fix_release,omitempty"`
	TargetDate Date   `json:"target_date"`
	Cycle      string `json:"cycle,omitempty"`
	SSVC       string `json:"ssvc,omitempty"`
	// Rationale is the timeline rationale G2016 asks for: why the fix takes the time it does.
	Rationale string    `json:"rationale"`
	Reason    string    `json:"reason,omitempty"` // why this version replaced the one before
	CreatedAt time.Time `json:"created_at"`
	Actor     string    `json:"actor"`
}

// Validate checks a plan as a person wrote it.
func (p *RemediationPlan) Validate() error {
	if p.CaseID <= 0 {
		return Errorf(EINVALID, "case: required")
	}
	if p.Date.IsZero() {
		return Errorf(EINVALID, "date: required")
	}
	if err := required("rationale", p.Rationale); err != nil {
		return err
	}
	if p.Cycle != "" {
		if err := OneOf("cycle", p.Cycle, UpdateCycles); err != nil {
			return err
		}
	}
	if p.FixRelease == "" && (!p.TargetDate.IsZero() || p.Cycle != "") {
		return Errorf(EINVALID, "fix_release: required with a target date or a cycle (the release that carries the fix)")
	}
	if p.FixRelease != "" && p.TargetDate.IsZero() {
		return Errorf(EINVALID, "target_date: required with a planned fix release")
	}
	if p.FixRelease == "" && len(p.Controls) == 0 {
		return Errorf(EINVALID, "plan: a planned fix (fix_release) or at least one compensating control is required")
	}
	for i, c := range p.Controls {
		name := "controls[" + itoa(i) + "]"
		if err := required(name+".what", c.What); err != nil {
			return err
		}
		if err := required(name+".documented", c.Documented); err != nil {
			return err
		}
		if c.Since.IsZero() {
			return Errorf(EINVALID, "%s.since: required (the day the control has been in place since)", name)
		}
		if err := texts(field{name + ".what", c.What, MaxText}, field{name + ".documented", c.Documented, MaxName}); err != nil {
			return err
		}
	}
	return texts(field{"fix_release", p.FixRelease, MaxName}, field{"ssvc", p.SSVC, MaxName},
		field{"rationale", p.Rationale, MaxText}, field{"reason", p.Reason, MaxText})
}

// Remediations a fix release may be (the Determination API's words): a patch, or a validated compensating control
// as the long-term remediation (G2016 §VII.B criterion 3).
const (
	RemediationPatch               = "patch"
	RemediationCompensatingControl = "compensating_control"
)

// RemediationKinds lists the remediation kinds.
var RemediationKinds = []string{RemediationPatch, RemediationCompensatingControl}

// Verification and validation results.
const (
	VVPassed = "passed"
	VVFailed = "failed"
)

// VVResults lists the V&V results.
var VVResults = []string{VVPassed, VVFailed}

// VVRecord is a fix's design verification and validation record (21 CFR 820.30(g)): where the protocol and the
// report are, the result, who approved it and the day it was validated.
type VVRecord struct {
	Protocol  string `json:"protocol"`
	Report    string `json:"report"`
	Result    string `json:"result"`
	Approver  string `json:"approver"`
	Validated Date   `json:"validated"`
}

// Validate checks a V&V record.
func (v *VVRecord) Validate() error {
	for _, f := range []field{{"protocol", v.Protocol, MaxName}, {"report", v.Report, MaxName}, {"approver", v.Approver, MaxName}} {
		if err := required(f.name, f.v); err != nil {
			return err
		}
		if err := Text(f.name, f.v, f.max); err != nil {
			return err
		}
	}
	if v.Validated.IsZero() {
		return Errorf(EINVALID, "validated: required (the day the fix was validated)")
	}
	return OneOf("result", v.Result, VVResults)
}

// Distribution is how and when a validated fix reached the field.
type Distribution struct {
	Date    Date   `json:"date"`
	Channel string `json:"channel"` // service bulletin, remote update, field service visit, ...
}

// FixRelease is a release that fixes a case: the device version that carries the fix (Release, and VersionID once
// that version is registered), the kind of remediation, its V&V record and then its distribution. A passed V&V must
// come before distribution (820.30(g)); a distributed fix records the case's fix_distributed event (validated), so
// ED criterion 3 follows from this record: EventID is that event.
type FixRelease struct {
	ID           int64         `json:"id"`
	CaseID       int64         `json:"case_id"`
	Release      string        `json:"release"`
	VersionID    int64         `json:"version_id,omitempty"`
	Remediation  string        `json:"remediation"`
	Description  string        `json:"description,omitempty"`
	VV           *VVRecord     `json:"vv,omitempty"`
	Distribution *Distribution `json:"distribution,omitempty"`
	EventID      int64         `json:"event_id,omitempty"`
	CreatedAt    time.Time     `json:"created_at"`
	Actor        string        `json:"actor"`
	// Retraction withdraws the fix release (entered in error, recalled): it stays on record, and counts for nothing.
	Retraction *FixRetraction `json:"retraction,omitempty"`
	// VVRetractions are the V&V records withdrawn from the fix, oldest first, each with why.
	VVRetractions []FixRetraction `json:"vv_retractions,omitempty"`
}

// FixRetraction is the withdrawal of a fix release or of its V&V record (VV: the record withdrawn).
type FixRetraction struct {
	VV     *VVRecord `json:"vv,omitempty"`
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
}

// InField reports whether the fix counts as remediating the field: distributed with its V&V record standing. A
// fix whose V&V record was retracted no longer counts (criterion 3, the metrics, the VEX and the advisories).
func (f *FixRelease) InField() bool {
	return f.Retraction == nil && f.Distribution != nil && f.VV != nil && f.VV.Result == VVPassed
}

// Validate checks a new fix release.
func (f *FixRelease) Validate() error {
	if f.CaseID <= 0 {
		return Errorf(EINVALID, "case: required")
	}
	if err := required("release", f.Release); err != nil {
		return err
	}
	if err := OneOf("remediation", f.Remediation, RemediationKinds); err != nil {
		return err
	}
	return texts(field{"release", f.Release, MaxName}, field{"description", f.Description, MaxText})
}

// Deployment sources: a consignee reported units updated, or the fielded version's SBOM no longer carries the
// component (derived, never typed).
const (
	DeploymentReported = "reported"
	DeploymentSBOM     = "sbom"
)

// Deployment is one report of units updated in the field: as of Date, Units of the affected VersionID at the
// consignee carry the fix (a running total for that consignee and version; the latest report counts). Reports are
// appended, never edited.
type Deployment struct {
	ID          int64     `json:"id"`
	CaseID      int64     `json:"case_id"`
	ConsigneeID int64     `json:"consignee_id"`
	Consignee   string    `json:"consignee,omitempty"` // read, not stored
	VersionID   int64     `json:"version_id"`
	Version     string    `json:"version,omitempty"` // read, not stored
	Date        Date      `json:"date"`
	Units       int       `json:"units"`
	Source      string    `json:"source"`
	Note        string    `json:"note,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	Actor       string    `json:"actor"`
}

// Validate checks a reported deployment.
func (d *Deployment) Validate() error {
	switch {
	case d.CaseID <= 0:
		return Errorf(EINVALID, "case: required")
	case d.ConsigneeID <= 0:
		return Errorf(EINVALID, "consignee: required")
	case d.VersionID <= 0:
		return Errorf(EINVALID, "version: required")
	case d.Date.IsZero():
		return Errorf(EINVALID, "date: required")
	case d.Units < 0:
		return Errorf(EINVALID, "units: %d is negative", d.Units)
	}
	return bounded("note", d.Note)
}

// RemediationStore keeps remediation records: plan versions, fix releases and deployment reports. Reads need
// PermRead, writes PermEvent (the records are dated regulatory evidence, like a case's events); every write is
// audited. Unknown ids are ENOTFOUND; bad input EINVALID naming the field.
type RemediationStore interface {
	// AddPlan appends the next version of a case's plan (its Version set here).
	AddPlan(ctx context.Context, p *RemediationPlan) error
	// Plans are a case's plan versions, oldest first: the last is the plan in force.
	Plans(ctx context.Context, caseID int64) ([]*RemediationPlan, error)
	AddFixRelease(ctx context.Context, f *FixRelease) error
	FixRelease(ctx context.Context, id int64) (*FixRelease, error)
	// FixReleases lists a case's fix releases (caseID 0: every case's), oldest first.
	FixReleases(ctx context.Context, caseID int64) ([]*FixRelease, error)
	// SetVV records a fix's V&V record; ECONFLICT once it is distributed.
	SetVV(ctx context.Context, id int64, vv VVRecord, reason string) error
	// SetDistribution records a fix's distribution once; ECONFLICT when it already has one.
	SetDistribution(ctx context.Context, id int64, d Distribution, reason string) error
	// SetFixEvent links a distributed fix to the case event that records it.
	SetFixEvent(ctx context.Context, id, eventID int64) error
	// RetractFix withdraws a fix release with a reason and returns the fix_distributed event it had recorded
	// (0 for none), which the caller retracts on the case; ECONFLICT when it is withdrawn already.
	RetractFix(ctx context.Context, id int64, reason string) (event int64, err error)
	// RetractVV withdraws a fix's V&V record with a reason (kept in VVRetractions) and unlinks the fix_distributed
	// event it had recorded, returned for the caller to retract (0 for none); EINVALID when there is no record.
	RetractVV(ctx context.Context, id int64, reason string) (event int64, err error)
	AddDeployment(ctx context.Context, d *Deployment) error
	// Deployments lists a case's deployment reports, oldest first by date then entry.
	Deployments(ctx context.Context, caseID int64) ([]*Deployment, error)
}
