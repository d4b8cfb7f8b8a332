package cli_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/audit"
	"github.com/vigil-dev/vigil/internal/service/audittrail"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/store/storetest"
)

// TestAuditKeyCheckpointVerify runs the signed trail as an operator would: keygen, writes signed with the key, a
// checkpoint published to a file, verify against it; a write without the key refused; and, on SQLite, a copy of
// the database rolled back behind the published checkpoint caught by verify and by the next export, which keeps
// the newer checkpoint.
func TestAuditKeyCheckpointVerify(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			dir := t.TempDir()
			key, cpFile := filepath.Join(dir, "audit.key"), filepath.Join(dir, "checkpoint.json")
			r := runner{t, storetest.MigratedDSN(t, engine)}
			if code, _, errs := r.run("", "audit", "keygen"); code != 2 || !strings.Contains(errs, "--audit-key") {
				t.Fatalf("keygen without a file: exit %d, %q", code, errs)
			}
			out := r.ok("--audit-key", key, "audit", "keygen")
			if st, err := os.Stat(key); err != nil || st.Mode().Perm() != 0o600 || !strings.Contains(out, "public key ") {
				t.Fatalf("keygen: %v, %v, %q", st, err, out)
			}
			if code, _, errs := r.run("", "--audit-key", key, "audit", "keygen"); code != 1 || !strings.Contains(errs, "already exists") {
				t.Fatalf("keygen over an existing key: exit %d, %q", code, errs)
			}
			os.Chmod(key, 0o644)
			if code, _, errs := r.run("", "--audit-key", key, "org", "create", "--name", "Acme"); code != 2 || !strings.Contains(errs, "readable by others") {
				t.Fatalf("a key others may read: exit %d, %q", code, errs)
			}
			os.Chmod(key, 0o600)

			r.ok("org", "create", "--name", "Acme") // before the trail is signed
			r.ok("--audit-key", key, "device", "create", "--name", "Pump", "--class", "II", "--pathway", "510k")
			if code, _, errs := r.run("", "device", "create", "--name", "Monitor", "--class", "II", "--pathway", "510k"); code != 2 || !strings.Contains(errs, "the audit trail is signed") {
				t.Fatalf("a write without the key to a signed trail: exit %d, %q", code, errs)
			}
			var cp struct {
				Count     int64
				Key       string
				Signature string
			}
			json.Unmarshal([]byte(r.ok("--audit-key", key, "audit", "checkpoint", "--out", cpFile)), &cp)
			if cp.Count != 3 || cp.Key == "" || cp.Signature == "" {
				t.Fatalf("checkpoint = %+v, want 3 events (org, key enrollment, device), signed", cp)
			}
			if b, err := os.ReadFile(cpFile); err != nil || !strings.Contains(string(b), cp.Signature) {
				t.Fatalf("published checkpoint: %s, %v", b, err)
			}
			// An inspector verifies with the published checkpoint only (its key checks the signatures).
			var rep struct {
				OK      bool
				Count   int64
				Records int64
				Signed  int64
			}
			json.Unmarshal([]byte(r.ok("--format", "json", "audit", "verify", "--checkpoint", cpFile)), &rep)
			if !rep.OK || rep.Count != 3 || rep.Records != 2 || rep.Signed != 2 {
				t.Fatalf("verify = %+v, want ok, 3 events, 2 records, 2 signatures", rep)
			}
			// A checkpoint altered by hand proves nothing.
			b, _ := os.ReadFile(cpFile)
			forged := filepath.Join(dir, "forged.json")
			os.WriteFile(forged, []byte(strings.Replace(string(b), `"count": 3`, `"count": 2`, 1)), 0o600)
			if code, _, errs := r.run("", "audit", "verify", "--checkpoint", forged); code != 2 || !strings.Contains(errs, "signature does not verify") {
				t.Fatalf("verify with an altered checkpoint: exit %d, %q", code, errs)
			}
			if engine != store.SQLite {
				return
			}
			// Roll the database back: a copy taken before the last write, then the checkpoint published after it.
			backup := filepath.Join(dir, "old.db")
			r.ok("db", "backup", backup)
			r.ok("--audit-key", key, "version", "create", "1.0", "--device", "Pump")
			r.ok("--audit-key", key, "audit", "checkpoint", "--out", cpFile)
			published, _ := os.ReadFile(cpFile)
			old := runner{t, "sqlite:" + backup}
			t.Setenv("VIGIL_AUDIT_CHECKPOINT", cpFile) // the configured checkpoint: verify and export use it
			code, stdout, errs := old.run("", "audit", "verify")
			if code != 1 || !strings.Contains(stdout+errs, "the log was truncated or rolled back") {
				t.Fatalf("verify of the rolled-back copy: exit %d\n%s%s", code, stdout, errs)
			}
			if code, _, errs := old.run("", "--audit-key", key, "audit", "checkpoint"); code != 2 || !strings.Contains(errs, "no longer extends the checkpoint") {
				t.Fatalf("export from the rolled-back copy: exit %d, %q", code, errs)
			}
			if now, _ := os.ReadFile(cpFile); string(now) != string(published) {
				t.Fatal("the export from the rolled-back copy replaced the newer checkpoint")
			}
		})
	}
}

