package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/audit"
)

// signable is the registry of the kinds of record a Part 11 signature may sign, each with its audited table. A
// signature binds the record's state (audit.RowHash), so a signed record must not change afterwards: register
// append-only records (a determination, an event, a released notice or document version), one line each.
var signable = map[string]string{
	"assessment":    "assessments",    // a case's determination
	"case_event":    "case_events",    // a dated regulatory event (customer notified, fix validated, case closure ...)
	"regdoc_record": "regdoc_records", // an 806 report filed, an 806.20 record, a premarket decision
	// The acts whose object changes later sign their act record (recordAct).
	string(vigil.ActCaseClosure):   "act_records",
	string(vigil.ActFixValidation): "act_records",
	string(vigil.ActNoticeRelease): "act_records",
}

// SignableKinds lists the kinds of record a signature may sign.
func SignableKinds() []string { return slices.Sorted(maps.Keys(signable)) }

// SignableKinds lists the kinds of record a signature may sign (the package's SignableKinds, for services).
func (db *DB) SignableKinds() []string { return SignableKinds() }

func signableTable(kind string) (auditedTable, error) {
	name, ok := signable[kind]
	if !ok {
		return auditedTable{}, vigil.Errorf(vigil.EINVALID, "kind: %q cannot be signed (one of %s)", kind, strings.Join(SignableKinds(), ", "))
	}
	t, _ := lookupAudited(name)
	return t, nil
}

const signatureCols = "id, kind, record_id, record_hash, meaning, signer, printed_name, signed_at, method"

func scanSignature(row interface{ Scan(...any) error }) (*vigil.Signature, error) {
	var s vigil.Signature
	var at sql.NullString
	err := row.Scan(&s.ID, &s.Kind, &s.RecordID, &s.RecordHash, &s.Meaning, &s.Signer, &s.Printed, &at, &s.Method)
	s.SignedAt = parseTime(at)
	return &s, err
}

// Sign records the signature p makes of the record of p.Kind with id recordID, in the record's current state: p is
// the signer the caller has just re-authenticated (esign's Prove), whose role must hold vigil.PermSign, and the
// trail's actor. Its one-time signing code, if any, is redeemed in the same transaction. The caller needs PermSign.
func (db *DB) Sign(ctx context.Context, p *vigil.ProvenSigner, recordID int64) (s *vigil.Signature, err error) {
	defer vigil.Wrap(&err, "store.Sign", recordID)
	if _, err := vigil.Authorize(ctx, vigil.PermSign); err != nil {
		return nil, err
	}
	ctx = vigil.WithActor(ctx, vigil.Actor{UserID: p.UserID, Name: p.Name, Role: p.Role})
	err = db.transact(ctx, func(tx *Tx) error {
		s, err = tx.sign(ctx, p, recordID)
		return err
	})
	return s, err
}

