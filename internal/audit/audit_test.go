package audit

import (
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
	v := NewVerifier(cp)
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
