package readmodel

import (
	"context"
	"fmt"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/cases"
)

// Vulns answers intel's look-ups through the snapshot cache.
func (q *Queries) Vulns(intel vigil.VulnService) vigil.VulnService {
	return cachedVulns{q: q, intel: intel}
}

// Threats reads threat models through the snapshot cache; writes go to t.
func (q *Queries) Threats(t vigil.ThreatModelService) vigil.ThreatModelService {
	return cachedThreats{ThreatModelService: t, q: q}
}

// Portfolio reads the device list through the snapshot cache; everything else goes to p.
func (q *Queries) Portfolio(p vigil.PortfolioService) vigil.PortfolioService {
	return cachedPortfolio{PortfolioService: p, q: q}
}

// Cases returns the screens' case service: cs reading the organization, devices and versions, and KEV and EPSS,
// through the snapshot cache (the cache's own case service reads the store: it is what refreshes the cache).
func (q *Queries) Cases(cs *cases.Service) *cases.Service {
	c := *cs
	c.Store = cachedCaseStore{Store: cs.Store, q: q}
	if cs.Intel != nil {
		c.Intel = q.Vulns(cs.Intel)
	}
	return &c
}

// cachedVulns answers intelligence look-ups from the snapshot cache: the intelligence changes only with an import,
// which the audit trail records, while a finding page asks for its vulnerability (by every alias) on each view.
type cachedVulns struct {
	q     *Queries
	intel vigil.VulnService
}

type vulnAnswer struct {
	v   *vigil.Vulnerability
	err error
}

func (c cachedVulns) Vuln(ctx context.Context, id string) (*vigil.Vulnerability, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	a, err := c.q.cached(ctx, "vuln:"+id, func(ctx context.Context, _ *snapshot) (any, error) {
		v, err := c.intel.Vuln(ctx, id)
		if err != nil && vigil.ErrorCode(err) == vigil.EINTERNAL {
			return nil, err // not cached: a failure, not an answer
		}
		return vulnAnswer{v, err}, nil
	})
	if err != nil {
		return nil, err
	}
	return a.(vulnAnswer).v, a.(vulnAnswer).err
}

func (c cachedVulns) Vulns(ctx context.Context, f vigil.VulnFilter) ([]*vigil.Vulnerability, error) {
	return c.intel.Vulns(ctx, f)
}

// cachedThreats reads threat models through the snapshot cache (every write to a model is audited, which moves
// the snapshot on); writes go straight to the store.
type cachedThreats struct {
	vigil.ThreatModelService
	q *Queries
}

func (c cachedThreats) ThreatModel(ctx context.Context, deviceID int64) (*vigil.ThreatModel, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	m, err := c.q.cached(ctx, fmt.Sprintf("threatmodel:%d", deviceID), func(ctx context.Context, _ *snapshot) (any, error) {
		return c.ThreatModelService.ThreatModel(ctx, deviceID)
	})
	if err != nil {
		return nil, err
	}
	return m.(*vigil.ThreatModel), nil
}

// cachedPortfolio reads the device list through the snapshot cache (every device write is audited, and moves the
// snapshot on): the findings list names every device in its filter. The devices are shared: callers only read them.
type cachedPortfolio struct {
	vigil.PortfolioService
	q *Queries
}

func (c cachedPortfolio) Devices(ctx context.Context) ([]*vigil.Device, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	ds, err := c.q.cached(ctx, "devices", func(ctx context.Context, _ *snapshot) (any, error) { return c.PortfolioService.Devices(ctx) })
	if err != nil {
		return nil, err
	}
	return ds.([]*vigil.Device), nil
}

// cachedCaseStore gives the screens' case service the organization, devices and versions through the snapshot
// cache: every finding page reads all three, they change rarely, and every change to them is audited (and starts a
// full refresh). Findings, assessments and events are read from the store: they are what a page is about.
type cachedCaseStore struct {
	cases.Store
	q *Queries
}

func (c cachedCaseStore) Orgs(ctx context.Context) ([]*vigil.Organization, error) {
	v, err := c.q.cached(ctx, "orgs", func(ctx context.Context, _ *snapshot) (any, error) { return c.Store.Orgs(ctx) })
	if err != nil {
		return nil, err
	}
	return v.([]*vigil.Organization), nil
}

func (c cachedCaseStore) Device(ctx context.Context, id int64) (*vigil.Device, error) {
	v, err := c.q.cached(ctx, fmt.Sprintf("device:%d", id), func(ctx context.Context, _ *snapshot) (any, error) { return c.Store.Device(ctx, id) })
	if err != nil {
		return nil, err
	}
	return v.(*vigil.Device), nil
}

func (c cachedCaseStore) Version(ctx context.Context, id int64) (*vigil.DeviceVersion, error) {
	v, err := c.q.cached(ctx, fmt.Sprintf("version:%d", id), func(ctx context.Context, _ *snapshot) (any, error) { return c.Store.Version(ctx, id) })
	if err != nil {
		return nil, err
	}
	return v.(*vigil.DeviceVersion), nil
}
