package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/vigil-dev/vigil"
)

// ImportVEX stores a supplier VEX document and the proposals it makes, in one transaction: the document is
// audited with its counts and each proposal on its finding's trail. The same file (by SHA-256) is imported once.
func (db *DB) ImportVEX(ctx context.Context, doc *vigil.VEXDocument, props []*vigil.VEXProposal) (err error) {
	defer vigil.Wrap(&err, "store.ImportVEX", doc.Name)
	if _, err := vigil.Authorize(ctx, vigil.PermAssess); err != nil {
		return err
	}
	if err := texts("name", doc.Name, "format", doc.Format, "author", doc.Author); err != nil {
		return err
	}
	return db.transact(ctx, func(tx *Tx) error {
		var prior int64
		err := tx.QueryRowContext(ctx, "SELECT id FROM vex_documents WHERE sha256 = $1", doc.SHA256).Scan(&prior)
		if err == nil {
			return vigil.Errorf(vigil.ECONFLICT, "%s: this file was already imported (VEX document %d)", doc.Name, prior)
		} else if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		doc.ImportedAt, doc.ImportedBy = tx.Now(), tx.actor.String()
		if doc.ID, err = tx.insertID(ctx, "INSERT INTO vex_documents (name, format, author, sha256, statements, imported_at, imported_by) VALUES ($1, $2, $3, $4, $5, $6, $7)",
			doc.Name, doc.Format, doc.Author, doc.SHA256, doc.Statements, tx.NowText(), doc.ImportedBy); err != nil {
			return err
		}
		tx.wrote("vex_documents", doc.ID)
		if err := tx.Audit(ctx, "vex.import", "vex_document", idText(doc.ID), nil, map[string]any{"document": doc, "proposals": len(props)}, ""); err != nil {
			return err
		}
		for _, p := range props {
			if err := db.findingExists(ctx, tx, p.FindingID); err != nil {
				return err
			}
			p.DocumentID, p.State, p.CreatedAt = doc.ID, vigil.VEXProposed, tx.Now()
			if p.ID, err = tx.insertID(ctx, "INSERT INTO vex_proposals (document_id, finding_id, statement, state, created_at) VALUES ($1, $2, $3, $4, $5)",
				doc.ID, p.FindingID, mustJSON(p.Statement), p.State, tx.NowText()); err != nil {
				return err
			}
			tx.wrote("vex_proposals", p.ID)
			if err := tx.Audit(ctx, "vex.propose", "finding", idText(p.FindingID), nil, p, ""); err != nil {
				return err
			}
		}
		return nil
	})
}

// texts applies vigil.Text to name/value pairs of names and labels.
func texts(pairs ...string) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		if err := vigil.Text(pairs[i], pairs[i+1], vigil.MaxName); err != nil {
			return err
		}
	}
	return nil
}

const vexCols = "p.id, p.document_id, d.name, d.author, p.finding_id, p.statement, p.state, p.created_at, p.decided_by, p.decided_at, p.reason"

func scanVEX(row interface{ Scan(...any) error }) (*vigil.VEXProposal, error) {
	var p vigil.VEXProposal
	var name, author, stmt string
	var created, decided sql.NullString
	if err := row.Scan(&p.ID, &p.DocumentID, &name, &author, &p.FindingID, &stmt, &p.State, &created, &p.DecidedBy, &decided, &p.Reason); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(stmt), &p.Statement); err != nil {
		return nil, fmt.Errorf("vex proposal %d: %w", p.ID, err)
	}
	p.Document = name
	if author != "" {
		p.Document += " (" + author + ")"
	}
	p.CreatedAt = parseTime(created)
	if t := parseTime(decided); !t.IsZero() {
		p.DecidedAt = &t
	}
	return &p, nil
}

