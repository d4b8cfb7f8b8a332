// Package secret seals the credentials Vigil keeps to act for the organization (an ISAO's TAXII password, the
// SMTP server's password) with AES-256-GCM under a key that lives outside the database: the secret key file named
// by --secret-key or $VIGIL_SECRET_KEY, like the audit key. Someone who copies the database, or reads a backup,
// does not get the credentials. A sealed value is bound to what it is for (its row), so that one copied to another
// row does not open. The stored text is "v1:" + base64(nonce || ciphertext).
package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"os"
	"strings"

	"github.com/vigil-dev/vigil"
)

// Errors Open and Seal return; callers say which credential and what to do.
var (
	ErrNoKey      = errors.New("no secret key")
	ErrUnreadable = errors.New("not a sealed value")
	ErrWrongKey   = errors.New("does not open with this secret key (another key, or it was altered)")
)

const prefix = "v1:"

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
		return nil, ErrNoKey
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

// Seal encrypts plain for storage, bound to what it is for (bound is authenticated, not stored). ErrNoKey
// without a key.
func Seal(key []byte, bound, plain string) (string, error) {
	g, err := aead(key)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, g.NonceSize())
	rand.Read(nonce)
	return prefix + base64.StdEncoding.EncodeToString(g.Seal(nonce, nonce, []byte(plain), []byte(bound))), nil
}

// IsSealed says whether a stored value is sealed (else it is clear text).
func IsSealed(stored string) bool { return strings.HasPrefix(stored, prefix) }

// Open decrypts a value Seal returned for the same bound: ErrNoKey without a key, ErrUnreadable when it is not a
// sealed value, ErrWrongKey when it does not open (another key, another row, or altered).
func Open(key []byte, bound, sealed string) (string, error) {
	g, err := aead(key)
	if err != nil {
		return "", err
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(sealed, prefix))
	if err != nil || !IsSealed(sealed) || len(raw) < g.NonceSize() {
		return "", ErrUnreadable
	}
	plain, err := g.Open(nil, raw[:g.NonceSize()], raw[g.NonceSize():], []byte(bound))
	if err != nil {
		return "", ErrWrongKey
	}
	return string(plain), nil
}
