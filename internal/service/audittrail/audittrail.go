// Package audittrail is the evidence use case: reading the hash-chained audit trail every write appends to, taking
// a checkpoint of it, and verifying it (recomputing the chain, and that it still extends a checkpoint kept where
// database administrators cannot write). Reading needs vigil.PermRead; checkpoints and verification need
// vigil.PermAuditVerify.
package audittrail

import (
	"context"

	"github.com/vigil-dev/vigil"
)

// Service is the audit trail use case over a vigil.AuditService (the store).
type Service struct {
	Store vigil.AuditService
}

// Events lists audit events, newest first. Needs PermRead.
func (s *Service) Events(ctx context.Context, f vigil.AuditFilter) ([]*vigil.AuditEvent, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	return s.Store.Events(ctx, f)
}

// Checkpoint returns the trail's count and head hash. Needs PermAuditVerify.
func (s *Service) Checkpoint(ctx context.Context) (vigil.AuditCheckpoint, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermAuditVerify); err != nil {
		return vigil.AuditCheckpoint{}, err
	}
	return s.Store.Checkpoint(ctx)
}

// Verify recomputes the chain (and checks that it extends cp, when given) and reconciles every audited record
// with it: the report, and EINVALID naming the first problem. Needs PermAuditVerify.
func (s *Service) Verify(ctx context.Context, cp *vigil.AuditCheckpoint) (vigil.AuditReport, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermAuditVerify); err != nil {
		return vigil.AuditReport{}, err
	}
	return s.Store.Verify(ctx, cp)
}

// VerifyChain is Verify without a checkpoint (the audit screen's button).
func (s *Service) VerifyChain(ctx context.Context) (vigil.AuditReport, error) {
	return s.Verify(ctx, nil)
}
