// Package audit defines Vigil's tamper-evident audit trail: the canonical encoding of an event, its SHA-256 hash
// chained to the previous event's hash, and the verification that recomputes the chain. It is pure (no database):
// the store appends events inside each write's transaction and hands them back here to be checked, so the rule
// that makes the trail trustworthy lives in one small, testable place.
package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/vigil-dev/vigil"
)

// Genesis is the previous hash of the first event.
const Genesis = "0000000000000000000000000000000000000000000000000000000000000000"

// TimeFormat is how event times are stored and hashed: fixed width, so it sorts as text, UTC, nanoseconds.
const TimeFormat = "2006-01-02T15:04:05.000000000Z"

// Canonical returns the JSON value v in canonical form: compact, object keys sorted, numbers as written. Values
// are canonicalized before they are stored so that the hash can be recomputed from the stored text alone.
func Canonical(v any) (json.RawMessage, error) {
	if v == nil {
		return nil, nil
	}
	var raw []byte
	switch x := v.(type) {
	case json.RawMessage:
		raw = x
	case []byte:
		raw = x
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		raw = b
	}
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var generic any
	if err := dec.Decode(&generic); err != nil {
		return nil, fmt.Errorf("audit: canonical: %w", err)
	}
	// encoding/json sorts map keys and keeps json.Number text as written.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(generic); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// Hash computes the hash of e from every field but Hash itself. The encoding is a fixed-order JSON array, so no
// field can be moved into another without changing the hash.
func Hash(e *vigil.AuditEvent) string {
	rec := []any{
		e.Seq, e.Time.UTC().Format(TimeFormat), e.Actor, e.Action, e.ObjectType, e.ObjectID,
		string(e.Old), string(e.New), e.Reason, e.PrevHash,
	}
	b, _ := json.Marshal(rec) // strings and ints only: cannot fail
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Seal fills in e.Seq, e.PrevHash and e.Hash given the current head of the trail (count events, last hash).
func Seal(e *vigil.AuditEvent, head vigil.AuditCheckpoint) {
	e.Seq = head.Count + 1
	e.PrevHash = head.Head
	if head.Count == 0 {
		e.PrevHash = Genesis
	}
	e.Time = e.Time.UTC().Truncate(time.Nanosecond)
	e.Hash = Hash(e)
}

// Verifier checks a trail event by event, in sequence order. Feed it every event with Next, then call Done.
type Verifier struct {
	n    int64
	head string
	cp   *vigil.AuditCheckpoint
	seen bool // whether the checkpoint's event was reached
}

// NewVerifier returns a verifier; cp, when not nil, is a checkpoint the trail must still contain.
func NewVerifier(cp *vigil.AuditCheckpoint) *Verifier { return &Verifier{head: Genesis, cp: cp} }

// Next checks one event. The error names the event and what is wrong with it.
func (v *Verifier) Next(e *vigil.AuditEvent) error {
	want := v.n + 1
	switch {
	case e.Seq != want:
		return vigil.Errorf(vigil.EINVALID, "audit event %d: expected sequence number %d: an event was deleted or reordered", e.Seq, want)
	case e.PrevHash != v.head:
		return vigil.Errorf(vigil.EINVALID, "audit event %d: previous hash does not match event %d: the chain is broken (an event was deleted, reordered or edited)", e.Seq, v.n)
	case Hash(e) != e.Hash:
		return vigil.Errorf(vigil.EINVALID, "audit event %d: content does not match its hash: the event was edited", e.Seq)
	}
	v.n, v.head = e.Seq, e.Hash
	if v.cp != nil && v.cp.Count == e.Seq {
		if v.cp.Head != e.Hash {
			return vigil.Errorf(vigil.EINVALID, "audit event %d: hash differs from the checkpoint's head: the log was rewritten or rolled back behind the checkpoint", e.Seq)
		}
		v.seen = true
	}
	return nil
}

// Done finishes verification and returns the checkpoint of the verified trail.
func (v *Verifier) Done() (vigil.AuditCheckpoint, error) {
	head := v.head
	if v.n == 0 {
		head = ""
	}
	got := vigil.AuditCheckpoint{Count: v.n, Head: head}
	if v.cp != nil && v.cp.Count > 0 && !v.seen {
		return got, vigil.Errorf(vigil.EINVALID, "audit trail has %d events but the checkpoint has %d: the log was truncated or rolled back", v.n, v.cp.Count)
	}
	return got, nil
}
