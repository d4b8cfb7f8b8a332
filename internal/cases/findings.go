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
