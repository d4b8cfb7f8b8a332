// Package readmodel answers the screens' portfolio-wide questions (internal/web's Queries: pages of findings, every
// open clock, the dashboard's aggregates) fast at 100,000 findings, and gives the screens cached look-ups of what
// every page reads (devices, versions, the organization, vulnerabilities, threat models). Determinations come from
// the cases service, the same function every finding page and the CLI call, and are cached in a snapshot that
// follows the audit trail: every write appends to it, so a refresh recomputes exactly what changed. The models are
// web's types: this package implements the interfaces the web layer declares, over Store.
package readmodel

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/cases"
	"github.com/vigil-dev/vigil/internal/service/intel"
	"github.com/vigil-dev/vigil/internal/web"
)

// Store is what the read models read: the audit trail's head and changes (to follow every write), and the
// portfolio queries behind the screens (internal/store/views.go).
type Store interface {
	// AuditHead is the sequence number of the newest audit event: every write moves it.
	AuditHead(ctx context.Context) (int64, error)
	// AuditChanges returns the events after seq after, up to and including upto.
	AuditChanges(ctx context.Context, after, upto int64) ([]vigil.AuditChange, error)
	AssessedFindingIDs(ctx context.Context) ([]int64, error)
	HasAssessment(ctx context.Context, findingID int64) (bool, error)
	// FindingListKey names the findings q selects, apart from its cursors and limit.
	FindingListKey(q vigil.FindingListQuery) (string, error)
	CountFindings(ctx context.Context, q vigil.FindingListQuery) (int, error)
	FindingList(ctx context.Context, q vigil.FindingListQuery) (*vigil.FindingList, error)
	OpenCounts(ctx context.Context) ([]vigil.OpenCount, error)
	FindingDayCounts(ctx context.Context) (firstSeen, resolved []vigil.DayCount, err error)
	FixEvents(ctx context.Context) ([]vigil.FixEvent, error)
	// KEVCatalog returns the listed KEV entries by CVE, as stored (a vigil.KEVEntry in JSON).
	KEVCatalog(ctx context.Context) (map[string]json.RawMessage, error)
	OpenFindingsForKEV(ctx context.Context) ([]vigil.KEVCandidate, error)
}

// Sources reports the configured feeds and the import runs as the sources screen shows them (web.Sources).
type Sources struct{ Intel *intel.Service }

func (s Sources) Sources(ctx context.Context) ([]web.Source, error) {
	fs, err := s.Intel.Feeds(ctx)
	if err != nil {
		return nil, err
	}
	out := []web.Source{}
	for _, f := range fs {
		src := web.Source{Name: f.Name, URL: f.URL, Schedule: "every " + f.Every.String(), LastAttempt: f.LastAttempt, LastSuccess: f.LastSuccess,
			LastError: f.LastError, Failures: f.Failures, NextRun: f.NextAttempt}
		if !f.Enabled {
			src.Schedule = "disabled"
		}
		src.Counts = feedCounts(f.Counts)
		out = append(out, src)
	}
	return out, nil
}

func (s Sources) Runs(ctx context.Context, limit int) ([]web.ImportRun, error) {
	runs, err := s.Intel.Runs(ctx, limit)
	if err != nil {
		return nil, err
	}
	out := []web.ImportRun{}
	for _, r := range runs {
		ir := web.ImportRun{ID: r.ID, StartedAt: r.StartedAt, Actor: r.Actor, Sources: []web.RunSource{}}
		for _, sum := range r.Summaries {
			ir.Sources = append(ir.Sources, web.RunSource{Source: sum.Source, Added: sum.Added, Updated: sum.Updated, Unchanged: sum.Unchanged,
				Withdrawn: sum.Withdrawn, Rejected: len(sum.Rejected)})
		}
		out = append(out, ir)
	}
	return out, nil
}

