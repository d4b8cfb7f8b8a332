package isao

import (
	"errors"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/secret"
)

// The ISAO's TAXII password is stored sealed (internal/secret) under the secret key, bound to its membership: a
// sealed password copied to another membership does not open.

// seal encrypts a password for storage.
func seal(key []byte, membership string, plain string) (string, error) {
	s, err := secret.Seal(key, membership, plain)
	if errors.Is(err, secret.ErrNoKey) {
		return "", errNoKey
	}
	return s, err
}

var errNoKey = vigil.Errorf(vigil.EINVALID, "no secret key: give --secret-key FILE or $VIGIL_SECRET_KEY to store or use an ISAO's TAXII password")

// open decrypts a stored password.
func open(key []byte, membership string, sealed string) (string, error) {
	plain, err := secret.Open(key, membership, sealed)
	switch {
	case errors.Is(err, secret.ErrNoKey):
		return "", errNoKey
	case errors.Is(err, secret.ErrUnreadable):
		return "", vigil.Errorf(vigil.EINVALID, "the stored TAXII password of ISAO membership %s does not read", membership)
	case err != nil:
		return "", vigil.Errorf(vigil.EINVALID, "the stored TAXII password of ISAO membership %s does not open with this secret key (another key, or it was altered)", membership)
	}
	return plain, nil
}
