package cases

import (
	"context"
	"slices"
	"strings"

	"github.com/vigil-dev/vigil"
)

// Finding returns one finding; ENOTFOUND when there is none. Needs PermRead.
func (s *Service) Finding(ctx context.Context, id int64) (*vigil.Finding, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	return s.Store.Finding(ctx, id)
}

// Findings lists findings (open, could-not-evaluate and needs-review unless the filter names states). Needs PermRead.
func (s *Service) Findings(ctx context.Context, f vigil.FindingFilter) ([]*vigil.Finding, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	return s.Store.Findings(ctx, f)
}

// CreateFinding records a finding learned other than by matching (a researcher's report, a bulletin, a manual
// triage), with the reason in the audit trail. Needs PermAssess.
func (s *Service) CreateFinding(ctx context.Context, f *vigil.Finding, reason string) error {
	if _, err := vigil.Authorize(ctx, vigil.PermAssess); err != nil {
		return err
	}
	return s.Store.CreateFinding(ctx, f, reason)
}

// SetFindingState closes or reopens a finding, with the reason in the audit trail. Needs PermAssess.
func (s *Service) SetFindingState(ctx context.Context, id int64, state vigil.FindingState, reason string) error {
	if _, err := vigil.Authorize(ctx, vigil.PermAssess); err != nil {
		return err
	}
	return s.Store.SetFindingState(ctx, id, state, reason)
}

// Cases lists cases (open and needs_review unless the filter names states). Needs PermRead.
func (s *Service) Cases(ctx context.Context, f vigil.CaseFilter) ([]*vigil.Case, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	return s.Store.Cases(ctx, f)
}

// OpenCase opens a case not from matching (a report, an advisory about the device), learned on c.Learned, with the
// reason in the audit trail. Needs PermAssess.
func (s *Service) OpenCase(ctx context.Context, c *vigil.Case, reason string) error {
	if _, err := vigil.Authorize(ctx, vigil.PermAssess); err != nil {
		return err
	}
	return s.Store.OpenCase(ctx, c, reason)
}

// Retract withdraws a record of a case with a reason; the determination is made without it from then on. Needs
// PermAssess.
func (s *Service) Retract(ctx context.Context, r *vigil.Retraction) error {
	if _, err := vigil.Authorize(ctx, vigil.PermAssess); err != nil {
		return err
	}
	return s.Store.Retract(ctx, r)
}

// SetLearned corrects a case's D0 with a reason and a reference to the evidence. Needs PermAssess.
func (s *Service) SetLearned(ctx context.Context, caseID int64, learned vigil.Date, reason, evidence string) error {
	if _, err := vigil.Authorize(ctx, vigil.PermAssess); err != nil {
		return err
	}
	return s.Store.SetLearned(ctx, caseID, learned, reason, evidence)
}

// SetCaseState closes, reopens or marks for review a case, with the reason in the audit trail. Closing keeps every
// unmet obligation in Deadlines. Closing carries the closer's Part 11 signature (sig) unless the organization
// switched that requirement off; the closure and its signature are recorded together. Needs PermAssess.
func (s *Service) SetCaseState(ctx context.Context, id int64, state vigil.CaseState, reason string, sig *vigil.SignRequest) error {
	return s.SetCasesState(ctx, []int64{id}, state, reason, sig)
}