// feedCounts sums a feed's last run summaries ({"added","updated",...} per source) into counts by kind.
func feedCounts(raw json.RawMessage) map[string]int {
	if len(raw) == 0 {
		return nil
	}
	var sums []map[string]any
	if err := json.Unmarshal(raw, &sums); err != nil {
		var one map[string]any
		if json.Unmarshal(raw, &one) != nil {
			return nil
		}
		sums = []map[string]any{one}
	}
	out := map[string]int{}
	for _, s := range sums {
		for _, k := range []string{"added", "updated", "unchanged", "withdrawn"} {
			if n, ok := s[k].(float64); ok && n > 0 {
				out[k] += int(n)
			}
		}
	}
	return out
}

// Queries answers the screens' portfolio-wide questions. Determinations are computed by the cases service
// (the same function every finding page and the CLI call) and cached per finding in a snapshot that follows the
// audit trail, which every write appends to in its own transaction: a refresh recomputes exactly the findings that
// changed, and everything when a device, the organization or the intelligence changed, or the day turned.
// Aggregates, counts and pages are cached per snapshot. Readers never wait for one another: a snapshot is
// immutable once published, and only refreshes are serialized.
type Queries struct {
	db    Store
	cases *cases.Service
	intel vigil.VulnService

	refreshMu sync.Mutex // one refresh at a time
	mu        sync.Mutex // guards snap and agg
	snap      *snapshot
	agg       map[string]aggEntry
	sizes     map[bool]int // entries in agg by class: lookup(key)
	inflight  map[string]*flight
}

// snapshot is the determination cache at one audit sequence and date. It is never modified once published.
type snapshot struct {
	seq int64
	// gen is the last change that may move an aggregate (anything but sign-ins and password changes); setGen the
	// last that may move the findings themselves or how they group (not an assessment or a dated event, which
	// PSIRT records all day long and which move only the risk, the clocks and the metrics). Cached values are
	// valid while their generation holds.
	gen, setGen int64
	today       vigil.Date
	zone        *time.Location        // the organization's, which today is counted in
	views       map[int64]*cases.View // every assessed finding
}

type aggEntry struct {
	gen int64 // the generation it was computed at (see snapshot)
	v   any
}

// New returns the read models over db. cs computes the determinations (as the system: the snapshot holds every
// finding, and each answer authorizes its caller); intel, optional, gives the dashboard its KEV hits.
func New(db Store, cs *cases.Service, intel vigil.VulnService) *Queries {
	return &Queries{db: db, cases: cs, intel: intel, agg: map[string]aggEntry{}, sizes: map[bool]int{}, inflight: map[string]*flight{}}
}

// headSeq is the newest audit event: it changes with every write to the store.
func (q *Queries) headSeq(ctx context.Context) (int64, error) {
	return q.db.AuditHead(ctx)
}

// current returns an up-to-date snapshot, refreshing it when the trail moved or the day turned. A page makes
// several cached look-ups; within one read-only request (see vigil.Memo) the trail is read once.
func (q *Queries) current(ctx context.Context) (*snapshot, error) {
	return vigil.Memo(ctx, snapshotMemo{q}, func() (*snapshot, error) { return q.latest(ctx) })
}

type snapshotMemo struct{ q *Queries }

func (q *Queries) latest(ctx context.Context) (*snapshot, error) {
	seq, err := q.headSeq(ctx)
	if err != nil {
		return nil, err
	}
	// The day is counted in the organization's zone. While the trail has not moved the organization has not
	// changed, so the zone the snapshot was built with still holds and the organization need not be read.
	q.mu.Lock()
	old := q.snap
	q.mu.Unlock()
	var today vigil.Date
	if old != nil && old.seq >= seq {
		today = vigil.DateOf(q.cases.Clock.Now(), old.zone)
	} else {
		today = q.cases.Today(ctx)
	}
	fresh := func() *snapshot {
		q.mu.Lock()
		defer q.mu.Unlock()
		if s := q.snap; s != nil && s.seq >= seq && s.today.Equal(today) {
			return s
		}
		return nil
	}
	if s := fresh(); s != nil {
		return s, nil
	}
	if !q.refreshMu.TryLock() {
		// Another request is refreshing (a full refresh takes a while at 100,000 findings): answer a read from the
		// snapshot in hand rather than queue every reader behind it. A write waits: it decides from what is
		// there now. So does a server with no snapshot yet.
		q.mu.Lock()
		s := q.snap
		q.mu.Unlock()
		if s != nil && vigil.ReadOnly(ctx) {
			return s, nil
		}
		q.refreshMu.Lock()
	}
	defer q.refreshMu.Unlock()
	if s := fresh(); s != nil {
		return s, nil // another request refreshed it meanwhile
	}
	q.mu.Lock()
	old = q.snap
	q.mu.Unlock()
	ns, err := q.refresh(ctx, old, seq, today)
	if err != nil {
		return nil, err
	}
	q.mu.Lock()
	q.snap = ns
	if old == nil || !old.today.Equal(ns.today) {
		// A new day moves every clock: nothing kept from yesterday is used again.
		q.agg, q.sizes = map[string]aggEntry{}, map[bool]int{}
	}
	// Otherwise what was kept is checked against the generations when asked for (see cached).
	q.mu.Unlock()
	return ns, nil
}

