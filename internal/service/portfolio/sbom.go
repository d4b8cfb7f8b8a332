package portfolio

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/sbom"
	"github.com/vigil-dev/vigil/internal/untrusted"
)

// MaxSBOMBytes bounds an uploaded SBOM (the parser bounds components and depth too).
const MaxSBOMBytes = 64 << 20

// SBOMResult is what importing an SBOM onto a device version did.
type SBOMResult struct {
	VersionID  int64           `json:"version_id"`
	Format     string          `json:"format"`
	Spec       string          `json:"spec_version"`
	Digest     string          `json:"sha256"`
	Components int             `json:"components"`
	Diff       sbom.DiffResult `json:"diff"`
	Opened     int             `json:"findings_opened"`
	Resolved   int             `json:"findings_resolved"`
	Matched    bool            `json:"matched"` // false when no vulnerability data is loaded yet
}

// SBOMOptions are the choices of one SBOM import.
type SBOMOptions struct {
	// AllowShrink confirms an SBOM with no components or one dropping more than half the current SBOM's
	// components; without it such an import is refused with a *sbom.ShrinkError (EINVALID) and changes nothing.
	AllowShrink bool
}

// ImportSBOM parses an SBOM, stores it as the version's current one (keeping the previous as history) in one
// transaction, and re-matches the version so its findings reflect the new components at once. Nothing is stored
// from a document the parser rejects, nor from one that shrinks the SBOM unless opt.AllowShrink.
func (s *Service) ImportSBOM(ctx context.Context, versionID int64, r io.Reader, name string, opt SBOMOptions) (*SBOMResult, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermPortfolio); err != nil {
		return nil, err
	}
	b, err := io.ReadAll(io.LimitReader(r, MaxSBOMBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if len(b) > MaxSBOMBytes {
		return nil, vigil.Errorf(vigil.EINVALID, "%s: larger than %d MiB", name, MaxSBOMBytes>>20)
	}
	doc, err := sbom.Parse(name, bytes.NewReader(b), untrusted.Limits{})
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(b)
	res := &SBOMResult{VersionID: versionID, Format: doc.Format, Spec: doc.SpecVersion, Digest: hex.EncodeToString(sum[:]), Components: len(doc.Components)}
	var check func([]vigil.Component) error
	if !opt.AllowShrink {
		check = func(prev []vigil.Component) error { return sbom.CheckShrink(name, prev, doc.Components) }
	}
	prev, err := s.Store.ImportSBOM(ctx, versionID, doc.Components, vigil.SBOMMeta{Source: name, Format: doc.Format + " " + doc.SpecVersion, Digest: res.Digest}, check)
	var shrink *sbom.ShrinkError
	if errors.As(err, &shrink) {
		return nil, err // names the file already
	} else if vigil.ErrorCode(err) == vigil.EINVALID {
		return nil, fmt.Errorf("sbom %s: %w", name, err) // the store's text rule names the component and field
	} else if err != nil {
		return nil, err
	}
	res.Diff = sbom.Diff(prev, doc.Components)
	res.Opened, res.Resolved, res.Matched, err = s.RematchVersion(ctx, versionID)
	return res, err
}