// TestCheckpointURL publishes checkpoints to an HTTP endpoint the database's owner cannot edit (PUT, read back
// with GET), verifies against it, and on SQLite catches a database rolled back behind it: verify fails, and the
// export from the rolled-back copy is refused, leaving the endpoint's newer checkpoint as it was.
func TestCheckpointURL(t *testing.T) {
	var mu sync.Mutex
	published := map[string][]byte{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if user, pw, ok := r.BasicAuth(); !ok || user != "vigil" || pw != "s3cret" {
			http.Error(w, "who are you", http.StatusUnauthorized)
			return
		}
		switch r.Method {
		case http.MethodGet:
			b, ok := published[r.URL.Path]
			if !ok {
				http.NotFound(w, r)
				return
			}
			w.Write(b)
		case http.MethodPut:
			published[r.URL.Path], _ = io.ReadAll(r.Body)
			w.WriteHeader(http.StatusNoContent)
		}
	}))
	defer srv.Close()
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			dir := t.TempDir()
			key := filepath.Join(dir, "audit.key")
			u, _ := url.Parse(srv.URL + "/" + engine + "/checkpoint.json")
			u.User = url.UserPassword("vigil", "s3cret")
			dest := u.String()
			r := runner{t, storetest.MigratedDSN(t, engine)}
			r.ok("--audit-key", key, "audit", "keygen")
			r.ok("--audit-key", key, "org", "create", "--name", "Acme")
			if code, out, errs := r.run("", "audit", "verify", "--checkpoint", dest); code != 2 || !strings.Contains(errs, "nothing published there yet (404)") || strings.Contains(out+errs, "s3cret") {
				t.Fatalf("verify against a URL with nothing published: exit %d %q %q (want the 404 to be an error naming the URL without its password)", code, out, errs)
			}
			out := r.ok("--audit-key", key, "audit", "checkpoint", "--out", dest)
			mu.Lock()
			pub := published["/"+engine+"/checkpoint.json"]
			mu.Unlock()
			if !strings.Contains(string(pub), `"signature"`) || !strings.Contains(out, `"count": 2`) {
				t.Fatalf("published %q after %s", pub, out)
			}
			if out := r.ok("audit", "verify", "--checkpoint", dest); !strings.HasPrefix(out, "ok: 2 events") {
				t.Fatalf("verify against the URL: %s", out)
			}
			if code, _, errs := r.run("", "audit", "verify", "--checkpoint", srv.URL+"/"+engine+"/checkpoint.json"); code != 1 || !strings.Contains(errs, "401 Unauthorized") {
				t.Fatalf("verify without the endpoint's credentials: exit %d %q", code, errs)
			}
			if engine != store.SQLite {
				return
			}
			backup := filepath.Join(dir, "old.db")
			r.ok("db", "backup", backup)
			r.ok("--audit-key", key, "device", "create", "--name", "Pump", "--class", "II", "--pathway", "510k")
			r.ok("--audit-key", key, "audit", "checkpoint", "--out", dest)
			mu.Lock()
			newer := string(published["/"+engine+"/checkpoint.json"])
			mu.Unlock()
			old := runner{t, "sqlite:" + backup}
			if code, out, errs := old.run("", "audit", "verify", "--checkpoint", dest); code != 1 || !strings.Contains(out+errs, "the log was truncated or rolled back") {
				t.Fatalf("verify of the rolled-back copy against the URL: exit %d\n%s%s", code, out, errs)
			}
			if code, _, errs := old.run("", "--audit-key", key, "audit", "checkpoint", "--out", dest); code != 2 || !strings.Contains(errs, "no longer extends the checkpoint") || strings.Contains(errs, "s3cret") {
				t.Fatalf("export from the rolled-back copy: exit %d, %q", code, errs)
			}
			mu.Lock()
			defer mu.Unlock()
			if string(published["/"+engine+"/checkpoint.json"]) != newer {
				t.Fatal("the export from the rolled-back copy replaced the newer checkpoint at the endpoint")
			}
		})
	}
}

