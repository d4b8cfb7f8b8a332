package isao

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"os"
	"strings"

	"github.com/vigil-dev/vigil"
)

// The ISAO's TAXII password is stored sealed with AES-256-GCM under a key that lives outside the database (the
// secret key file named by --secret-key or $VIGIL_SECRET_KEY, like the audit key): someone who copies the database
// does not get the ISAO credentials. The stored text is "v1:" + base64(nonce || ciphertext).

// LoadKey reads a secret key file: at least 32 bytes of which the SHA-256 is the AES key (any random file will do,
// e.g. `head -c 32 /dev/urandom > vigil-secret.key`). A file others can read is refused.
func LoadKey(path string) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, vigil.Errorf(vigil.EINVALID, "secret key: %v", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, vigil.Errorf(vigil.EINVALID, "secret key %s: mode %v lets others read it: chmod 600", path, st.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, vigil.Errorf(vigil.EINVALID, "secret key: %v", err)
	}
	if len(b) < 32 {
		return nil, vigil.Errorf(vigil.EINVALID, "secret key %s: %d bytes, want at least 32 random bytes", path, len(b))
	}
	k := sha256.Sum256(b)
	return k[:], nil
}

func aead(key []byte) (cipher.AEAD, error) {
	if len(key) != 32 {
		return nil, vigil.Errorf(vigil.EINVALID, "no secret key: give --secret-key FILE or $VIGIL_SECRET_KEY to store or use an ISAO's TAXII password")
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

// seal encrypts a password for storage; the membership id is bound in as additional data, so a sealed password
// copied to another membership does not open.
func seal(key []byte, membership string, plain string) (string, error) {
	g, err := aead(key)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, g.NonceSize())
	rand.Read(nonce)
	return "v1:" + base64.StdEncoding.EncodeToString(g.Seal(nonce, nonce, []byte(plain), []byte(membership))), nil
}

// open decrypts a stored password.
func open(key []byte, membership string, sealed string) (string, error) {
	g, err := aead(key)
	if err != nil {
		return "", err
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(sealed, "v1:"))
	if err != nil || !strings.HasPrefix(sealed, "v1:") || len(raw) < g.NonceSize() {
		return "", vigil.Errorf(vigil.EINVALID, "the stored TAXII password of ISAO membership %s does not read", membership)
	}
	plain, err := g.Open(nil, raw[:g.NonceSize()], raw[g.NonceSize():], []byte(membership))
	if err != nil {
		return "", vigil.Errorf(vigil.EINVALID, "the stored TAXII password of ISAO membership %s does not open with this secret key (another key, or it was altered)", membership)
	}
	return string(plain), nil
}
