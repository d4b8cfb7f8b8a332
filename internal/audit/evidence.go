package audit

import (
	"archive/zip"
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/vigil-dev/vigil"
)

// An evidence package is one zip for an inspector: the documents, records and communications of a case, the
// segment of the audit trail that recorded them and a signed checkpoint of its head, and a manifest listing the
// SHA-256 of every file, signed with the audit key. VerifyPackage checks it offline, with nothing but the zip and
// the audit key's public half.

// Package file names every package has.
const (
	PackageFormat     = "vigil-evidence/1"
	ManifestFile      = "manifest.json"
	ManifestSigFile   = "manifest.sig" // base64 Ed25519 signature of manifest.json's bytes
	CheckpointFile    = "checkpoint.json"
	SegmentFile       = "audit/segment.jsonl" // one PackageEvent a line, oldest first, ending at the checkpoint
	RecordsDir        = "records/"            // one PackageRecord a file
	maxPackageFile    = 256 << 20             // bounds what one file of an untrusted package may make us read
	maxPackageEntries = 100000
)

// PackageManifest lists a package's files (every file but the manifest and its signature) with their SHA-256.
type PackageManifest struct {
	Format     string                `json:"format"`
	Scope      string                `json:"scope"` // what the package is of: "case 12"
	Created    time.Time             `json:"created"`
	Key        string                `json:"key"` // the audit key's public half (KeyText)
	Checkpoint vigil.AuditCheckpoint `json:"checkpoint"`
	Files      []PackageFile         `json:"files"`
}

// PackageFile is one file of a package.
type PackageFile struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

// PackageEvent is one event of the segment. An event that records none of the package's records is redacted to
// its sequence number, hashes and signature: the chain still links through it, and its content (another case's,
// a user's) is not disclosed.
type PackageEvent struct {
	vigil.AuditEvent
	Redacted bool `json:"redacted,omitempty"`
}

// Redact keeps only what the chain needs of e.
func Redact(e *vigil.AuditEvent) PackageEvent {
	return PackageEvent{AuditEvent: vigil.AuditEvent{Seq: e.Seq, PrevHash: e.PrevHash, Hash: e.Hash, Signature: e.Signature}, Redacted: true}
}

// PackageRecord is an audited record's state as the package carries it: RowHash of it must be the state the
// segment last recorded for it.
type PackageRecord struct {
	Table    string                      `json:"table"`
	Key      string                      `json:"key"`
	Cols     map[string]any              `json:"cols"`
	Children map[string][]map[string]any `json:"children,omitempty"`
}

// RecordPath is where a record's file goes in a package.
func RecordPath(table, key string) string { return RecordsDir + table + "-" + key + ".json" }

// SignManifest signs a manifest's bytes with the audit key.
func SignManifest(priv ed25519.PrivateKey, manifest []byte) []byte {
	return []byte(base64.StdEncoding.EncodeToString(ed25519.Sign(priv, manifest)) + "\n")
}

// PackageReport is what verifying a package found.
type PackageReport struct {
	Scope      string                `json:"scope"`
	Key        string                `json:"key"`
	KeyGiven   bool                  `json:"key_given"` // false: verified with the key the package carries
	Files      int                   `json:"files"`
	Events     int                   `json:"events"`
	Redacted   int                   `json:"redacted"`
	Records    int                   `json:"records"`
	Checkpoint vigil.AuditCheckpoint `json:"checkpoint"`
	Problems   []string              `json:"problems,omitempty"`
}

