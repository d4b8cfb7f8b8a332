package store

import (
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"hash/maphash"
	"slices"
	"strings"
	"time"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/audit"
	"github.com/vigil-dev/vigil/internal/match"
)

// advBatch is how many advisories the writer gathers before it looks them up and writes them: large enough that a
// batch costs a handful of statements, small enough to keep memory flat.
const advBatch = 500

// Import runs hold importLock (PostgreSQL) for their whole transaction, so that each run can allocate ids itself
// (and so write in multi-row batches) and two runs never merge the same alias groups at once. SQLite serializes
// writers anyway.

// IntelWriter is the store's vigil.IntelWriter: one import run's write session, handed to the function given to
// (*DB).ImportIntel. Everything it writes commits together when that function returns nil, with one audit event for
// the run, or not at all. Its zero value knows no document and writes nothing (the importer's fuzz test parses
// with it).
type IntelWriter struct {
	ctx   context.Context
	tx    *Tx
	run   int64
	sums  map[string]*vigil.IntelSummary
	order []string

	nextDoc, nextAdv, nextVuln int64

	// The batch's advisories and aliases as stored (or made in this batch). Forgotten after each batch so that a
	// run of half a million advisories keeps a small memory; what this run wrote is remembered as keyed hashes
	// (advSeen, aliasSeen), which tell a later batch when it must look in the database.
	advs       map[advKey]*advState
	fresh      map[string]bool // source → it had no advisories when the run began
	aliasEmpty bool            // no aliases when the run began
	alias      map[string]int64
	seed       maphash.Seed
	advSeen    map[uint64]struct{}
	aliasSeen  map[uint64]struct{}
	parent     map[int64]int64 // union-find: groups merged in this run
	groups     map[int64]*groupState
	released   map[int64]time.Time // document → CSAF release date (signals are dated with it)

	pending []pendingAdv
	revs    []pendingRev
	revIDs  map[int64]bool
	// The rows to insert. New advisories' match records and affected keys cannot conflict with stored rows (their
	// ids are new), so they go in plain batches, which PostgreSQL loads with COPY; a revision's replace stored ones.
	ins struct {
		docs, raws, vulns, advs, records, aliases, affected, signals *batch
		revRecords, revAffected                                      *batch
	}
	newVuln []int64
	changed map[vigil.PackageKey]struct{}
	ids     map[string]struct{} // the ids of the advisories added, revised or withdrawn (intel_changed_ids)
	// firstLoad: the store held no document when the run began, so none is known (documentIndexes).
	firstLoad bool
	// deriveDoc is the last document written when its one advisory can be read back from it (derivable): 0 else.
	deriveDoc int64

	devices []*signalDevice
	devLoad bool
	signals int
}

var _ vigil.IntelWriter = (*IntelWriter)(nil)

type advKey struct{ source, document, id string }

// advState is what the writer remembers of an advisory it has seen (half a million of them in a large run).
type advState struct {
	id        int64
	vuln      int64
	modified  int64 // UnixNano; 0 when unknown
	digest    [32]byte
	withdrawn bool
}

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func digestOf(hexDigest string) [32]byte {
	d, _ := unhex32(hexDigest)
	return d
}

type groupState struct {
	preferred string
	modified  time.Time
	isNew     bool
	dirty     bool
	gone      bool
}

type pendingAdv struct {
	doc    int64
	p      *vigil.PreparedAdvisory
	derive bool // stored without its JSON: read back from document doc (derivable)
}

// data is what the advisory's data column holds: "" when it is read back from its document.
func (pa *pendingAdv) data() string {
	if pa.derive {
		return ""
	}
	return pa.p.Data
}

// derivable says whether the advisory of a document is stored without its JSON and parsed again from the
// document when a page needs it (decodeAdvisory): an OSV record is a document of its own (an OSV.dev archive holds
// one per entry), so storing its normalized JSON beside the document doubled the store (issue 19) for nothing.
// Documents of several records (CSAF, NVD pages, STIX bundles) keep their advisories' JSON: re-reading an NVD page
// of two thousand CVEs to show one would be slow.
func derivable(d *vigil.SourceDoc) bool {
	return d.OSVRecord && d.Source == vigil.SourceOSV && d.Records == 1 && d.Rejected == 0
}

// ImportIntel runs fn as one import run: one transaction, one intel_runs row and one "intel.import" audit event
// whose new value is the summary. It needs vigil.PermImport. When fn (or a write) fails nothing is kept.
func (db *DB) ImportIntel(ctx context.Context, fn func(w vigil.IntelWriter) error) (*vigil.IntelResult, error) {
	actor, err := vigil.Authorize(ctx, vigil.PermImport)
	if err != nil {
		return nil, err
	}
	var res *vigil.IntelResult
	err = db.transactBulk(ctx, func(tx *Tx) error {
		restore, err := db.dialect.importSession(ctx, tx)
		if err != nil {
			return err
		}
		defer restore()
		run, err := tx.insertID(ctx, "INSERT INTO intel_runs (started_at, actor) VALUES ($1, $2)", tx.NowText(), actor.String())
		if err != nil {
			return err
		}
		w, err := newIntelWriter(ctx, tx, run)
		if err != nil {
			return err
		}
		if err := fn(w); err != nil {
			return err
		}
		res, err = w.finish()
		return err
	})
	if err != nil {
		return nil, err
	}
	db.analyzeAfter(ctx, res)
	return res, nil
}

// importSession readies a transaction for an import run: PostgreSQL serializes runs with the import lock and
// compresses the advisories' JSON (often over the 2 kB at which it compresses a value) with lz4, many times faster
// than the default pglz, when the server was built with it; SQLite gets a page cache of importCacheMiB, since the
// affected and alias tables and the advisories' key index take random keys (largeCache). restore gives the pooled
// connection its own cache size back at the end.
func (d *dialect) importSession(ctx context.Context, tx *Tx) (restore func(), err error) {
	if err := d.lock(ctx, tx, importLock); err != nil {
		return nil, fmt.Errorf("import lock: %w", err)
	}
	if d.toast {
		var lz4 bool
		if err := tx.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals))").Scan(&lz4); err != nil {
			return nil, fmt.Errorf("import compression: %w", err)
		}
		if lz4 {
			if _, err := tx.ExecContext(ctx, "SET LOCAL default_toast_compression = 'lz4'"); err != nil {
				return nil, fmt.Errorf("import compression: %w", err)
			}
		}
	}
	return d.largeCache(ctx, tx, importCacheMiB)
}

