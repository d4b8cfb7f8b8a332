package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/storetest"
)

// TestSignRefusals: a signature needs a person whose role may sign, a printed name, a signable kind, a known
// meaning and an existing record, and is made once per state of the record, signer and meaning.
func TestSignRefusals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		auditedFixture(t, db) // assessment 1 signed by alice (user 1) for approval
		if err := db.CreateUser(storetest.Admin(), &vigil.User{Name: "bob", Role: vigil.RolePSIRT}, "correct horse battery staple"); err != nil {
			t.Fatal(err)
		}
		alice := storetest.As("alice", vigil.RoleRegulatory)
		bob := vigil.WithActor(context.Background(), vigil.Actor{UserID: 2, Name: "bob", Role: vigil.RolePSIRT})
		for _, tc := range []struct {
			name string
			ctx  context.Context
			sig  vigil.Signature
			code string
			msg  string
		}{
			{"a viewer", storetest.As("alice", vigil.RoleViewer), vigil.Signature{Kind: "assessment", RecordID: 1, Meaning: vigil.MeaningReview}, vigil.EFORBIDDEN, "record.sign"},
			{"the system", storetest.Admin(), vigil.Signature{Kind: "assessment", RecordID: 1, Meaning: vigil.MeaningReview}, vigil.EFORBIDDEN, "sign as a user"},
			{"no printed name", bob, vigil.Signature{Kind: "assessment", RecordID: 1, Meaning: vigil.MeaningReview}, vigil.EINVALID, "no printed name"},
			{"unknown kind", alice, vigil.Signature{Kind: "device", RecordID: 1, Meaning: vigil.MeaningReview}, vigil.EINVALID, "cannot be signed"},
			{"unknown meaning", alice, vigil.Signature{Kind: "assessment", RecordID: 1, Meaning: "witnessed"}, vigil.EINVALID, "meaning"},
			{"no such record", alice, vigil.Signature{Kind: "assessment", RecordID: 99, Meaning: vigil.MeaningReview}, vigil.ENOTFOUND, "assessment 99"},
			{"signed already", alice, vigil.Signature{Kind: "assessment", RecordID: 1, Meaning: vigil.MeaningApproval}, vigil.ECONFLICT, "already signed"},
		} {
			err := db.Sign(tc.ctx, &tc.sig)
			if vigil.ErrorCode(err) != tc.code || !strings.Contains(vigil.ErrorMessage(err), tc.msg) {
				t.Errorf("%s: %v, want %s naming %q", tc.name, err, tc.code, tc.msg)
			}
		}
		// The same signer may sign the same state with another meaning.
		if err := db.Sign(alice, &vigil.Signature{Kind: "assessment", RecordID: 1, Meaning: vigil.MeaningReview, Method: vigil.SignedWithPassword}); err != nil {
			t.Fatal(err)
		}
		sigs, err := db.Signatures(storetest.Admin(), "assessment", 1, 2)
		if err != nil || len(sigs) != 2 {
			t.Fatalf("signatures = %v, %v; want 2", sigs, err)
		}
		s := sigs[0]
		if s.Signer != "alice" || s.Printed != "Alice Smith" || s.Meaning != vigil.MeaningApproval || s.Broken || len(s.RecordHash) != 64 || s.SignedAt.IsZero() {
			t.Fatalf("signature 1 = %+v", s)
		}
		if m := s.Manifest(nil); !strings.Contains(m, "Alice Smith (alice)") || !strings.Contains(m, "for approval") || !strings.Contains(m, "2025-06-02 09:00:00 UTC") {
			t.Fatalf("manifest = %q", m)
		}
	})
}

// TestSignatureTamper: whoever can write to the database (its triggers dropped) cannot change a signed record,
// copy a signature to another record, forge or remove one without `audit verify` reporting each, and a changed
// signed record shows its signature as broken wherever it is listed. All four attempts are made on one store,
// each on its own signature.
func TestSignatureTamper(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		auditedFixture(t, db) // signature 1: assessment 1, approval
		ctx := storetest.Admin()
		alice := storetest.As("alice", vigil.RoleRegulatory)
		for _, s := range []vigil.Signature{
			{Kind: "case_event", RecordID: 1, Meaning: vigil.MeaningReview},     // 2: its record is edited
			{Kind: "assessment", RecordID: 1, Meaning: vigil.MeaningReview},     // 3: copied to another record
			{Kind: "assessment", RecordID: 1, Meaning: vigil.MeaningAuthorship}, // 4: removed
		} {
			s.Method = vigil.SignedWithPassword
			if err := db.Sign(alice, &s); err != nil {
				t.Fatal(err)
			}
		}
		if rep, err := db.Verify(ctx, nil); err != nil {
			t.Fatalf("verify the signed store: %v (%+v)", err, rep.Problems)
		}
		tamperRecords(t, db,
			"UPDATE case_events SET note = 'CN-2025-9' WHERE id = 1",
			"INSERT INTO assessments (id, case_id, date, created_at, actor, data, risk) SELECT 2, case_id, date, created_at, actor, data, risk FROM assessments WHERE id = 1",
			"UPDATE signatures SET record_id = 2 WHERE id = 3",
			"DELETE FROM signatures WHERE id = 4",
			"INSERT INTO signatures (id, kind, record_id, record_hash, meaning, signer_id, signer, printed_name, signed_at, method) SELECT 5, kind, record_id, record_hash, 'responsibility', signer_id, signer, printed_name, signed_at, method FROM signatures WHERE id = 1")
		rep, err := db.Verify(ctx, nil)
		if vigil.ErrorCode(err) != vigil.EINVALID {
			t.Fatalf("verify = %v, want EINVALID", err)
		}
		want := []struct{ table, key, says string }{
			{"assessments", "2", "no entry in the audit trail"},        // the copy's target
			{"case_events", "1", "differs from the state audit event"}, // the signed record edited
			{"signatures", "3", "differs from the state audit event"},  // the signature moved
			{"signatures", "5", "no entry in the audit trail"},         // forged
			{"signatures", "4", "is missing"},                          // removed
			{"signatures", "3", "no longer matches assessment 2: the record changed after it was signed, the signature is broken"},
			{"signatures", "2", "no longer matches case_event 1: the record changed after it was signed, the signature is broken"},
		}
		if len(rep.Problems) != len(want) {
			t.Fatalf("%d problems, want %d:\n%+v", len(rep.Problems), len(want), rep.Problems)
		}
		for i, w := range want {
			p := rep.Problems[i]
			if p.Table != w.table || p.Key != w.key || !strings.Contains(p.Problem, w.says) {
				t.Errorf("problem %d = %s %s: %q; want %s %s: %q", i, p.Table, p.Key, p.Problem, w.table, w.key, w.says)
			}
		}
		sigs, err := db.Signatures(ctx, "case_event", 1)
		if err != nil || len(sigs) != 1 || !sigs[0].Broken || !strings.Contains(sigs[0].Manifest(nil), "BROKEN") {
			t.Fatalf("signatures of the edited record = %+v, %v; want it broken", sigs, err)
		}
	})
}
