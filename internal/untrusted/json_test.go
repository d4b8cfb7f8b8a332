package untrusted

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil"
)

func TestPathAt(t *testing.T) {
	type ev struct {
		Introduced string `json:"introduced"`
	}
	type rng struct {
		Type   string `json:"type"`
		Events []ev   `json:"events"`
	}
	type aff struct {
		Ranges   []rng    `json:"ranges"`
		Versions []string `json:"versions"`
	}
	type rec struct {
		ID       string `json:"id"`
		Affected []aff  `json:"affected"`
	}
	tests := []struct {
		name, doc, wantPath, wantMsg string
	}{
		{"number in event", `{"id":"X","affected":[{"ranges":[{"type":"SEMVER","events":[{"introduced":"0"}]},{"type":"SEMVER","events":[{"introduced":"1"},{"introduced":2}]}]}]}`,
			"affected[0].ranges[1].events[1].introduced", "got a JSON number, want a string"},
		{"object for array", `{"id":"X","affected":[{},{"ranges":[{"events":{}}]}]}`,
			"affected[1].ranges[0].events", "got a JSON object, want an array"},
		{"number version", `{"affected":[{"versions":["1.0", 2]}]}`, "affected[0].versions[1]", "got a JSON number, want a string"},
		{"top-level id", `{"id":7}`, "id", "got a JSON number, want a string"},
		{"after nested skipped objects", `{"x":{"a":[1,{"b":2}]},"id":"Y","affected":[{"ranges":[{"type":true}]}]}`,
			"affected[0].ranges[0].type", "got a JSON bool, want a string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r rec
			err := json.Unmarshal([]byte(tt.doc), &r)
			if err == nil {
				t.Fatal("Unmarshal succeeded")
			}
			got := JSONError("f.json", "", []byte(tt.doc), err)
			want := "f.json: " + tt.wantPath + ": " + tt.wantMsg
			if got.Error() != want {
				t.Errorf("got  %q\nwant %q", got.Error(), want)
			}
			if vigil.ErrorCode(got) != vigil.EINVALID {
				t.Errorf("code = %q", vigil.ErrorCode(got))
			}
		})
	}
}

func TestJSONErrorSyntax(t *testing.T) {
	doc := "{\n  \"id\": \"X\",\n  \"affected\": [,]\n}"
	var v map[string]any
	err := JSONError("f.json", "vulnerabilities[3]", []byte(doc), json.Unmarshal([]byte(doc), &v))
	want := `f.json: vulnerabilities[3]: line 3, column 16: malformed JSON: invalid character ',' looking for beginning of value`
	if err.Error() != want {
		t.Errorf("got  %q\nwant %q", err.Error(), want)
	}
}

func TestCheckJSON(t *testing.T) {
	deep := strings.Repeat("[", 10_000) + strings.Repeat("]", 10_000)
	tests := []struct {
		name    string
		doc     string
		lim     Limits
		wantErr string
	}{
		{"flat", `{"a":[1,2,{"b":3}]}`, Limits{MaxDepth: 3}, ""},
		{"exactly max", `{"a":[{"b":3}]}`, Limits{MaxDepth: 3}, ""},
		{"one over", `{"a":[{"b":[3]}]}`, Limits{MaxDepth: 3}, "f.json: line 1, column 12: JSON nests deeper than the limit of 3"},
		{"brackets inside strings do not count", `{"a":"[[[[{{{{\"[[[["}`, Limits{MaxDepth: 1}, ""},
		{"nor after an escaped quote", `{"a":"\"[[[[", "b":{}}`, Limits{MaxDepth: 2}, ""},
		{"an escaped backslash ends no string", `{"a":"\\", "b":{}}`, Limits{MaxDepth: 1}, "f.json: line 1, column 16: JSON nests deeper than the limit of 1"},
		{"three backslashes escape the quote", `{"a":"\\\"[[", "b":{}}`, Limits{MaxDepth: 2}, ""},
		{"escaped quotes in a row", `{"a":"\"\"\"", "b":[{}]}`, Limits{MaxDepth: 2}, "f.json: line 1, column 21: JSON nests deeper than the limit of 2"},
		{"10,000 deep", deep, Limits{MaxDepth: 64}, "f.json: line 1, column 65: JSON nests deeper than the limit of 64"},
		{"string at the limit", `{"a":"12\"45"}`, Limits{MaxDepth: 1, MaxString: 6}, ""},
		{"string over the limit", "{\n\"a\": \"1234567\"}", Limits{MaxDepth: 1, MaxString: 6}, "f.json: line 2, column 6: a JSON string longer than the limit of 6 bytes"},
		{"unterminated string over the limit", `["1234567`, Limits{MaxDepth: 1, MaxString: 6}, "f.json: line 1, column 2: a JSON string longer than the limit of 6 bytes"},
		{"no string limit by default", `["1234567"]`, Limits{MaxDepth: 1}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckJSON("f.json", []byte(tt.doc), tt.lim)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.wantErr {
				t.Errorf("got %q, want %q", got, tt.wantErr)
			}
		})
	}
}

func TestLineCol(t *testing.T) {
	b := []byte("ab\ncd\n\nef")
	tests := []struct {
		off       int64
		line, col int
	}{{0, 1, 1}, {1, 1, 2}, {3, 2, 1}, {4, 2, 2}, {7, 4, 1}, {100, 4, 3}}
	for _, tt := range tests {
		if l, c := LineCol(b, tt.off); l != tt.line || c != tt.col {
			t.Errorf("LineCol(%d) = %d:%d, want %d:%d", tt.off, l, c, tt.line, tt.col)
		}
	}
}