// refresh builds the snapshot at seq from old (nil: from scratch).
func (q *Queries) refresh(ctx context.Context, old *snapshot, seq int64, today vigil.Date) (*snapshot, error) {
	full := old == nil || !today.Equal(old.today)
	ns := &snapshot{seq: seq, gen: seq, setGen: seq, today: today, zone: q.cases.Zone(ctx)}
	var changed []int64
	if !full {
		ns.gen, ns.setGen = old.gen, old.setGen
		evs, err := q.db.AuditChanges(ctx, old.seq, seq)
		if err != nil {
			return nil, err
		}
		seen := map[int64]bool{}
		for _, e := range evs {
			n, action, typ, id := e.Seq, e.Action, e.ObjectType, e.ObjectID
			if typ != "user" {
				ns.gen = max(ns.gen, n) // sign-ins and password changes change no aggregate; anything else may
			}
			switch {
			case typ == "user", action == "finding.assess", action == "finding.event":
			case typ == "consignee" || typ == "asset" || typ == "threat" || typ == "control":
			default:
				ns.setGen = max(ns.setGen, n)
			}
			switch typ {
			case "finding":
				var f int64
				if _, err := fmt.Sscan(id, &f); err == nil && !seen[f] {
					seen[f] = true
					changed = append(changed, f)
				}
			case "user", "consignee", "asset", "threat", "control":
				// Not an input of any determination.
			default:
				// A device, the organization, a version sync or new intelligence: every determination may change.
				full = true
			}
		}
	}
	if full {
		ids, err := q.db.AssessedFindingIDs(ctx)
		if err != nil {
			return nil, err
		}
		ns.views = make(map[int64]*cases.View, len(ids))
		if err := q.loadViews(ctx, ids, ns.views); err != nil {
			return nil, err
		}
		return ns, nil
	}
	ns.views = make(map[int64]*cases.View, len(old.views)+len(changed))
	for id, v := range old.views {
		ns.views[id] = v
	}
	var assessed []int64
	for _, id := range changed {
		delete(ns.views, id)
		ok, err := q.db.HasAssessment(ctx, id)
		if err != nil {
			return nil, err
		}
		if ok {
			assessed = append(assessed, id)
		}
	}
	if err := q.loadViews(ctx, assessed, ns.views); err != nil {
		return nil, err
	}
	return ns, nil
}

// loadViews computes the views of ids with a few workers (each view is a handful of indexed reads).
func (q *Queries) loadViews(ctx context.Context, ids []int64, into map[int64]*cases.View) error {
	sys := vigil.WithActor(ctx, vigil.Actor{System: true, Name: "web-cache"})
	var mu sync.Mutex
	var firstErr error
	work := make(chan int64)
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range work {
				v, err := q.cases.View(sys, id, vigil.Date{})
				mu.Lock()
				if err != nil && vigil.ErrorCode(err) != vigil.ENOTFOUND && firstErr == nil {
					firstErr = err
				} else if err == nil {
					into[id] = v
				}
				mu.Unlock()
			}
		}()
	}
	for _, id := range ids {
		work <- id
	}
	close(work)
	wg.Wait()
	return firstErr
}

