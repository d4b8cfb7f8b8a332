package vigil_test

import (
	"encoding/json"
	"testing"

	"github.com/vigil-dev/vigil"
)

// TestVocabulary checks every closed vocabulary the same way: its words read and write back, an unknown word is
// refused with EINVALID naming the field, and an absent one is left for Validate to judge.
func TestVocabulary(t *testing.T) {
	type word interface {
		Validate() error
		MarshalText() ([]byte, error)
	}
	tests := []struct {
		name    string
		field   string
		known   []string
		decode  func(string) (word, error)
		unknown string
	}{
		{"risk", "risk", []string{"controlled", "uncontrolled"},
			func(s string) (word, error) { var v vigil.Risk; err := v.UnmarshalText([]byte(s)); return v, err }, "acceptable"},
		{"exploitability", "exploitability", []string{"low", "medium", "high"},
			func(s string) (word, error) {
				var v vigil.Exploitability
				err := v.UnmarshalText([]byte(s))
				return v, err
			}, "High"},
		{"vex status", "vex_status", []string{"affected", "not_affected", "fixed", "under_investigation"},
			func(s string) (word, error) { var v vigil.VEXStatus; err := v.UnmarshalText([]byte(s)); return v, err }, "unknown"},
		{"finding state", "state", []string{"open", "could_not_evaluate", "resolved", "closed"},
			func(s string) (word, error) {
				var v vigil.FindingState
				err := v.UnmarshalText([]byte(s))
				return v, err
			}, "gone"},
		{"pathway", "pathway", []string{"510k", "PMA", "De Novo", "HDE", "exempt"},
			func(s string) (word, error) { var v vigil.Pathway; err := v.UnmarshalText([]byte(s)); return v, err }, "510(k)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, s := range tt.known {
				v, err := tt.decode(s)
				if err != nil || v.Validate() != nil {
					t.Fatalf("%q: decode %v, validate %v", s, err, v.Validate())
				}
				if b, err := v.MarshalText(); err != nil || string(b) != s {
					t.Errorf("%q: marshal %q, %v", s, b, err)
				}
			}
			_, err := tt.decode(tt.unknown)
			if vigil.ErrorCode(err) != vigil.EINVALID || vigil.ErrorMessage(err)[:len(tt.field)+1] != tt.field+":" {
				t.Errorf("%q: %v, want EINVALID naming %s", tt.unknown, err, tt.field)
			}
			empty, err := tt.decode("")
			if err != nil {
				t.Errorf("empty: %v, want it left unset", err)
			}
			if vigil.ErrorCode(empty.Validate()) != vigil.EINVALID {
				t.Errorf("empty: Validate %v, want EINVALID", empty.Validate())
			}
		})
	}
}

// TestVocabularyInJSON: a document cannot carry an unknown word past decoding, and a value that is not a word of
// its vocabulary cannot be written out.
func TestVocabularyInJSON(t *testing.T) {
	var a vigil.Assessment
	if err := json.Unmarshal([]byte(`{"risk":"controlled","exploitability":"extreme"}`), &a); vigil.ErrorCode(err) != vigil.EINVALID {
		t.Errorf("unknown exploitability decoded: %v", err)
	}
	if err := json.Unmarshal([]byte(`{"risk":"uncontrolled","vex_status":"fixed"}`), &a); err != nil || a.Risk != vigil.RiskUncontrolled || a.VEXStatus != vigil.VEXFixed {
		t.Errorf("decode: %+v, %v", a, err)
	}
	if _, err := json.Marshal(vigil.Assessment{Risk: "maybe"}); err == nil {
		t.Error("an unknown risk was written")
	}
	if b, err := json.Marshal(vigil.Assessment{Risk: vigil.RiskControlled}); err != nil || !json.Valid(b) {
		t.Errorf("marshal: %s, %v", b, err)
	}
}

func TestAssessmentValidate(t *testing.T) {
	tests := []struct {
		name string
		a    vigil.Assessment
		want string // "" valid; else the start of the message
	}{
		{"valid", vigil.Assessment{Risk: vigil.RiskControlled, Rationale: "r", Exploitability: vigil.ExploitabilityLow, VEXStatus: vigil.VEXAffected, Severity: vigil.HarmMinor}, ""},
		{"no risk", vigil.Assessment{Rationale: "r"}, "risk:"},
		{"no rationale", vigil.Assessment{Risk: vigil.RiskUncontrolled, Rationale: " "}, "rationale: required"},
		{"unknown severity", vigil.Assessment{Risk: vigil.RiskControlled, Rationale: "r", Severity: "bad"}, "severity:"},
		{"unknown exploitability", vigil.Assessment{Risk: vigil.RiskControlled, Rationale: "r", Exploitability: "x"}, "exploitability:"},
		{"unknown vex status", vigil.Assessment{Risk: vigil.RiskControlled, Rationale: "r", VEXStatus: "x"}, "vex_status:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.a.Validate()
			msg := vigil.ErrorMessage(err)
			if (tt.want == "") != (err == nil) || len(msg) < len(tt.want) || msg[:len(tt.want)] != tt.want {
				t.Errorf("Validate = %v, want %q", err, tt.want)
			}
		})
	}
}
