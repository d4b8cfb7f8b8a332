package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/match"
)

var _ vigil.VulnService = (*DB)(nil)

// sourceOrder is the order advisories are shown in and the preference for the merged summary: NVD's description is
// the reference text, then OSV, then CSAF and STIX.
var sourceOrder = map[string]int{vigil.SourceNVD: 0, vigil.SourceOSV: 1, vigil.SourceCSAF: 2, vigil.SourceSTIX: 3}

// Vuln returns the merged vulnerability named by any of its ids (CVE, GHSA, PYSEC, GO-, BIT-, ...), by a CSAF
// document id when the document describes exactly one vulnerability, or a CVE that only KEV or EPSS knows. ENOTFOUND
// when nothing knows it; EINVALID when a CSAF document id names several vulnerabilities (the message lists them).
func (db *DB) Vuln(ctx context.Context, id string) (*vigil.Vulnerability, error) {
	d, err := db.VulnDetail(ctx, id)
	if err != nil {
		return nil, err
	}
	return &d.Vulnerability, nil
}

// VulnDetail is Vuln with each advisory's provenance.
func (db *DB) VulnDetail(ctx context.Context, id string) (*vigil.VulnDetail, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	id = strings.TrimSpace(id)
	if id == "" || len(id) > maxIDLen {
		return nil, vigil.Errorf(vigil.EINVALID, "vulnerability id: %q is not an id", id)
	}
	g, err := db.resolveVuln(ctx, id)
	if err != nil {
		return nil, err
	}
	if g == 0 {
		return db.kevOnly(ctx, id)
	}
	return db.loadVuln(ctx, g)
}

// idForms returns id as given and in the spellings sources use (CVE and most prefixes upper case, GHSA with a
// lower-case body), so that `vuln show cve-2021-44228` works.
func idForms(id string) []string {
	forms := []string{id}
	up := strings.ToUpper(id)
	if up != id {
		forms = append(forms, up)
	}
	if strings.HasPrefix(up, "GHSA-") {
		if g := "GHSA-" + strings.ToLower(id[5:]); g != id {
			forms = append(forms, g)
		}
	}
	return forms
}

func (db *DB) resolveVuln(ctx context.Context, id string) (int64, error) {
	for _, f := range idForms(id) {
		var g int64
		err := db.db.QueryRowContext(ctx, "SELECT vuln_id FROM intel_aliases WHERE alias = $1", f).Scan(&g)
		if err == nil {
			return g, nil
		} else if !errors.Is(err, sql.ErrNoRows) {
			return 0, err
		}
	}
	for _, f := range idForms(id) {
		rows, err := db.db.QueryContext(ctx, `SELECT DISTINCT v.id, v.preferred FROM intel_advisories a JOIN intel_vulns v ON v.id = a.vuln_id
			WHERE a.document = $1 AND a.document <> '' ORDER BY v.id`, f)
		if err != nil {
			return 0, err
		}
		var gs []int64
		var names []string
		for rows.Next() {
			var g int64
			var p string
			if err := rows.Scan(&g, &p); err != nil {
				rows.Close()
				return 0, err
			}
			gs, names = append(gs, g), append(names, p)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return 0, err
		}
		switch {
		case len(gs) == 1:
			return gs[0], nil
		case len(gs) > 1:
			return 0, vigil.Errorf(vigil.EINVALID, "%s is a document describing %d vulnerabilities (%s): name one of them", f, len(gs), strings.Join(names, ", "))
		}
	}
	return 0, nil
}

// kevOnly answers for a CVE that no advisory describes but KEV or EPSS scores.
func (db *DB) kevOnly(ctx context.Context, id string) (*vigil.VulnDetail, error) {
	cve := strings.ToUpper(id)
	if isCVE(cve) {
		v := &vigil.VulnDetail{Vulnerability: vigil.Vulnerability{ID: cve, Aliases: []string{}, Scores: []vigil.Score{},
			Advisories: []*vigil.Advisory{}, References: []vigil.Reference{}}, Sources: []vigil.SourceRef{}}
		var err error
		if v.KEV, err = db.kevFor(ctx, []string{cve}); err != nil {
			return nil, err
		}
		if v.EPSS, err = db.epssFor(ctx, cve, nil); err != nil {
			return nil, err
		}
		if v.KEV != nil || v.EPSS != nil {
			return v, nil
		}
	}
	return nil, vigil.Errorf(vigil.ENOTFOUND, "vulnerability %s not found", id)
}

