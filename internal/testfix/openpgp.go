package testfix

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// OpenPGPPassphrase protects the key OpenPGPKey writes.
const OpenPGPPassphrase = "correct horse battery staple"

// OpenPGPKey writes a fresh Ed25519 OpenPGP key for name, created a year before now and protected by
// OpenPGPPassphrase, as `gpg --armor --export-secret-keys` would, to a file in the test's directory and returns
// its path. A year back, so that documents dated in the past are signed at their own dates.
func OpenPGPKey(t testing.TB, name string, now time.Time) string {
	t.Helper()
	created := now.AddDate(-1, 0, 0)
	cfg := &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA, Time: func() time.Time { return created }}
	e, err := openpgp.NewEntity(name, "PSIRT", "psirt@acme.example", cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.EncryptPrivateKeys([]byte(OpenPGPPassphrase), cfg); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	w, err := armor.Encode(&b, openpgp.PrivateKeyType, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.SerializePrivateWithoutSigning(w, cfg); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "openpgp-private.asc")
	if err := os.WriteFile(p, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
