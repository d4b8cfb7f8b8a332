package audit

import (
	"archive/zip"
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/vigil-dev/vigil"
)

// testPackage builds a small signed package: a trail of four events (the second records assessment 7, the third
// is another record's and redacted), the record's state, a document, and the checkpoint of the fourth event.
func testPackage(t *testing.T, priv ed25519.PrivateKey) map[string][]byte {
	t.Helper()
	row := Row{Cols: map[string]any{"id": int64(7), "risk": "uncontrolled", "score": 9.8, "note": "<b>&"}}
	rec := vigil.AuditRecord{Table: "assessments", Key: "7", Hash: RowHash("assessments", row)}
	var evs []*vigil.AuditEvent
	head := vigil.AuditCheckpoint{}
	for i, recs := range [][]vigil.AuditRecord{nil, {rec}, {{Table: "devices", Key: "1", Hash: "x"}}, nil} {
		e := &vigil.AuditEvent{Time: time.Date(2025, 6, 2, 9, 0, i, 123, time.UTC), Actor: "user:rita", Action: "case.assess", ObjectType: "case", ObjectID: "3",
			New: json.RawMessage(`{"note":"<b>&","n":1.50}`), Records: recs}
		Seal(e, head)
		SignEvent(priv, e)
		head = vigil.AuditCheckpoint{Count: e.Seq, Head: e.Hash}
		evs = append(evs, e)
	}
	cp := head
	cp.Time = time.Date(2025, 6, 2, 9, 1, 0, 0, time.UTC)
	SignCheckpoint(priv, &cp)
	var seg bytes.Buffer
	enc := json.NewEncoder(&seg)
	enc.SetEscapeHTML(false)
	for i, e := range evs {
		pe := PackageEvent{AuditEvent: *e}
		if i == 2 {
			pe = Redact(e)
		}
		enc.Encode(pe)
	}
	cpb, _ := json.Marshal(cp)
	recb, _ := json.Marshal(PackageRecord{Table: "assessments", Key: "7", Cols: row.Cols})
	return map[string][]byte{
		"documents/premarket.json":     []byte(`{"decision":"none"}`),
		CheckpointFile:                 cpb,
		SegmentFile:                    seg.Bytes(),
		RecordPath("assessments", "7"): recb,
	}
}

// zipOf writes files as a package signed by priv (the manifest lists them all).
func zipOf(t *testing.T, files map[string][]byte, priv ed25519.PrivateKey) []byte {
	t.Helper()
	var cp vigil.AuditCheckpoint
	json.Unmarshal(files[CheckpointFile], &cp)
	var buf bytes.Buffer
	pw := NewPackageWriter(&buf, time.Date(2025, 6, 2, 9, 2, 0, 0, time.UTC))
	for _, name := range sortedKeys(files) {
		if err := pw.Add(name, files[name]); err != nil {
			t.Fatal(err)
		}
	}
	if err := pw.Close(priv, "case 3", cp); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// rezip copies a package's entries, letting edit change, drop (nil) or add them.
func rezip(t *testing.T, b []byte, edit func(files map[string][]byte)) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	var order []string
	for _, f := range zr.File {
		rc, _ := f.Open()
		files[f.Name], _ = io.ReadAll(rc)
		rc.Close()
		order = append(order, f.Name)
	}
	edit(files)
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, name := range append(order, sortedKeys(files)...) {
		data, ok := files[name]
		if !ok {
			continue
		}
		w, _ := zw.Create(name)
		w.Write(data)
		delete(files, name)
	}
	zw.Close()
	return out.Bytes()
}

func verifyBytes(b []byte, key ed25519.PublicKey) (PackageReport, error) {
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return PackageReport{}, err
	}
	return VerifyPackage(zr, key)
}

