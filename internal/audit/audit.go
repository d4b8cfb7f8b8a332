// Package audit defines Vigil's tamper-evident audit trail: the canonical encoding of an event, its SHA-256 hash
// chained to the previous event's hash, the canonical encoding and hash of an audited record's state, the Ed25519
// signatures of events and checkpoints, and the verification that recomputes the chain, checks the signatures and
// reconciles the live records with the states the trail recorded. It is pure (no database): the store appends
// events inside each write's transaction and hands them and its rows back here to be checked, so the rules that
// make the trail trustworthy live in one small, testable place. docs/ARCHITECTURE.md ("The audit trail") gives
// the threat model.
package audit

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
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

// Hash computes the hash of e from every field but Hash and Signature (which signs it). The encoding is a
// fixed-order JSON array, so no field can be moved into another without changing the hash. The record states
// are its last element when there are any: events written before records were hashed keep their hash.
func Hash(e *vigil.AuditEvent) string {
	rec := []any{
		e.Seq, e.Time.UTC().Format(TimeFormat), e.Actor, e.Action, e.ObjectType, e.ObjectID,
		string(e.Old), string(e.New), e.Reason, e.PrevHash,
	}
	if len(e.Records) > 0 {
		rec = append(rec, RecordsText(e.Records))
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

// Verifier checks a trail event by event, in sequence order, then reconciles the live records with the states
// the trail recorded. Feed it every event with Next, every live row of every audited table with Row, call Missing
// once per audited table, then Done.
type Verifier struct {
	n    int64
	head string
	cp   *vigil.AuditCheckpoint
	seen bool // whether the checkpoint's event was reached

	trusted  []ed25519.PublicKey // keys from outside the database (the key file): each must be one the trail enrolled
	cpKey    ed25519.PublicKey   // the checkpoint's signer: the key in force at its event
	key      ed25519.PublicKey   // the key in force: the one the trail enrolled, then each rotation's new key
	keys     []ed25519.PublicKey // every key the trail enrolled, in order
	enrolled int64               // seq of the event that enrolled the first key; every later event must be signed
	signed   int64

	states   map[string]map[string]recordState // table → key → the last state the trail recorded
	rows     int64
	problems []vigil.AuditProblem
}

type recordState struct {
	hash string
	seq  int64
}

// NewVerifier returns a verifier. cp, when not nil, is a checkpoint the trail must still contain; when it is
// signed (its signature checked by the caller), its key must be the one in force at its event. trusted are audit
// keys' public halves from outside the database (the key file): the trail must have enrolled each, first or by a
// rotation. Every event after the first enrollment is signed by the key in force. Without a trusted key or a
// signed checkpoint the keys the trail enrolled are used, which still catches an append forged without the key but
// not a trail rewritten whole.
func NewVerifier(cp *vigil.AuditCheckpoint, trusted ...ed25519.PublicKey) *Verifier {
	v := &Verifier{head: Genesis, cp: cp, states: map[string]map[string]recordState{}}
	for _, k := range trusted {
		if k != nil {
			v.trusted = append(v.trusted, k)
		}
	}
	if cp != nil && cp.Key != "" {
		v.cpKey, _ = ParseKeyText("checkpoint key", cp.Key) // nil when unreadable: then no key is in force at it
	}
	return v
}

// Next checks one event. The error names the event and what is wrong with it; verification stops there.
func (v *Verifier) Next(e *vigil.AuditEvent) error {
	want := v.n + 1
	switch {
	case e.Seq != want:
		return v.fail(e.Seq, "audit event %d: expected sequence number %d: an event was deleted or reordered", e.Seq, want)
	case e.PrevHash != v.head:
		return v.fail(e.Seq, "audit event %d: previous hash does not match event %d: the chain is broken (an event was deleted, reordered or edited)", e.Seq, v.n)
	case Hash(e) != e.Hash:
		return v.fail(e.Seq, "audit event %d: content does not match its hash: the event was edited", e.Seq)
	}
	if err := v.signature(e); err != nil {
		return err
	}
	v.n, v.head = e.Seq, e.Hash
	if v.cp != nil && v.cp.Count == e.Seq {
		if v.cp.Head != e.Hash {
			return v.fail(e.Seq, "audit event %d: hash differs from the checkpoint's head: the log was rewritten or rolled back behind the checkpoint", e.Seq)
		}
		switch {
		case v.cp.Key == "":
		case v.key == nil:
			return v.fail(e.Seq, "the checkpoint is signed by key %s, but the trail had no key in force at its event %d: its signatures were stripped or it was replaced", v.cp.Key, e.Seq)
		case !v.key.Equal(v.cpKey):
			return v.fail(e.Seq, "the checkpoint is signed by key %s, but the trail had key %s in force at its event %d: that key was never enrolled by the one before it", v.cp.Key, KeyText(v.key), e.Seq)
		}
		v.seen = true
	}
	for _, r := range e.Records {
		t := v.states[r.Table]
		if t == nil {
			t = map[string]recordState{}
			v.states[r.Table] = t
		}
		t[r.Key] = recordState{hash: r.Hash, seq: e.Seq}
	}
	return nil
}

// signature checks e's signature: once the trail has enrolled the audit key, every event carries a signature
// that verifies with the key in force, and a rotation (signed by the key it retires) puts its new key in force.
func (v *Verifier) signature(e *vigil.AuditEvent) error {
	if e.Action == KeyAction && v.enrolled == 0 && e.Signature != "" {
		enrolled, err := EnrolledKey(e)
		if err != nil {
			return v.fail(e.Seq, "audit event %d: %v", e.Seq, err)
		}
		v.key, v.keys, v.enrolled = enrolled, append(v.keys, enrolled), e.Seq
	}
	switch {
	case v.enrolled == 0 && e.Signature == "":
		return nil // written before the trail was signed
	case v.enrolled == 0:
		return v.fail(e.Seq, "audit event %d is signed but no audit key was enrolled before it", e.Seq)
	case e.Signature == "":
		return v.fail(e.Seq, "audit event %d is not signed, but every event after the audit key's enrollment (event %d) is: it was appended without the key", e.Seq, v.enrolled)
	case !VerifyEvent(v.key, e):
		return v.fail(e.Seq, "audit event %d: signature does not verify with the audit key in force (%s): the event was forged or re-hashed", e.Seq, KeyText(v.key))
	}
	v.signed++
	if e.Action == RotateAction {
		next, err := CheckRotation(e, v.key)
		if err != nil {
			return v.fail(e.Seq, "audit event %d: %v", e.Seq, err)
		}
		v.key, v.keys = next, append(v.keys, next)
	}
	return nil
}

// Row reconciles one live row of an audited table (its key and RowHash) with the state the trail last recorded.
func (v *Verifier) Row(table, key, hash string) {
	v.rows++
	st, ok := v.states[table][key]
	switch {
	case !ok:
		v.problem(table, key, 0, "the row has no entry in the audit trail: it was inserted outside Vigil")
	case st.hash == "":
		v.problem(table, key, st.seq, fmt.Sprintf("the row exists but audit event %d recorded its removal: it was re-inserted outside Vigil", st.seq))
	case st.hash != hash:
		v.problem(table, key, st.seq, fmt.Sprintf("the row differs from the state audit event %d recorded: it was edited outside Vigil", st.seq))
	}
	if ok {
		delete(v.states[table], key)
	}
}

// Missing reports the rows of table the trail says exist but Row was not given: deleted outside Vigil.
func (v *Verifier) Missing(table string) {
	keys := make([]string, 0, len(v.states[table]))
	for k, st := range v.states[table] {
		if st.hash != "" {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, compareKeys)
	for _, k := range keys {
		st := v.states[table][k]
		v.problem(table, k, st.seq, fmt.Sprintf("the row is missing: audit event %d recorded it and no event removed it: it was deleted outside Vigil", st.seq))
	}
	delete(v.states, table)
}

// BrokenSignature reports a Part 11 signature (by its key in the signatures table) that no longer applies to the
// record it signs.
func (v *Verifier) BrokenSignature(key, msg string) { v.problem("signatures", key, 0, msg) }

// compareKeys orders record keys numerically when they are numbers (ids), so reports read in order.
func compareKeys(a, b string) int {
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	return strings.Compare(a, b)
}

func (v *Verifier) problem(table, key string, seq int64, msg string) {
	v.problems = append(v.problems, vigil.AuditProblem{Seq: seq, Table: table, Key: key, Problem: msg})
}

func (v *Verifier) fail(seq int64, format string, args ...any) error {
	err := vigil.Errorf(vigil.EINVALID, format, args...)
	v.problems = append(v.problems, vigil.AuditProblem{Seq: seq, Problem: vigil.ErrorMessage(err)})
	return err
}

// Report is what was verified so far: the head, the counts and the problems.
func (v *Verifier) Report() vigil.AuditReport {
	head := v.head
	if v.n == 0 {
		head = ""
	}
	var keys []string
	for _, k := range v.keys {
		keys = append(keys, KeyText(k))
	}
	return vigil.AuditReport{Count: v.n, Head: head, Records: v.rows, Signed: v.signed, Keys: keys, Problems: v.problems}
}

// Done finishes verification: the report, and EINVALID naming the first problem when there is any.
func (v *Verifier) Done() (vigil.AuditReport, error) {
	records := v.problems
	v.problems = nil
	// The trail's own problems come first: a rolled-back trail explains the records it no longer has.
	if v.cp != nil && v.cp.Count > 0 && !v.seen {
		v.fail(v.cp.Count, "audit trail has %d events but the checkpoint has %d: the log was truncated or rolled back", v.n, v.cp.Count)
	}
	for _, k := range v.trusted {
		if !slices.ContainsFunc(v.keys, func(e ed25519.PublicKey) bool { return e.Equal(k) }) {
			v.fail(0, "the audit trail never enrolled the audit key %s (first, or by a rotation signed by the key before it): its signatures were stripped or it was replaced", KeyText(k))
		}
	}
	v.problems = append(v.problems, records...)
	r := v.Report()
	if len(r.Problems) == 0 {
		return r, nil
	}
	first := r.Problems[0]
	msg := first.Problem
	if first.Table != "" {
		msg = first.Table + " " + first.Key + ": " + msg
	}
	if n := len(r.Problems); n > 1 {
		return r, vigil.Errorf(vigil.EINVALID, "%s (and %d more problems)", msg, n-1)
	}
	return r, vigil.Errorf(vigil.EINVALID, "%s", msg)
}
