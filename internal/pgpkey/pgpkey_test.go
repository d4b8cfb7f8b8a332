package pgpkey_test

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/clearsign"
	"github.com/ProtonMail/go-crypto/openpgp/packet"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/pgpkey"
	"github.com/vigil-dev/vigil/internal/testfix"
)

var now = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// TestLoadRefusals: a missing file, the wrong passphrase, none for a protected key, a public key alone, two keys
// and garbage are each refused with EINVALID naming the source, and no message carries the key or the passphrase.
func TestLoadRefusals(t *testing.T) {
	path := testfix.OpenPGPKey(t, "Acme Medical", now)
	armored, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	k, err := pgpkey.Load(path, []byte(testfix.OpenPGPPassphrase))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// Two keys in one armored block: the key twice.
	ring, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(armored))
	if err != nil {
		t.Fatal(err)
	}
	var two bytes.Buffer
	w, err := armor.Encode(&two, openpgp.PrivateKeyType, nil)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := ring[0].SerializePrivateWithoutSigning(w, nil); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	for _, tt := range []struct {
		name, source, pass, want string
	}{
		{"missing file", filepath.Join(dir, "nope.asc"), testfix.OpenPGPPassphrase, "no such file"},
		{"wrong passphrase", path, "hunter2", "the passphrase does not decrypt it"},
		{"no passphrase", path, "", "protected by a passphrase"},
		{"public key only", write("public.asc", k.PublicKey()), "", "a public key only"},
		{"two keys", write("two.asc", two.Bytes()), testfix.OpenPGPPassphrase, "2 keys in the file"},
		{"garbage", write("garbage.asc", []byte("not a key\n")), "", "not an armored OpenPGP private key"},
		{"armored in the environment, wrong passphrase", string(armored), "hunter2", "the armored key given in the environment"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := pgpkey.Load(tt.source, []byte(tt.pass))
			msg := vigil.ErrorMessage(err)
			if vigil.ErrorCode(err) != vigil.EINVALID || !strings.Contains(msg, tt.want) {
				t.Fatalf("Load = %v, want EINVALID saying %q", err, tt.want)
			}
			if strings.Contains(msg, "BEGIN PGP") || tt.pass != "" && strings.Contains(msg, tt.pass) || strings.Contains(msg, testfix.OpenPGPPassphrase) {
				t.Errorf("the message shows the key or the passphrase: %s", msg)
			}
		})
	}
	if k2, err := pgpkey.Load(string(armored), []byte(testfix.OpenPGPPassphrase)); err != nil || k2.Fingerprint() != k.Fingerprint() {
		t.Errorf("the armored key itself: %v", err)
	}
}

// TestSignatures verifies what the key makes with the library, against the public key it publishes: a detached
// signature of a document (dated by the document; a change of one byte fails), and a
// cleartext-signed text whose plaintext is the text.
func TestSignatures(t *testing.T) {
	k, err := pgpkey.Load(testfix.OpenPGPKey(t, "Acme Medical", now), []byte(testfix.OpenPGPPassphrase))
	if err != nil {
		t.Fatal(err)
	}
	ring, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(k.PublicKey()))
	if err != nil || len(ring) != 1 || ring[0].PrivateKey != nil {
		t.Fatalf("the published public key: %v", err)
	}
	if len(k.Fingerprint()) != 40 || strings.ToUpper(k.Fingerprint()) != k.Fingerprint() {
		t.Errorf("fingerprint %q: want 40 upper-case hex digits", k.Fingerprint())
	}
	doc := []byte(`{"document":{"title":"Infusion pump"}}`)
	released := now.AddDate(0, -2, 0)
	sig, err := k.DetachSign(doc, released)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(sig, []byte("-----BEGIN PGP SIGNATURE-----")) {
		t.Errorf("detached signature not armored:\n%s", sig)
	}
	signer, err := openpgp.CheckArmoredDetachedSignature(ring, bytes.NewReader(doc), bytes.NewReader(sig), nil)
	if err != nil {
		t.Errorf("the detached signature does not verify: %v", err)
	} else if signer.PrimaryKey.KeyId != ring[0].PrimaryKey.KeyId {
		t.Errorf("signed by %X", signer.PrimaryKey.KeyId)
	}
	p, err := packet.Read(armorBody(t, sig))
	if s, ok := p.(*packet.Signature); err != nil || !ok || !s.CreationTime.Equal(released) {
		t.Errorf("the signature is not dated by the document (%s): %+v %v", released, p, err)
	}
	tampered := bytes.Replace(doc, []byte("pump"), []byte("pomp"), 1)
	if _, err := openpgp.CheckArmoredDetachedSignature(ring, bytes.NewReader(tampered), bytes.NewReader(sig), nil); err == nil {
		t.Error("a changed document verifies")
	}
	text := "Contact: mailto:psirt@acme.example\nExpires: 2027-01-01T00:00:00Z\n- a line starting with a dash\n"
	signed, err := k.ClearSign([]byte(text), now)
	if err != nil {
		t.Fatal(err)
	}
	b, rest := clearsign.Decode(signed)
	if b == nil || len(bytes.TrimSpace(rest)) != 0 {
		t.Fatalf("not a cleartext-signed message:\n%s", signed)
	}
	if got := string(b.Plaintext); got != text {
		t.Errorf("plaintext %q, want %q", got, text)
	}
	if _, err := b.VerifySignature(ring, nil); err != nil {
		t.Errorf("the cleartext signature does not verify: %v", err)
	}
}

func armorBody(t *testing.T, b []byte) io.Reader {
	t.Helper()
	blk, err := armor.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return blk.Body
}
