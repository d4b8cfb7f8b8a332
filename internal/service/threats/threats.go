// Package threats is the threat-model use case: each device's assets, threats and controls, which assessments
// trace to (internal/cases reads them to reach severity and controlled/uncontrolled). Reading needs
// vigil.PermRead; every change needs vigil.PermAssess and lands in the audit trail.
package threats

import (
	"context"

	"github.com/vigil-dev/vigil"
)

// Service is the threat-model use case. It implements vigil.ThreatModelService.
type Service struct {
	Store vigil.ThreatModelService
}

var _ vigil.ThreatModelService = (*Service)(nil)

func assess(ctx context.Context, fn func() error) error {
	if _, err := vigil.Authorize(ctx, vigil.PermAssess); err != nil {
		return err
	}
	return fn()
}

func (s *Service) CreateAsset(ctx context.Context, a *vigil.Asset) error {
	return assess(ctx, func() error { return s.Store.CreateAsset(ctx, a) })
}

func (s *Service) UpdateAsset(ctx context.Context, a *vigil.Asset, reason string) error {
	return assess(ctx, func() error { return s.Store.UpdateAsset(ctx, a, reason) })
}

func (s *Service) CreateThreat(ctx context.Context, t *vigil.Threat) error {
	return assess(ctx, func() error { return s.Store.CreateThreat(ctx, t) })
}

func (s *Service) UpdateThreat(ctx context.Context, t *vigil.Threat, reason string) error {
	return assess(ctx, func() error { return s.Store.UpdateThreat(ctx, t, reason) })
}

func (s *Service) CreateControl(ctx context.Context, c *vigil.Control) error {
	return assess(ctx, func() error { return s.Store.CreateControl(ctx, c) })
}

func (s *Service) UpdateControl(ctx context.Context, c *vigil.Control, reason string) error {
	return assess(ctx, func() error { return s.Store.UpdateControl(ctx, c, reason) })
}

// AssessTraced records an assessment traced to threats of the device's model (internal/cases calls it).
func (s *Service) AssessTraced(ctx context.Context, a *vigil.Assessment, threats []string) error {
	return assess(ctx, func() error { return s.Store.AssessTraced(ctx, a, threats) })
}

// Threat returns one threat of a device's model by reference. Needs PermRead.
func (s *Service) Threat(ctx context.Context, deviceID int64, ref string) (*vigil.Threat, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	return s.Store.Threat(ctx, deviceID, ref)
}

// ThreatModel returns a device's whole model. Needs PermRead.
func (s *Service) ThreatModel(ctx context.Context, deviceID int64) (*vigil.ThreatModel, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	return s.Store.ThreatModel(ctx, deviceID)
}

// AssessmentThreats returns, per assessment of a finding, the threats it traced to. Needs PermRead.
func (s *Service) AssessmentThreats(ctx context.Context, findingID int64) (map[int64][]string, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	return s.Store.AssessmentThreats(ctx, findingID)
}