// cached returns the value under key for the current snapshot, computing it once when it is missing: requests
// that want a value being computed wait for that computation rather than start their own (at 100,000 findings the
// dashboard's aggregates take a moment, and fifty clients asking at once must not compute them fifty times).
func (q *Queries) cached(ctx context.Context, key string, compute func(ctx context.Context, s *snapshot) (any, error)) (any, error) {
	return q.cachedAt(ctx, key, false, compute)
}

// cachedSet is cached for a value that depends only on the findings and how they group, not on their assessments
// and events: it outlives the assessments PSIRT records (see snapshot.setGen).
func (q *Queries) cachedSet(ctx context.Context, key string, compute func(ctx context.Context, s *snapshot) (any, error)) (any, error) {
	return q.cachedAt(ctx, key, true, compute)
}

func (s *snapshot) generation(set bool) int64 {
	if set {
		return s.setGen
	}
	return s.gen
}

func (q *Queries) cachedAt(ctx context.Context, key string, set bool, compute func(ctx context.Context, s *snapshot) (any, error)) (any, error) {
	s, err := q.current(ctx)
	if err != nil {
		return nil, err
	}
	gen := s.generation(set)
	fkey := fmt.Sprintf("%d|%s", gen, key)
	q.mu.Lock()
	if e, ok := q.agg[key]; ok && e.gen == gen {
		q.mu.Unlock()
		return e.v, nil
	}
	if c, ok := q.inflight[fkey]; ok {
		q.mu.Unlock()
		select {
		case <-c.done:
			return c.v, c.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	c := &flight{done: make(chan struct{})}
	q.inflight[fkey] = c
	q.mu.Unlock()

	c.v, c.err = compute(ctx, s)

	q.mu.Lock()
	if cur := q.snap; c.err == nil && cur != nil && cur.generation(set) == gen && cur.today.Equal(s.today) {
		q.makeRoom(key)
		q.put(key, aggEntry{gen, c.v})
	}
	delete(q.inflight, fkey)
	q.mu.Unlock()
	close(c.done)
	return c.v, c.err
}

// maxCached bounds each class of cached values: the screens' aggregates, counts and first pages per filter; and
// the look-ups by id (vulnerabilities, threat models). The classes are bounded apart because look-ups are as many
// as the findings people open (100,000 vulnerabilities at 100,000 findings), and must not push out the dashboard
// and the counts every list shows.
const maxCached = 4096

// lookup tells a look-up by id from an aggregate.
func lookup(key string) bool {
	for _, p := range []string{"vuln:", "threatmodel:", "device:", "version:"} {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	return false
}

// makeRoom drops a tenth of the class of key when that class is full (arbitrary entries: Go's map order is
// random), never the dashboard's aggregates. The caller holds q.mu.
func (q *Queries) makeRoom(key string) {
	class := lookup(key)
	if _, ok := q.agg[key]; ok || q.sizes[class] < maxCached {
		return
	}
	drop := maxCached / 10
	for k := range q.agg {
		if lookup(k) == class && k != "overview" && k != "clocks" {
			q.del(k)
			if drop--; drop == 0 {
				return
			}
		}
	}
}

// put and del keep q.sizes true. The caller holds q.mu.
func (q *Queries) put(key string, e aggEntry) {
	if _, ok := q.agg[key]; !ok {
		q.sizes[lookup(key)]++
	}
	q.agg[key] = e
}

func (q *Queries) del(key string) {
	if _, ok := q.agg[key]; ok {
		q.sizes[lookup(key)]--
		delete(q.agg, key)
	}
}

// flight is one computation of a cached value, which other requests for the same value wait on.
type flight struct {
	done chan struct{}
	v    any
	err  error
}

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

// ---- pages of findings

// listQuery is the store's form of a screen's filter.
func listQuery(fq web.FindingQuery) vigil.FindingListQuery {
	return vigil.FindingListQuery{DeviceID: fq.DeviceID, VersionID: fq.VersionID, States: fq.States, Vuln: fq.Vuln, Text: fq.Text, Risk: fq.Risk,
		Since: fq.Since, After: fq.After, Before: fq.Before, Limit: fq.Limit}
}

func (q *Queries) FindingPage(ctx context.Context, fq web.FindingQuery) (*web.FindingPage, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	limit := fq.Limit
	if limit <= 0 || limit > 5000 {
		limit = 50
	}
	// The key names the findings the filter selects, so that filters selecting the same ones share their count
	// and first page.
	sel, err := q.db.FindingListKey(listQuery(fq))
	if err != nil {
		return nil, err
	}
	total := -1
	if !fq.NoTotal {
		n, err := q.cachedAt(ctx, "count:"+sel, fq.Risk == "", func(ctx context.Context, _ *snapshot) (any, error) {
			n, err := q.db.CountFindings(ctx, listQuery(fq))
			return n, err
		})
		if err != nil {
			return nil, err
		}
		total = n.(int)
	}
	fq.Limit = limit
	var p any
	if fq.After == 0 && fq.Before == 0 {
		// First pages are what people open again and again; pages deep in a list are cheap by cursor and rarely
		// asked twice, so they are not cached.
		key := fmt.Sprintf("page:%s:%d", sel, limit)
		p, err = q.cached(ctx, key, func(ctx context.Context, s *snapshot) (any, error) {
			p, err := q.rows(ctx, fq)
			if p != nil {
				p.Revision = fmt.Sprintf("%s@%d@%s", key, s.gen, s.today)
			}
			return p, err
		})
	} else {
		p, err = q.rows(ctx, fq)
	}
	if err != nil {
		return nil, err
	}
	page := *p.(*web.FindingPage) // the cached page is shared: copy before setting the total
	page.Total = total
	return &page, nil
}

// rows reads one page of findings at the query's cursor.
func (q *Queries) rows(ctx context.Context, fq web.FindingQuery) (*web.FindingPage, error) {
	l, err := q.db.FindingList(ctx, listQuery(fq))
	if err != nil {
		return nil, err
	}
	page := &web.FindingPage{Rows: make([]web.FindingRow, len(l.Rows)), Total: -1, Older: l.Older, Newer: l.Newer}
	for i, r := range l.Rows {
		page.Rows[i] = web.FindingRow{Finding: r.Finding, Device: r.Device, Version: r.Version, Risk: r.Risk, Severity: r.Severity}
	}
	return page, nil
}

// ---- clocks

func (q *Queries) Deadlines(ctx context.Context, f cases.DeadlineFilter) ([]cases.Deadline, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	all, err := q.cached(ctx, "clocks", func(ctx context.Context, s *snapshot) (any, error) { return clocksOf(s), nil })
	if err != nil {
		return nil, err
	}
	out := []cases.Deadline{}
	for _, d := range all.([]clock) {
		if f.OverdueOnly && !d.Overdue || f.Within > 0 && d.DaysLeft > f.Within || f.DeviceID != 0 && d.deviceID != f.DeviceID {
			continue
		}
		out = append(out, d.Deadline)
	}
	return out, nil
}

type clock struct {
	cases.Deadline
	deviceID int64
}

// clocksOf lists every open clock of a snapshot's determinations, soonest first.
func clocksOf(s *snapshot) []clock {
	var out []clock
	for _, v := range s.views {
		for _, d := range cases.Clocks(v) {
			out = append(out, clock{d, v.Device.ID})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].Due.Equal(out[j].Due) {
			return out[i].Due.Before(out[j].Due)
		}
		return out[i].FindingID < out[j].FindingID
	})
	return out
}

// ---- the dashboard

func (q *Queries) Overview(ctx context.Context, since time.Time) (*web.Overview, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	v, err := q.cached(ctx, "overview", func(ctx context.Context, s *snapshot) (any, error) { return q.overview(ctx, s) })
	if err != nil {
		return nil, err
	}
	c := *v.(*web.Overview) // the cached aggregates are shared and never modified: copy before adding to them
	ov := &c
	if !since.IsZero() {
		since = since.UTC().Truncate(time.Second)
		fq := web.FindingQuery{Since: since, Limit: 10}
		key := since.Format(time.RFC3339)
		// How many are new depends only on the findings (a count over all of them: kept across assessments); the
		// ten shown carry their risk, so they follow every change.
		n, err := q.cachedSet(ctx, "newcount:"+key, func(ctx context.Context, _ *snapshot) (any, error) {
			return q.db.CountFindings(ctx, listQuery(fq))
		})
		if err != nil {
			return nil, err
		}
		rows, err := q.cached(ctx, "new:"+key, func(ctx context.Context, _ *snapshot) (any, error) {
			p, err := q.rows(ctx, fq)
			if err != nil {
				return nil, err
			}
			return p.Rows, nil
		})
		if err != nil {
			return nil, err
		}
		ov.NewSince, ov.NewCount, ov.NewFindings = since, n.(int), rows.([]web.FindingRow)
	}
	return ov, nil
}

// overview computes the shared aggregates of a snapshot: the findings' part (see overviewSet) kept across
// assessments, then what the determinations say.
func (q *Queries) overview(ctx context.Context, snap *snapshot) (*web.Overview, error) {
	b, err := q.cachedSet(ctx, "overview-set", func(ctx context.Context, s *snapshot) (any, error) { return q.overviewSet(ctx, s) })
	if err != nil {
		return nil, err
	}
	base := b.(*web.Overview)
	ov := &web.Overview{AsOf: snap.today, Revision: fmt.Sprintf("%d@%s", snap.gen, snap.today), Clocks: []cases.Deadline{}, NewFindings: []web.FindingRow{},
		Open: base.Open, CouldNotEval: base.CouldNotEval, KEV: base.KEV, KEVAvailable: base.KEVAvailable, OpenOverTime: base.OpenOverTime,
		BySeverity: []web.Count{}, ByRisk: []web.Count{}, ByDevice: slices.Clone(base.ByDevice), ByVersion: slices.Clone(base.ByVersion),
		IdentToPatch: []web.Metric{}, PatchToField: []web.Metric{}}
	for _, c := range clocksOf(snap) {
		ov.Clocks = append(ov.Clocks, c.Deadline)
	}
	devIdx, verIdx := map[int64]int{}, map[int64]int{}
	for i, c := range ov.ByDevice {
		devIdx[c.ID] = i
	}
	for i, c := range ov.ByVersion {
		verIdx[c.ID] = i
	}

	// Risk and severity from the determinations (the current risk, after any reassessment).
	sev := map[string]int{}
	controlled := 0
	for _, v := range snap.views {
		st := v.Finding.State
		if st != vigil.FindingOpen && st != vigil.FindingCouldNotEval {
			continue
		}
		var cur vigil.Risk
		if v.Determination != nil {
			cur = v.Determination.CurrentRisk
		} else if n := len(v.Assessments); n > 0 {
			cur = v.Assessments[n-1].Risk
		}
		if cur == vigil.RiskUncontrolled {
			ov.Uncontrolled++
			if i, ok := devIdx[v.Device.ID]; ok {
				ov.ByDevice[i].Extra++
			}
			if j, ok := verIdx[v.Version.ID]; ok {
				ov.ByVersion[j].Extra++
			}
		} else {
			controlled++
		}
		if n := len(v.Assessments); n > 0 {
			sev[v.Assessments[n-1].Severity]++
		}
	}
	assessedOpen := ov.Uncontrolled + controlled
	ov.Unassessed = ov.Open + ov.CouldNotEval - assessedOpen
	for _, s := range []string{vigil.HarmCatastrophic, vigil.HarmCritical, vigil.HarmSerious, vigil.HarmMinor, vigil.HarmNegligible} {
		ov.BySeverity = append(ov.BySeverity, web.Count{Key: s, Label: strings.ToUpper(s[:1]) + s[1:], N: sev[s]})
	}
	if n := sev[""]; n > 0 {
		ov.BySeverity = append(ov.BySeverity, web.Count{Key: "", Label: "Assessed, no severity", N: n})
	}
	ov.BySeverity = append(ov.BySeverity, web.Count{Key: "", Label: "Not assessed", N: ov.Unassessed})
	ov.ByRisk = []web.Count{{Key: string(vigil.RiskUncontrolled), Label: "Uncontrolled", N: ov.Uncontrolled}, {Key: string(vigil.RiskControlled), Label: "Controlled", N: controlled},
		{Key: "", Label: "Not assessed", N: ov.Unassessed}}
	sort.SliceStable(ov.ByDevice, func(i, j int) bool { return ov.ByDevice[i].N > ov.ByDevice[j].N })
	if len(ov.ByDevice) > 12 {
		ov.ByDevice = ov.ByDevice[:12]
	}
	if err := q.metrics(ctx, snap, ov); err != nil {
		return nil, err
	}
	return ov, nil
}

// overviewSet computes the part of the dashboard that only the findings decide (counts by device, version and
// state; open findings over time; KEV-listed vulnerabilities among them): the costly part, full scans at 100,000
// findings, kept across the assessments and events PSIRT records all day.
func (q *Queries) overviewSet(ctx context.Context, snap *snapshot) (*web.Overview, error) {
	ov := &web.Overview{KEV: []web.KEVHit{}, ByDevice: []web.Count{}, ByVersion: []web.Count{}, OpenOverTime: []web.Point{}}
	counts, err := q.db.OpenCounts(ctx)
	if err != nil {
		return nil, err
	}
	devIdx, verIdx := map[int64]int{}, map[int64]int{}
	for _, c := range counts {
		devID, dev, verID, ver, state, n := c.DeviceID, c.Device, c.VersionID, c.Version, c.State, c.N
		if state == vigil.FindingOpen {
			ov.Open += n
		} else {
			ov.CouldNotEval += n
		}
		i, ok := devIdx[devID]
		if !ok {
			i = len(ov.ByDevice)
			devIdx[devID] = i
			ov.ByDevice = append(ov.ByDevice, web.Count{Key: itoa(devID), Label: dev, ID: devID})
		}
		ov.ByDevice[i].N += n
		j, ok := verIdx[verID]
		if !ok {
			j = len(ov.ByVersion)
			verIdx[verID] = j
			ov.ByVersion = append(ov.ByVersion, web.Count{Key: itoa(verID), Label: dev + " " + ver, ID: verID})
		}
		ov.ByVersion[j].N += n
	}
	if err := q.overTime(ctx, snap, ov); err != nil {
		return nil, err
	}
	if err := q.kevHits(ctx, ov); err != nil {
		return nil, err
	}
	return ov, nil
}

// overTime counts open findings at the end of each of the last 26 weeks from the days findings were first seen
// and resolved (or closed).
func (q *Queries) overTime(ctx context.Context, snap *snapshot, ov *web.Overview) error {
	seen, resolved, err := q.db.FindingDayCounts(ctx)
	if err != nil {
		return err
	}
	delta := map[string]int{}
	for _, c := range seen {
		delta[c.Day] += c.N
	}
	for _, c := range resolved {
		delta[c.Day] -= c.N
	}
	if len(delta) == 0 {
		return nil
	}
	days := make([]string, 0, len(delta))
	for d := range delta {
		days = append(days, d)
	}
	sort.Strings(days)
	end := snap.today
	start := end.AddDays(-7 * 26)
	if first, err := vigil.ParseDate(days[0]); err == nil && first.After(start) {
		start = first.AddDays(-1)
	}
	run, i := 0, 0
	for t := start; !t.After(end); t = t.AddDays(7) {
		for i < len(days) && days[i] <= t.String() {
			run += delta[days[i]]
			i++
		}
		ov.OpenOverTime = append(ov.OpenOverTime, web.Point{Date: t, N: max(run, 0)})
	}
	if last := ov.OpenOverTime[len(ov.OpenOverTime)-1]; !last.Date.Equal(end) {
		for i < len(days) && days[i] <= end.String() {
			run += delta[days[i]]
			i++
		}
		ov.OpenOverTime = append(ov.OpenOverTime, web.Point{Date: end, N: max(run, 0)})
	}
	return nil
}

// metrics computes the PM2025 times: identification (D0) to the first validated fix distributed, and that fix to
// the field, measured to when the finding resolved (the fielded version no longer holds the vulnerable component)
// or was closed as verified.
func (q *Queries) metrics(ctx context.Context, snap *snapshot, ov *web.Overview) error {
	evs, err := q.db.FixEvents(ctx)
	if err != nil {
		return err
	}
	seen := map[int64]bool{}
	for _, e := range evs {
		id, vuln, learned, date := e.FindingID, e.Vulnerability, e.Learned, e.Date
		var d vigil.EventData
		json.Unmarshal(e.Details, &d)
		if !d.Validated || seen[id] {
			continue
		}
		seen[id] = true
		from, err1 := vigil.ParseDate(learned)
		fix, err2 := vigil.ParseDate(date)
		if err1 != nil || err2 != nil {
			continue
		}
		ov.IdentToPatch = append(ov.IdentToPatch, web.Metric{FindingID: id, Vulnerability: vuln, From: from, To: fix, Days: fix.Sub(from)})
		if t := e.ResolvedAt; !t.IsZero() {
			field := vigil.DateOf(t, nil)
			if !field.Before(fix) {
				ov.PatchToField = append(ov.PatchToField, web.Metric{FindingID: id, Vulnerability: vuln, From: fix, To: field, Days: field.Sub(fix)})
			}
		}
	}
	for id, v := range snap.views {
		if v.Determination != nil && v.Determination.Risk == vigil.RiskUncontrolled {
			ov.PatchTargets++
			if seen[id] {
				ov.Patched++
			}
		}
	}
	return nil
}

// kevHits lists the KEV-listed vulnerabilities named by open findings (by their id or an alias). The catalog is
// read from the intelligence store's KEV table directly: a KEV entry need not belong to a merged vulnerability
// with advisories, and the question is only "which CVEs are listed".
func (q *Queries) kevHits(ctx context.Context, ov *web.Overview) error {
	if q.intel == nil {
		return nil
	}
	// The catalog entries come with the list (a few thousand small rows), rather than a vulnerability look-up
	// per hit afterwards: this is recomputed on every change to the portfolio.
	entries, err := q.db.KEVCatalog(ctx)
	if err != nil {
		return err // every store has the tables (migrations): a failure here is real, not "not imported"
	}
	if len(entries) == 0 {
		return nil // no catalog imported: the dashboard says so rather than "none"
	}
	ov.KEVAvailable = true
	// Open findings named by a listed CVE (found through the vulnerability index, a probe per catalog entry), and
	// those named otherwise (GHSA, PYSEC, ...) that carry a CVE alias, whose aliases are checked here. Not every
	// open finding: this is recomputed on every change to the portfolio.
	cands, err := q.db.OpenFindingsForKEV(ctx)
	if err != nil {
		return err
	}
	listed := func(cve string) bool { _, ok := entries[cve]; return ok }
	hits := map[string]*web.KEVHit{}
	var order []string
	for _, c := range cands {
		id, vuln, dev := c.FindingID, c.Vulnerability, c.Device
		cve := ""
		if listed(vuln) {
			cve = vuln
		} else {
			for _, a := range c.Aliases {
				if listed(a) {
					cve = a
					break
				}
			}
		}
		if cve == "" {
			continue
		}
		h, ok := hits[cve]
		if !ok {
			h = &web.KEVHit{Vulnerability: cve, FindingID: id, Devices: []string{}}
			hits[cve] = h
			order = append(order, cve)
		}
		h.Findings++
		if !contains(h.Devices, dev) {
			h.Devices = append(h.Devices, dev)
		}
	}
	for _, cve := range order {
		h := hits[cve]
		var e vigil.KEVEntry
		if err := json.Unmarshal(entries[cve], &e); err != nil {
			return fmt.Errorf("kev %s: %w", cve, err)
		}
		h.KEV = &e
		ov.KEV = append(ov.KEV, *h)
	}
	sort.SliceStable(ov.KEV, func(i, j int) bool { return ov.KEV[i].Findings > ov.KEV[j].Findings })
	return nil
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func itoa(n int64) string { return fmt.Sprint(n) }
