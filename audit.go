package vigil

import (
	"context"
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
}

// AuditCheckpoint pins the state of the trail at one moment: a later log must extend it.
type AuditCheckpoint struct {
	Count int64  `json:"count"`
	Head  string `json:"head"`
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
	Checkpoint(ctx context.Context) (AuditCheckpoint, error)
	// Verify recomputes the chain; it returns EINVALID naming the first bad event, or a rollback behind cp.
	Verify(ctx context.Context, cp *AuditCheckpoint) (AuditCheckpoint, error)
}