// sign records, in tx, the signature p makes of the record of p.Kind with id recordID in its current state (the
// record may have been written earlier in tx: an act and its signature are one transaction), redeeming p's
// one-time signing code. The trail's event is tx's actor's: the signer, or whoever performs the act they sign.
func (tx *Tx) sign(ctx context.Context, p *vigil.ProvenSigner, recordID int64) (*vigil.Signature, error) {
	signer := vigil.Actor{UserID: p.UserID, Name: p.Name, Role: p.Role}
	switch {
	case p.UserID == 0:
		return nil, vigil.Errorf(vigil.EFORBIDDEN, "a signature is a person's: sign as a user")
	case !signer.Can(vigil.PermSign):
		return nil, vigil.Errorf(vigil.EFORBIDDEN, "%s's role (%s) may not sign records", p.Name, p.Role)
	}
	if err := p.Meaning.Validate(); err != nil {
		return nil, err
	}
	t, err := signableTable(p.Kind)
	if err != nil {
		return nil, err
	}
	if p.CodeHash != "" {
		if err := tx.redeemSigningCode(ctx, p); err != nil {
			return nil, err
		}
	}
	s := &vigil.Signature{Kind: p.Kind, RecordID: recordID, Meaning: p.Meaning, Method: p.Method}
	var printed sql.NullString
	if err := tx.QueryRowContext(ctx, "SELECT name, full_name FROM users WHERE id = $1", p.UserID).Scan(&s.Signer, &printed); err != nil {
		return nil, fmt.Errorf("signer: %w", err)
	}
	if strings.TrimSpace(printed.String) == "" {
		return nil, vigil.Errorf(vigil.EINVALID, "signer %s has no printed name, which a signature shows (21 CFR 11.50): set it with `vigil user full-name %s \"FULL NAME\"`", s.Signer, s.Signer)
	}
	s.Printed = printed.String
	if err := readRecords(ctx, tx, t, []int64{recordID}, func(_ int64, h string) { s.RecordHash = h }); err != nil {
		return nil, err
	}
	if s.RecordHash == "" {
		return nil, notFound(s.Kind, recordID)
	}
	s.SignedAt = tx.Now()
	id, err := tx.insertID(ctx, `INSERT INTO signatures (kind, record_id, record_hash, meaning, signer_id, signer, printed_name, signed_at, method)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, s.Kind, s.RecordID, s.RecordHash, string(s.Meaning), p.UserID, s.Signer, s.Printed, tx.NowText(), s.Method)
	if vigil.ErrorCode(err) == vigil.ECONFLICT {
		return nil, vigil.Errorf(vigil.ECONFLICT, "%s already signed %s %d in this state for %s", s.Signer, s.Kind, s.RecordID, s.Meaning)
	} else if err != nil {
		return nil, err
	}
	s.ID = id
	tx.wrote("signatures", id)
	return s, tx.Audit(ctx, "signature.sign", s.Kind, idText(s.RecordID), nil, s, string(s.Meaning))
}

// signAct signs the record of kind with id that tx just wrote for a signed act, when ctx carries the act's
// signing (vigil.WithSigning, set by esign once the signer re-authenticated): the act and its signature commit
// together or not at all. Without a signing it does nothing (the act needs none). The signature is returned.
func (tx *Tx) signAct(ctx context.Context, kind string, id int64) (*vigil.Signature, error) {
	p, ok := vigil.SigningFrom(ctx)
	if !ok {
		return nil, nil
	}
	if p.Kind != kind {
		return nil, vigil.Errorf(vigil.EINTERNAL, "the act's signer was proven for a %s, not the %s it records", p.Kind, kind)
	}
	if tx.signed > 0 {
		p.CodeHash = "" // one proof signs the act's records (a notice's cases): its code is redeemed once
	}
	s, err := tx.sign(ctx, &p, id)
	if err != nil {
		return nil, err
	}
	tx.signed++
	return s, nil
}

// recordAct writes the act record of an act whose object changes later (a case closed, a fix validated, a notice
// released): what was done to which object as it was then (body), which the act's signature signs. It writes
// nothing when ctx carries no signing. The caller audits the act after it.
func (tx *Tx) recordAct(ctx context.Context, act vigil.SignedAct, caseID int64, objType string, objID int64, body any) error {
	if _, ok := vigil.SigningFrom(ctx); !ok {
		return nil
	}
	b, err := audit.Canonical(body)
	if err != nil {
		return err
	}
	var c sql.NullInt64
	if caseID != 0 {
		c = sql.NullInt64{Int64: caseID, Valid: true}
	}
	id, err := tx.insertID(ctx, "INSERT INTO act_records (act, case_id, object_type, object_id, body, actor, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
		string(act), c, objType, objID, string(b), tx.actor.String(), tx.NowText())
	if err != nil {
		return err
	}
	tx.wrote("act_records", id)
	if err := tx.Audit(ctx, "act.record", objType, idText(objID), nil, map[string]any{"id": id, "act": act, "case_id": caseID, "body": b}, string(act)); err != nil {
		return err
	}
	_, err = tx.signAct(ctx, string(act), id)
	return err
}

// ActRecords lists the act records of a case (with its signatures' manifest left to the caller), oldest first.
// Needs PermRead.
func (db *DB) ActRecords(ctx context.Context, f vigil.ActRecordFilter) (_ []*vigil.ActRecord, err error) {
	defer vigil.Wrap(&err, "store.ActRecords", f.CaseID)
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	where, args := []string{"1 = 1"}, []any{}
	if f.CaseID != 0 {
		args = append(args, f.CaseID)
		where = append(where, fmt.Sprintf("case_id = $%d", len(args)))
	}
	if f.ObjectType != "" {
		args = append(args, f.ObjectType, f.ObjectID)
		where = append(where, fmt.Sprintf("object_type = $%d AND object_id = $%d", len(args)-1, len(args)))
	}
	var out []*vigil.ActRecord
	err = db.snapshot(ctx, func(q querier) error {
		var err error
		out, err = queryAll(ctx, q, func(row interface{ Scan(...any) error }) (*vigil.ActRecord, error) {
			var r vigil.ActRecord
			var c sql.NullInt64
			var body, at string
			err := row.Scan(&r.ID, &r.Act, &c, &r.ObjectType, &r.ObjectID, &body, &r.Actor, &at)
			r.CaseID, r.Body, r.CreatedAt = c.Int64, json.RawMessage(body), parseTime(sql.NullString{String: at, Valid: true})
			return &r, err
		}, "SELECT id, act, case_id, object_type, object_id, body, actor, created_at FROM act_records WHERE "+strings.Join(where, " AND ")+" ORDER BY id", args...)
		return err
	})
	if out == nil {
		out = []*vigil.ActRecord{}
	}
	return out, err
}

// SignatureRequirements lists the changes of the organization's signature requirements, oldest first (the newest
// per act stands; an act never changed needs a signature). Needs PermRead.
func (db *DB) SignatureRequirements(ctx context.Context) (_ []*vigil.SignatureRequirement, err error) {
	defer vigil.Wrap(&err, "store.SignatureRequirements", "")
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	var out []*vigil.SignatureRequirement
	err = db.snapshot(ctx, func(q querier) error {
		var err error
		out, err = queryAll(ctx, q, func(row interface{ Scan(...any) error }) (*vigil.SignatureRequirement, error) {
			var r vigil.SignatureRequirement
			var at string
			err := row.Scan(&r.ID, &r.Act, &r.Required, &r.Reason, &r.SetBy, &at)
			r.SetAt = parseTime(sql.NullString{String: at, Valid: true})
			return &r, err
		}, "SELECT id, act, required, reason, actor, created_at FROM signature_requirements ORDER BY id")
		return err
	})
	return out, err
}

// SetSignatureRequirement records whether act needs a Part 11 signature from now on, with the reason, audited.
// Needs PermUsers (an admin).
func (db *DB) SetSignatureRequirement(ctx context.Context, r *vigil.SignatureRequirement) (err error) {
	defer vigil.Wrap(&err, "store.SetSignatureRequirement", string(r.Act))
	if _, err := vigil.Authorize(ctx, vigil.PermUsers); err != nil {
		return err
	}
	if err := r.Act.Validate(); err != nil {
		return err
	}
	if strings.TrimSpace(r.Reason) == "" {
		return vigil.Errorf(vigil.EINVALID, "reason: required: say why %s does or does not need a signature", r.Act.Text())
	}
	if err := vigil.Text("reason", r.Reason, vigil.MaxText); err != nil {
		return err
	}
	return db.transact(ctx, func(tx *Tx) error {
		r.SetBy, r.SetAt = tx.actor.String(), tx.Now()
		id, err := tx.insertID(ctx, "INSERT INTO signature_requirements (act, required, reason, actor, created_at) VALUES ($1, $2, $3, $4, $5)",
			string(r.Act), r.Required, r.Reason, r.SetBy, tx.NowText())
		if err != nil {
			return err
		}
		r.ID = id
		tx.wrote("signature_requirements", id)
		return tx.Audit(ctx, "signature.requirement", "act", string(r.Act), nil, map[string]any{"act": r.Act, "required": r.Required}, r.Reason)
	})
}

// Signatures lists the signatures of the records of kind with the given ids, oldest first, each marked Broken when
// its record's state is no longer the one signed. Needs PermRead.
func (db *DB) Signatures(ctx context.Context, kind string, recordIDs ...int64) (_ []*vigil.Signature, err error) {
	defer vigil.Wrap(&err, "store.Signatures", kind)
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	t, err := signableTable(kind)
	if err != nil {
		return nil, err
	}
	out := []*vigil.Signature{}
	if len(recordIDs) == 0 {
		return out, nil
	}
	err = db.snapshot(ctx, func(q querier) error {
		for chunk := range slices.Chunk(slices.Compact(slices.Sorted(slices.Values(recordIDs))), 500) {
			sigs, err := queryAll(ctx, q, scanSignature, "SELECT "+signatureCols+" FROM signatures WHERE kind = $1 AND record_id IN ("+idList(chunk)+") ORDER BY id", kind)
			if err != nil {
				return err
			}
			out = append(out, sigs...)
		}
		signed := make([]int64, 0, len(out))
		for _, s := range out {
			signed = append(signed, s.RecordID)
		}
		current := map[int64]string{}
		for chunk := range slices.Chunk(slices.Compact(slices.Sorted(slices.Values(signed))), 500) {
			if err := readRecords(ctx, q, t, chunk, func(id int64, h string) { current[id] = h }); err != nil {
				return err
			}
		}
		for _, s := range out {
			s.Broken = s.RecordHash != current[s.RecordID]
		}
		slices.SortFunc(out, func(a, b *vigil.Signature) int { return int(a.ID - b.ID) })
		return nil
	})
	return out, err
}

// verifySignatures checks every signature against the live state of the record it signs: a signed record that
// changed (through Vigil or not) or is gone breaks its signature, which verification reports.
func verifySignatures(ctx context.Context, q querier, v *audit.Verifier) error {
	sigs, err := queryAll(ctx, q, scanSignature, "SELECT "+signatureCols+" FROM signatures ORDER BY id")
	if err != nil {
		return err
	}
	byTable := map[string]map[int64][]*vigil.Signature{}
	for _, s := range sigs {
		name, ok := signable[s.Kind]
		if !ok {
			v.BrokenSignature(idText(s.ID), fmt.Sprintf("signs a %s, which is no kind of record a signature may sign", s.Kind))
			continue
		}
		if byTable[name] == nil {
			byTable[name] = map[int64][]*vigil.Signature{}
		}
		byTable[name][s.RecordID] = append(byTable[name][s.RecordID], s)
	}
	for _, name := range slices.Sorted(maps.Keys(byTable)) {
		t, _ := lookupAudited(name)
		signed := byTable[name]
		ids := slices.Sorted(maps.Keys(signed))
		hashes := map[int64]string{}
		for chunk := range slices.Chunk(ids, 500) {
			if err := readRecords(ctx, q, t, chunk, func(id int64, h string) { hashes[id] = h }); err != nil {
				return err
			}
		}
		for _, id := range ids {
			for _, s := range signed[id] {
				switch h, ok := hashes[id]; {
				case !ok:
					v.BrokenSignature(idText(s.ID), fmt.Sprintf("the %s by %s signs %s %d, which is gone: the signature is broken", s.Meaning, s.Signer, s.Kind, id))
				case h != s.RecordHash:
					v.BrokenSignature(idText(s.ID), fmt.Sprintf("the %s by %s no longer matches %s %d: the record changed after it was signed, the signature is broken", s.Meaning, s.Signer, s.Kind, id))
				}
			}
		}
	}
	return nil
}

// SetFullName sets a user's printed name, the name their signatures show (an admin, or the user themself), audited.
func (db *DB) SetFullName(ctx context.Context, name, full string) (err error) {
	defer vigil.Wrap(&err, "store.SetFullName", name)
	a, ok := vigil.ActorFrom(ctx)
	if !ok || !(a.Can(vigil.PermUsers) || a.Name == name) {
		return vigil.Errorf(vigil.EFORBIDDEN, "only an admin or the user may set a printed name")
	}
	full = strings.TrimSpace(full)
	if err := vigil.Text("full_name", full, 200); err != nil {
		return err
	}
	if full == "" {
		return vigil.Errorf(vigil.EINVALID, "full_name: required (the name a signature shows)")
	}
	return db.transact(ctx, func(tx *Tx) error {
		var id int64
		var old sql.NullString
		err := tx.QueryRowContext(ctx, "SELECT id, full_name FROM users WHERE name = $1", name).Scan(&id, &old)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("user", name)
		} else if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "UPDATE users SET full_name = $1 WHERE id = $2", full, id); err != nil {
			return err
		}
		tx.wrote("users", id)
		return tx.Audit(ctx, "user.full_name", "user", name, map[string]string{"full_name": old.String}, map[string]string{"full_name": full}, "")
	})
}
