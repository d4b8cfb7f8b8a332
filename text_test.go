package vigil_test

import (
	"strings"
	"testing"
	"time"

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

// TestScheduleText: intervals print as people write them and as --every reads them back.
func TestScheduleText(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{{24 * time.Hour, "24h"}, {90 * time.Minute, "1h30m"}, {15 * time.Minute, "15m"}, {2*time.Hour + 30*time.Second, "2h0m30s"}, {744 * time.Hour, "744h"}} {
		got := vigil.ScheduleText(tt.d)
		if back, err := time.ParseDuration(got); got != tt.want || err != nil || back != tt.d {
			t.Errorf("ScheduleText(%v) = %q (parses back to %v, %v), want %q", tt.d, got, back, err, tt.want)
		}
	}
}

// TestClip: a cut text ends with "…", is cut at a word boundary when one is near and never inside a UTF-8 sequence.
func TestClip(t *testing.T) {
	for _, tt := range []struct {
		n       int
		in, out string
	}{
		{20, "short", "short"},
		{20, "exactly twenty bytes", "exactly twenty bytes"},
		{24, "a buffer overflow in the TLS handshake parser", "a buffer overflow in…"},
		{10, "abcdefghijklmnopqrstuvwxyz", "abcdefg…"},
		{9, "ééééé", "ééé…"},
		{14, "puts medium → high", "puts medium…"}, {12, "puts medium → high", "puts…"},
	} {
		if got := vigil.Clip(tt.n, tt.in); got != tt.out || len(got) > max(tt.n, len(tt.in)) {
			t.Errorf("Clip(%d, %q) = %q, want %q", tt.n, tt.in, got, tt.out)
		}
	}
}
