// Package audittrail is the evidence use case: reading the hash-chained audit trail every write appends to,
// publishing signed checkpoints of it (printed, or exported to a file kept where database administrators cannot
// write, now and periodically), and verifying it (recomputing the chain and the signatures, reconciling every
// audited record with it, and checking that it still extends the newest checkpoint published). Reading needs
// vigil.PermRead; checkpoints and verification need vigil.PermAuditVerify.
package audittrail

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
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

// Export publishes a signed checkpoint to path (written whole, then renamed over the previous one). It refuses to
// replace a checkpoint the trail no longer extends: that is the evidence of a database rolled back or rewritten
// behind it, kept for `vigil audit verify`. Needs PermAuditVerify.
func (s *Service) Export(ctx context.Context, path string) (vigil.AuditCheckpoint, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermAuditVerify); err != nil {
		return vigil.AuditCheckpoint{}, err
	}
	prev, err := ReadCheckpoint(path)
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
				path, prev.Time.Format(time.RFC3339), prev.Count)
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
	tmp, err := os.CreateTemp(filepath.Dir(path), ".checkpoint-*")
	if err != nil {
		return cp, fmt.Errorf("checkpoint %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return cp, fmt.Errorf("checkpoint %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return cp, fmt.Errorf("checkpoint %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return cp, err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return cp, err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return cp, fmt.Errorf("checkpoint %s: %w", path, err)
	}
	return cp, nil
}

// ExportEvery exports a checkpoint to path now and then every interval until ctx ends (vigil serve). A refused
// export (the trail no longer extends the published checkpoint) is logged as an error each time, never hidden by
// overwriting the checkpoint.
func (s *Service) ExportEvery(ctx context.Context, path string, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if cp, err := s.Export(ctx, path); err != nil {
			log.Error("audit checkpoint export failed", "file", path, "err", err)
		} else {
			log.Info("audit checkpoint exported", "file", path, "count", cp.Count)
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
	var cp vigil.AuditCheckpoint
	b, err := os.ReadFile(path)
	if err != nil {
		return cp, fmt.Errorf("checkpoint %s: %w", path, err)
	}
	if err := json.Unmarshal(b, &cp); err != nil || cp.Count < 0 {
		return cp, vigil.Errorf(vigil.EINVALID, "checkpoint %s: not a checkpoint ({\"count\", \"head\", \"time\", \"key\", \"signature\"})", path)
	}
	if _, err := audit.VerifyCheckpoint(path, cp); err != nil {
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
