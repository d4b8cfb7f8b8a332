package untrusted

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

func TestLimitReader(t *testing.T) {
	tests := []struct {
		name    string
		size    int
		max     int64
		budget  int64
		wantN   int64
		wantErr string
	}{
		{"under", 10, 10, 0, 10, ""},
		{"over by one", 11, 10, 0, 11, "f: larger than the limit of 10 bytes"},
		{"budget", 10, 100, 5, 6, "f: the archive decompresses to more than the limit of 5 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b *Budget
			if tt.budget > 0 {
				b = NewBudget(tt.budget)
			}
			n, err := io.Copy(io.Discard, LimitReader("f", bytes.NewReader(make([]byte, tt.size)), tt.max, b))
			got := ""
			if err != nil {
				got = err.Error()
				if !IsLimit(err) || IsBudget(err) != (tt.budget > 0) {
					t.Errorf("IsLimit/IsBudget wrong for %v", err)
				}
			}
			if got != tt.wantErr || n != tt.wantN {
				t.Errorf("read %d, %q; want %d, %q", n, got, tt.wantN, tt.wantErr)
			}
		})
	}
	if b, err := ReadAll("f", strings.NewReader("1234"), 4); err != nil || string(b) != "1234" {
		t.Errorf("ReadAll at the limit: %q, %v", b, err)
	}
	if _, err := ReadAll("f", strings.NewReader("12345"), 4); err.Error() != "f: larger than the limit of 4 bytes" {
		t.Errorf("ReadAll over the limit: %v", err)
	}
}

func TestClip(t *testing.T) {
	long := strings.Repeat("é", 100) // 200 bytes
	got := Clip(long)
	if len(got) > 124 || !strings.HasSuffix(got, "…") || !strings.HasPrefix(long, strings.TrimSuffix(got, "…")) {
		t.Errorf("Clip = %q", got)
	}
	if Clip("short") != "short" {
		t.Error("Clip changed a short string")
	}
}
