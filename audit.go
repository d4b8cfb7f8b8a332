package vigil

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"time"
)

// AuditEvent is one entry of the append-only, hash-chained audit trail (21 CFR Part 11 §11.10(e) style): who did
// what to which object, when, the values before and after, and why.
type AuditEvent struct {
	Seq        int64           `json:"seq"`
	Time       time.Time       `json:"time"`  // UTC
	Actor      string          `json:"actor"` // "user:NAME", "token:ID", "system:JOB"
	Action     string          `json:"action"`
	ObjectType string          `json:"object_type"`
	ObjectID   string          `json:"object_id"`
	Old        json.RawMessage `json:"old,omitempty"`
	New        json.RawMessage `json:"new,omitempty"`
	Reason     string          `json:"reason,omitempty"`
	PrevHash   string          `json:"prev_hash"`
	Hash       string          `json:"hash"`
	// Records is the state each audited row this write touched was left in: the trail's side of reconciling the
	// live tables with it (internal/audit). Covered by Hash.
	Records []AuditRecord `json:"records,omitempty"`
	// Signature is the Ed25519 signature of Hash by the audit key kept outside the database, once the trail is
	// signed: it is what a forged append with a correct hash lacks.
	Signature string `json:"signature,omitempty"`
}

// AuditRecord is one audited row's state after a write: its table, its key and the hash of its canonical encoding
// (internal/audit.RowHash); Hash is empty when the write removed the row.
type AuditRecord struct {
	Table string `json:"table"`
	Key   string `json:"key"`
	Hash  string `json:"hash"`
}

// AuditCheckpoint pins the state of the trail at one moment: a later log must extend it. A published checkpoint
// is signed with the audit key (Key is its public half, base64), so that a copy kept outside the database proves
// what the trail held at Time and a database rolled back behind it is caught.
type AuditCheckpoint struct {
	Count     int64     `json:"count"`
	Head      string    `json:"head"`
	Time      time.Time `json:"time,omitzero"`
	Key       string    `json:"key,omitempty"`
	Signature string    `json:"signature,omitempty"`
}

// AuditReport is what verification found: the verified head, how many live records were reconciled with the
// trail and how many events carried a checked signature, and every problem (an empty list is a verified trail).
type AuditReport struct {
	Count   int64  `json:"count"`
	Head    string `json:"head"`
	Records int64  `json:"records"`
	Signed  int64  `json:"signed"`
	// Keys are the audit keys (base64 public halves) the trail enrolled, in order: the first, then each rotation's;
	// the last is the one in force.
	Keys     []string       `json:"keys,omitempty"`
	Problems []AuditProblem `json:"problems,omitempty"`
}

// AuditProblem is one disagreement: an event of the trail that does not verify (Seq), or a live record (Table,
// Key) that differs from, is missing from, or has no entry in the trail.
type AuditProblem struct {
	Seq     int64  `json:"seq,omitempty"`
	Table   string `json:"table,omitempty"`
	Key     string `json:"key,omitempty"`
	Problem string `json:"problem"`
}

// AuditFilter selects events for AuditService.Events.
type AuditFilter struct {
	Actor      string
	Action     string
	ObjectType string
	ObjectID   string
	Since      time.Time
	Until      time.Time
	Limit      int
}

// AuditService reads the trail. Writing happens inside every other service's transactions.
type AuditService interface {
	Events(ctx context.Context, f AuditFilter) ([]*AuditEvent, error)
	// Checkpoint returns the trail's count and head (unsigned: the service signs it).
	Checkpoint(ctx context.Context) (AuditCheckpoint, error)
	// SignTrail makes sure the trail is signed with the store's audit key: it appends the event enrolling the key
	// when the head is not signed yet. EINVALID when the store has no key or the trail is signed by another.
	SignTrail(ctx context.Context) error
	// HashAt returns the hash of event seq, or "" when the trail has no such event.
	HashAt(ctx context.Context, seq int64) (string, error)
	// Verify recomputes the chain, checks that it extends cp (when given) and reconciles every live record of the
	// audited tables with the trail. A trail that does not verify returns the report with its problems and
	// EINVALID naming the first.
	Verify(ctx context.Context, cp *AuditCheckpoint) (AuditReport, error)
	// RotateKey retires the store's audit key (the one in force) for next with a rotation event signed by the
	// retiring key and carrying next's proof; it returns the event's sequence number. Needs PermAuditVerify; EINVALID
	// without a key or a reason.
	RotateKey(ctx context.Context, next ed25519.PrivateKey, reason string) (int64, error)
}
