// Package pgpkey is the organization's OpenPGP key, one configuration for both of its uses: the cleartext-signed
// security.txt (RFC 9116 §2.3) and the detached signatures (.asc) beside every document of the CSAF provider with
// the public key named in provider-metadata.json (CSAF 2.0 requirements 19 and 20). The private key is read from a
// file (or the environment) and kept in memory only: it is never written to the database or to a log, and an error
// about it names the file and what is wrong, never the key or the passphrase. It wraps ProtonMail's go-crypto, the
// maintained fork of x/crypto/openpgp that gopenpgp (and so csaf_checker) builds on.
package pgpkey

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/clearsign"
	"github.com/ProtonMail/go-crypto/openpgp/packet"

	"github.com/vigil-dev/vigil"
)

// Key is a decrypted OpenPGP signing key. It is safe for concurrent use: every signature is made with its own
// configuration.
type Key struct {
	entity      *openpgp.Entity
	public      []byte // the armored transferable public key
	fingerprint string
}

// armoredPrefix starts an armored private key given as the value itself rather than as a file name.
const armoredPrefix = "-----BEGIN PGP PRIVATE KEY BLOCK-----"

// Load reads the armored private key named by source (a file, or the armored key itself, as an environment
// variable may hold it) and decrypts it with passphrase when it is protected by one. The key must be able to sign
// now. Errors are EINVALID and name the source as given, never its content.
func Load(source string, passphrase []byte) (*Key, error) {
	name := source
	data := []byte(source)
	if !strings.HasPrefix(strings.TrimSpace(source), armoredPrefix) {
		b, err := os.ReadFile(source)
		if err != nil {
			return nil, vigil.Errorf(vigil.EINVALID, "openpgp key %s: %s", source, readError(err))
		}
		data = b
	} else {
		name = "(the armored key given in the environment)"
	}
	return Parse(name, data, passphrase)
}

func readError(err error) string {
	if os.IsNotExist(err) {
		return "no such file"
	}
	if os.IsPermission(err) {
		return "permission denied"
	}
	return "cannot be read"
}

// Parse reads an armored private key (name is how errors call it) and decrypts it with passphrase.
func Parse(name string, data, passphrase []byte) (*Key, error) {
	ents, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(data))
	if err != nil {
		return nil, vigil.Errorf(vigil.EINVALID, "openpgp key %s: not an armored OpenPGP private key (gpg --armor --export-secret-keys)", name)
	}
	if len(ents) != 1 {
		return nil, vigil.Errorf(vigil.EINVALID, "openpgp key %s: %d keys in the file; give exactly one", name, len(ents))
	}
	e := ents[0]
	if e.PrivateKey == nil {
		return nil, vigil.Errorf(vigil.EINVALID, "openpgp key %s: a public key only; the private key is needed to sign", name)
	}
	if err := e.DecryptPrivateKeys(passphrase); err != nil {
		if len(passphrase) == 0 {
			return nil, vigil.Errorf(vigil.EINVALID, "openpgp key %s: protected by a passphrase: give it ($VIGIL_OPENPGP_PASSPHRASE or --openpgp-passphrase-file)", name)
		}
		return nil, vigil.Errorf(vigil.EINVALID, "openpgp key %s: the passphrase does not decrypt it", name)
	}
	k := &Key{entity: e, fingerprint: strings.ToUpper(hex.EncodeToString(e.PrimaryKey.Fingerprint))}
	if _, ok := e.SigningKey(time.Now()); !ok {
		return nil, vigil.Errorf(vigil.EINVALID, "openpgp key %s (%s): no key in it can sign now (expired, revoked, or no signing capability)", name, k.fingerprint)
	}
	var pub bytes.Buffer
	w, err := armor.Encode(&pub, openpgp.PublicKeyType, nil)
	if err != nil {
		return nil, err
	}
	if err := e.Serialize(w); err != nil {
		return nil, fmt.Errorf("openpgp key %s: the public key: %w", name, err)
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	k.public = append(pub.Bytes(), '\n')
	return k, nil
}

// Fingerprint is the primary key's fingerprint in upper-case hex, as CSAF's public_openpgp_keys names it.
func (k *Key) Fingerprint() string { return k.fingerprint }

// PublicKey is the armored public key (the key published beside what it signs).
func (k *Key) PublicKey() []byte { return bytes.Clone(k.public) }

// config dates a signature at, or at the key's creation when that is later (a signature cannot predate its key):
// a document's signature is dated by the document. The library's salt notation stays on, so two signatures of one
// document differ (it protects EdDSA keys from fault attacks).
func (k *Key) config(at time.Time) *packet.Config {
	if at.Before(k.entity.PrimaryKey.CreationTime) {
		at = k.entity.PrimaryKey.CreationTime
	}
	return &packet.Config{Time: func() time.Time { return at }}
}

// DetachSign is the armored detached signature of data, dated at.
func (k *Key) DetachSign(data []byte, at time.Time) ([]byte, error) {
	var b bytes.Buffer
	if err := openpgp.ArmoredDetachSign(&b, k.entity, bytes.NewReader(data), k.config(at)); err != nil {
		return nil, fmt.Errorf("openpgp %s: sign: %w", k.fingerprint, err)
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}

// ClearSign is text cleartext-signed (RFC 4880 §7), dated at: the form RFC 9116 §2.3 gives a signed security.txt.
func (k *Key) ClearSign(text []byte, at time.Time) ([]byte, error) {
	cfg := k.config(at)
	sk, ok := k.entity.SigningKey(cfg.Now())
	if !ok {
		return nil, fmt.Errorf("openpgp %s: no key can sign at %s", k.fingerprint, cfg.Now().UTC().Format(time.RFC3339))
	}
	var b bytes.Buffer
	w, err := clearsign.Encode(&b, sk.PrivateKey, cfg)
	if err != nil {
		return nil, fmt.Errorf("openpgp %s: clearsign: %w", k.fingerprint, err)
	}
	if _, err := w.Write(text); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("openpgp %s: clearsign: %w", k.fingerprint, err)
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}
