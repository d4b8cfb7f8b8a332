package vigil_test

import (
	"strings"
	"testing"

	"github.com/vigil-dev/vigil"
)

func TestText(t *testing.T) {
	for _, tt := range []struct {
		name, v string
		max     int
		want    string // "" for accepted
	}{
		{"empty", "", 10, ""},
		{"at the limit", strings.Repeat("é", 5), 10, ""},
		{"a byte over", strings.Repeat("é", 5) + "x", 10, "note: 11 bytes, more than 10"},
		{"NUL", "a\x00b", 10, "note: contains a NUL byte"},
		{"invalid UTF-8", "a\xc3", 10, "note: not valid UTF-8"},
		{"a lone surrogate's bytes", "\xed\xa0\x80", 10, "note: not valid UTF-8"},
		{"other control characters are text", "line\none\ttab", 20, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := vigil.Text("note", tt.v, tt.max)
			if tt.want == "" {
				if err != nil {
					t.Errorf("refused: %v", err)
				}
				return
			}
			if vigil.ErrorCode(err) != vigil.EINVALID || err.Error() != tt.want {
				t.Errorf("%s %v, want EINVALID %q", vigil.ErrorCode(err), err, tt.want)
			}
		})
	}
}
