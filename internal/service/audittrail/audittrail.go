// Package audittrail is the evidence use case: reading the hash-chained audit trail every write appends to,
// publishing signed checkpoints of it (printed, or exported to a file or an HTTP endpoint kept where database
// administrators cannot write, now and periodically), and verifying it (recomputing the chain and the signatures, reconciling every
// audited record with it, and checking that it still extends the newest checkpoint published). Reading needs
// vigil.PermRead; checkpoints and verification need vigil.PermAuditVerify.
package audittrail

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/audit"
)

// Service is the audit trail use case over a vigil.AuditService (the store).
type Service struct {
	Store vigil.AuditService
	// Key is the audit key (kept outside the database) that signs checkpoints; the store holds the same key to
	// sign events. Nil when none was configured: checkpoints are then refused.
	Key   ed25519.PrivateKey
	Clock vigil.Clock
	// HTTP publishes checkpoints to a URL (a 30-second client when nil; tests pass their server's).
	HTTP *http.Client
}

// Events lists audit events, newest first. Needs PermRead.
func (s *Service) Events(ctx context.Context, f vigil.AuditFilter) ([]*vigil.AuditEvent, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	return s.Store.Events(ctx, f)
}

// Checkpoint returns the trail's count and head hash, signed with the audit key at the clock's time; the trail
// is signed first if it is not yet (the event enrolling the key is then the head). EINVALID without a key. Needs
// PermAuditVerify.
func (s *Service) Checkpoint(ctx context.Context) (vigil.AuditCheckpoint, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermAuditVerify); err != nil {
		return vigil.AuditCheckpoint{}, err
	}
	if s.Key == nil {
		return vigil.AuditCheckpoint{}, vigil.Errorf(vigil.EINVALID, "a checkpoint is signed with the audit key: give it with --audit-key FILE or $VIGIL_AUDIT_KEY (created when missing)")
	}
	if err := s.Store.SignTrail(ctx); err != nil {
		return vigil.AuditCheckpoint{}, err
	}
	cp, err := s.Store.Checkpoint(ctx)
	if err != nil {
		return cp, err
	}
	cp.Time = s.Clock.Now().UTC().Truncate(time.Second)
	audit.SignCheckpoint(s.Key, &cp)
	return cp, nil
}

// RotateKey retires the audit key in force (s.Key) for next: the rotation event, signed by the retiring key and by
// next over the trail's head, is appended; from then on events and checkpoints are signed by next, and `vigil audit
// verify` follows the chain of rotations from the first key. This service keeps the retired key: open Vigil again
// with next. Needs PermAuditVerify and a reason.
func (s *Service) RotateKey(ctx context.Context, next ed25519.PrivateKey, reason string) (int64, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermAuditVerify); err != nil {
		return 0, err
	}
	return s.Store.RotateKey(ctx, next, reason)
}

// Export publishes a signed checkpoint to dest: a file (written whole, then renamed over the previous one) or an
// http(s) URL (PUT there; the previous one is read back with GET, 404 when there is none), kept where the
// database's owner cannot edit it. It refuses to replace a checkpoint the trail no longer extends: that is the
// evidence of a database rolled back or rewritten behind it, kept for `vigil audit verify`. Needs PermAuditVerify.
func (s *Service) Export(ctx context.Context, dest string) (vigil.AuditCheckpoint, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermAuditVerify); err != nil {
		return vigil.AuditCheckpoint{}, err
	}
	prev, err := s.FetchCheckpoint(ctx, dest)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return vigil.AuditCheckpoint{}, err
	}
	if err == nil && prev.Count > 0 {
		hash, err := s.Store.HashAt(ctx, prev.Count)
		if err != nil {
			return vigil.AuditCheckpoint{}, err
		}
		if hash != prev.Head {
			return vigil.AuditCheckpoint{}, vigil.Errorf(vigil.EINVALID, "checkpoint %s: the audit trail no longer extends the checkpoint published at %s (event %d): the database was rolled back or rewritten; the checkpoint is kept",
				redact(dest), prev.Time.Format(time.RFC3339), prev.Count)
		}
	}
	cp, err := s.Checkpoint(ctx)
	if err != nil {
		return cp, err
	}
	b, err := json.MarshalIndent(cp, "", "  ")
	if err != nil {
		return cp, err
	}
	b = append(b, '\n')
	if isURL(dest) {
		return cp, s.put(ctx, dest, b)
	}
	return cp, writeFile(dest, b)
}

// isURL says whether a checkpoint destination is an HTTP endpoint rather than a file.
func isURL(dest string) bool {
	return strings.HasPrefix(dest, "https://") || strings.HasPrefix(dest, "http://")
}

// redact is a destination as logs and errors show it: a URL without its password.
func redact(dest string) string {
	if u, err := url.Parse(dest); err == nil && isURL(dest) {
		return u.Redacted()
	}
	return dest
}

func (s *Service) client() *http.Client {
	if s.HTTP != nil {
		return s.HTTP
	}
	return &http.Client{Timeout: 30 * time.Second}
}

// put publishes a checkpoint to an HTTP endpoint (credentials in the URL's user part go as basic auth).
func (s *Service) put(ctx context.Context, dest string, b []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, dest, bytes.NewReader(b))
	if err != nil {
		return vigil.Errorf(vigil.EINVALID, "checkpoint %s: %v", redact(dest), err)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := s.client().Do(req)
	if err != nil {
		return vigil.Errorf(vigil.EUNAVAILABLE, "checkpoint %s: publishing failed: %v", redact(dest), redactErr(err, dest))
	}
	defer res.Body.Close()
	io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	if res.StatusCode/100 != 2 {
		return vigil.Errorf(vigil.EUNAVAILABLE, "checkpoint %s: the endpoint answered %s to the PUT", redact(dest), res.Status)
	}
	return nil
}