// VerifyPackage verifies an evidence package offline: the manifest's signature with key (the audit key's public
// half from outside the package; nil uses the key the package carries, which proves only that the package is
// whole, not whose it is), every file against the manifest (changed, removed or added), the checkpoint's
// signature, the segment's chain up to the checkpoint's head, and every record against the state the segment last
// recorded for it. The report lists every problem; the error is EINVALID naming the first.
func VerifyPackage(zr *zip.Reader, key ed25519.PublicKey) (PackageReport, error) {
	var rep PackageReport
	fail := func(format string, args ...any) { rep.Problems = append(rep.Problems, fmt.Sprintf(format, args...)) }
	if len(zr.File) > maxPackageEntries {
		return rep, vigil.Errorf(vigil.EINVALID, "package: %d files, more than %d", len(zr.File), maxPackageEntries)
	}
	files := map[string][]byte{}
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, "/") {
			continue
		}
		if _, dup := files[f.Name]; dup {
			fail("%s: in the package twice: a file was added under an existing name", f.Name)
			continue
		}
		b, err := readZipFile(f)
		if err != nil {
			return rep, vigil.Errorf(vigil.EINVALID, "package: %s: %v", f.Name, err)
		}
		files[f.Name] = b
	}
	mb, ok := files[ManifestFile]
	if !ok {
		return rep, vigil.Errorf(vigil.EINVALID, "package: no %s: not a Vigil evidence package", ManifestFile)
	}
	var m PackageManifest
	if err := json.Unmarshal(mb, &m); err != nil || m.Format != PackageFormat {
		return rep, vigil.Errorf(vigil.EINVALID, "package: %s: not a %s manifest", ManifestFile, PackageFormat)
	}
	rep.Scope, rep.Checkpoint, rep.KeyGiven = m.Scope, m.Checkpoint, key != nil
	carried, err := ParseKeyText(ManifestFile+": key", m.Key)
	if err != nil {
		return rep, err
	}
	if key == nil {
		key = carried
	} else if !key.Equal(carried) {
		fail("%s: made with audit key %s, not the key given (%s)", ManifestFile, m.Key, KeyText(key))
	}
	rep.Key = KeyText(key)
	sig, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(files[ManifestSigFile])))
	if err != nil || !ed25519.Verify(key, mb, sig) {
		fail("%s: its signature (%s) does not verify with the audit key %s: the manifest was altered or replaced", ManifestFile, ManifestSigFile, rep.Key)
	}

	// Every file is the one the manifest lists: none changed, removed or added.
	listed := map[string]bool{}
	for _, pf := range m.Files {
		listed[pf.Path] = true
		b, ok := files[pf.Path]
		if !ok {
			fail("%s: listed in the manifest but not in the package: it was removed", pf.Path)
			continue
		}
		sum := sha256.Sum256(b)
		if hex.EncodeToString(sum[:]) != pf.SHA256 || int64(len(b)) != pf.Size {
			fail("%s: its SHA-256 is not the manifest's: the file was changed", pf.Path)
		}
	}
	for _, name := range sortedKeys(files) {
		if !listed[name] && name != ManifestFile && name != ManifestSigFile {
			fail("%s: in the package but not in the manifest: it was added", name)
		}
	}
	rep.Files = len(m.Files)

	// The checkpoint, signed with the same key, pins the segment's head.
	var cp vigil.AuditCheckpoint
	if err := json.Unmarshal(files[CheckpointFile], &cp); err != nil {
		fail("%s: not a checkpoint", CheckpointFile)
	} else if signer, err := VerifyCheckpoint(CheckpointFile, cp); err != nil {
		fail("%s", vigil.ErrorMessage(err))
	} else if !signer.Equal(key) {
		fail("%s: signed by key %s, not the audit key %s", CheckpointFile, cp.Key, rep.Key)
	} else if cp != m.Checkpoint {
		fail("%s: not the checkpoint the manifest names", CheckpointFile)
	}

	states := verifySegment(files[SegmentFile], cp, &rep, fail)
	for _, name := range sortedKeys(files) {
		if !strings.HasPrefix(name, RecordsDir) {
			continue
		}
		rep.Records++
		var r PackageRecord
		dec := json.NewDecoder(bytes.NewReader(files[name]))
		dec.UseNumber() // numbers hash as written
		if err := dec.Decode(&r); err != nil || name != RecordPath(r.Table, r.Key) {
			fail("%s: not a record of the package", name)
			continue
		}
		st, ok := states[r.Table+"\x00"+r.Key]
		switch {
		case !ok:
			fail("%s: %s %s has no state recorded in the audit segment", name, r.Table, r.Key)
		case st.hash != RowHash(r.Table, Row{Cols: r.Cols, Children: r.Children}):
			fail("%s: %s %s differs from the state audit event %d recorded", name, r.Table, r.Key, st.seq)
		}
	}
	if len(rep.Problems) > 0 {
		msg := rep.Problems[0]
		if n := len(rep.Problems); n > 1 {
			msg = fmt.Sprintf("%s (and %d more problems)", msg, n-1)
		}
		return rep, vigil.Errorf(vigil.EINVALID, "%s", msg)
	}
	return rep, nil
}

