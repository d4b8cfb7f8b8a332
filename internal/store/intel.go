package store

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/match"
)

// The intelligence store keeps, for every import run:
//   - each source document as fetched (gzip-compressed raw bytes, SHA-256 of the bytes, URL, time), never replaced:
//     a new revision of a document is a new row;
//   - one row per source advisory (source, CSAF document, id) holding the digest of the normalized vigil.Advisory
//     as JSON, that JSON itself unless the advisory is read back from its document (an OSV record: derivable),
//     and its search text; the earlier versions in intel_advisory_revisions when a source revises it;
//   - alias groups (union-find over every id and alias an advisory carries) that merge the sources' advisories into
//     one vulnerability whose preferred id is its CVE;
//   - the affected index (intelkeys.go), KEV entries with their history, EPSS scores with their history;
//   - per run, the package keys whose advisories changed, so that only the device versions holding them are
//     re-matched, and the ids of those advisories, so that only they are matched again (intel_changed_ids).

// Limits on what one advisory may make the store do; feeds are untrusted.
const (
	maxIDLen      = 256  // an advisory id or alias
	maxAliases    = 1000 // ids one advisory may link into its group
	maxKeyNameLen = 1024 // a package name in the affected index
)

// Gunzip returns the bytes of a stored document (for `vigil vuln show --raw` and tests).
func Gunzip(blob []byte, max int64) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(blob))
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	b, err := io.ReadAll(io.LimitReader(zr, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, vigil.Errorf(vigil.EINVALID, "stored document larger than %d bytes", max)
	}
	return b, nil
}

// Prepare validates what the store relies on (source, id, bounded ids) and prepares a: its JSON and digest, its
// match record and affected-index keys, the ids it links. It reads nothing of w, so the importer's workers call it
// at once.
func (w *IntelWriter) Prepare(a *vigil.Advisory) (*vigil.PreparedAdvisory, error) {
	if a.Source == "" {
		return nil, vigil.Errorf(vigil.EINVALID, "advisory %q: source: required", a.ID)
	}
	if strings.TrimSpace(a.ID) == "" {
		return nil, vigil.Errorf(vigil.EINVALID, "advisory: id: required")
	}
	if len(a.ID) > maxIDLen {
		return nil, vigil.Errorf(vigil.EINVALID, "advisory %.40q...: id: longer than %d bytes", a.ID, maxIDLen)
	}
	for _, id := range append([]string{a.ID, a.Document}, a.Aliases...) {
		if dbText(id) != id {
			return nil, vigil.Errorf(vigil.EINVALID, "advisory %q: an id holds invalid UTF-8 or a NUL byte", dbText(a.ID))
		}
	}
	if len(a.Aliases) > maxAliases {
		return nil, vigil.Errorf(vigil.EINVALID, "advisory %s: aliases: %d, more than the limit of %d", a.ID, len(a.Aliases), maxAliases)
	}
	data, err := json.Marshal(a)
	if err != nil {
		return nil, vigil.Errorf(vigil.EINVALID, "advisory %s: %v", a.ID, err)
	}
	sum := sha256.Sum256(data)
	p := &vigil.PreparedAdvisory{Advisory: a, Data: string(data), Digest: hex.EncodeToString(sum[:]), Record: match.EncodeRecord(a), Search: searchText(a)}
	keys := match.AdvisoryKeys(a)
	out := keys[:0]
	for _, k := range keys {
		if len(k.Name) <= maxKeyNameLen && len(k.Ecosystem) <= maxKeyNameLen && k.Name != "" {
			k.Ecosystem, k.Name = dbText(k.Ecosystem), dbText(k.Name)
			out = append(out, k)
		}
	}
	// Sanitizing can make two keys one; the affected index takes each once (new advisories' rows are copied in
	// without ON CONFLICT).
	slices.SortFunc(out, match.CompareKeys)
	p.Keys = slices.Compact(out)
	p.IDs = linkIDs(a)
	return p, nil
}

// searchText is an advisory's text as `vuln list --text` searches it (its ids are searched in intel_aliases, its
// packages in intel_affected): its CSAF document id, title and summary — its details when it has no summary, as
// NVD's description is, the way the vulnerability's summary is chosen — and its products, lower-cased here so that
// the query compares with LIKE on both engines.
func searchText(a *vigil.Advisory) string {
	parts := []string{a.Document, a.Title, firstNonEmpty(a.Summary, a.Details)}
	for _, p := range a.Products {
		parts = append(parts, p.Vendor, p.Name)
	}
	seen := map[string]bool{}
	var sb strings.Builder
	for _, s := range parts {
		if s = strings.TrimSpace(s); s != "" && !seen[s] {
			seen[s] = true
			if sb.Len() > 0 {
				sb.WriteByte('\n')
			}
			sb.WriteString(s)
		}
	}
	return dbText(strings.ToLower(sb.String()))
}

// linkIDs returns the ids an advisory links into one vulnerability: its own id and its aliases, without its CSAF
// document id (one document describes several vulnerabilities; linking it would merge them) and without
// duplicates. Ids are kept as the source writes them.
func linkIDs(a *vigil.Advisory) []string {
	out := make([]string, 0, 1+len(a.Aliases))
	add := func(s string) {
		s = strings.TrimSpace(s)
		if s == "" || len(s) > maxIDLen || s == a.Document {
			return
		}
		for _, o := range out {
			if o == s {
				return
			}
		}
		out = append(out, s)
	}
	add(a.ID)
	for _, s := range a.Aliases {
		add(s)
	}
	return out
}

// dbText makes feed text storable in a TEXT column on both engines: PostgreSQL refuses NUL bytes and invalid UTF-8
// (a truncation, or a hostile feed), which would otherwise fail a whole import.
func dbText(s string) string {
	ok := utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
	if ok {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// preferredBetter reports whether id a is a better name for a vulnerability than b: a CVE first, then a GHSA, then
// anything; within a kind the oldest (CVE-2019-99 before CVE-2019-100), then by text.
func preferredBetter(a, b string) bool {
	ra, rb := idRank(a), idRank(b)
	if ra != rb {
		return ra < rb
	}
	if ra == 0 {
		ya, na, _ := strings.Cut(a[4:], "-")
		yb, nb, _ := strings.Cut(b[4:], "-")
		if ya != yb {
			return ya < yb
		}
		ia, ea := strconv.Atoi(na)
		ib, eb := strconv.Atoi(nb)
		if ea == nil && eb == nil && ia != ib {
			return ia < ib
		}
	}
	return a < b
}

func idRank(id string) int {
	switch {
	case len(id) > 8 && strings.HasPrefix(id, "CVE-"):
		return 0
	case strings.HasPrefix(id, "GHSA-"):
		return 1
	}
	return 2
}

// isCVE reports whether id looks like a CVE id (KEV and EPSS attach by CVE).
func isCVE(id string) bool { return idRank(id) == 0 }

// unmarshalData decodes a stored advisory.
func unmarshalData(b []byte, a *vigil.Advisory) error {
	return json.Unmarshal(b, a)
}
