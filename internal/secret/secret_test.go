package secret

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSealOpen(t *testing.T) {
	key, other := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	sealed, err := Seal(key, "smtp_settings", "smtp://u:hunter2@h")
	if err != nil || !IsSealed(sealed) || strings.Contains(sealed, "hunter2") {
		t.Fatalf("Seal = %q, %v", sealed, err)
	}
	if again, _ := Seal(key, "smtp_settings", "smtp://u:hunter2@h"); again == sealed {
		t.Error("two seals of one value are equal: the nonce is not fresh")
	}
	if got, err := Open(key, "smtp_settings", sealed); err != nil || got != "smtp://u:hunter2@h" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	altered := sealed[:len(sealed)-4] + "AAA="
	for _, tc := range []struct {
		name          string
		key           []byte
		bound, sealed string
		want          error
	}{
		{"no key", nil, "smtp_settings", sealed, ErrNoKey},
		{"another key", other, "smtp_settings", sealed, ErrWrongKey},
		{"another row", key, "7", sealed, ErrWrongKey},
		{"altered", key, "smtp_settings", altered, ErrWrongKey},
		{"clear text", key, "smtp_settings", "smtp://u:hunter2@h", ErrUnreadable},
		{"not base64", key, "smtp_settings", "v1:***", ErrUnreadable},
	} {
		if got, err := Open(tc.key, tc.bound, tc.sealed); !errors.Is(err, tc.want) || got != "" {
			t.Errorf("%s: Open = %q, %v; want %v", tc.name, got, err, tc.want)
		}
	}
	if _, err := Seal(nil, "x", "y"); !errors.Is(err, ErrNoKey) {
		t.Errorf("Seal without a key: %v", err)
	}
}

func TestLoadKey(t *testing.T) {
	dir := t.TempDir()
	good, short, open := filepath.Join(dir, "good"), filepath.Join(dir, "short"), filepath.Join(dir, "open")
	os.WriteFile(good, bytes.Repeat([]byte("k"), 32), 0o600)
	os.WriteFile(short, []byte("k"), 0o600)
	os.WriteFile(open, bytes.Repeat([]byte("k"), 32), 0o644)
	if k, err := LoadKey(good); err != nil || len(k) != 32 {
		t.Fatalf("LoadKey = %d bytes, %v", len(k), err)
	}
	for path, want := range map[string]string{short: "at least 32", open: "chmod 600", filepath.Join(dir, "none"): "secret key"} {
		if _, err := LoadKey(path); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("LoadKey(%s) = %v, want %q", filepath.Base(path), err, want)
		}
	}
}
