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
	AssessedCaseIDs(ctx context.Context) ([]int64, error)
	HasAssessment(ctx context.Context, caseID int64) (bool, error)
	// UnassessedCases are the cases (not closed) with no assessment: each has a date to be assessed by.
	UnassessedCases(ctx context.Context) ([]*vigil.Case, error)
	// CaseQueueRows are every live case with its affected versions and EPSS: the case queue's storage side.
	CaseQueueRows(ctx context.Context) ([]vigil.CaseQueueRow, error)
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
		src := web.Source{Name: f.Name, URL: f.URL, Schedule: "every " + vigil.ScheduleText(f.Every), LastAttempt: f.LastAttempt, LastSuccess: f.LastSuccess,
			LastError: f.LastError, Failures: f.Failures, NextRun: f.NextAttempt}
		if !f.Enabled {
			src.Schedule = "disabled"
		}
		src.Counts = feedCounts(f.Counts)
		out = append(out, src)
	}
	return out, nil
}

// Runs lists the newest import runs first, as the intel service records them.
func (s Sources) Runs(ctx context.Context, limit int) ([]*vigil.IntelRun, error) {
	return s.Intel.Runs(ctx, limit)
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
	views       map[int64]*cases.View // every assessed case, by its id
	unassessed  []*vigil.Case         // the cases not closed with no assessment
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
			case typ == "user", action == "case.assess", action == "case.event", action == "case.retract", action == "case.learned":
			case typ == "consignee" || typ == "asset" || typ == "threat" || typ == "control":
			default:
				ns.setGen = max(ns.setGen, n)
			}
			switch typ {
			case "case":
				var f int64
				if _, err := fmt.Sscan(id, &f); err == nil && !seen[f] {
					seen[f] = true
					changed = append(changed, f)
				}
			case "user", "consignee", "asset", "threat", "control":
				// Not an input of any determination.
			default:
				// A device, the organization, a version sync, a finding's state (a case's versions) or new
				// intelligence: every view may change.
				full = true
			}
		}
	}
	var err error
	if ns.unassessed, err = q.db.UnassessedCases(ctx); err != nil {
		return nil, err
	}
	if full {
		ids, err := q.db.AssessedCaseIDs(ctx)
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
				v, err := q.cases.CaseView(sys, id, vigil.Date{})
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
