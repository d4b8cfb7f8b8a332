package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil/internal/store/storetest"
	"github.com/vigil-dev/vigil/internal/testfix"
)

// TestOpenPGPKeyFlags: --openpgp-key with its passphrase from --openpgp-passphrase-file opens the store signing; a
// missing or wrong passphrase is exit 2 saying which, and no message shows the passphrase.
func TestOpenPGPKeyFlags(t *testing.T) {
	r := runner{t, storetest.MigratedDSN(t, "sqlite")}
	key := testfix.OpenPGPKey(t, "Acme Medical", time.Now())
	dir := t.TempDir()
	pass := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--openpgp-key", key}, "protected by a passphrase"},
		{[]string{"--openpgp-key", key, "--openpgp-passphrase-file", pass("wrong", "hunter2\n")}, "the passphrase does not decrypt it"},
		{[]string{"--openpgp-key", key, "--openpgp-passphrase-file", filepath.Join(dir, "none")}, "--openpgp-passphrase-file"},
		{[]string{"--openpgp-key", filepath.Join(dir, "no-key.asc"), "--openpgp-passphrase-file", pass("right", testfix.OpenPGPPassphrase+"\n")}, "no such file"},
	} {
		code, _, errs := r.run("", append(tt.args, "device", "list")...)
		if code != 2 || !strings.Contains(errs, tt.want) || strings.Contains(errs, "hunter2") || strings.Contains(errs, testfix.OpenPGPPassphrase) {
			t.Errorf("vigil %v device list: exit %d %s, want 2 saying %q", tt.args, code, errs, tt.want)
		}
	}
	r.ok("--openpgp-key", key, "--openpgp-passphrase-file", pass("right", testfix.OpenPGPPassphrase+"\n"), "device", "list")
}
