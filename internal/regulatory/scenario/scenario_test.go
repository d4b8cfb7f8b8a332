package scenario

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-dev/vigil/internal/testfix"
)

func TestDiff(t *testing.T) {
	got := `{"risk":"uncontrolled","part806":{"status":"waived","due":"2025-02-18"},
		"enforcement_discretion":{"status":"met","criteria":[{"n":1,"status":"met","reason":"x"},{"n":2,"status":"met","reason":"y"}]},
		"deadlines":{"ed_communication":"2025-02-09","part806":"2025-02-18"},"warnings":[]}`
	tests := []struct {
		name, expect string
		want         []string
	}{
		{"partial object matches", `{"risk":"uncontrolled","part806":{"status":"waived"}}`, nil},
		{"array elements compared partially", `{"enforcement_discretion":{"criteria":[{"n":1},{"status":"met"}]}}`, nil},
		{"scalar mismatch", `{"risk":"controlled"}`, []string{`risk: want "controlled", got "uncontrolled"`}},
		{"null vs date", `{"part806":{"due":null}}`, []string{`part806.due: want null, got "2025-02-18"`}},
		{"missing key", `{"change":"correction"}`, []string{`change: missing, want "correction"`}},
		{"array length", `{"enforcement_discretion":{"criteria":[{"n":1}]}}`, []string{`enforcement_discretion.criteria: want [{"n":1}], got [{"n":1,"reason":"x","status":"met"},{"n":2,"reason":"y","status":"met"}]`}},
		{"empty array vs empty", `{"warnings":[]}`, nil},
		{"deadlines compared whole: extra clock", `{"deadlines":{"ed_communication":"2025-02-09"}}`, []string{`deadlines: want {"ed_communication":"2025-02-09"}, got {"ed_communication":"2025-02-09","part806":"2025-02-18"}`}},
		{"deadlines compared whole: equal", `{"deadlines":{"part806":"2025-02-18","ed_communication":"2025-02-09"}}`, nil},
		{"error document", `{"error":{"code":"EINVALID"}}`, []string{`error: missing, want {"code":"EINVALID"}`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Diff([]byte(tt.expect), []byte(got))); diff != "" {
				t.Errorf("Diff mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	cases, err := Load(testfix.Path(t, "scenarios"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) == 0 {
		t.Fatal("no scenarios loaded")
	}
	for _, c := range cases {
		if c.Name == "" || !strings.HasSuffix(c.File, ".json") || len(c.Facts) == 0 || len(c.Expect) == 0 {
			t.Errorf("%s: name %q, facts %d bytes, expect %d bytes", c.File, c.Name, len(c.Facts), len(c.Expect))
		}
	}
	s := Scenario{Expect: []byte(`{"error":{"code":"EINVALID"}}`)}
	if s.WantCode() != "EINVALID" {
		t.Errorf("WantCode = %q, want EINVALID", s.WantCode())
	}
}
