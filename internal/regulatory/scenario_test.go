package regulatory

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/regulatory/scenario"
	"github.com/vigil-dev/vigil/internal/testfix"
)

// today is the date DetermineJSON falls back on in tests; every shared scenario sets its own as_of.
var today = vigil.NewDate(2026, 11, 27)

// result renders what the Determination API answers for facts: the determination, or {"error": {...}}.
func result(t *testing.T, facts []byte) []byte {
	t.Helper()
	d, err := DetermineJSON(bytes.NewReader(facts), today)
	var v any = d
	if err != nil {
		v = map[string]any{"error": map[string]string{"code": vigil.ErrorCode(err), "message": vigil.ErrorMessage(err)}}
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestScenarios runs every worked case in the shared scenarios folder against its partial expectation.
func TestScenarios(t *testing.T) {
	cases, err := scenario.Load(testfix.Path(t, "scenarios"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) == 0 {
		t.Fatal("no scenarios found")
	}
	for _, sc := range cases {
		t.Run(sc.File, func(t *testing.T) {
			got := result(t, sc.Facts)
			for _, d := range scenario.Diff(sc.Expect, got) {
				t.Errorf("%s: %s", sc.Name, d)
			}
			if t.Failed() {
				t.Logf("got: %s", got)
			}
		})
	}
}
