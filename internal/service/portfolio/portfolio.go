// Package portfolio is the portfolio use case: the organization, its devices, their versions and consignees, each
// version's SBOM, and the findings matched on it. An SBOM import stores the components and re-matches the version
// in one call; an intelligence import ends with RematchChanged, which re-matches only the versions holding a package
// the import changed. Every read and write is authorized here (vigil.Authorize), whoever the caller: the command
// line, the web layer or a job. It owns no storage: it works through Store, which internal/app fills with the
// database.
package portfolio

import (
	"context"

	"github.com/vigil-dev/vigil"
)

// Store is what the portfolio needs from storage.
type Store interface {
	vigil.PortfolioService
	// ImportSBOM stores comps as the version's current SBOM (keeping the previous as history) and returns the
	// previous components; check (when not nil) sees them first, in the same transaction, and may refuse.
	ImportSBOM(ctx context.Context, versionID int64, comps []vigil.Component, meta vigil.SBOMMeta, check func(previous []vigil.Component) error) ([]vigil.Component, error)
	Where(ctx context.Context, ref string) ([]vigil.Where, error)
	Findings(ctx context.Context, f vigil.FindingFilter) ([]*vigil.Finding, error)
	SyncFindings(ctx context.Context, versionID int64, found []vigil.Finding) (opened, resolved int, err error)
	// SyncFindingsOf is SyncFindings over the components scope accepts (by Component.FindingKey) and the
	// vulnerability ids vulns (nil: all), the others' findings left as they are (and unread, with vulns).
	SyncFindingsOf(ctx context.Context, versionID int64, found []vigil.Finding, scope func(compKey string) bool, vulns []string) (opened, resolved int, err error)
	// SyncFindingsDelta is SyncFindingsOf over many versions in one transaction (each finding's VersionID set; scope
	// by version and component key), a stored finding of vulns on a component the version no longer holds in scope
	// too.
	SyncFindingsDelta(ctx context.Context, versionIDs []int64, found []vigil.Finding, scope func(versionID int64, compKey string) bool, vulns []string) (opened, resolved int, err error)

	// AdvisoriesFor returns the advisories filed under any of keys (spelled as an SBOM spells them).
	AdvisoriesFor(ctx context.Context, keys []vigil.PackageKey) ([]*vigil.Advisory, error)
	// AdvisoriesOfVersions hands add, a batch at a time in storage order, the match records of every advisory that
	// names a key of the reverse index of versionIDs (nil: every version), withdrawn ones left out.
	AdvisoriesOfVersions(ctx context.Context, versionIDs []int64, add func([]*vigil.Advisory)) error
	IntelRuns(ctx context.Context, limit int) ([]*vigil.IntelRun, error)
	// ChangedKeys returns the package keys whose advisories changed in the import runs after afterRun, and the
	// newest run.
	ChangedKeys(ctx context.Context, afterRun int64) ([]vigil.PackageKey, int64, error)
	// ChangedIDs returns the ids of the advisories changed in the import runs (afterRun, lastRun]; complete is false
	// when some of those runs recorded none (before the store kept them).
	ChangedIDs(ctx context.Context, afterRun, lastRun int64) (ids []string, complete bool, err error)
	// AdvisoriesByID returns the match records of every source's advisories with one of ids, withdrawn ones left out.
	AdvisoriesByID(ctx context.Context, ids []string) ([]*vigil.Advisory, error)
	// VersionsForKeys returns the device versions holding a component under one of keys (the reverse index).
	VersionsForKeys(ctx context.Context, keys []vigil.PackageKey) ([]int64, error)
	// ComponentsForKeys returns the current components carrying one of keys, with the components of their version
	// sharing their Component.FindingKey, sorted by version (the reverse index names them).
	ComponentsForKeys(ctx context.Context, keys []vigil.PackageKey) ([]vigil.Component, error)
	// ComponentKeysStale reports whether the version's reverse index rows differ from keys (match.StoreKeys of its
	// components).
	ComponentKeysStale(ctx context.Context, versionID int64, keys []vigil.PackageKey) (bool, error)
	RefreshComponentKeys(ctx context.Context, versionID int64, comps []vigil.Component) (bool, error)
	KV(ctx context.Context, k string) (string, error)
	SetKV(ctx context.Context, k, v string) error
}

// Service is the portfolio use case. It implements vigil.PortfolioService.
type Service struct {
	Store Store
}

var _ vigil.PortfolioService = (*Service)(nil)

// may runs fn when the caller holds perm.
func may[T any](ctx context.Context, perm string, fn func() (T, error)) (T, error) {
	if _, err := vigil.Authorize(ctx, perm); err != nil {
		var zero T
		return zero, err
	}
	return fn()
}

// write runs fn when the caller may change the portfolio.
func write(ctx context.Context, fn func() error) error {
	if _, err := vigil.Authorize(ctx, vigil.PermPortfolio); err != nil {
		return err
	}
	return fn()
}