func (db *DB) loadVuln(ctx context.Context, g int64) (*vigil.VulnDetail, error) {
	v := &vigil.VulnDetail{Vulnerability: vigil.Vulnerability{Aliases: []string{}, Scores: []vigil.Score{}, Advisories: []*vigil.Advisory{},
		References: []vigil.Reference{}}, Sources: []vigil.SourceRef{}}
	// The preferred id and the aliases in one round trip: a finding page that misses the cache pays for each.
	rows, err := db.db.QueryContext(ctx, "SELECT v.preferred, a.alias FROM intel_vulns v LEFT JOIN intel_aliases a ON a.vuln_id = v.id WHERE v.id = $1", g)
	if err != nil {
		return nil, err
	}
	var ids []string
	found := false
	for rows.Next() {
		var a sql.NullString
		if err := rows.Scan(&v.ID, &a); err != nil {
			rows.Close()
			return nil, err
		}
		found = true
		if a.Valid {
			ids = append(ids, a.String)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if !found {
		return nil, vigil.Errorf(vigil.ENOTFOUND, "vulnerability %d not found", g)
	}
	slices.Sort(ids)
	for _, a := range ids {
		if a != v.ID {
			v.Aliases = append(v.Aliases, a)
		}
	}
	rows, err = db.db.QueryContext(ctx, `SELECT a.source, a.adv_id, a.document, a.revision, a.data, r.raw, d.id, d.name, d.url, d.fetched_at, d.digest, d.revision
		FROM intel_advisories a JOIN intel_documents d ON d.id = a.doc_ref LEFT JOIN intel_raw r ON r.doc_id = a.doc_ref AND a.data = ''
		WHERE a.vuln_id = $1`, g)
	if err != nil {
		return nil, err
	}
	type item struct {
		adv *vigil.Advisory
		ref vigil.SourceRef
	}
	var items []item
	for rows.Next() {
		var it item
		var data, raw []byte
		var at sql.NullString
		r := &it.ref
		if err := rows.Scan(&r.Source, &r.ID, &r.Document, &r.Revision, &data, &raw, &r.DocumentRef, &r.File, &r.URL, &at, &r.Digest, &r.DocRevision); err != nil {
			rows.Close()
			return nil, err
		}
		r.FetchedAt = parseTime(at)
		it.adv = new(vigil.Advisory)
		if err := decodeAdvisory(data, raw, r.File, it.adv); err != nil {
			rows.Close()
			return nil, fmt.Errorf("intel: advisory %s/%s: %w", r.Source, r.ID, err)
		}
		items = append(items, it)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	slices.SortFunc(items, func(a, b item) int {
		if d := rank(a.ref.Source) - rank(b.ref.Source); d != 0 {
			return d
		}
		if c := strings.Compare(a.ref.ID, b.ref.ID); c != 0 {
			return c
		}
		return strings.Compare(a.ref.Document, b.ref.Document)
	})
	allWithdrawn := len(items) > 0
	seenScore := map[[3]string]bool{}
	seenRef := map[string]bool{}
	var cves []string
	for _, id := range ids {
		if isCVE(id) {
			cves = append(cves, id)
		}
	}
	for _, it := range items {
		a := it.adv
		v.Advisories = append(v.Advisories, a)
		v.Sources = append(v.Sources, it.ref)
		if !a.IsWithdrawn() {
			allWithdrawn = false
			if v.Summary == "" {
				v.Summary = firstNonEmpty(a.Summary, a.Title, a.Details)
			}
		}
		for _, s := range a.Scores {
			if s.Source == "" {
				s.Source = a.Source
			}
			k := [3]string{a.Source, s.Source, s.Vector}
			if !seenScore[k] {
				seenScore[k] = true
				v.Scores = append(v.Scores, s)
			}
		}
		for _, r := range a.References {
			if !seenRef[r.URL] {
				seenRef[r.URL] = true
				v.References = append(v.References, r)
			}
		}
		if a.Modified.After(v.Modified) {
			v.Modified = a.Modified
		}
	}
	if v.Summary == "" && len(items) > 0 {
		a := items[0].adv
		v.Summary = firstNonEmpty(a.Summary, a.Title, a.Details)
	}
	v.Withdrawn = allWithdrawn
	if v.KEV, err = db.kevFor(ctx, preferFirst(v.ID, cves)); err != nil {
		return nil, err
	}
	if v.EPSS, err = db.epssFor(ctx, v.ID, cves); err != nil {
		return nil, err
	}
	return v, nil
}

func rank(source string) int {
	if r, ok := sourceOrder[source]; ok {
		return r
	}
	return len(sourceOrder)
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if strings.TrimSpace(x) != "" {
			return x
		}
	}
	return ""
}

func preferFirst(id string, cves []string) []string {
	out := []string{}
	if isCVE(id) {
		out = append(out, id)
	}
	for _, c := range cves {
		if c != id {
			out = append(out, c)
		}
	}
	return out
}

// kevFor returns the KEV entry of the first of cves that the current catalog lists.
func (db *DB) kevFor(ctx context.Context, cves []string) (*vigil.KEVEntry, error) {
	for _, c := range cves {
		var data string
		err := db.db.QueryRowContext(ctx, "SELECT data FROM intel_kev WHERE cve = $1 AND removed = $2", c, false).Scan(&data)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		} else if err != nil {
			return nil, err
		}
		var e vigil.KEVEntry
		if err := json.Unmarshal([]byte(data), &e); err != nil {
			return nil, fmt.Errorf("intel: kev %s: %w", c, err)
		}
		return &e, nil
	}
	return nil, nil
}

// epssFor returns the latest EPSS score of id when it is a CVE, else the highest latest score among cves.
func (db *DB) epssFor(ctx context.Context, id string, cves []string) (*vigil.EPSSScore, error) {
	get := func(c string) (*vigil.EPSSScore, error) {
		var s vigil.EPSSScore
		var d string
		err := db.db.QueryRowContext(ctx, "SELECT cve, date, score, percentile, model_version FROM intel_epss_latest WHERE cve = $1", c).
			Scan(&s.CVE, &d, &s.Score, &s.Percentile, &s.ModelVersion)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil
		} else if err != nil {
			return nil, err
		}
		s.Date, _ = vigil.ParseDate(d)
		return &s, nil
	}
	if isCVE(id) {
		if s, err := get(id); s != nil || err != nil {
			return s, err
		}
	}
	var best *vigil.EPSSScore
	for _, c := range cves {
		s, err := get(c)
		if err != nil {
			return nil, err
		}
		if s != nil && (best == nil || s.Score > best.Score) {
			best = s
		}
	}
	return best, nil
}