// verifySegment checks the segment's chain (consecutive, each linked to the one before, each full event's hash
// recomputed, every signature verified by the key in force, each key rotation checked) and that it ends at the
// checkpoint's head with the checkpoint's key in force; it returns the last state the segment recorded for each
// record (table NUL key).
func verifySegment(b []byte, cp vigil.AuditCheckpoint, rep *PackageReport, fail func(string, ...any)) map[string]recordState {
	states := map[string]recordState{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64<<10), maxPackageFile)
	var evs []PackageEvent
	for n := 1; sc.Scan(); n++ {
		var e PackageEvent
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			fail("%s line %d: not an audit event", SegmentFile, n)
			return states
		}
		evs = append(evs, e)
	}
	if err := sc.Err(); err != nil {
		fail("%s: %v", SegmentFile, err)
	}
	// The key in force at the segment's start is the one its first rotation retires, else the checkpoint's.
	cpKey, _ := ParseKeyText("checkpoint key", cp.Key)
	pub := cpKey
	for _, e := range evs {
		if e.Action == RotateAction {
			var v struct {
				Previous string `json:"previous"`
			}
			json.Unmarshal(e.New, &v) // unreadable: CheckRotation below says so
			pub, _ = ParseKeyText("key rotation: previous", v.Previous)
			break
		}
	}
	var prev *PackageEvent
	for _, e := range evs {
		rep.Events++
		switch {
		case prev != nil && e.Seq != prev.Seq+1:
			fail("%s: event %d follows event %d: an event was removed or reordered", SegmentFile, e.Seq, prev.Seq)
		case prev != nil && e.PrevHash != prev.Hash:
			fail("%s: event %d does not link to event %d: the chain is broken", SegmentFile, e.Seq, prev.Seq)
		}
		if e.Redacted {
			rep.Redacted++
		} else if Hash(&e.AuditEvent) != e.Hash {
			fail("%s: event %d does not match its hash: it was edited", SegmentFile, e.Seq)
		}
		if e.Signature != "" && (pub == nil || !VerifyEvent(pub, &e.AuditEvent)) {
			fail("%s: event %d: its signature does not verify with the audit key in force", SegmentFile, e.Seq)
		}
		if e.Action == RotateAction && pub != nil {
			next, err := CheckRotation(&e.AuditEvent, pub)
			if err != nil {
				fail("%s: event %d: %v", SegmentFile, e.Seq, err)
			}
			pub = next
		}
		for _, r := range e.Records {
			states[r.Table+"\x00"+r.Key] = recordState{hash: r.Hash, seq: e.Seq}
		}
		prev = &e
	}
	if prev == nil || prev.Seq != cp.Count || prev.Hash != cp.Head {
		fail("%s: does not end at the checkpoint's head (event %d): the trail segment was cut or replaced", SegmentFile, cp.Count)
	} else if pub == nil || cpKey == nil || !pub.Equal(cpKey) {
		fail("%s: the key in force at its end is not the checkpoint's key %s: a key rotation is missing or was forged", SegmentFile, cp.Key)
	}
	return states
}

func readZipFile(f *zip.File) ([]byte, error) {
	if f.UncompressedSize64 > maxPackageFile {
		return nil, fmt.Errorf("larger than %d bytes", maxPackageFile)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, maxPackageFile+1))
	if err == nil && len(b) > maxPackageFile {
		err = fmt.Errorf("larger than %d bytes", maxPackageFile)
	}
	return b, err
}

func sortedKeys(m map[string][]byte) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// PackageWriter writes an evidence package: each file as it is added, then the manifest listing them all and its
// signature.
type PackageWriter struct {
	zw      *zip.Writer
	created time.Time
	files   []PackageFile
}

// NewPackageWriter starts a package on w; every entry carries the time created.
func NewPackageWriter(w io.Writer, created time.Time) *PackageWriter {
	return &PackageWriter{zw: zip.NewWriter(w), created: created.UTC()}
}

// Add writes one file of the package.
func (p *PackageWriter) Add(path string, b []byte) error {
	if path == ManifestFile || path == ManifestSigFile || slices.ContainsFunc(p.files, func(f PackageFile) bool { return f.Path == path }) {
		return fmt.Errorf("evidence package: %s added twice", path)
	}
	if err := p.write(path, b); err != nil {
		return err
	}
	sum := sha256.Sum256(b)
	p.files = append(p.files, PackageFile{Path: path, SHA256: hex.EncodeToString(sum[:]), Size: int64(len(b))})
	return nil
}

func (p *PackageWriter) write(path string, b []byte) error {
	w, err := p.zw.CreateHeader(&zip.FileHeader{Name: path, Method: zip.Deflate, Modified: p.created})
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// Close writes the manifest (scope, the checkpoint, every file) and its signature by priv, and ends the zip.
func (p *PackageWriter) Close(priv ed25519.PrivateKey, scope string, cp vigil.AuditCheckpoint) error {
	m := PackageManifest{Format: PackageFormat, Scope: scope, Created: p.created, Key: KeyText(priv.Public().(ed25519.PublicKey)), Checkpoint: cp, Files: p.files}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	if err := p.write(ManifestFile, b); err != nil {
		return err
	}
	if err := p.write(ManifestSigFile, SignManifest(priv, b)); err != nil {
		return err
	}
	return p.zw.Close()
}
