package cases

import (
	"context"

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
// unmet obligation in Deadlines. Needs PermAssess.
func (s *Service) SetCaseState(ctx context.Context, id int64, state vigil.CaseState, reason string) error {
	if _, err := vigil.Authorize(ctx, vigil.PermAssess); err != nil {
		return err
	}
	return s.Store.SetCaseState(ctx, id, state, reason)
}

// MergeCases merges a duplicate case into another of the same device. Needs PermAssess.
func (s *Service) MergeCases(ctx context.Context, into, dup int64, reason string) error {
	if _, err := vigil.Authorize(ctx, vigil.PermAssess); err != nil {
		return err
	}
	return s.Store.MergeCases(ctx, into, dup, reason)
}