// redactErr keeps a URL's password out of a client error's text.
func redactErr(err error, dest string) string {
	return strings.ReplaceAll(err.Error(), dest, redact(dest))
}

func writeFile(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".checkpoint-*")
	if err != nil {
		return fmt.Errorf("checkpoint %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("checkpoint %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("checkpoint %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("checkpoint %s: %w", path, err)
	}
	return nil
}

// ExportEvery exports a checkpoint to dest (a file or URL) now and then every interval until ctx ends (vigil
// serve). A refused export (the trail no longer extends the published checkpoint) is logged as an error each time,
// never hidden by overwriting the checkpoint.
func (s *Service) ExportEvery(ctx context.Context, dest string, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if cp, err := s.Export(ctx, dest); err != nil {
			log.Error("audit checkpoint export failed", "to", redact(dest), "err", err)
		} else {
			log.Info("audit checkpoint exported", "to", redact(dest), "count", cp.Count)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// ReadCheckpoint reads a checkpoint file and checks its signature. The error wraps fs.ErrNotExist when there is
// no file; an unsigned or altered one is EINVALID naming the file.
func ReadCheckpoint(path string) (vigil.AuditCheckpoint, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return vigil.AuditCheckpoint{}, fmt.Errorf("checkpoint %s: %w", path, err)
	}
	return parseCheckpoint(path, b)
}

// FetchCheckpoint reads a published checkpoint from a file or an http(s) URL (GET) and checks its signature. The
// error wraps fs.ErrNotExist when none is published there yet (no file, or 404).
func (s *Service) FetchCheckpoint(ctx context.Context, dest string) (vigil.AuditCheckpoint, error) {
	if !isURL(dest) {
		return ReadCheckpoint(dest)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, dest, nil)
	if err != nil {
		return vigil.AuditCheckpoint{}, vigil.Errorf(vigil.EINVALID, "checkpoint %s: %v", redact(dest), err)
	}
	res, err := s.client().Do(req)
	if err != nil {
		return vigil.AuditCheckpoint{}, vigil.Errorf(vigil.EUNAVAILABLE, "checkpoint %s: %v", redact(dest), redactErr(err, dest))
	}
	defer res.Body.Close()
	switch {
	case res.StatusCode == http.StatusNotFound:
		return vigil.AuditCheckpoint{}, fmt.Errorf("checkpoint %s: nothing published there yet (404): %w", redact(dest), fs.ErrNotExist)
	case res.StatusCode != http.StatusOK:
		return vigil.AuditCheckpoint{}, vigil.Errorf(vigil.EUNAVAILABLE, "checkpoint %s: the endpoint answered %s", redact(dest), res.Status)
	}
	b, err := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	if err != nil {
		return vigil.AuditCheckpoint{}, vigil.Errorf(vigil.EUNAVAILABLE, "checkpoint %s: %v", redact(dest), err)
	}
	return parseCheckpoint(redact(dest), b)
}

func parseCheckpoint(name string, b []byte) (vigil.AuditCheckpoint, error) {
	var cp vigil.AuditCheckpoint
	if err := json.Unmarshal(b, &cp); err != nil || cp.Count < 0 {
		return cp, vigil.Errorf(vigil.EINVALID, "checkpoint %s: not a checkpoint ({\"count\", \"head\", \"time\", \"key\", \"signature\"})", name)
	}
	if _, err := audit.VerifyCheckpoint(name, cp); err != nil {
		return cp, err
	}
	return cp, nil
}

// Verify recomputes the chain (and checks that it extends cp, a signed checkpoint, when given) and reconciles
// every audited record with it: the report, and EINVALID naming the first problem. Needs PermAuditVerify.
func (s *Service) Verify(ctx context.Context, cp *vigil.AuditCheckpoint) (vigil.AuditReport, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermAuditVerify); err != nil {
		return vigil.AuditReport{}, err
	}
	if cp != nil {
		if _, err := audit.VerifyCheckpoint("", *cp); err != nil {
			return vigil.AuditReport{}, err
		}
	}
	return s.Store.Verify(ctx, cp)
}

// VerifyChain is Verify without a checkpoint (the audit screen's button).
func (s *Service) VerifyChain(ctx context.Context) (vigil.AuditReport, error) {
	return s.Verify(ctx, nil)
}

// LoadKey reads the audit key file at path (a PKCS #8 PEM Ed25519 key). A key file others may read is refused:
// whoever reads it can sign events and checkpoints.
func LoadKey(path string) (ed25519.PrivateKey, error) {
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, vigil.Errorf(vigil.EINVALID, "audit key %s: no such file (create it with `vigil audit keygen --audit-key %s`)", path, path)
	} else if err != nil {
		return nil, fmt.Errorf("audit key %s: %w", path, err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, vigil.Errorf(vigil.EINVALID, "audit key %s: readable by others (mode %04o): chmod 600 %s", path, st.Mode().Perm(), path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("audit key %s: %w", path, err)
	}
	return audit.ParseKey(path, b)
}

// CreateKey generates an audit key and writes it to path with mode 0600; an existing file is never replaced
// (ECONFLICT): a new key would not verify the trail the old one signed.
func CreateKey(path string) (ed25519.PrivateKey, error) {
	_, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		return nil, err
	}
	b, err := audit.MarshalKey(priv)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil, vigil.Errorf(vigil.ECONFLICT, "audit key %s already exists: a new key would not verify the trail the old one signed", path)
	} else if err != nil {
		return nil, fmt.Errorf("audit key %s: %w", path, err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return nil, fmt.Errorf("audit key %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, fmt.Errorf("audit key %s: %w", path, err)
	}
	return priv, f.Close()
}
