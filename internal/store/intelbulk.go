package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/match"
)

// AdvisoriesOfVersions calls add, a batch at a time and in storage order, with the match records (as AdvisoriesFor
// returns them: ids and what matching reads, withdrawn ones left out) of every advisory that names a key the
// reverse index holds for versionIDs (nil: every device version): everything a re-match of those versions can
// match, each advisory once. For the whole portfolio one statement streams the records while the store joins its
// own indexes (no key list is sent, and the advisories many versions share are read once, where a look-up per
// batch of each version's keys read them again for every version); the records are decoded on a goroutine of their
// own while add indexes the previous batch. Callers authorize: it is for the matcher.
func (db *DB) AdvisoriesOfVersions(ctx context.Context, versionIDs []int64, add func([]*vigil.Advisory)) (err error) {
	defer vigil.Wrap(&err, "store.AdvisoriesOfVersions", fmt.Sprintf("%d versions", len(versionIDs)))
	if versionIDs != nil {
		return db.advisoriesOfSomeVersions(ctx, versionIDs, add)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // add's side failing or returning early stops the reader
	batches := make(chan []*vigil.Advisory, 4)
	errc := make(chan error, 1)
	go func() {
		defer close(batches)
		errc <- db.streamPortfolioRecords(ctx, batches)
	}()
	for b := range batches {
		add(b)
	}
	return <-errc
}

// recordBatch is how many decoded records AdvisoriesOfVersions hands add at once.
const recordBatch = 1000

// streamPortfolioRecords decodes the match records of the advisories that name a key of any version, in advisory
// id order, and sends them in batches.
func (db *DB) streamPortfolioRecords(ctx context.Context, out chan<- []*vigil.Advisory) error {
	rows, err := db.db.QueryContext(ctx, `SELECT m.advisory_id, m.record FROM intel_match m WHERE EXISTS (
		SELECT 1 FROM intel_affected a JOIN component_keys k ON k.kind = a.kind AND k.ecosystem = a.ecosystem AND k.name = a.name
		WHERE a.advisory_id = m.advisory_id) ORDER BY m.advisory_id`)
	if err != nil {
		return fmt.Errorf("intel: match records: %w", err)
	}
	defer rows.Close()
	batch := make([]*vigil.Advisory, 0, recordBatch)
	for rows.Next() {
		var id int64
		var data sql.RawBytes // DecodeRecord copies what it keeps
		if err := rows.Scan(&id, &data); err != nil {
			return err
		}
		a, err := match.DecodeRecord(data)
		if err != nil {
			return fmt.Errorf("intel: advisory %d: %w", id, err)
		}
		if a.IsWithdrawn() {
			continue
		}
		if batch = append(batch, a); len(batch) == recordBatch {
			select {
			case out <- batch:
			case <-ctx.Done():
				return ctx.Err()
			}
			batch = make([]*vigil.Advisory, 0, recordBatch)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(batch) > 0 {
		select {
		case out <- batch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// advisoriesOfSomeVersions is AdvisoriesOfVersions for a few versions: their keys' advisory ids through the
// reverse index's rows of those versions, then the records by id.
func (db *DB) advisoriesOfSomeVersions(ctx context.Context, versionIDs []int64, add func([]*vigil.Advisory)) error {
	var ids []int64
	for len(versionIDs) > 0 {
		chunk := versionIDs[:min(len(versionIDs), 500)]
		versionIDs = versionIDs[len(chunk):]
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		rows, err := db.db.QueryContext(ctx, `SELECT DISTINCT a.advisory_id FROM component_keys k
			JOIN intel_affected a ON a.kind = k.kind AND a.ecosystem = k.ecosystem AND a.name = k.name
			WHERE k.version_id IN (`+placeholders(db.dialect, 1, len(chunk))+")", args...)
		if err := eachID(rows, err, func(id int64) { ids = append(ids, id) }); err != nil {
			return fmt.Errorf("intel: affected index: %w", err)
		}
	}
	advs, err := db.matchRecords(ctx, ids)
	if err != nil {
		return err
	}
	for len(advs) > 0 {
		n := min(len(advs), recordBatch)
		add(advs[:n])
		advs = advs[n:]
	}
	return nil
}
