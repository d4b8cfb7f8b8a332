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
		asAlice := func(kind string, meaning vigil.SignatureMeaning) *vigil.ProvenSigner {
			return &vigil.ProvenSigner{UserID: 1, Name: "alice", Role: vigil.RoleRegulatory, Kind: kind, Meaning: meaning, Method: vigil.SignedWithPassword}
		}
		for _, tc := range []struct {
			name   string
			ctx    context.Context
			signer *vigil.ProvenSigner
			record int64
			code   string
			msg    string
		}{
			{"a viewer calling", storetest.As("alice", vigil.RoleViewer), asAlice("assessment", vigil.MeaningReview), 1, vigil.EFORBIDDEN, "record.sign"},
			{"a viewer signing", alice, &vigil.ProvenSigner{UserID: 1, Name: "alice", Role: vigil.RoleViewer, Kind: "assessment", Meaning: vigil.MeaningReview}, 1, vigil.EFORBIDDEN, "may not sign"},
			{"the system", storetest.Admin(), &vigil.ProvenSigner{Name: "system", Role: vigil.RoleAdmin, Kind: "assessment", Meaning: vigil.MeaningReview}, 1, vigil.EFORBIDDEN, "sign as a user"},
			{"no printed name", alice, &vigil.ProvenSigner{UserID: 2, Name: "bob", Role: vigil.RolePSIRT, Kind: "assessment", Meaning: vigil.MeaningReview}, 1, vigil.EINVALID, "no printed name"},
			{"unknown kind", alice, asAlice("device", vigil.MeaningReview), 1, vigil.EINVALID, "cannot be signed"},
			{"unknown meaning", alice, asAlice("assessment", "witnessed"), 1, vigil.EINVALID, "meaning"},
			{"no such record", alice, asAlice("assessment", vigil.MeaningReview), 99, vigil.ENOTFOUND, "assessment 99"},
			{"signed already", alice, asAlice("assessment", vigil.MeaningApproval), 1, vigil.ECONFLICT, "already signed"},
			{"an unknown code", alice, &vigil.ProvenSigner{UserID: 1, Name: "alice", Role: vigil.RoleRegulatory, Kind: "assessment", Meaning: vigil.MeaningReview, Method: vigil.SignedWithSSO, CodeHash: "00"}, 1, vigil.EUNAUTHORIZED, "signing code"},
		} {
			_, err := db.Sign(tc.ctx, tc.signer, tc.record)
			if vigil.ErrorCode(err) != tc.code || !strings.Contains(vigil.ErrorMessage(err), tc.msg) {
				t.Errorf("%s: %v, want %s naming %q", tc.name, err, tc.code, tc.msg)
			}
		}
		// The same signer may sign the same state with another meaning.
		if _, err := db.Sign(alice, asAlice("assessment", vigil.MeaningReview), 1); err != nil {
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
		for _, s := range []vigil.ProvenSigner{
			{Kind: "case_event", Meaning: vigil.MeaningReview},     // 2: its record is edited
			{Kind: "assessment", Meaning: vigil.MeaningReview},     // 3: copied to another record
			{Kind: "assessment", Meaning: vigil.MeaningAuthorship}, // 4: removed
		} {
			s.UserID, s.Name, s.Role, s.Method = 1, "alice", vigil.RoleRegulatory, vigil.SignedWithPassword
			if _, err := db.Sign(alice, &s, 1); err != nil {
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