func (s *Service) CreateOrg(ctx context.Context, o *vigil.Organization) error {
	return write(ctx, func() error { return s.Store.CreateOrg(ctx, o) })
}

func (s *Service) UpdateOrg(ctx context.Context, o *vigil.Organization, reason string) error {
	return write(ctx, func() error { return s.Store.UpdateOrg(ctx, o, reason) })
}

func (s *Service) Org(ctx context.Context, id int64) (*vigil.Organization, error) {
	return may(ctx, vigil.PermRead, func() (*vigil.Organization, error) { return s.Store.Org(ctx, id) })
}

func (s *Service) Orgs(ctx context.Context) ([]*vigil.Organization, error) {
	return may(ctx, vigil.PermRead, func() ([]*vigil.Organization, error) { return s.Store.Orgs(ctx) })
}

func (s *Service) CreateDevice(ctx context.Context, d *vigil.Device) error {
	return write(ctx, func() error { return s.Store.CreateDevice(ctx, d) })
}

func (s *Service) UpdateDevice(ctx context.Context, d *vigil.Device, reason string) error {
	return write(ctx, func() error { return s.Store.UpdateDevice(ctx, d, reason) })
}

func (s *Service) Device(ctx context.Context, id int64) (*vigil.Device, error) {
	return may(ctx, vigil.PermRead, func() (*vigil.Device, error) { return s.Store.Device(ctx, id) })
}

func (s *Service) DeviceByName(ctx context.Context, name string) (*vigil.Device, error) {
	return may(ctx, vigil.PermRead, func() (*vigil.Device, error) { return s.Store.DeviceByName(ctx, name) })
}

func (s *Service) Devices(ctx context.Context) ([]*vigil.Device, error) {
	return may(ctx, vigil.PermRead, func() ([]*vigil.Device, error) { return s.Store.Devices(ctx) })
}

func (s *Service) CreateVersion(ctx context.Context, v *vigil.DeviceVersion) error {
	return write(ctx, func() error { return s.Store.CreateVersion(ctx, v) })
}

func (s *Service) UpdateVersion(ctx context.Context, v *vigil.DeviceVersion, reason string) error {
	return write(ctx, func() error { return s.Store.UpdateVersion(ctx, v, reason) })
}

func (s *Service) Version(ctx context.Context, id int64) (*vigil.DeviceVersion, error) {
	return may(ctx, vigil.PermRead, func() (*vigil.DeviceVersion, error) { return s.Store.Version(ctx, id) })
}

func (s *Service) VersionByName(ctx context.Context, deviceID int64, version string) (*vigil.DeviceVersion, error) {
	return may(ctx, vigil.PermRead, func() (*vigil.DeviceVersion, error) { return s.Store.VersionByName(ctx, deviceID, version) })
}

func (s *Service) Versions(ctx context.Context, deviceID int64) ([]*vigil.DeviceVersion, error) {
	return may(ctx, vigil.PermRead, func() ([]*vigil.DeviceVersion, error) { return s.Store.Versions(ctx, deviceID) })
}

// SetComponents replaces a version's components without an SBOM document (and without re-matching: the demo and
// tests seed components before any intelligence exists).
func (s *Service) SetComponents(ctx context.Context, versionID int64, comps []vigil.Component, source string) error {
	return write(ctx, func() error { return s.Store.SetComponents(ctx, versionID, comps, source) })
}

func (s *Service) Components(ctx context.Context, versionID int64) ([]vigil.Component, error) {
	return may(ctx, vigil.PermRead, func() ([]vigil.Component, error) { return s.Store.Components(ctx, versionID) })
}

func (s *Service) CreateConsignee(ctx context.Context, c *vigil.Consignee) error {
	return write(ctx, func() error { return s.Store.CreateConsignee(ctx, c) })
}

func (s *Service) UpdateConsignee(ctx context.Context, c *vigil.Consignee, reason string) error {
	return write(ctx, func() error { return s.Store.UpdateConsignee(ctx, c, reason) })
}

func (s *Service) DeleteConsignee(ctx context.Context, id int64, reason string) error {
	return write(ctx, func() error { return s.Store.DeleteConsignee(ctx, id, reason) })
}

func (s *Service) Consignee(ctx context.Context, id int64) (*vigil.Consignee, error) {
	return may(ctx, vigil.PermRead, func() (*vigil.Consignee, error) { return s.Store.Consignee(ctx, id) })
}

func (s *Service) Consignees(ctx context.Context) ([]*vigil.Consignee, error) {
	return may(ctx, vigil.PermRead, func() ([]*vigil.Consignee, error) { return s.Store.Consignees(ctx) })
}

// Where lists every device version that ships a component (name, name@version or purl). Needs PermRead.
func (s *Service) Where(ctx context.Context, ref string) ([]vigil.Where, error) {
	return may(ctx, vigil.PermRead, func() ([]vigil.Where, error) { return s.Store.Where(ctx, ref) })
}