// VEXProposals lists proposals matching f, newest first (at most f.Limit, default 500).
func (db *DB) VEXProposals(ctx context.Context, f vigil.VEXFilter) (_ []*vigil.VEXProposal, err error) {
	defer vigil.Wrap(&err, "store.VEXProposals", nil)
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	var where []string
	var args []any
	arg := func(v any) string { args = append(args, v); return fmt.Sprintf("$%d", len(args)) }
	if len(f.States) > 0 {
		var ph []string
		for _, s := range f.States {
			if err := vigil.OneOf("state", s, vigil.VEXProposalStates); err != nil {
				return nil, err
			}
			ph = append(ph, arg(s))
		}
		where = append(where, "p.state IN ("+strings.Join(ph, ", ")+")")
	}
	if f.FindingID != 0 {
		where = append(where, "p.finding_id = "+arg(f.FindingID))
	}
	if f.DocumentID != 0 {
		where = append(where, "p.document_id = "+arg(f.DocumentID))
	}
	q := "SELECT " + vexCols + " FROM vex_proposals p JOIN vex_documents d ON d.id = p.document_id"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 || limit > 500 {
		limit = 500
	}
	rows, err := db.db.QueryContext(ctx, q+" ORDER BY p.id DESC LIMIT "+idText(int64(limit)), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*vigil.VEXProposal{}
	for rows.Next() {
		p, err := scanVEX(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// DecideVEX records a person's decision on a proposal, once. Accepting not_affected or fixed closes the finding in
// the same transaction (when it is open), with the supplier's statement and the person's reason as the reason.
func (db *DB) DecideVEX(ctx context.Context, id int64, accept bool, reason string) (_ *vigil.VEXProposal, err error) {
	defer vigil.Wrap(&err, "store.DecideVEX", id)
	if _, err := vigil.Authorize(ctx, vigil.PermAssess); err != nil {
		return nil, err
	}
	if strings.TrimSpace(reason) == "" {
		return nil, vigil.Errorf(vigil.EINVALID, "reason: required")
	}
	var p *vigil.VEXProposal
	err = db.transact(ctx, func(tx *Tx) error {
		p, err = scanVEX(tx.QueryRowContext(ctx, "SELECT "+vexCols+" FROM vex_proposals p JOIN vex_documents d ON d.id = p.document_id WHERE p.id = $1", id))
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("VEX proposal", id)
		} else if err != nil {
			return err
		}
		if p.State != vigil.VEXProposed {
			return vigil.Errorf(vigil.ECONFLICT, "VEX proposal %d was already %s by %s", id, p.State, p.DecidedBy)
		}
		old := p.State
		p.State, p.DecidedBy, p.Reason = vigil.VEXRejected, tx.actor.String(), reason
		if accept {
			p.State = vigil.VEXAccepted
		}
		now := tx.Now()
		p.DecidedAt = &now
		if _, err := tx.ExecContext(ctx, "UPDATE vex_proposals SET state = $1, decided_by = $2, decided_at = $3, reason = $4 WHERE id = $5",
			p.State, p.DecidedBy, tx.NowText(), reason, id); err != nil {
			return err
		}
		tx.wrote("vex_proposals", id)
		if err := tx.Audit(ctx, "vex."+strings.TrimSuffix(string(p.State), "ed"), "finding", idText(p.FindingID),
			map[string]any{"proposal": id, "state": old}, map[string]any{"proposal": id, "state": p.State, "statement": p.Statement}, reason); err != nil {
			return err
		}
		if !accept || (p.Statement.Status != vigil.VEXNotAffected && p.Statement.Status != vigil.VEXFixed) {
			return nil
		}
		var state vigil.FindingState
		if err := tx.QueryRowContext(ctx, "SELECT state FROM findings WHERE id = $1", p.FindingID).Scan(&state); err != nil {
			return err
		}
		if state != vigil.FindingOpen && state != vigil.FindingCouldNotEval {
			return nil
		}
		if _, err := tx.ExecContext(ctx, "UPDATE findings SET state = $1, resolved_at = $2, updated_at = $2 WHERE id = $3", vigil.FindingClosed, tx.NowText(), p.FindingID); err != nil {
			return err
		}
		tx.wrote("findings", p.FindingID)
		why := fmt.Sprintf("supplier VEX %s: %s", p.Document, p.Statement.Status)
		if p.Statement.Justification != "" {
			why += " (" + p.Statement.Justification + ")"
		}
		tx.wrote("findings", p.FindingID)
		return tx.Audit(ctx, "finding.state", "finding", idText(p.FindingID), map[string]vigil.FindingState{"state": state},
			map[string]vigil.FindingState{"state": vigil.FindingClosed}, why+"; accepted: "+reason)
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}
