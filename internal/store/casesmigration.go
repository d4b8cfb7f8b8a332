package store

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/vigil-dev/vigil"
)

// casesDDL holds migration 20's schema, one file per engine for before and after the records move. It is SQL
// beside a Go migration rather than a numbered SQL file because the move between them needs Go: findings group
// into cases by the vulnerability's aliases (a JSON list). The rows it writes are attested after it (attestAt).
//
//go:embed casesddl/*.sql
var casesDDL embed.FS

// MigrationCases is the version of the migration that introduced cases.
const MigrationCases = 20

// CasesMoved counts what migration 20 moved, per table.
type CasesMoved struct {
	Cases, Findings, Assessments, AssessmentThreats, Events int
}

// casesMigration moves the finding-level FDA flow to cases: each device's findings of one vulnerability (by any
// alias) become one case whose D0 is the earliest of theirs, and every assessment (dated the day it was entered,
// which is what it meant before) and event moves to its finding's case, keeping its id. Nothing is lost: the
// finding-level tables are dropped only after their rows are copied, in the same transaction.
func casesMigration(db *DB) *goose.Migration {
	return goose.NewGoMigration(MigrationCases, &goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error {
		_, err := migrateToCases(ctx, db, tx)
		return err
	}}, nil)
}

func migrateToCases(ctx context.Context, db *DB, sqltx *sql.Tx) (moved CasesMoved, err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("migration %d (cases): %w", MigrationCases, err)
		}
	}()
	ddl := func(part string) error {
		b, err := casesDDL.ReadFile("casesddl/" + db.dialect.name + "_" + part + ".sql")
		if err != nil {
			return err
		}
		if _, err := sqltx.ExecContext(ctx, string(b)); err != nil {
			return fmt.Errorf("%s schema: %w", part, err)
		}
		return nil
	}
	if err := ddl("before"); err != nil {
		return moved, err
	}
	tx := &Tx{Tx: sqltx, db: db, now: db.clock.Now().UTC()}
	loc := tx.orgLocation(ctx)

	// Findings, grouped per device by any shared id.
	type finding struct {
		id, device int64
		ids        []string
		learned    string
		source     string
		state      vigil.FindingState
	}
	var fs []finding
	err = eachRow(ctx, tx, `SELECT f.id, v.device_id, f.vuln_id, f.aliases, f.learned, f.source, f.state FROM findings f
		JOIN device_versions v ON v.id = f.version_id ORDER BY f.id`, nil, func(rows *sql.Rows) error {
		var f finding
		var vuln, aliases string
		if err := rows.Scan(&f.id, &f.device, &vuln, &aliases, &f.learned, &f.source, &f.state); err != nil {
			return err
		}
		f.ids = []string{vuln}
		var as []string
		json.Unmarshal([]byte(aliases), &as)
		f.ids = append(f.ids, as...)
		fs = append(fs, f)
		return nil
	})
	if err != nil {
		return moved, fmt.Errorf("findings: %w", err)
	}
	parent := make([]int, len(fs))
	for i := range parent {
		parent[i] = i
	}
	var root func(i int) int
	root = func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	byID := map[string]int{} // device + lower-case id → a finding carrying it
	for i, f := range fs {
		for _, id := range f.ids {
			k := fmt.Sprintf("%d\x00%s", f.device, strings.ToLower(id))
			if j, ok := byID[k]; ok {
				parent[root(i)] = root(j)
			} else {
				byID[k] = i
			}
		}
	}
	groups := map[int][]int{}
	var order []int
	for i := range fs {
		r := root(i)
		if _, ok := groups[r]; !ok {
			order = append(order, r)
		}
		groups[r] = append(groups[r], i)
	}
	sort.Ints(order)
	caseOf := map[int64]int64{} // finding → case
	for _, r := range order {
		members := groups[r]
		var ids []string
		first := fs[members[0]]
		closed := true
		var findingIDs []int64
		for _, i := range members {
			f := fs[i]
			ids = append(ids, f.ids...)
			if f.learned < first.learned {
				first = f
			}
			closed = closed && f.state == vigil.FindingClosed
			findingIDs = append(findingIDs, f.id)
		}
		c := &vigil.Case{DeviceID: first.device, State: vigil.CaseOpen, LearnedHow: learnedHow(first.source),
			LearnedEvidence: fmt.Sprintf("finding %d (%s), the earliest learned of the case's findings before cases", first.id, first.source)}
		c.Vulnerability, c.Aliases = vigil.CanonicalVuln(ids)
		c.Learned, _ = vigil.ParseDate(first.learned)
		if closed {
			c.State = vigil.CaseClosed
		}
		if err := tx.insertCaseRow(ctx, c); err != nil {
			return moved, err
		}
		for _, id := range findingIDs {
			caseOf[id] = c.ID
			if _, err := tx.ExecContext(ctx, "UPDATE findings SET case_id = $1 WHERE id = $2", c.ID, id); err != nil {
				return moved, err
			}
		}
		moved.Cases++
		moved.Findings += len(findingIDs)
	}

	// Assessments: the effective date is the day each was entered, in the organization's zone.
	type assessment struct {
		id, finding int64
		created     string
		actor, data string
		risk        string
	}
	var as []assessment
	err = eachRow(ctx, tx, "SELECT id, finding_id, created_at, actor, data, risk FROM assessments ORDER BY id", nil, func(rows *sql.Rows) error {
		var a assessment
		if err := rows.Scan(&a.id, &a.finding, &a.created, &a.actor, &a.data, &a.risk); err != nil {
			return err
		}
		as = append(as, a)
		return nil
	})
	if err != nil {
		return moved, fmt.Errorf("assessments: %w", err)
	}
	for _, a := range as {
		t, err := time.Parse(time.RFC3339Nano, a.created)
		if err != nil {
			return moved, fmt.Errorf("assessment %d: created_at %q: %w", a.id, a.created, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO assessments_next (id, case_id, finding_id, date, created_at, actor, data, risk)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, a.id, caseOf[a.finding], a.finding, vigil.DateOf(t, loc).String(), a.created, a.actor, a.data, a.risk); err != nil {
			return moved, fmt.Errorf("assessment %d: %w", a.id, err)
		}
	}
	moved.Assessments = len(as)
	res, err := tx.ExecContext(ctx, "INSERT INTO assessment_threats_next (assessment_id, threat_id) SELECT assessment_id, threat_id FROM assessment_threats")
	if err != nil {
		return moved, fmt.Errorf("assessment threats: %w", err)
	}
	n, _ := res.RowsAffected()
	moved.AssessmentThreats = int(n)
	res, err = tx.ExecContext(ctx, `INSERT INTO case_events (id, case_id, finding_id, type, date, details, note, created_at, actor)
		SELECT e.id, f.case_id, e.finding_id, e.type, e.date, e.details, e.note, e.created_at, e.actor FROM finding_events e JOIN findings f ON f.id = e.finding_id`)
	if err != nil {
		return moved, fmt.Errorf("events: %w", err)
	}
	n, _ = res.RowsAffected()
	moved.Events = int(n)
	var left int
	if err := tx.QueryRowContext(ctx, "SELECT (SELECT COUNT(*) FROM finding_events) - $1", moved.Events).Scan(&left); err != nil {
		return moved, err
	}
	if left != 0 {
		return moved, fmt.Errorf("events: %d not moved", left)
	}
	return moved, ddl("after")
}

// learnedHow reads a finding's source as how its case was learned of.
func learnedHow(source string) string {
	switch source {
	case "match":
		return vigil.LearnedMatch
	case "researcher", "report":
		return vigil.LearnedReport
	case "csaf-signal", "advisory":
		return vigil.LearnedAdvisory
	}
	return vigil.LearnedManual
}