// TestVerifyPackageTamper: a package verifies offline with the audit key, and every change to it is caught:
// a file changed, removed or added (with the manifest left alone), the manifest itself edited, another key, and
// — for someone who also holds the audit key and re-signs the manifest — an edited, removed or reordered event,
// a cut segment, an edited record and a replaced checkpoint, each by the check that stands on its own.
func TestVerifyPackageTamper(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	otherPub, other, _ := ed25519.GenerateKey(nil)
	files := testPackage(t, priv)
	good := zipOf(t, files, priv)
	rep, err := verifyBytes(good, pub)
	if err != nil || rep.Events != 4 || rep.Redacted != 1 || rep.Records != 1 || rep.Files != 4 || !rep.KeyGiven || rep.Scope != "case 3" {
		t.Fatalf("the intact package: %+v, %v", rep, err)
	}
	if rep, err := verifyBytes(good, nil); err != nil || rep.KeyGiven || rep.Key != KeyText(pub) {
		t.Fatalf("the intact package with its own key: %+v, %v", rep, err)
	}
	// resign builds the package again from edited files, signed by the key holder.
	resign := func(edit func(map[string][]byte)) []byte {
		cp := map[string][]byte{}
		for k, v := range files {
			cp[k] = bytes.Clone(v)
		}
		edit(cp)
		return zipOf(t, cp, priv)
	}
	segment := func(edit func(lines []string) []string) func(map[string][]byte) {
		return func(f map[string][]byte) {
			lines := strings.Split(strings.TrimSuffix(string(f[SegmentFile]), "\n"), "\n")
			f[SegmentFile] = []byte(strings.Join(edit(lines), "\n") + "\n")
		}
	}
	for _, tc := range []struct {
		name string
		pkg  []byte
		key  ed25519.PublicKey
		want string
	}{
		{"a file changed", rezip(t, good, func(f map[string][]byte) { f["documents/premarket.json"] = []byte(`{"decision":"pma_supplement"}`) }), pub,
			"documents/premarket.json: its SHA-256 is not the manifest's: the file was changed"},
		{"a file removed", rezip(t, good, func(f map[string][]byte) { delete(f, RecordPath("assessments", "7")) }), pub,
			"records/assessments-7.json: listed in the manifest but not in the package: it was removed"},
		{"a file added", rezip(t, good, func(f map[string][]byte) { f["documents/extra.pdf"] = []byte("%PDF") }), pub,
			"documents/extra.pdf: in the package but not in the manifest: it was added"},
		{"the manifest edited", rezip(t, good, func(f map[string][]byte) {
			f[ManifestFile] = bytes.Replace(f[ManifestFile], []byte(`"case 3"`), []byte(`"case 4"`), 1)
		}), pub, "manifest.json: its signature (manifest.sig) does not verify"},
		{"the signature removed", rezip(t, good, func(f map[string][]byte) { delete(f, ManifestSigFile) }), pub, "manifest.json: its signature (manifest.sig) does not verify"},
		{"another key", zipOf(t, files, other), pub, "made with audit key " + KeyText(otherPub) + ", not the key given"},
		{"an event edited", resign(segment(func(l []string) []string { l[1] = strings.Replace(l[1], "rita", "ray", 1); return l })), pub,
			"event 2 does not match its hash: it was edited"},
		{"an event removed", resign(segment(func(l []string) []string { return append(l[:1], l[2:]...) })), pub, "event 3 follows event 1"},
		{"events reordered", resign(segment(func(l []string) []string { l[1], l[2] = l[2], l[1]; return l })), pub, "event 3 follows event 1"},
		{"the segment cut", resign(segment(func(l []string) []string { return l[:3] })), pub, "does not end at the checkpoint's head (event 4)"},
		{"a record edited", resign(func(f map[string][]byte) {
			f[RecordPath("assessments", "7")] = bytes.Replace(f[RecordPath("assessments", "7")], []byte("uncontrolled"), []byte("controlled"), 1)
		}), pub, "records/assessments-7.json: assessments 7 differs from the state audit event 2 recorded"},
		{"a record the trail never recorded", resign(func(f map[string][]byte) {
			f[RecordPath("assessments", "8")] = []byte(`{"table":"assessments","key":"8","cols":{"id":8}}`)
		}), pub, "assessments 8 has no state recorded in the audit segment"},
		{"the checkpoint replaced", resign(func(f map[string][]byte) {
			var cp vigil.AuditCheckpoint
			json.Unmarshal(f[CheckpointFile], &cp)
			cp.Count = 3
			SignCheckpoint(other, &cp)
			f[CheckpointFile], _ = json.Marshal(cp)
		}), pub, "checkpoint.json: signed by key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := verifyBytes(tc.pkg, tc.key)
			if vigil.ErrorCode(err) != vigil.EINVALID {
				t.Fatalf("verify = %v, want EINVALID (%+v)", err, rep)
			}
			found := false
			for _, p := range rep.Problems {
				found = found || strings.Contains(p, tc.want)
			}
			if !found {
				t.Fatalf("problems %q, want one saying %q", rep.Problems, tc.want)
			}
		})
	}
}
