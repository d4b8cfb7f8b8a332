package store

import "context"

// SetAnalyzeThreshold lets a test make a small import count as a large one; it returns the restore function.
func SetAnalyzeThreshold(n int) (restore func()) {
	old := analyzeThreshold
	analyzeThreshold = n
	return func() { analyzeThreshold = old }
}

// BuildMatchRecords runs migration 9's work again, for a test that emptied intel_match.
func BuildMatchRecords(ctx context.Context, db *DB) error {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := buildMatchRecords(ctx, tx, db.dialect); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}