// Vulns lists merged vulnerabilities matching f, most recently modified first (at most f.Limit, default 100, at
// most 10,000). Text matches anything an advisory says (ids, aliases, package and product names, title, summary,
// details), case-insensitively.
func (db *DB) Vulns(ctx context.Context, f vigil.VulnFilter) ([]*vigil.Vulnerability, error) {
	ds, err := db.VulnDetails(ctx, f)
	if err != nil {
		return nil, err
	}
	out := make([]*vigil.Vulnerability, len(ds))
	for i, d := range ds {
		out[i] = &d.Vulnerability
	}
	return out, nil
}

// VulnDetails is Vulns with provenance.
func (db *DB) VulnDetails(ctx context.Context, f vigil.VulnFilter) ([]*vigil.VulnDetail, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	if f.MinEPSS < 0 || f.MinEPSS > 1 {
		return nil, vigil.Errorf(vigil.EINVALID, "min EPSS: %g is outside 0..1", f.MinEPSS)
	}
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + idText(int64(len(args)))
	}
	if f.KEV {
		where = append(where, "v.id IN (SELECT a.vuln_id FROM intel_aliases a JOIN intel_kev k ON k.cve = a.alias WHERE k.removed = "+arg(false)+")")
	}
	if f.MinEPSS > 0 {
		where = append(where, "v.id IN (SELECT a.vuln_id FROM intel_aliases a JOIN intel_epss_latest e ON e.cve = a.alias WHERE e.score >= "+arg(f.MinEPSS)+")")
	}
	if !f.ModifiedSince.IsZero() {
		where = append(where, "v.modified >= "+arg(timeText(f.ModifiedSince)))
	}
	if f.Ecosystem != "" {
		where = append(where, "v.id IN (SELECT adv.vuln_id FROM intel_affected x JOIN intel_advisories adv ON adv.id = x.advisory_id WHERE x.kind = "+
			arg(vigil.KeyPackage)+" AND x.ecosystem = "+arg(match.EcosystemBase(f.Ecosystem))+")")
	}
	if t := strings.TrimSpace(f.Text); t != "" {
		if len(t) > 200 {
			return nil, vigil.Errorf(vigil.EINVALID, "text: longer than 200 bytes")
		}
		like := "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(strings.ToLower(t)) + "%"
		// Ids in the alias groups, package names in the affected index, the rest in the advisories' search text
		// (searchText: already lower case). Each is a scan on a large store, but `vuln list --text` is a person's
		// query, not the matcher's.
		p := arg(like)
		where = append(where, "(v.id IN (SELECT vuln_id FROM intel_aliases WHERE LOWER(alias) LIKE "+p+" ESCAPE '\\')"+
			" OR v.id IN (SELECT vuln_id FROM intel_advisories WHERE search LIKE "+p+" ESCAPE '\\')"+
			" OR v.id IN (SELECT adv.vuln_id FROM intel_affected x JOIN intel_advisories adv ON adv.id = x.advisory_id WHERE LOWER(x.name) LIKE "+p+" ESCAPE '\\'))")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	if limit > 10000 {
		limit = 10000
	}
	q := "SELECT v.id FROM intel_vulns v"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY v.modified DESC, v.id DESC LIMIT " + idText(int64(limit))
	rows, err := db.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("intel: list vulnerabilities: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]*vigil.VulnDetail, 0, len(ids))
	for _, id := range ids {
		v, err := db.loadVuln(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// ChangedKeys returns the package keys whose advisories changed in import runs after afterRun, and the newest run
// seen (pass it next time): the change feed the portfolio re-matches from.
func (db *DB) ChangedKeys(ctx context.Context, afterRun int64) ([]vigil.PackageKey, int64, error) {
	last := afterRun
	if err := db.db.QueryRowContext(ctx, "SELECT COALESCE(MAX(id), 0) FROM intel_runs").Scan(&last); err != nil {
		return nil, 0, err
	}
	if last < afterRun {
		last = afterRun
	}
	rows, err := db.db.QueryContext(ctx, "SELECT DISTINCT kind, ecosystem, name FROM intel_changes WHERE run_id > $1 AND run_id <= $2 ORDER BY kind, ecosystem, name", afterRun, last)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []vigil.PackageKey
	for rows.Next() {
		var k vigil.PackageKey
		if err := rows.Scan(&k.Kind, &k.Ecosystem, &k.Name); err != nil {
			return nil, 0, err
		}
		out = append(out, k)
	}
	return out, last, rows.Err()
}

// ChangedIDs returns the ids of the advisories added, revised or withdrawn in the import runs after afterRun up to
// lastRun (ChangedKeys' last), sorted. complete is false when a run in that range predates the record of ids
// (migration 14): the caller must then re-match by package keys.
func (db *DB) ChangedIDs(ctx context.Context, afterRun, lastRun int64) (ids []string, complete bool, err error) {
	defer vigil.Wrap(&err, "store.ChangedIDs", afterRun)
	var from int64
	var mark string
	switch err := db.db.QueryRowContext(ctx, "SELECT v FROM kv WHERE k = 'intel.changed_ids_after'").Scan(&mark); {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return nil, false, err
	default:
		if from, err = strconv.ParseInt(mark, 10, 64); err != nil {
			return nil, false, fmt.Errorf("kv intel.changed_ids_after %q: %w", mark, err)
		}
	}
	if afterRun < from {
		return nil, false, nil
	}
	rows, err := db.db.QueryContext(ctx, "SELECT DISTINCT adv_id FROM intel_changed_ids WHERE run_id > $1 AND run_id <= $2 ORDER BY adv_id", afterRun, lastRun)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, false, err
		}
		ids = append(ids, id)
	}
	return ids, true, rows.Err()
}

// AdvisoryRevision is one stored version of a source's advisory.
type AdvisoryRevision struct {
	Revision  int             `json:"revision"` // 0 for an older version imported after a newer one
	Current   bool            `json:"current"`
	Digest    string          `json:"digest"`
	Withdrawn bool            `json:"withdrawn"`
	Advisory  *vigil.Advisory `json:"advisory"`
}

// AdvisoryRevisions returns every stored version of one source's advisory (document is the CSAF tracking id, ""
// for other sources): the earlier ones oldest first, then the current one. ENOTFOUND when the store has none.
func (db *DB) AdvisoryRevisions(ctx context.Context, source, document, id string) ([]AdvisoryRevision, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	var advID int64
	cur := AdvisoryRevision{Current: true}
	var data, raw []byte
	var name string
	err := db.db.QueryRowContext(ctx, `SELECT a.id, a.revision, a.digest, a.withdrawn, a.data, r.raw, d.name FROM intel_advisories a
		JOIN intel_documents d ON d.id = a.doc_ref LEFT JOIN intel_raw r ON r.doc_id = a.doc_ref AND a.data = ''
		WHERE a.source = $1 AND a.document = $2 AND a.adv_id = $3`,
		source, document, id).Scan(&advID, &cur.Revision, &cur.Digest, &cur.Withdrawn, &data, &raw, &name)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, vigil.Errorf(vigil.ENOTFOUND, "advisory %s %s %s not found", source, document, id)
	} else if err != nil {
		return nil, err
	}
	cur.Advisory = new(vigil.Advisory)
	if err := decodeAdvisory(data, raw, name, cur.Advisory); err != nil {
		return nil, err
	}
	rows, err := db.db.QueryContext(ctx, `SELECT v.revision, v.digest, v.withdrawn, v.data, r.raw, d.name FROM intel_advisory_revisions v
		JOIN intel_documents d ON d.id = v.doc_ref LEFT JOIN intel_raw r ON r.doc_id = v.doc_ref AND v.data = ''
		WHERE v.advisory_id = $1 ORDER BY v.revision, v.id`, advID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []AdvisoryRevision
	for rows.Next() {
		var r AdvisoryRevision
		var d, raw []byte
		var name string
		if err := rows.Scan(&r.Revision, &r.Digest, &r.Withdrawn, &d, &raw, &name); err != nil {
			return nil, err
		}
		r.Advisory = new(vigil.Advisory)
		if err := decodeAdvisory(d, raw, name, r.Advisory); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return append(out, cur), nil
}

// SourceDocument returns a stored source document's bytes (decompressed, at most max bytes).
func (db *DB) SourceDocument(ctx context.Context, ref int64, max int64) ([]byte, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	var blob []byte
	err := db.db.QueryRowContext(ctx, "SELECT raw FROM intel_raw WHERE doc_id = $1", ref).Scan(&blob)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, vigil.Errorf(vigil.ENOTFOUND, "document %d not found", ref)
	} else if err != nil {
		return nil, err
	}
	return Gunzip(blob, max)
}
