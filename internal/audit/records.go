package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/vigil-dev/vigil"
)

// RecordsText is the canonical text of an event's record states, as stored and hashed: a JSON array of
// [table, key, hash] triples ordered by table and key.
func RecordsText(recs []vigil.AuditRecord) string {
	sorted := slices.Clone(recs)
	slices.SortFunc(sorted, func(a, b vigil.AuditRecord) int {
		if c := strings.Compare(a.Table, b.Table); c != 0 {
			return c
		}
		return compareKeys(a.Key, b.Key)
	})
	rows := make([][3]string, len(sorted))
	for i, r := range sorted {
		rows[i] = [3]string{r.Table, r.Key, r.Hash}
	}
	b, _ := json.Marshal(rows) // strings only: cannot fail
	return string(b)
}

// ParseRecords reads RecordsText back; empty text is no records.
func ParseRecords(text string) ([]vigil.AuditRecord, error) {
	if text == "" {
		return nil, nil
	}
	var rows [][3]string
	if err := json.Unmarshal([]byte(text), &rows); err != nil {
		return nil, fmt.Errorf("records: %w", err)
	}
	out := make([]vigil.AuditRecord, len(rows))
	for i, r := range rows {
		out[i] = vigil.AuditRecord{Table: r[0], Key: r[1], Hash: r[2]}
	}
	return out, nil
}

// Row is one audited record as the store read it: its columns (column name → value: nil, int64, float64 or
// string, whichever the engine returned, booleans as 0/1) and the rows of its child tables (link rows that belong
// to it, such as a threat's assets) without the column naming the parent.
type Row struct {
	Cols     map[string]any
	Children map[string][]map[string]any
}

// RowHash is the hash of a record's state: SHA-256 of its table name and the canonical JSON of its columns, with
// NULL columns left out (so that adding a nullable column to an audited table leaves every earlier record's hash
// as it was) and each child table's rows in canonical order. Both engines return the same values for the same
// row, so the hash is the engine's too.
func RowHash(table string, r Row) string {
	obj := make(map[string]any, len(r.Cols)+len(r.Children))
	for k, v := range r.Cols {
		if v != nil {
			obj[k] = v
		}
	}
	for name, kids := range r.Children {
		texts := make([]string, len(kids))
		for i, kid := range kids {
			texts[i] = string(canonicalRow(kid))
		}
		slices.Sort(texts)
		obj[name] = json.RawMessage("[" + strings.Join(texts, ",") + "]")
	}
	sum := sha256.Sum256(append([]byte(table+"\n"), canonicalRow(obj)...))
	return hex.EncodeToString(sum[:])
}

// canonicalRow encodes a row's values: map keys sorted, HTML left unescaped, NULLs left out.
func canonicalRow(row map[string]any) []byte {
	clean := make(map[string]any, len(row))
	for k, v := range row {
		if v != nil {
			clean[k] = v
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(clean) // values are strings, numbers and raw JSON this package built: cannot fail
	return bytes.TrimRight(buf.Bytes(), "\n")
}