// TestAuditKeyRotation rotates the audit key twice as an operator would (rotate-key, then restart with the new
// key file) on both engines: the retired key can no longer write, a checkpoint published under the first key and
// one under the last both verify against the trail, the chain of keys is reported, and a checkpoint signed by a key
// no rotation enrolled is refused.
func TestAuditKeyRotation(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			dir := t.TempDir()
			k1, k2, k3 := filepath.Join(dir, "k1.key"), filepath.Join(dir, "k2.key"), filepath.Join(dir, "k3.key")
			cp1, cp3 := filepath.Join(dir, "cp1.json"), filepath.Join(dir, "cp3.json")
			r := runner{t, storetest.MigratedDSN(t, engine)}
			r.ok("--audit-key", k1, "audit", "keygen")
			r.ok("--audit-key", k1, "org", "create", "--name", "Acme")
			r.ok("--audit-key", k1, "audit", "checkpoint", "--out", cp1)
			if code, _, errs := r.run("", "--audit-key", k1, "audit", "rotate-key", "--new-key", k2); code != 2 || !strings.Contains(errs, "reason: required") {
				t.Fatalf("rotate-key without a reason: exit %d, %q", code, errs)
			}
			if code, _, errs := r.run("", "audit", "rotate-key", "--new-key", k2, "--reason", "r"); code != 2 || !strings.Contains(errs, "--audit-key") {
				t.Fatalf("rotate-key without the key in force: exit %d, %q", code, errs)
			}
			var rot struct {
				Seq       int64  `json:"seq"`
				PublicKey string `json:"public_key"`
			}
			json.Unmarshal([]byte(r.ok("--format", "json", "--audit-key", k1, "audit", "rotate-key", "--new-key", k2, "--reason", "yearly rotation")), &rot)
			if st, err := os.Stat(k2); err != nil || st.Mode().Perm() != 0o600 || rot.Seq != 3 || rot.PublicKey == "" {
				t.Fatalf("rotate-key = %+v; new key file %v, %v", rot, st, err)
			}
			if code, _, errs := r.run("", "--audit-key", k1, "device", "create", "--name", "Pump", "--class", "II", "--pathway", "510k"); code != 2 || !strings.Contains(errs, "rotated at event 3") {
				t.Fatalf("a write with the retired key: exit %d, %q", code, errs)
			}
			r.ok("--audit-key", k2, "device", "create", "--name", "Pump", "--class", "II", "--pathway", "510k")
			out := r.ok("--audit-key", k2, "audit", "rotate-key", "--new-key", k3, "--reason", "k2 left with an employee", "--out", cp3)
			if !strings.Contains(out, "rotated at event 5") || !strings.Contains(out, "published to "+cp3) {
				t.Fatalf("second rotation: %q", out)
			}
			log := r.ok("--format", "json", "audit", "log", "--action", "audit.key.rotate")
			if strings.Count(log, `"action": "audit.key.rotate"`) != 2 || !strings.Contains(log, "k2 left with an employee") {
				t.Fatalf("audit log of the rotations: %s", log)
			}
			var rep struct {
				OK   bool
				Keys []string
			}
			for _, cp := range []string{cp1, cp3} {
				rep.OK, rep.Keys = false, nil
				json.Unmarshal([]byte(r.ok("--format", "json", "--audit-key", k3, "audit", "verify", "--checkpoint", cp)), &rep)
				if !rep.OK || len(rep.Keys) != 3 || rep.Keys[1] != rot.PublicKey {
					t.Fatalf("verify --checkpoint %s = %+v, want ok through 3 keys", filepath.Base(cp), rep)
				}
			}
			if out := r.ok("audit", "verify", "--checkpoint", cp1); !strings.Contains(out, "audit keys, each enrolled by the one before: ") {
				t.Fatalf("verify text: %q", out)
			}
			// A checkpoint of the same head signed by a key no rotation enrolled proves nothing.
			forger := filepath.Join(dir, "forger.key")
			r.ok("--audit-key", forger, "audit", "keygen")
			priv, err := audittrail.LoadKey(forger)
			if err != nil {
				t.Fatal(err)
			}
			var cp vigil.AuditCheckpoint
			b, _ := os.ReadFile(cp3)
			json.Unmarshal(b, &cp)
			audit.SignCheckpoint(priv, &cp)
			b, _ = json.Marshal(cp)
			forged := filepath.Join(dir, "forged.json")
			os.WriteFile(forged, b, 0o600)
			code, stdout, errs := r.run("", "audit", "verify", "--checkpoint", forged)
			if code != 1 || !strings.Contains(stdout+errs, "never enrolled by the one before it") {
				t.Fatalf("verify with a checkpoint by an unenrolled key: exit %d\n%s%s", code, stdout, errs)
			}
			if code, _, errs := r.run("", "--audit-key", forger, "audit", "verify"); code != 1 || !strings.Contains(errs, "never enrolled the audit key") {
				t.Fatalf("verify with an unenrolled key file: exit %d, %q", code, errs)
			}
		})
	}
}