// importCacheMiB is an import's SQLite page cache. At 500,000 advisories the B-trees it writes under random keys
// (intel_aliases, intel_affected, the advisories' unique key) outgrow 64 MiB: the run re-read their pages and
// spilled dirty ones to the WAL before its commit, 8.6 CPU-s of pwrite where 256 MiB takes 4.9 (and 82 -> 76
// CPU-s in all). SQLite allocates cache pages as they are used, so a small import stays small.
const importCacheMiB = 256

// largeCache gives tx's connection a page cache of mib MiB on SQLite, for a transaction that writes many rows
// under random keys (an import, a portfolio version's first findings and cases): with the default 2 MB it re-reads
// index pages and spills dirty ones to the WAL before its commit. restore gives the pooled connection its own
// cache size back.
func (d *dialect) largeCache(ctx context.Context, tx *Tx, mib int64) (restore func(), err error) {
	restore = func() {}
	if !d.pageCache {
		return restore, nil
	}
	var size int64
	if err := tx.QueryRowContext(ctx, "PRAGMA cache_size").Scan(&size); err != nil {
		return nil, fmt.Errorf("page cache: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "PRAGMA cache_size = "+idText(-mib<<10)); err != nil {
		return nil, fmt.Errorf("page cache: %w", err)
	}
	return func() { tx.ExecContext(context.WithoutCancel(ctx), "PRAGMA cache_size = "+idText(size)) }, nil
}

// analyzeThreshold is how many advisories an import must add or change before PostgreSQL's statistics are
// refreshed at its end (a variable for the test that checks it).
var analyzeThreshold = 10_000

// analyzeAfter refreshes PostgreSQL's planner statistics after a large import. Until autovacuum gets to them, the
// statistics say the intelligence tables are as small as before the import — empty, after the first one — and the
// planner's generic plan for the matcher's look-ups then scanned 500,000 rows per look-up: 200 SBOM imports took
// 96 s, 70 of them in that one query. ANALYZE samples the tables in about a second. It is an optimization: when it
// fails the import stands, and autovacuum will do the same later.
func (db *DB) analyzeAfter(ctx context.Context, res *vigil.IntelResult) {
	if !db.dialect.analyze || res == nil {
		return
	}
	n := 0
	for _, s := range res.Summaries {
		n += s.Added + s.Updated + s.Withdrawn
	}
	if n < analyzeThreshold {
		return
	}
	_, _ = db.db.ExecContext(ctx, "ANALYZE intel_documents, intel_vulns, intel_aliases, intel_advisories, intel_affected, intel_changes")
}

func newIntelWriter(ctx context.Context, tx *Tx, run int64) (*IntelWriter, error) {
	w := &IntelWriter{ctx: ctx, tx: tx, run: run, sums: map[string]*vigil.IntelSummary{},
		advs: map[advKey]*advState{}, fresh: map[string]bool{}, alias: map[string]int64{}, parent: map[int64]int64{},
		seed: maphash.MakeSeed(), advSeen: map[uint64]struct{}{}, aliasSeen: map[uint64]struct{}{}, revIDs: map[int64]bool{},
		groups: map[int64]*groupState{}, released: map[int64]time.Time{}, changed: map[vigil.PackageKey]struct{}{}, ids: map[string]struct{}{}}
	for _, m := range []struct {
		table string
		dst   *int64
	}{{"intel_documents", &w.nextDoc}, {"intel_advisories", &w.nextAdv}, {"intel_vulns", &w.nextVuln}} {
		if err := tx.QueryRowContext(ctx, "SELECT COALESCE(MAX(id), 0) FROM "+m.table).Scan(m.dst); err != nil {
			return nil, fmt.Errorf("intel: next id of %s: %w", m.table, err)
		}
	}
	var one int
	err := tx.QueryRowContext(ctx, "SELECT 1 FROM intel_aliases LIMIT 1").Scan(&one)
	if err != nil && err != sql.ErrNoRows {
		return nil, err
	}
	w.aliasEmpty = err == sql.ErrNoRows
	if w.firstLoad = w.nextDoc == 0; w.firstLoad {
		for _, d := range tx.db.dialect.firstLoadDeferred() {
			if _, err := tx.ExecContext(ctx, d.drop); err != nil {
				return nil, fmt.Errorf("intel: first load: %w", err)
			}
		}
	}
	w.ins.docs = newBatch("intel_documents", "id, source, doc_id, revision, name, url, fetched_at, digest, blob_digest, size, records, rejected, run_id", "")
	w.ins.raws = newBatch("intel_raw", "doc_id, raw", "")
	w.ins.vulns = newBatch("intel_vulns", "id, preferred, modified", "")
	w.ins.advs = newBatch("intel_advisories", "id, source, document, adv_id, vuln_id, modified, published, withdrawn, digest, data, search, doc_ref, revision, created_run, updated_run", "")
	w.ins.records = newBatch("intel_match", "advisory_id, record", "")
	w.ins.revRecords = newBatch("intel_match", "advisory_id, record", " ON CONFLICT (advisory_id) DO UPDATE SET record = excluded.record")
	w.ins.aliases = newBatch("intel_aliases", "alias, vuln_id", "")
	w.ins.affected = newBatch("intel_affected", "kind, ecosystem, name, advisory_id", "")
	w.ins.revAffected = newBatch("intel_affected", "kind, ecosystem, name, advisory_id", " ON CONFLICT DO NOTHING")
	w.ins.signals = newBatch("intel_signals", "device_id, advisory_id, document, vuln, release_date, matched_by, matched, run_id, created_at", " ON CONFLICT DO NOTHING")
	return w, nil
}

// documentIndexes are the indexes on the documents' digests, which Known looks documents up by. They index the
// first 16 hex digits of each digest (64 bits: Known compares the whole digest too), a quarter of the 64-digit
// text they indexed until migration 36, which rebuilt them: 15 MB of a 236 MB store of 100k documents. A first load
// (a store without documents: the first import of a feed's whole history) drops them and builds them once at its
// end: an index built over the finished table costs a fraction of one maintained row by row, and that run has
// nothing to look up.
var documentIndexes = []struct{ name, ddl string }{
	{"intel_documents_digest", "CREATE INDEX intel_documents_digest ON intel_documents(substr(digest, 1, 16)) WHERE rejected = 0"},
	{"intel_documents_blob", "CREATE INDEX intel_documents_blob ON intel_documents(substr(blob_digest, 1, 16)) WHERE rejected = 0"},
}

// deferredDDL is a constraint or index that a first load drops before it writes and puts back at its end, in the
// run's transaction: a failed run rolls the drop back with everything else.
type deferredDDL struct{ drop, create string }

// pgFirstLoadDeferred are what a first load on PostgreSQL defers besides the documents' digest indexes (issue 19:
// they were 40% of the server's CPU in a 100k import, and the import's wall time waits on the server):
//   - the foreign keys of intel_raw, intel_advisories and intel_match, whose triggers looked up and locked each
//     new row's parent one row at a time; adding them back checks every row in one join;
//   - the primary key of intel_affected, whose index on (kind, ecosystem, name) takes keys in random order; built
//     over the finished table it is also a quarter smaller (pages filled, not split);
//   - the change feed's primary keys, whose rows the run writes at its end anyway.
//
// The run never looks rows up through these: the indexes it reads by (advisories by id and by key, aliases,
// groups, affected rows by advisory for a revision, match records for ON CONFLICT) stay. The run holds its
// tables' exclusive locks until it commits; a first load has no rows for anyone to read. SQLite cannot drop a
// constraint, and its foreign keys cost a look-up of the parent in process.
var pgFirstLoadDeferred = []deferredDDL{
	{"ALTER TABLE intel_raw DROP CONSTRAINT intel_raw_doc_id_fkey",
		"ALTER TABLE intel_raw ADD CONSTRAINT intel_raw_doc_id_fkey FOREIGN KEY (doc_id) REFERENCES intel_documents(id)"},
	{"ALTER TABLE intel_advisories DROP CONSTRAINT intel_advisories_doc_ref_fkey",
		"ALTER TABLE intel_advisories ADD CONSTRAINT intel_advisories_doc_ref_fkey FOREIGN KEY (doc_ref) REFERENCES intel_documents(id)"},
	{"ALTER TABLE intel_match DROP CONSTRAINT intel_match_advisory_id_fkey",
		"ALTER TABLE intel_match ADD CONSTRAINT intel_match_advisory_id_fkey FOREIGN KEY (advisory_id) REFERENCES intel_advisories(id)"},
	{"ALTER TABLE intel_affected DROP CONSTRAINT intel_affected_pkey",
		"ALTER TABLE intel_affected ADD CONSTRAINT intel_affected_pkey PRIMARY KEY (kind, ecosystem, name, advisory_id)"},
	{"ALTER TABLE intel_changes DROP CONSTRAINT intel_changes_pkey",
		"ALTER TABLE intel_changes ADD CONSTRAINT intel_changes_pkey PRIMARY KEY (run_id, kind, ecosystem, name)"},
	{"ALTER TABLE intel_changed_ids DROP CONSTRAINT intel_changed_ids_pkey",
		"ALTER TABLE intel_changed_ids ADD CONSTRAINT intel_changed_ids_pkey PRIMARY KEY (run_id, adv_id)"},
}

// firstLoadDeferred lists what a first load of this engine drops and builds at its end: the documents' digest
// indexes, and on PostgreSQL pgFirstLoadDeferred.
func (d *dialect) firstLoadDeferred() []deferredDDL {
	var out []deferredDDL
	for _, ix := range documentIndexes {
		out = append(out, deferredDDL{"DROP INDEX " + ix.name, ix.ddl})
	}
	if d.name == Postgres {
		out = append(out, pgFirstLoadDeferred...)
	}
	return out
}

// Run returns the run's id.
func (w *IntelWriter) Run() int64 { return w.run }

// Now returns the run's time (every row it writes carries it).
func (w *IntelWriter) Now() time.Time { return w.tx.Now() }

func (w *IntelWriter) sum(source string) *vigil.IntelSummary {
	s := w.sums[source]
	if s == nil {
		s = &vigil.IntelSummary{Source: source, Rejected: []vigil.RejectedRecord{}}
		w.sums[source] = s
		w.order = append(w.order, source)
	}
	return s
}

// Touch makes source appear in the run's summaries even when nothing of it was read (a feed that answered "not
// modified").
func (w *IntelWriter) Touch(source string) { w.sum(source) }

// Unchanged counts n records of source as unchanged without reading them (their document is known).
func (w *IntelWriter) Unchanged(source string, n int) { w.sum(source).Unchanged += n }

// Reject lists one invalid record under source's summary (--skip-invalid).
func (w *IntelWriter) Reject(source string, r vigil.RejectedRecord) {
	s := w.sum(source)
	s.Rejected = append(s.Rejected, r)
}

// Known looks up a batch of documents by digest (and zip entries by the digest of their gzip form) through the
// indexes on intel_documents, so a run that changes little reads only its own documents' rows, never every stored
// digest. It is safe for concurrent use, so the importer's workers ask as they go: on SQLite it reads on the run's
// transaction (in process, database/sql serializes each call on the connection, and a document this run already
// wrote may be known too; either way its records count unchanged the second time), on PostgreSQL, whose connection
// serves one query at a time, on a pooled connection (what earlier runs committed). The zero IntelWriter knows no
// document.
func (w *IntelWriter) Known(keys []vigil.DocKey) (map[vigil.DocKey]vigil.KnownDoc, error) {
	if w.tx == nil || w.firstLoad {
		return nil, nil
	}
	var digests, blobs []string
	for _, k := range keys {
		if k.Digest != "" {
			digests = append(digests, k.Digest)
		} else {
			blobs = append(blobs, hex.EncodeToString(k.Blob[:]))
		}
	}
	out := map[vigil.DocKey]vigil.KnownDoc{}
	for _, q := range []struct {
		col  string
		vals []string
		key  func(v string) vigil.DocKey
	}{
		{"digest", digests, func(v string) vigil.DocKey { return vigil.DocKey{Digest: v} }},
		{"blob_digest", blobs, func(v string) vigil.DocKey { d, _ := unhex32(v); return vigil.DocKey{Blob: d} }},
	} {
		for vals := q.vals; len(vals) > 0; {
			chunk := vals[:min(len(vals), 500)]
			vals = vals[len(chunk):]
			// The prefixes for the index (documentIndexes), the digests for the answer.
			args := make([]any, 2*len(chunk))
			for i, v := range chunk {
				args[i], args[len(chunk)+i] = v[:min(len(v), 16)], v
			}
			query := w.tx.db.db.QueryContext
			if w.tx.db.dialect.sharedTx {
				query = w.tx.QueryContext
			}
			eng := w.tx.db.dialect
			rows, err := query(w.ctx, "SELECT source, "+q.col+", records FROM intel_documents WHERE rejected = 0 AND substr("+q.col+", 1, 16)"+
				" IN ("+placeholders(eng, 1, len(chunk))+") AND "+q.col+" IN ("+placeholders(eng, 1+len(chunk), len(chunk))+")", args...)
			if err != nil {
				return nil, fmt.Errorf("intel: known documents: %w", err)
			}
			for rows.Next() {
				var kd vigil.KnownDoc
				var v string
				if err := rows.Scan(&kd.Source, &v, &kd.Records); err != nil {
					rows.Close()
					return nil, fmt.Errorf("intel: known documents: %w", err)
				}
				out[q.key(v)] = kd
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return nil, fmt.Errorf("intel: known documents: %w", err)
			}
		}
	}
	return out, nil
}

func unhex32(s string) ([32]byte, bool) {
	var out [32]byte
	if len(s) != 64 {
		return out, false
	}
	_, err := hex.Decode(out[:], []byte(s))
	return out, err == nil
}

// Document stores a source document and returns its id, for the records read from it to refer to.
func (w *IntelWriter) Document(d *vigil.SourceDoc) (int64, error) {
	if d.Source == "" || d.Digest == "" || d.Gzip == nil {
		return 0, vigil.Errorf(vigil.EINTERNAL, "intel: document %s: incomplete (use NewSourceDoc)", d.Name)
	}
	w.sum(d.Source)
	w.nextDoc++
	id := w.nextDoc
	at := d.FetchedAt
	if at.IsZero() {
		at = w.tx.Now()
	}
	w.ins.docs.add(id, d.Source, dbText(bound(d.DocID, 512)), dbText(bound(d.Revision, 256)), dbText(bound(d.Name, 2048)), dbText(bound(d.URL, 2048)),
		timeText(at), d.Digest, hex.EncodeToString(d.BlobDigest[:]), d.Size, d.Records, d.Rejected, w.run)
	w.ins.raws.add(id, d.Gzip)
	w.deriveDoc = 0
	if derivable(d) {
		w.deriveDoc = id
	}
	return id, w.maybeFlush()
}

// SetReleased records a CSAF document's release date: signals raised from its advisories are dated with it.
func (w *IntelWriter) SetReleased(doc int64, released time.Time) { w.released[doc] = released }

func bound(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// Advisory stores one prepared advisory read from document doc: added when new; unchanged when its digest is the
// stored one; a revision (the stored one kept in intel_advisory_revisions) when it differs and is not older than
// the stored one by its modified time; an older one is only kept as a revision. Writes are batched.
func (w *IntelWriter) Advisory(doc int64, p *vigil.PreparedAdvisory) error {
	w.pending = append(w.pending, pendingAdv{doc: doc, p: p, derive: doc != 0 && doc == w.deriveDoc})
	if len(w.pending) >= advBatch {
		return w.flush()
	}
	return nil
}

func (w *IntelWriter) maybeFlush() error {
	for _, b := range []*batch{w.ins.docs, w.ins.raws, w.ins.advs, w.ins.records, w.ins.aliases, w.ins.affected, w.ins.vulns, w.ins.signals} {
		if b.full() {
			return w.flushInserts()
		}
	}
	return nil
}

func (w *IntelWriter) flush() error {
	if len(w.pending) == 0 {
		return nil
	}
	if err := w.prefetch(); err != nil {
		return err
	}
	for i := range w.pending {
		if err := w.apply(&w.pending[i]); err != nil {
			return err
		}
		if err := w.maybeFlush(); err != nil {
			return err
		}
	}
	clear(w.pending)
	w.pending = w.pending[:0]
	if err := w.flushRevisions(); err != nil {
		return err
	}
	if err := w.flushInserts(); err != nil {
		return err
	}
	// Everything of the batch is written: forget it (the maps are made anew so their memory goes too).
	w.advs = make(map[advKey]*advState, advBatch)
	w.alias = make(map[string]int64, 2*advBatch)
	return nil
}

func (w *IntelWriter) advHash(source, document, id string) uint64 {
	var h maphash.Hash
	h.SetSeed(w.seed)
	h.WriteString(source)
	h.WriteByte(0)
	h.WriteString(document)
	h.WriteByte(0)
	h.WriteString(id)
	return h.Sum64()
}

// prefetch looks up, in a few queries, the stored advisories, aliases and groups the pending batch refers to.
func (w *IntelWriter) prefetch() error {
	bySource := map[string][]string{}
	for _, pa := range w.pending {
		a := pa.p.Advisory
		if _, ok := w.advs[advKey{a.Source, a.Document, a.ID}]; ok {
			continue
		}
		fresh, ok := w.fresh[a.Source]
		if !ok {
			var one int
			err := w.tx.QueryRowContext(w.ctx, "SELECT 1 FROM intel_advisories WHERE source = $1 LIMIT 1", a.Source).Scan(&one)
			if err != nil && err != sql.ErrNoRows {
				return err
			}
			fresh = err == sql.ErrNoRows
			w.fresh[a.Source] = fresh
		}
		if _, seen := w.advSeen[w.advHash(a.Source, a.Document, a.ID)]; !fresh || seen {
			bySource[a.Source] = append(bySource[a.Source], a.ID)
		}
	}
	groupIDs := map[int64]bool{}
	for source, ids := range bySource {
		ids = uniq(ids)
		args := []any{source}
		for _, id := range ids {
			args = append(args, id)
		}
		rows, err := w.tx.QueryContext(w.ctx, "SELECT id, document, adv_id, digest, modified, withdrawn, vuln_id FROM intel_advisories WHERE source = $1 AND adv_id IN ("+placeholders(w.tx.db.dialect, 2, len(ids))+")", args...)
		if err != nil {
			return fmt.Errorf("intel: look up advisories: %w", err)
		}
		for rows.Next() {
			st := &advState{}
			var doc, id, digest string
			var mod sql.NullString
			if err := rows.Scan(&st.id, &doc, &id, &digest, &mod, &st.withdrawn, &st.vuln); err != nil {
				rows.Close()
				return err
			}
			st.digest, st.modified = digestOf(digest), unixNano(parseTime(mod))
			w.advs[advKey{source, doc, id}] = st
			groupIDs[st.vuln] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	{
		var ids []string
		for _, pa := range w.pending {
			for _, id := range pa.p.IDs {
				if _, ok := w.alias[id]; ok {
					continue
				}
				if _, seen := w.aliasSeen[maphash.String(w.seed, id)]; !w.aliasEmpty || seen {
					ids = append(ids, id)
				}
			}
		}
		ids = uniq(ids)
		for len(ids) > 0 {
			n := min(len(ids), 900)
			chunk := ids[:n]
			ids = ids[n:]
			args := make([]any, len(chunk))
			for i, id := range chunk {
				args[i] = id
				w.alias[id] = 0 // absent unless found
			}
			rows, err := w.tx.QueryContext(w.ctx, "SELECT alias, vuln_id FROM intel_aliases WHERE alias IN ("+placeholders(w.tx.db.dialect, 1, len(chunk))+")", args...)
			if err != nil {
				return fmt.Errorf("intel: look up aliases: %w", err)
			}
			for rows.Next() {
				var a string
				var g int64
				if err := rows.Scan(&a, &g); err != nil {
					rows.Close()
					return err
				}
				w.alias[a] = g
				groupIDs[g] = true
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
		}
	}
	// Groups this run made and wrote (and forgot) that the batch links to again.
	for _, pa := range w.pending {
		for _, id := range pa.p.IDs {
			if g := w.alias[id]; g != 0 {
				groupIDs[g] = true
			}
		}
	}
	var need []int64
	for g := range groupIDs {
		if _, ok := w.groups[w.find(g)]; !ok {
			need = append(need, w.find(g))
		}
	}
	return w.loadGroups(need)
}

func (w *IntelWriter) loadGroups(ids []int64) error {
	slices.Sort(ids)
	ids = slices.Compact(ids)
	for len(ids) > 0 {
		n := min(len(ids), 900)
		chunk := ids[:n]
		ids = ids[n:]
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		rows, err := w.tx.QueryContext(w.ctx, "SELECT id, preferred, modified FROM intel_vulns WHERE id IN ("+placeholders(w.tx.db.dialect, 1, len(chunk))+")", args...)
		if err != nil {
			return fmt.Errorf("intel: look up vulnerabilities: %w", err)
		}
		for rows.Next() {
			var id int64
			var g groupState
			var mod sql.NullString
			if err := rows.Scan(&id, &g.preferred, &mod); err != nil {
				rows.Close()
				return err
			}
			g.modified = parseTime(mod)
			w.groups[id] = &g
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

func (w *IntelWriter) group(g int64) (*groupState, error) {
	if gs, ok := w.groups[g]; ok {
		return gs, nil
	}
	if err := w.loadGroups([]int64{g}); err != nil {
		return nil, err
	}
	gs, ok := w.groups[g]
	if !ok {
		// An advisory or alias points at a vulnerability row that is gone: recreate it rather than fail the import.
		gs = &groupState{dirty: true}
		w.groups[g] = gs
		if _, err := w.tx.ExecContext(w.ctx, "INSERT INTO intel_vulns (id, preferred) VALUES ($1, $2)", g, ""); err != nil {
			return nil, err
		}
	}
	return gs, nil
}

func (w *IntelWriter) find(g int64) int64 {
	for {
		p, ok := w.parent[g]
		if !ok {
			return g
		}
		if pp, ok := w.parent[p]; ok {
			w.parent[g] = pp // path halving
		}
		g = p
	}
}

func (w *IntelWriter) apply(pa *pendingAdv) error {
	p := pa.p
	a := p.Advisory
	key := advKey{a.Source, a.Document, a.ID}
	s := w.sum(a.Source)
	st := w.advs[key]
	withdrawn := a.IsWithdrawn()
	digest := digestOf(p.Digest)
	if st != nil && st.digest == digest {
		s.Unchanged++
		return nil
	}
	if st != nil && !a.Modified.IsZero() && st.modified != 0 && a.Modified.UnixNano() < st.modified {
		// An older revision than the one stored (an old file imported after a new one): keep it as history, leave
		// the merged view alone.
		if err := w.flushRevisions(); err != nil { // the stored version must be in place
			return err
		}
		if err := w.flushInserts(); err != nil { // its document, and maybe the advisory, are still buffered
			return err
		}
		_, err := w.tx.ExecContext(w.ctx, `INSERT INTO intel_advisory_revisions (advisory_id, revision, modified, withdrawn, digest, data, doc_ref, superseded_run)
			VALUES ($1, 0, $2, $3, $4, $5, $6, $7) ON CONFLICT (advisory_id, digest) DO NOTHING`,
			st.id, timeText(a.Modified), withdrawn, p.Digest, pa.data(), pa.doc, w.run)
		if err != nil {
			return fmt.Errorf("intel: keep older revision of %s: %w", a.ID, err)
		}
		s.Unchanged++
		return nil
	}
	if st != nil {
		return w.revise(pa, st)
	}
	g, err := w.link(p.IDs, 0, a.Modified)
	if err != nil {
		return err
	}
	w.nextAdv++
	st = &advState{id: w.nextAdv, digest: digest, modified: unixNano(a.Modified), withdrawn: withdrawn, vuln: g}
	w.advs[key] = st
	w.advSeen[w.advHash(a.Source, a.Document, a.ID)] = struct{}{}
	w.ins.advs.add(st.id, a.Source, a.Document, a.ID, g, timeText(a.Modified), timeText(a.Published), withdrawn,
		p.Digest, pa.data(), p.Search, pa.doc, 1, w.run, w.run)
	w.ins.records.add(st.id, p.Record)
	for _, k := range p.Keys {
		w.ins.affected.add(k.Kind, k.Ecosystem, k.Name, st.id)
		if !withdrawn {
			w.changed[k] = struct{}{}
		}
	}
	if !withdrawn {
		w.ids[a.ID] = struct{}{}
	}
	if withdrawn {
		s.Withdrawn++
	} else {
		s.Added++
	}
	return w.signal(pa, st.id, false)
}

// revise replaces the merged view of a stored advisory with p, keeping the stored version as a revision. The
// database work is gathered and done for the whole batch at once (flushRevisions): a re-import of half a million
// records with one percent revised would otherwise cost tens of thousands of round trips.
func (w *IntelWriter) revise(pa *pendingAdv, st *advState) error {
	p := pa.p
	a := p.Advisory
	if w.revIDs[st.id] { // revised twice in one batch: the first revision must be stored before the second
		if err := w.flushRevisions(); err != nil {
			return err
		}
	}
	g, err := w.link(p.IDs, w.find(st.vuln), a.Modified)
	if err != nil {
		return err
	}
	withdrawn := a.IsWithdrawn()
	w.revs = append(w.revs, pendingRev{id: st.id, vuln: g, pa: *pa})
	w.revIDs[st.id] = true
	for _, k := range p.Keys {
		w.changed[k] = struct{}{}
	}
	w.ids[a.ID] = struct{}{}
	s := w.sum(a.Source)
	if withdrawn && !st.withdrawn {
		s.Withdrawn++
	} else {
		s.Updated++
	}
	st.digest, st.modified, st.withdrawn, st.vuln = digestOf(p.Digest), unixNano(a.Modified), withdrawn, g
	return w.signal(pa, st.id, true)
}

// pendingRev is a revision waiting for flushRevisions.
type pendingRev struct {
	id, vuln int64
	pa       pendingAdv
}

// flushRevisions stores the batch's revisions: the stored versions copied into intel_advisory_revisions, their
// affected-index rows replaced (old keys reported as changed too), the advisories updated.
func (w *IntelWriter) flushRevisions() error {
	if len(w.revs) == 0 {
		return nil
	}
	revs := w.revs
	w.revs = nil
	clear(w.revIDs)
	if err := w.flushInserts(); err != nil { // documents, and advisories first seen in this batch
		return err
	}
	eng := w.tx.db.dialect
	for len(revs) > 0 {
		n := min(len(revs), 900)
		chunk := revs[:n]
		revs = revs[n:]
		ids := make([]any, n)
		for i, r := range chunk {
			ids[i] = r.id
		}
		in := " IN (" + placeholders(eng, 2, n) + ")"
		if _, err := w.tx.ExecContext(w.ctx, `INSERT INTO intel_advisory_revisions (advisory_id, revision, modified, withdrawn, digest, data, doc_ref, superseded_run)
			SELECT id, revision, modified, withdrawn, digest, data, doc_ref, $1 FROM intel_advisories WHERE id`+in+`
			ON CONFLICT (advisory_id, digest) DO NOTHING`, append([]any{w.run}, ids...)...); err != nil {
			return fmt.Errorf("intel: keep revisions: %w", err)
		}
		in1 := " IN (" + placeholders(eng, 1, n) + ")"
		rows, err := w.tx.QueryContext(w.ctx, "SELECT kind, ecosystem, name FROM intel_affected WHERE advisory_id"+in1, ids...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var k vigil.PackageKey
			if err := rows.Scan(&k.Kind, &k.Ecosystem, &k.Name); err != nil {
				rows.Close()
				return err
			}
			w.changed[k] = struct{}{}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if _, err := w.tx.ExecContext(w.ctx, "DELETE FROM intel_affected WHERE advisory_id"+in1, ids...); err != nil {
			return err
		}
		if err := w.updateRevised(chunk); err != nil {
			return err
		}
		for _, r := range chunk {
			w.ins.revRecords.add(r.id, r.pa.p.Record)
			for _, k := range r.pa.p.Keys {
				w.ins.revAffected.add(k.Kind, k.Ecosystem, k.Name, r.id)
			}
		}
		if err := w.ins.revRecords.flush(w.ctx, w.tx); err != nil {
			return err
		}
		if err := w.ins.revAffected.flush(w.ctx, w.tx); err != nil {
			return err
		}
	}
	return nil
}

// updateRevised writes revised advisories over their rows: one statement of arrays on PostgreSQL, a prepared
// statement per row on SQLite (in-process, so rows cost no round trip).
func (w *IntelWriter) updateRevised(revs []pendingRev) error {
	if w.tx.db.dialect.bulkArrays {
		n := len(revs)
		id, vuln, doc := make([]int64, n), make([]int64, n), make([]int64, n)
		mod, pub := make([]*string, n), make([]*string, n)
		wd := make([]bool, n)
		dig, data, search := make([]string, n), make([]string, n), make([]string, n)
		for i, r := range revs {
			a := r.pa.p.Advisory
			id[i], vuln[i], doc[i] = r.id, w.find(r.vuln), r.pa.doc
			if t, ok := timeText(a.Modified).(string); ok {
				mod[i] = &t
			}
			if t, ok := timeText(a.Published).(string); ok {
				pub[i] = &t
			}
			wd[i], dig[i], data[i], search[i] = a.IsWithdrawn(), r.pa.p.Digest, r.pa.data(), r.pa.p.Search
		}
		_, err := w.tx.ExecContext(w.ctx, `UPDATE intel_advisories AS a SET vuln_id = u.vuln_id, modified = u.modified, published = u.published,
			withdrawn = u.withdrawn, digest = u.digest, data = u.data, search = u.search, doc_ref = u.doc_ref, revision = a.revision + 1, updated_run = $10
			FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::boolean[], $6::text[], $7::text[], $8::text[], $9::bigint[])
				AS u(id, vuln_id, modified, published, withdrawn, digest, data, search, doc_ref)
			WHERE a.id = u.id`, id, vuln, mod, pub, wd, dig, data, search, doc, w.run)
		if err != nil {
			return fmt.Errorf("intel: revise advisories: %w", err)
		}
		return nil
	}
	stmt, err := w.tx.PrepareContext(w.ctx, `UPDATE intel_advisories SET vuln_id = $1, modified = $2, published = $3, withdrawn = $4,
		digest = $5, data = $6, search = $7, doc_ref = $8, revision = revision + 1, updated_run = $9 WHERE id = $10`)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, r := range revs {
		a := r.pa.p.Advisory
		if _, err := stmt.ExecContext(w.ctx, w.find(r.vuln), timeText(a.Modified), timeText(a.Published), a.IsWithdrawn(),
			r.pa.p.Digest, r.pa.data(), r.pa.p.Search, r.pa.doc, w.run, r.id); err != nil {
			return fmt.Errorf("intel: revise %s: %w", a.ID, err)
		}
	}
	return nil
}

// link puts ids (and the group existing, when not 0) into one vulnerability and returns it: a new one when none of
// them is known, the known one, or, when they span several, the oldest of them with the others merged into it.
func (w *IntelWriter) link(ids []string, existing int64, modified time.Time) (int64, error) {
	var gs []int64
	if existing != 0 {
		gs = append(gs, w.find(existing))
	}
	for _, id := range ids {
		if g := w.alias[id]; g != 0 {
			gs = append(gs, w.find(g))
		}
	}
	slices.Sort(gs)
	gs = slices.Compact(gs)
	var g int64
	if len(gs) == 0 {
		w.nextVuln++
		g = w.nextVuln
		w.groups[g] = &groupState{isNew: true}
		w.newVuln = append(w.newVuln, g)
	} else {
		g = gs[0]
		for _, l := range gs[1:] {
			if err := w.merge(l, g); err != nil {
				return 0, err
			}
		}
	}
	gst, err := w.group(g)
	if err != nil {
		return 0, err
	}
	for _, id := range ids {
		if w.alias[id] == 0 {
			w.alias[id] = g
			w.aliasSeen[maphash.String(w.seed, id)] = struct{}{}
			w.ins.aliases.add(id, g)
		}
		if gst.preferred == "" || preferredBetter(id, gst.preferred) {
			gst.preferred = id
			gst.dirty = true
		}
	}
	if modified.After(gst.modified) {
		gst.modified = modified
		gst.dirty = true
	}
	return g, nil
}

// merge moves group l into group g: the aliases and advisories of l now belong to g.
func (w *IntelWriter) merge(l, g int64) error {
	lg, err := w.group(l)
	if err != nil {
		return err
	}
	gg, err := w.group(g)
	if err != nil {
		return err
	}
	if err := w.flushInserts(); err != nil {
		return err
	}
	for _, q := range []string{
		"UPDATE intel_aliases SET vuln_id = $1 WHERE vuln_id = $2",
		"UPDATE intel_advisories SET vuln_id = $1 WHERE vuln_id = $2",
	} {
		if _, err := w.tx.ExecContext(w.ctx, q, g, l); err != nil {
			return fmt.Errorf("intel: merge vulnerabilities: %w", err)
		}
	}
	if _, err := w.tx.ExecContext(w.ctx, "DELETE FROM intel_vulns WHERE id = $1", l); err != nil {
		return err
	}
	if lg.preferred != "" && (gg.preferred == "" || preferredBetter(lg.preferred, gg.preferred)) {
		gg.preferred = lg.preferred
	}
	if lg.modified.After(gg.modified) {
		gg.modified = lg.modified
	}
	gg.dirty = true
	lg.gone = true
	w.parent[l] = g
	return nil
}

// flushInserts writes every buffered row, parents before children, and the changed state of existing groups.
func (w *IntelWriter) flushInserts() error {
	for _, g := range w.newVuln {
		gs := w.groups[g]
		if gs == nil || gs.gone {
			continue
		}
		w.ins.vulns.add(g, gs.preferred, timeOrEmpty(gs.modified))
		gs.isNew, gs.dirty = false, false
	}
	w.newVuln = w.newVuln[:0]
	for _, b := range []*batch{w.ins.docs, w.ins.raws, w.ins.vulns, w.ins.advs, w.ins.records, w.ins.aliases, w.ins.affected, w.ins.signals, w.ins.revRecords, w.ins.revAffected} {
		if err := b.flush(w.ctx, w.tx); err != nil {
			return err
		}
	}
	for id, gs := range w.groups {
		if gs.dirty && !gs.isNew && !gs.gone {
			if _, err := w.tx.ExecContext(w.ctx, "UPDATE intel_vulns SET preferred = $1, modified = $2 WHERE id = $3",
				gs.preferred, timeOrEmpty(gs.modified), id); err != nil {
				return fmt.Errorf("intel: update vulnerability: %w", err)
			}
			gs.dirty = false
		}
		// Written: forget it (group reloads it when a later record links to it) so a large run's memory stays flat.
		delete(w.groups, id)
	}
	return nil
}

func (w *IntelWriter) finish() (*vigil.IntelResult, error) {
	if err := w.flush(); err != nil {
		return nil, err
	}
	if err := w.flushInserts(); err != nil {
		return nil, err
	}
	res := &vigil.IntelResult{Run: w.run, Signals: w.signals}
	for k := range w.changed {
		res.Changed = append(res.Changed, k)
	}
	slices.SortFunc(res.Changed, match.CompareKeys)
	ch := newBatch("intel_changes", "run_id, kind, ecosystem, name", " ON CONFLICT DO NOTHING")
	for _, k := range res.Changed {
		ch.add(w.run, k.Kind, k.Ecosystem, k.Name)
		if ch.full() {
			if err := ch.flush(w.ctx, w.tx); err != nil {
				return nil, err
			}
		}
	}
	if err := ch.flush(w.ctx, w.tx); err != nil {
		return nil, err
	}
	ids := newBatch("intel_changed_ids", "run_id, adv_id", " ON CONFLICT DO NOTHING")
	for id := range w.ids {
		ids.add(w.run, id)
		if ids.full() {
			if err := ids.flush(w.ctx, w.tx); err != nil {
				return nil, err
			}
		}
	}
	if err := ids.flush(w.ctx, w.tx); err != nil {
		return nil, err
	}
	if w.firstLoad {
		for _, d := range w.tx.db.dialect.firstLoadDeferred() {
			if _, err := w.tx.ExecContext(w.ctx, d.create); err != nil {
				return nil, fmt.Errorf("intel: first load: %w", mapErr(err))
			}
		}
	}
	for _, s := range w.order {
		res.Summaries = append(res.Summaries, *w.sums[s])
	}
	if res.Summaries == nil {
		res.Summaries = []vigil.IntelSummary{}
	}
	if _, err := w.tx.ExecContext(w.ctx, "UPDATE intel_runs SET summary = $1 WHERE id = $2", mustJSON(res.Summaries), w.run); err != nil {
		return nil, err
	}
	event := map[string]any{"run": w.run, "summaries": res.Summaries, "signals": res.Signals, "changed_packages": len(res.Changed)}
	if err := w.tx.Audit(w.ctx, "intel.import", "intel_run", idText(w.run), nil, event, ""); err != nil {
		return nil, err
	}
	return res, nil
}

// ---- batched multi-row inserts

// batch gathers rows for one multi-row INSERT, so that a large import (of intelligence, of an SBOM's components
// and findings) costs one statement per few hundred rows rather than a round trip per row: a VALUES list on
// SQLite, unnested arrays on PostgreSQL.
type batch struct {
	head, tail string
	table      string
	cols       []string
	ncol, max  int
	args       []any
	rows       int
	sql        map[int]string
	// prepared holds the statements of the row counts written so far (most often a full batch, or the import
	// writer's batch of advBatch advisories), prepared on tx (SQLite): a bulk load writes hundreds of batches of
	// the same size, and parsing a statement of thousands of parameters each time cost more than running it.
	prepared map[int]*sql.Stmt
	tx       *Tx
}

// maxPrepared bounds the row counts a batch keeps prepared statements for; other counts run unprepared.
const maxPrepared = 8

func newBatch(table, cols, tail string) *batch {
	names := strings.Split(cols, ",")
	for i := range names {
		names[i] = strings.TrimSpace(names[i])
	}
	n := len(names)
	return &batch{head: "INSERT INTO " + table + " (" + cols + ") VALUES ", tail: tail, table: table, cols: names, ncol: n,
		max: min(1000, 30000/n), sql: map[int]string{}}
}

func (b *batch) add(vals ...any) {
	b.args = append(b.args, vals...)
	b.rows++
}

func (b *batch) full() bool { return b.rows >= b.max }

func (b *batch) flush(ctx context.Context, tx *Tx) error {
	return b.write(ctx, tx, nil)
}

// flushReturning writes the batch and calls scan with each row its RETURNING tail answers, in no particular order.
func (b *batch) flushReturning(ctx context.Context, tx *Tx, scan func(*sql.Rows) error) error {
	return b.write(ctx, tx, scan)
}

func (b *batch) write(ctx context.Context, tx *Tx, scan func(*sql.Rows) error) error {
	if b.rows == 0 {
		return nil
	}
	if scan == nil && b.tail == "" && tx.canCopy() {
		rows := make([][]any, b.rows)
		for r := range rows {
			rows[r] = b.args[r*b.ncol : (r+1)*b.ncol]
		}
		if err := tx.copyFrom(ctx, b.table, b.cols, rows); err != nil {
			return fmt.Errorf("write %s: %w", b.table, mapErr(err))
		}
		b.reset()
		return nil
	}
	var q string
	var args []any
	if tx.db.dialect.bulkArrays {
		q, args = b.arrays()
	} else {
		q, args = b.values(tx.db.dialect), b.args
	}
	var err error
	if b.tx != tx {
		b.prepared, b.tx = map[int]*sql.Stmt{}, tx
	}
	stmt := b.prepared[b.rows]
	if scan == nil && stmt == nil && len(b.prepared) < maxPrepared && !tx.db.dialect.bulkArrays {
		if stmt, err = tx.PrepareContext(ctx, q); err != nil {
			return fmt.Errorf("write %s: %w", b.table, mapErr(err))
		}
		b.prepared[b.rows] = stmt
	}
	switch {
	case scan == nil && stmt != nil:
		_, err = stmt.ExecContext(ctx, args...)
	case scan == nil:
		_, err = tx.ExecContext(ctx, q, args...)
	default:
		err = eachRow(ctx, tx, q, args, scan)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", b.table, mapErr(err))
	}
	b.reset()
	return nil
}

func (b *batch) reset() {
	clear(b.args)
	b.args = b.args[:0]
	b.rows = 0
}

// eachID calls fn with each id of a one-column query's rows (and closes them).
func eachID(rows *sql.Rows, err error, fn func(id int64)) error {
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return err
		}
		fn(id)
	}
	return rows.Err()
}

// values is the batch as a VALUES list (SQLite), the statement text kept for the common row counts.
func (b *batch) values(d *dialect) string {
	if q, ok := b.sql[b.rows]; ok {
		return q
	}
	var sb strings.Builder
	sb.WriteString(b.head)
	n := 1
	for r := 0; r < b.rows; r++ {
		if r > 0 {
			sb.WriteByte(',')
		}
		sb.WriteByte('(')
		for c := 0; c < b.ncol; c++ {
			if c > 0 {
				sb.WriteByte(',')
			}
			sb.WriteString(d.param(n))
			n++
		}
		sb.WriteByte(')')
	}
	sb.WriteString(b.tail)
	q := sb.String()
	if b.rows == b.max || len(b.sql) < 8 {
		b.sql[b.rows] = q
	}
	return q
}

// arrays is the batch on PostgreSQL as one array per column, unnested into rows: a handful of parameters instead
// of thousands, which PostgreSQL plans and pgx encodes far faster than a VALUES list. Each column's type comes
// from its values (int64/int, string or nil, []byte, bool, float64).
func (b *batch) arrays() (string, []any) {
	cols := make([]any, b.ncol)
	casts := make([]string, b.ncol)
	for c := 0; c < b.ncol; c++ {
		var kind any
		for r := 0; r < b.rows && kind == nil; r++ {
			kind = b.args[r*b.ncol+c]
		}
		switch kind.(type) {
		case int64, int:
			v := make([]int64, b.rows)
			for r := range v {
				switch x := b.args[r*b.ncol+c].(type) {
				case int64:
					v[r] = x
				case int:
					v[r] = int64(x)
				}
			}
			cols[c], casts[c] = v, "bigint[]"
		case bool:
			v := make([]bool, b.rows)
			for r := range v {
				v[r], _ = b.args[r*b.ncol+c].(bool)
			}
			cols[c], casts[c] = v, "boolean[]"
		case float64:
			v := make([]float64, b.rows)
			for r := range v {
				v[r], _ = b.args[r*b.ncol+c].(float64)
			}
			cols[c], casts[c] = v, "double precision[]"
		case []byte:
			v := make([][]byte, b.rows)
			for r := range v {
				v[r], _ = b.args[r*b.ncol+c].([]byte)
			}
			cols[c], casts[c] = v, "bytea[]"
		default: // text, NULL where nil
			v := make([]*string, b.rows)
			for r := range v {
				if x, ok := b.args[r*b.ncol+c].(string); ok {
					v[r] = &x
				}
			}
			cols[c], casts[c] = v, "text[]"
		}
	}
	var sb strings.Builder
	sb.WriteString(strings.TrimSuffix(b.head, " VALUES "))
	sb.WriteString(" SELECT * FROM unnest(")
	for c, cast := range casts {
		if c > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString("$" + idText(int64(c+1)) + "::" + cast)
	}
	sb.WriteByte(')')
	sb.WriteString(b.tail)
	return sb.String(), cols
}

// placeholders returns the placeholders of parameters from..from+n-1 in dialect d.
func placeholders(d *dialect, from, n int) string {
	var sb strings.Builder
	for i := 0; i < n; i++ {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(d.param(from + i))
	}
	return sb.String()
}

func uniq(s []string) []string {
	slices.Sort(s)
	return slices.Compact(s)
}

// timeOrEmpty is timeText with "" for the zero time, for columns that are sorted on (NULL sorts differently on the
// two engines).
func timeOrEmpty(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(audit.TimeFormat)
}
