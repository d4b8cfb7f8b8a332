package portfolio

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/match"
	"github.com/vigil-dev/vigil/internal/sbom"
	"github.com/vigil-dev/vigil/internal/untrusted"
)

// Matcher returns the matching engine over the intelligence store: each Match looks up only the advisories that
// name the components (one indexed query per batch of keys), so a cold process never loads the whole store.
func (s *Service) Matcher(opt match.Options) *match.Engine {
	return match.New(match.SourceFunc(s.Store.AdvisoriesFor), opt)
}

// MatchComponents matches components against the intelligence store: one finding per (component, vulnerability
// id as the feed names it), with evidence. Re-matching a device version's stored components goes through here.
// Needs PermRead.
func (s *Service) MatchComponents(ctx context.Context, comps []vigil.Component, opt match.Options) ([]vigil.Finding, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	return s.Matcher(opt).Match(ctx, comps)
}

// ScanOptions tune an ad-hoc scan.
type ScanOptions struct {
	// Ecosystem is declared for components without a purl (their group and name are read in it).
	Ecosystem string
	// Limits bound the SBOM read; zero means the defaults.
	Limits untrusted.Limits
}

// ScanResult is an SBOM matched against the intelligence store. Nothing of it is stored.
type ScanResult struct {
	Name     string          // the SBOM's file name, as given
	Digest   string          // SHA-256 of the SBOM's bytes, hex
	Document *sbom.Document  // the parsed SBOM
	Findings []vigil.Finding // sorted by component position, then vulnerability id
	// NoIntel is true when the store has never imported intelligence: no findings then means "not checked".
	NoIntel bool
}

// Scan parses an SBOM (CycloneDX or SPDX, bounded) and matches its components against the store, storing
// nothing. An SBOM that cannot be read is EINVALID naming the file and field. Needs PermRead.
func (s *Service) Scan(ctx context.Context, r io.Reader, name string, opt ScanOptions) (*ScanResult, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	sum := sha256.New()
	doc, err := sbom.Parse(name, io.TeeReader(r, sum), opt.Limits)
	if err != nil {
		return nil, err
	}
	res := &ScanResult{Name: name, Digest: hex.EncodeToString(sum.Sum(nil)), Document: doc}
	if runs, err := s.Store.IntelRuns(ctx, 1); err == nil && len(runs) == 0 {
		res.NoIntel = true
	}
	res.Findings, err = s.MatchComponents(ctx, doc.Components, match.Options{Ecosystem: opt.Ecosystem})
	if err != nil {
		return nil, err
	}
	return res, nil
}
