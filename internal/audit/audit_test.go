package audit

import (
	"crypto/ed25519"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil"
)

func TestCanonical(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"b":1,"a":{"d":[3,2],"c":"x"}}`, `{"a":{"c":"x","d":[3,2]},"b":1}`},
		{`{"n":1.50}`, `{"n":1.50}`}, // numbers keep their text: re-encoding must not change a hash
		{`{"s":"<script>&"}`, `{"s":"<script>&"}`},
		{`null`, ``},
	}
	for _, tt := range tests {
		got, err := Canonical(json.RawMessage(tt.in))
		if err != nil || string(got) != tt.want {
			t.Errorf("Canonical(%s) = %s, %v; want %s", tt.in, got, err, tt.want)
		}
	}
	if _, err := Canonical(json.RawMessage(`{"a":`)); err == nil {
		t.Error("truncated JSON accepted")
	}
}

func chain(n int) []*vigil.AuditEvent {
	var evs []*vigil.AuditEvent
	head := vigil.AuditCheckpoint{}
	for i := 0; i < n; i++ {
		e := &vigil.AuditEvent{Time: time.Date(2025, 1, 1, 0, 0, i, 0, time.UTC), Actor: "user:a", Action: "device.update",
			ObjectType: "device", ObjectID: "1", New: json.RawMessage(`{"i":` + string(rune('0'+i)) + `}`)}
		Seal(e, head)
		head = vigil.AuditCheckpoint{Count: e.Seq, Head: e.Hash}
		evs = append(evs, e)
	}
	return evs
}

func verify(evs []*vigil.AuditEvent, cp *vigil.AuditCheckpoint) error {
	v := NewVerifier(cp, nil)
	for _, e := range evs {
		if err := v.Next(e); err != nil {
			return err
		}
	}
	_, err := v.Done()
	return err
}

func TestVerify(t *testing.T) {
	good := chain(5)
	cp := &vigil.AuditCheckpoint{Count: 3, Head: good[2].Hash}
	tests := []struct {
		name   string
		mutate func([]*vigil.AuditEvent) []*vigil.AuditEvent
		cp     *vigil.AuditCheckpoint
		want   string
	}{
		{"intact", func(e []*vigil.AuditEvent) []*vigil.AuditEvent { return e }, cp, ""},
		{"edited reason", func(e []*vigil.AuditEvent) []*vigil.AuditEvent { e[1].Reason = "x"; return e }, nil, "event 2: content"},
		{"edited time", func(e []*vigil.AuditEvent) []*vigil.AuditEvent { e[3].Time = e[3].Time.Add(time.Second); return e }, nil, "event 4"},
		{"deleted", func(e []*vigil.AuditEvent) []*vigil.AuditEvent { return append(e[:2:2], e[3:]...) }, nil, "expected sequence number 3"},
		{"swapped", func(e []*vigil.AuditEvent) []*vigil.AuditEvent {
			e[1], e[2] = e[2], e[1]
			return e
		}, nil, "event 3"},
		{"truncated behind checkpoint", func(e []*vigil.AuditEvent) []*vigil.AuditEvent { return e[:2] }, cp, "truncated"},
		{"rewritten behind checkpoint", func(e []*vigil.AuditEvent) []*vigil.AuditEvent { return chain(2) }, &vigil.AuditCheckpoint{Count: 2, Head: "beef"}, "checkpoint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs := tt.mutate(chain(5))
			err := verify(evs, tt.cp)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) || vigil.ErrorCode(err) != vigil.EINVALID {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestRowHash(t *testing.T) {
	base := Row{Cols: map[string]any{"id": int64(1), "name": "Pump", "note": nil},
		Children: map[string][]map[string]any{"links": {{"asset_id": int64(2)}, {"asset_id": int64(1)}}}}
	h := RowHash("devices", base)
	same := []Row{
		// A NULL column is left out: adding a nullable column keeps every earlier hash.
		{Cols: map[string]any{"id": int64(1), "name": "Pump"}, Children: base.Children},
		// Child rows are hashed in canonical order, whichever order the database returned them in.
		{Cols: base.Cols, Children: map[string][]map[string]any{"links": {{"asset_id": int64(1)}, {"asset_id": int64(2)}}}},
	}
	for i, r := range same {
		if got := RowHash("devices", r); got != h {
			t.Errorf("same[%d]: hash differs", i)
		}
	}
	differ := []struct {
		name  string
		table string
		row   Row
	}{
		{"another table", "tm_assets", base},
		{"a value", "devices", Row{Cols: map[string]any{"id": int64(1), "name": "Pump2"}, Children: base.Children}},
		{"empty text is not NULL", "devices", Row{Cols: map[string]any{"id": int64(1), "name": "Pump", "note": ""}, Children: base.Children}},
		{"a number as text", "devices", Row{Cols: map[string]any{"id": "1", "name": "Pump"}, Children: base.Children}},
		{"a link removed", "devices", Row{Cols: base.Cols, Children: map[string][]map[string]any{"links": {{"asset_id": int64(1)}}}}},
	}
	for _, tt := range differ {
		if RowHash(tt.table, tt.row) == h {
			t.Errorf("%s: same hash", tt.name)
		}
	}
}

func TestRecordsText(t *testing.T) {
	recs := []vigil.AuditRecord{{Table: "findings", Key: "10", Hash: "b"}, {Table: "assessments", Key: "3", Hash: "a"}, {Table: "findings", Key: "9", Hash: ""}}
	text := RecordsText(recs)
	if want := `[["assessments","3","a"],["findings","9",""],["findings","10","b"]]`; text != want {
		t.Fatalf("RecordsText = %s, want %s", text, want)
	}
	back, err := ParseRecords(text)
	if err != nil || RecordsText(back) != text {
		t.Fatalf("ParseRecords = %v, %v", back, err)
	}
	// The records are part of the event's hash.
	e := &vigil.AuditEvent{Action: "finding.sync", Records: recs}
	Seal(e, vigil.AuditCheckpoint{})
	e.Records[0].Hash = "c"
	if Hash(e) == e.Hash {
		t.Error("a record state changed without changing the event's hash")
	}
}

func TestReconcile(t *testing.T) {
	e := &vigil.AuditEvent{Action: "x", Records: []vigil.AuditRecord{
		{Table: "t", Key: "1", Hash: "h1"}, {Table: "t", Key: "2", Hash: "h2"}, {Table: "t", Key: "3", Hash: ""}, {Table: "t", Key: "4", Hash: "h4"},
	}}
	Seal(e, vigil.AuditCheckpoint{})
	v := NewVerifier(nil, nil)
	if err := v.Next(e); err != nil {
		t.Fatal(err)
	}
	v.Row("t", "1", "h1")     // as recorded
	v.Row("t", "2", "edited") // differs
	v.Row("t", "3", "h3")     // removed, yet there
	v.Row("t", "5", "h5")     // never recorded
	v.Missing("t")            // 4: recorded, gone
	rep, err := v.Done()
	if vigil.ErrorCode(err) != vigil.EINVALID || rep.Records != 4 {
		t.Fatalf("Done = %+v, %v", rep, err)
	}
	want := map[string]string{"2": "differs", "3": "recorded its removal", "5": "no entry", "4": "missing"}
	if len(rep.Problems) != len(want) {
		t.Fatalf("problems = %+v", rep.Problems)
	}
	for _, p := range rep.Problems {
		if !strings.Contains(p.Problem, want[p.Key]) {
			t.Errorf("record %s: %q, want %q", p.Key, p.Problem, want[p.Key])
		}
	}
}

// TestSignedTrail checks the signing rule: after the event that enrolls the audit key, every event is signed by
// it; an unsigned append, a signature by another key, stripped signatures and a trail re-signed with another key
// are each refused.
func TestSignedTrail(t *testing.T) {
	_, priv, _ := ed25519.GenerateKey(nil)
	_, other, _ := ed25519.GenerateKey(nil)
	pub := priv.Public().(ed25519.PublicKey)
	build := func(key ed25519.PrivateKey, unsignedFrom int) []*vigil.AuditEvent {
		evs := chain(2) // written before the trail was signed
		head := vigil.AuditCheckpoint{Count: 2, Head: evs[1].Hash}
		id, payload := KeyEvent(key.Public().(ed25519.PublicKey))
		for i := 0; i < 3; i++ {
			e := &vigil.AuditEvent{Time: time.Date(2025, 1, 2, 0, 0, i, 0, time.UTC), Actor: "user:a", Action: "device.update", ObjectType: "device", ObjectID: "1"}
			if i == 0 {
				e.Action, e.ObjectType, e.ObjectID, e.New = KeyAction, "audit_key", id, payload
			}
			Seal(e, head)
			if unsignedFrom < 0 || i < unsignedFrom {
				SignEvent(key, e)
			}
			head = vigil.AuditCheckpoint{Count: e.Seq, Head: e.Hash}
			evs = append(evs, e)
		}
		return evs
	}
	run := func(evs []*vigil.AuditEvent, key ed25519.PublicKey) error {
		v := NewVerifier(nil, key)
		for _, e := range evs {
			if err := v.Next(e); err != nil {
				return err
			}
		}
		_, err := v.Done()
		return err
	}
	tests := []struct {
		name string
		evs  []*vigil.AuditEvent
		key  ed25519.PublicKey
		want string
	}{
		{"signed, key given", build(priv, -1), pub, ""},
		{"signed, the trail's own key", build(priv, -1), nil, ""},
		{"unsigned append", build(priv, 2), nil, "audit event 5 is not signed"},
		{"stripped signatures, key given", build(priv, 0), pub, "never enrolled the audit key"},
		{"re-signed with another key", build(other, -1), pub, "never enrolled the audit key"},
		{"forged signature", func() []*vigil.AuditEvent {
			evs := build(priv, -1)
			SignEvent(other, evs[4])
			return evs
		}(), nil, "audit event 5: signature does not verify"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := run(tt.evs, tt.key)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if vigil.ErrorCode(err) != vigil.EINVALID || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

// trail builds a signed trail as the store writes it: the event enrolling the first key, then for each step
// either an ordinary event signed by the key in force or (a key) a rotation to that key signed by the key in force.
// A step's sign, when not nil, signs the event instead (a forger).
type step struct {
	rotateTo ed25519.PrivateKey
	sign     ed25519.PrivateKey
	proofBy  ed25519.PrivateKey // a rotation's proof made by another key than rotateTo
	replay   bool               // the rotation's proof made over another head
	previous ed25519.PublicKey  // the rotation names another key as the one it retires
}

func trail(first ed25519.PrivateKey, steps []step) []*vigil.AuditEvent {
	var evs []*vigil.AuditEvent
	head := vigil.AuditCheckpoint{}
	inForce := first
	add := func(e *vigil.AuditEvent, signer ed25519.PrivateKey) {
		e.Time = time.Date(2025, 1, 3, 0, 0, len(evs), 0, time.UTC)
		Seal(e, head)
		SignEvent(signer, e)
		head = vigil.AuditCheckpoint{Count: e.Seq, Head: e.Hash}
		evs = append(evs, e)
	}
	id, payload := KeyEvent(first.Public().(ed25519.PublicKey))
	add(&vigil.AuditEvent{Actor: "system:cli", Action: KeyAction, ObjectType: "audit_key", ObjectID: id, New: payload}, first)
	for _, st := range steps {
		signer := inForce
		if st.sign != nil {
			signer = st.sign
		}
		if st.rotateTo == nil {
			add(&vigil.AuditEvent{Actor: "user:a", Action: "device.update", ObjectType: "device", ObjectID: "1"}, signer)
			continue
		}
		old, prev, by := inForce.Public().(ed25519.PublicKey), head.Head, st.rotateTo
		if st.previous != nil {
			old = st.previous
		}
		if st.replay {
			prev = Genesis
		}
		if st.proofBy != nil {
			by = st.proofBy
		}
		id, payload := RotationEvent(old, by, prev)
		if st.proofBy != nil { // the payload names rotateTo, with by's proof
			var v map[string]string
			json.Unmarshal(payload, &v)
			v["key"] = KeyText(st.rotateTo.Public().(ed25519.PublicKey))
			payload, _ = json.Marshal(v)
			id = v["key"]
		}
		add(&vigil.AuditEvent{Actor: "system:cli", Action: RotateAction, ObjectType: "audit_key", ObjectID: id, New: payload}, signer)
		inForce = st.rotateTo
	}
	return evs
}

// TestKeyRotation checks the chain of audit keys: a rotation signed by the key in force, with the new key's proof
// over the head, puts the new key in force; checkpoints signed by any key of the chain verify at their events; a
// key file of any enrolled key is accepted. A rotation forged by another key, one enrolling a key its author does
// not hold, one replayed from another history, one naming another retiring key, the retired key signing after the
// rotation, and a checkpoint or key file of a key no rotation enrolled are each refused.
func TestKeyRotation(t *testing.T) {
	keys := make([]ed25519.PrivateKey, 4)
	for i := range keys {
		_, keys[i], _ = ed25519.GenerateKey(nil)
	}
	k1, k2, k3, forger := keys[0], keys[1], keys[2], keys[3]
	pub := func(k ed25519.PrivateKey) ed25519.PublicKey { return k.Public().(ed25519.PublicKey) }
	ev := step{}
	good := []step{ev, ev, {rotateTo: k2}, ev, {rotateTo: k3}, ev} // events 1..7
	checkpoint := func(evs []*vigil.AuditEvent, at int, by ed25519.PrivateKey) *vigil.AuditCheckpoint {
		cp := &vigil.AuditCheckpoint{Count: int64(at), Head: evs[at-1].Hash, Time: time.Date(2025, 1, 4, 0, 0, 0, 0, time.UTC)}
		SignCheckpoint(by, cp)
		return cp
	}
	goodTrail := trail(k1, good)
	tests := []struct {
		name    string
		evs     []*vigil.AuditEvent
		cp      *vigil.AuditCheckpoint
		trusted ed25519.PublicKey
		want    string
	}{
		{"two rotations, the key in force given", goodTrail, nil, pub(k3), ""},
		{"two rotations, the first key given", goodTrail, nil, pub(k1), ""},
		{"checkpoint by the first key before the rotations", goodTrail, checkpoint(goodTrail, 2, k1), pub(k3), ""},
		{"checkpoint by the second key at its rotation", goodTrail, checkpoint(goodTrail, 4, k2), pub(k3), ""},
		{"checkpoint by the last key", goodTrail, checkpoint(goodTrail, 7, k3), nil, ""},
		{"checkpoint by a later key before its rotation", goodTrail, checkpoint(goodTrail, 2, k2), nil, "the checkpoint is signed by key"},
		{"checkpoint by a key never enrolled", goodTrail, checkpoint(goodTrail, 7, forger), nil, "was never enrolled by the one before it"},
		{"key file of a key never enrolled", goodTrail, nil, pub(forger), "never enrolled the audit key"},
		{"rotation forged by another key", trail(k1, []step{ev, {rotateTo: forger, sign: forger}, ev}), nil, nil, "audit event 3: signature does not verify"},
		{"rotation to a key its author does not hold", trail(k1, []step{ev, {rotateTo: forger, proofBy: k2}, ev}), nil, nil, "did not sign it"},
		{"rotation replayed from another history", trail(k1, []step{ev, {rotateTo: k2, replay: true}, ev}), nil, nil, "did not sign it"},
		{"rotation naming another retiring key", trail(k1, []step{ev, {rotateTo: k2, previous: pub(forger)}, ev}), nil, nil, "retires key"},
		{"the retired key signs after the rotation", trail(k1, []step{ev, {rotateTo: k2}, {sign: k1}}), nil, nil, "audit event 4: signature does not verify with the audit key in force"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.cp != nil {
				if _, err := VerifyCheckpoint("", *tt.cp); err != nil {
					t.Fatal(err)
				}
			}
			v := NewVerifier(tt.cp, tt.trusted)
			var err error
			for _, e := range tt.evs {
				if err = v.Next(e); err != nil {
					break
				}
			}
			rep, done := v.Done()
			if err == nil {
				err = done
			}
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				want := []string{KeyText(pub(k1)), KeyText(pub(k2)), KeyText(pub(k3))}
				if strings.Join(rep.Keys, " ") != strings.Join(want, " ") || rep.Signed != 7 {
					t.Fatalf("keys = %v, signed %d; want the chain k1, k2, k3 and 7 signatures", rep.Keys, rep.Signed)
				}
				return
			}
			if vigil.ErrorCode(err) != vigil.EINVALID || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestCheckpointSignature(t *testing.T) {
	_, priv, _ := ed25519.GenerateKey(nil)
	cp := vigil.AuditCheckpoint{Count: 7, Head: "abc", Time: time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC)}
	SignCheckpoint(priv, &cp)
	if pub, err := VerifyCheckpoint("cp.json", cp); err != nil || !pub.Equal(priv.Public()) {
		t.Fatalf("VerifyCheckpoint = %v, %v", pub, err)
	}
	for name, mutate := range map[string]func(*vigil.AuditCheckpoint){
		"count":    func(c *vigil.AuditCheckpoint) { c.Count = 6 },
		"head":     func(c *vigil.AuditCheckpoint) { c.Head = "abd" },
		"time":     func(c *vigil.AuditCheckpoint) { c.Time = c.Time.Add(time.Hour) },
		"unsigned": func(c *vigil.AuditCheckpoint) { c.Signature = "" },
	} {
		bad := cp
		mutate(&bad)
		if _, err := VerifyCheckpoint("cp.json", bad); vigil.ErrorCode(err) != vigil.EINVALID || !strings.Contains(err.Error(), "checkpoint cp.json") {
			t.Errorf("%s altered: %v", name, err)
		}
	}
	b, _ := MarshalKey(priv)
	if back, err := ParseKey("k.pem", b); err != nil || !back.Equal(priv) {
		t.Fatalf("ParseKey(MarshalKey) = %v", err)
	}
	if _, err := ParseKey("k.pem", []byte("not a key")); err == nil || !strings.Contains(err.Error(), "audit key k.pem") {
		t.Fatalf("ParseKey(garbage) = %v", err)
	}
}