// SetCasesState is SetCaseState for several cases at once (the queue's bulk action), in one transaction: all of
// them or none. Closing them is one act of one signer, signed once: the signer proves who they are once (one
// password, or one one-time signing code, redeemed once), and each case's closure is signed on its own act record.
func (s *Service) SetCasesState(ctx context.Context, ids []int64, state vigil.CaseState, reason string, sig *vigil.SignRequest) error {
	if _, err := vigil.Authorize(ctx, vigil.PermAssess); err != nil {
		return err
	}
	if err := state.Validate(); err != nil {
		return err
	}
	if state != vigil.CaseClosed {
		if sig != nil {
			return vigil.Errorf(vigil.EINVALID, "signature: only closing a case is signed, not marking it %s", state)
		}
		return s.Store.SetCasesState(ctx, ids, state, reason)
	}
	if strings.TrimSpace(reason) == "" {
		return vigil.Errorf(vigil.EINVALID, "reason: required")
	}
	sctx, err := vigil.GateAct(ctx, s.Signing, vigil.ActCaseClosure, sig)
	if err != nil {
		return err
	}
	return s.Store.SetCasesState(sctx, ids, state, reason)
}

// MergeCases merges a duplicate case into another of the same device. Needs PermAssess.
func (s *Service) MergeCases(ctx context.Context, into, dup int64, reason string) error {
	if _, err := vigil.Authorize(ctx, vigil.PermAssess); err != nil {
		return err
	}
	return s.Store.MergeCases(ctx, into, dup, reason)
}

// SplitCase takes findings out of a case into a new case, or opens the case's vulnerability on another device, D0
// kept (vigil.SplitInput). Needs PermAssess.
func (s *Service) SplitCase(ctx context.Context, in vigil.SplitInput) (*vigil.Case, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermAssess); err != nil {
		return nil, err
	}
	return s.Store.SplitCase(ctx, in)
}

// SetCaseOwner gives a case to a user ("" for nobody), with a reason. Needs PermAssess.
func (s *Service) SetCaseOwner(ctx context.Context, id int64, owner, reason string) error {
	if _, err := vigil.Authorize(ctx, vigil.PermAssess); err != nil {
		return err
	}
	return s.Store.SetCaseOwner(ctx, id, owner, reason)
}

// SetVersionVEX records the VEX status of one version of a case's device. Needs PermAssess.
func (s *Service) SetVersionVEX(ctx context.Context, v *vigil.VersionVEX) error {
	if _, err := vigil.Authorize(ctx, vigil.PermAssess); err != nil {
		return err
	}
	return s.Store.SetVersionVEX(ctx, v)
}

// SetCaseVEX records one VEX status for every version the case affects (its findings' versions), each its own
// audited record: the queue's bulk action. It returns the records made. Needs PermAssess.
func (s *Service) SetCaseVEX(ctx context.Context, caseID int64, tmpl vigil.VersionVEX) ([]*vigil.VersionVEX, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermAssess); err != nil {
		return nil, err
	}
	if err := tmpl.Validate(); err != nil {
		return nil, err
	}
	v, err := s.CaseView(ctx, caseID, vigil.Date{})
	if err != nil {
		return nil, err
	}
	var out []*vigil.VersionVEX
	for _, vs := range v.Versions {
		if slices.ContainsFunc(out, func(x *vigil.VersionVEX) bool { return x.VersionID == vs.VersionID }) {
			continue
		}
		x := tmpl
		x.CaseID, x.VersionID = v.Case.ID, vs.VersionID
		if err := s.Store.SetVersionVEX(ctx, &x); err != nil {
			return out, err
		}
		out = append(out, &x)
	}
	if len(out) == 0 {
		return nil, vigil.Errorf(vigil.EINVALID, "case %d affects no version yet: set a version's status on the case page", v.Case.ID)
	}
	return out, nil
}

// SetDisclosure records the case's disclosure coordination as it now stands (the embargo, the partners, the CVE,
// the publication, the credit line), with a reason. Needs PermIntake. It returns the record.
func (s *Service) SetDisclosure(ctx context.Context, caseID int64, d vigil.Disclosure, reason string) (*vigil.CaseDisclosure, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermIntake); err != nil {
		return nil, err
	}
	rec := &vigil.CaseDisclosure{CaseID: caseID, Disclosure: d, Reason: reason}
	if err := s.Store.SetCaseDisclosure(ctx, rec); err != nil {
		return nil, err
	}
	return rec, nil
}
