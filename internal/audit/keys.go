package audit

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"strconv"

	"github.com/vigil-dev/vigil"
)

// KeyAction is the action of the event that enrolls the audit key in a trail: it carries the public key, is the
// first signed event, and every event after it must be signed with that key.
const KeyAction = "audit.key"

// RotateAction is the action of the event that retires the audit key in force for a new one. It is signed by the
// retiring key (so only its holder can hand the trail over) and carries the new key's signature over the trail's
// head before it and both keys (so a key cannot be enrolled by someone who does not hold it, and the rotation
// cannot be replayed onto a rewritten history). Every later event is signed by the new key.
const RotateAction = "audit.key.rotate"

// KeyText is a public key as Vigil prints it: standard base64 of its 32 bytes.
func KeyText(pub ed25519.PublicKey) string { return base64.StdEncoding.EncodeToString(pub) }

// ParseKeyText reads KeyText back; name says where the text came from, for the error.
func ParseKeyText(name, text string) (ed25519.PublicKey, error) {
	b, err := base64.StdEncoding.DecodeString(text)
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, vigil.Errorf(vigil.EINVALID, "%s: not an Ed25519 public key (base64 of 32 bytes)", name)
	}
	return ed25519.PublicKey(b), nil
}

// MarshalKey encodes a private key as a PKCS #8 PEM block, the key file's format.
func MarshalKey(priv ed25519.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// ParseKey reads a key file's PKCS #8 PEM block; name is the file, for the error.
func ParseKey(name string, b []byte) (ed25519.PrivateKey, error) {
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, vigil.Errorf(vigil.EINVALID, "audit key %s: not a PEM \"PRIVATE KEY\" block", name)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, vigil.Errorf(vigil.EINVALID, "audit key %s: %v", name, err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, vigil.Errorf(vigil.EINVALID, "audit key %s: a %T, not an Ed25519 key", name, k)
	}
	return priv, nil
}

// KeyEvent is the event that enrolls pub in the trail (the store seals and signs it).
func KeyEvent(pub ed25519.PublicKey) (objectID string, new json.RawMessage) {
	b, _ := json.Marshal(map[string]string{"key": KeyText(pub)}) // a string: cannot fail
	return KeyText(pub), b
}

// RotationEvent is the event that rotates the trail from the key in force (old) to next, appended after the event
// whose hash is prevHash; the store signs it with old.
func RotationEvent(old ed25519.PublicKey, next ed25519.PrivateKey, prevHash string) (objectID string, new json.RawMessage) {
	pub := next.Public().(ed25519.PublicKey)
	proof := ed25519.Sign(next, rotationMessage(prevHash, old, pub))
	b, _ := json.Marshal(map[string]string{"key": KeyText(pub), "previous": KeyText(old), "proof": base64.StdEncoding.EncodeToString(proof)}) // strings: cannot fail
	return KeyText(pub), b
}

func rotationMessage(prevHash string, old, next ed25519.PublicKey) []byte {
	return []byte("vigil audit key rotation\n" + prevHash + "\n" + KeyText(old) + "\n" + KeyText(next))
}

// CheckRotation checks a rotation event against the key in force before it (whose signature of the event the
// caller checks like any other's): it must name that key as the one it retires and carry the new key's proof over
// the head it was appended to. It returns the new key.
func CheckRotation(e *vigil.AuditEvent, inForce ed25519.PublicKey) (ed25519.PublicKey, error) {
	var v struct {
		Key      string `json:"key"`
		Previous string `json:"previous"`
		Proof    string `json:"proof"`
	}
	if err := json.Unmarshal(e.New, &v); err != nil {
		return nil, fmt.Errorf("key rotation: %w", err)
	}
	next, err := ParseKeyText("key rotation: key", v.Key)
	if err != nil {
		return nil, err
	}
	if v.Previous != KeyText(inForce) {
		return nil, fmt.Errorf("key rotation retires key %s, but the key in force is %s", v.Previous, KeyText(inForce))
	}
	if next.Equal(inForce) {
		return nil, fmt.Errorf("key rotation enrolls the key already in force")
	}
	proof, err := base64.StdEncoding.DecodeString(v.Proof)
	if err != nil || !ed25519.Verify(next, rotationMessage(e.PrevHash, inForce, next), proof) {
		return nil, fmt.Errorf("key rotation: the new key %s did not sign it (its proof does not verify): it enrolls a key its author does not hold, or was replayed onto another history", v.Key)
	}
	return next, nil
}

// EnrolledKey returns the key an audit.key or audit.key.rotate event enrolls.
func EnrolledKey(e *vigil.AuditEvent) (ed25519.PublicKey, error) {
	var v struct {
		Key string `json:"key"`
	}
	if err := json.Unmarshal(e.New, &v); err != nil {
		return nil, fmt.Errorf("audit key event: %w", err)
	}
	return ParseKeyText("audit key event: key", v.Key)
}

func eventMessage(e *vigil.AuditEvent) []byte { return []byte("vigil audit event " + e.Hash) }

// SignEvent signs a sealed event: the signature covers its hash, which covers every other field and the chain.
func SignEvent(priv ed25519.PrivateKey, e *vigil.AuditEvent) {
	e.Signature = base64.StdEncoding.EncodeToString(ed25519.Sign(priv, eventMessage(e)))
}

// VerifyEvent reports whether e carries a valid signature by pub.
func VerifyEvent(pub ed25519.PublicKey, e *vigil.AuditEvent) bool {
	sig, err := base64.StdEncoding.DecodeString(e.Signature)
	return err == nil && ed25519.Verify(pub, eventMessage(e), sig)
}

func checkpointMessage(cp vigil.AuditCheckpoint) []byte {
	return []byte("vigil audit checkpoint\n" + strconv.FormatInt(cp.Count, 10) + "\n" + cp.Head + "\n" + cp.Time.UTC().Format(TimeFormat) + "\n" + cp.Key)
}

// SignCheckpoint signs cp (its count, head and time) with priv, setting Key and Signature.
func SignCheckpoint(priv ed25519.PrivateKey, cp *vigil.AuditCheckpoint) {
	cp.Key = KeyText(priv.Public().(ed25519.PublicKey))
	cp.Signature = base64.StdEncoding.EncodeToString(ed25519.Sign(priv, checkpointMessage(*cp)))
}

// VerifyCheckpoint checks cp's signature and returns the key that made it. name is where cp came from (the file),
// for the error. An unsigned or altered checkpoint is EINVALID: it proves nothing about the trail.
func VerifyCheckpoint(name string, cp vigil.AuditCheckpoint) (ed25519.PublicKey, error) {
	if name != "" {
		name = "checkpoint " + name
	} else {
		name = "checkpoint"
	}
	if cp.Signature == "" || cp.Key == "" {
		return nil, vigil.Errorf(vigil.EINVALID, "%s: not signed (no key or signature): take one with `vigil audit checkpoint` and an audit key", name)
	}
	pub, err := ParseKeyText(name+": key", cp.Key)
	if err != nil {
		return nil, err
	}
	sig, err := base64.StdEncoding.DecodeString(cp.Signature)
	if err != nil || !ed25519.Verify(pub, checkpointMessage(cp), sig) {
		return nil, vigil.Errorf(vigil.EINVALID, "%s: signature does not verify: the checkpoint was altered", name)
	}
	return pub, nil
}
