// Package osv parses OSV records (schema 1.x, every ecosystem) into vigil.Advisory values: single JSON files, the
// PyPA advisory database's YAML files, and OSV.dev's per-ecosystem all.zip archives, which ReadZip streams and
// decodes in parallel because a full import is hundreds of thousands of records.
//
// What is rejected (EINVALID naming the file and the JSON path): malformed JSON or YAML; a record nested deeper
// than Limits.MaxDepth or larger than Limits.MaxRecordSize; a value of the wrong JSON type anywhere the schema
// gives one (a number where a version string belongs, an object where events belong); a missing "id" or
// "modified"; a timestamp that is not RFC 3339; a schema_version whose major version is not 1; a package without
// ecosystem or name; a range whose type is not ECOSYSTEM, SEMVER or GIT, a GIT range without repo, a range without
// events or without an introduced event, or with both fixed and last_affected events; an event that does not hold
// exactly one non-empty introduced/fixed/last_affected/limit; an empty version, alias or related id; YAML aliases
// (OSV never uses them, and expanding them is a classic denial of service).
//
// What is accepted leniently: unknown fields anywhere (the schema grows; database_specific and ecosystem_specific
// are free-form), unknown ecosystems (the matcher decides), GIT event values that are not full commit hashes (real
// PyPA records hold a few), severity entries whose type is not CVSS_V2/V3/V4 (Ubuntu's words are dropped), CVSS
// vectors that do not parse (kept with a zero base score), references without a URL (dropped), and a
// database_specific "cpes" or "cwe_ids" that is not a list of strings (ignored).
//
// Mapping: severity vectors (top-level and per affected package, deduplicated) become Scores with Source "osv"
// and the base score computed from the vector; database_specific.cpes (top level, as Bitnami writes them, and per
// affected package) become each affected package's CPEs; database_specific.cwe_ids (GitHub) and
// database_specific.cwes[].cweId (the OSV project's GHSA converter) become CWEs;
// withdrawn sets Advisory.Withdrawn. OSV has no title, so Title stays empty.
package osv

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	jsonv1 "github.com/go-json-experiment/json/v1"
	cvss20 "github.com/pandatix/go-cvss/20"
	cvss30 "github.com/pandatix/go-cvss/30"
	cvss31 "github.com/pandatix/go-cvss/31"
	cvss40 "github.com/pandatix/go-cvss/40"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/untrusted"
)

// record is the OSV schema as far as Vigil reads it. Ranges and references decode straight into the domain types,
// whose JSON names are OSV's, so that converting a record copies slices rather than rebuilding them.
type record struct {
	SchemaVersion    string            `json:"schema_version"`
	ID               string            `json:"id"`
	Modified         string            `json:"modified"`
	Published        string            `json:"published"`
	Withdrawn        string            `json:"withdrawn"`
	Aliases          []string          `json:"aliases"`
	Related          []string          `json:"related"`
	Summary          string            `json:"summary"`
	Details          string            `json:"details"`
	Severity         []severity        `json:"severity"`
	Affected         []affected        `json:"affected"`
	References       []vigil.Reference `json:"references"`
	DatabaseSpecific dbSpecific        `json:"database_specific"`
}

type severity struct {
	Type  string `json:"type"`
	Score string `json:"score"`
}

type affected struct {
	Package          *pkg          `json:"package"`
	Severity         []severity    `json:"severity"`
	Ranges           []vigil.Range `json:"ranges"`
	Versions         []string      `json:"versions"`
	DatabaseSpecific dbSpecific    `json:"database_specific"`
}

type pkg struct {
	Ecosystem string `json:"ecosystem"`
	Name      string `json:"name"`
	Purl      string `json:"purl"`
}

// dbSpecific picks the few well-known keys out of the free-form database_specific object.
type dbSpecific struct {
	CPEs   lenientStrings `json:"cpes"`
	CWEIDs lenientStrings `json:"cwe_ids"` // GitHub's OSV export
	CWEs   lenientCWEs    `json:"cwes"`    // the OSV project's GHSA converter, per affected package
}

// lenientCWEs decodes [{"cweId": "CWE-79", ...}] and ignores anything else.
type lenientCWEs []string

func (l *lenientCWEs) UnmarshalJSON(b []byte) error {
	var v []struct {
		CWEID string `json:"cweId"`
	}
	if json.Unmarshal(b, &v) == nil {
		for _, c := range v {
			if c.CWEID != "" {
				*l = append(*l, c.CWEID)
			}
		}
	}
	return nil
}

// addCWEs appends the CWE ids in add that cwes does not hold yet.
func addCWEs(cwes, add []string) []string {
	for _, c := range add {
		if c != "" && !slices.Contains(cwes, c) {
			cwes = append(cwes, c)
		}
	}
	return cwes
}

// lenientStrings decodes a list of strings and ignores anything else: database_specific is free-form, so another
// database's "cpes" of some other shape must not cost the record.
type lenientStrings []string

func (l *lenientStrings) UnmarshalJSON(b []byte) error {
	var s []string
	if json.Unmarshal(b, &s) == nil {
		*l = s
	}
	return nil
}

// Parse reads one OSV record, JSON or YAML (told apart by content), from r. name is used in errors.
func Parse(name string, r io.Reader, lim untrusted.Limits) (vigil.Advisory, error) {
	lim = lim.WithDefaults()
	b, err := untrusted.ReadAll(name, r, lim.MaxRecordSize)
	if err != nil {
		return vigil.Advisory{}, err
	}
	return ParseBytes(name, b, lim)
}

// ParseBytes parses one OSV record held in b, JSON or YAML. It does not keep b.
func ParseBytes(name string, b []byte, lim untrusted.Limits) (vigil.Advisory, error) {
	lim = lim.WithDefaults()
	if int64(len(b)) > lim.MaxRecordSize {
		return vigil.Advisory{}, untrusted.Invalid(name, "", "larger than the limit of %d bytes", lim.MaxRecordSize)
	}
	if isJSON(b) {
		return ParseJSON(name, b, lim)
	}
	return ParseYAML(name, b, lim)
}

// isJSON reports whether b starts (after white space and a byte order mark) with '{'.
func isJSON(b []byte) bool {
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case ' ', '\t', '\r', '\n':
			continue
		case 0xEF:
			if i+2 < len(b) && b[i+1] == 0xBB && b[i+2] == 0xBF {
				i += 2
				continue
			}
		}
		return b[i] == '{'
	}
	return false
}

// ParseJSON parses one OSV record in JSON.
func ParseJSON(name string, b []byte, lim untrusted.Limits) (vigil.Advisory, error) {
	lim = lim.WithDefaults()
	if err := untrusted.CheckJSON(name, b, lim); err != nil {
		return vigil.Advisory{}, err
	}
	b = trimBOM(b)
	var rec record
	if err := decodeRecord(b, &rec); err != nil {
		return vigil.Advisory{}, untrusted.JSONError(name, "", b, err)
	}
	return rec.advisory(name)
}

// v1Semantics makes the JSON v2 decoder read as encoding/json does: field names matched without regard to case,
// duplicate names and invalid UTF-8 accepted, the UnmarshalJSON methods called.
var v1Semantics = jsonv1.DefaultOptionsV1()

// decodeRecord decodes one OSV record's JSON into rec. The JSON v2 decoder (with encoding/json's semantics) reads
// a record about 2.5 times as fast as encoding/json, which scans the whole text once to validate it before it
// decodes: that was 22 of the 100 CPU-s of a 500,000-record import (issue 19), and every page that shows an OSV
// advisory parses its stored record again. A record v2 refuses is decoded again by encoding/json, so a malformed
// one gets the error JSONError words with its line or JSON path, as before.
func decodeRecord(b []byte, rec *record) error {
	if jsonv2.Unmarshal(b, rec, v1Semantics) == nil {
		return nil
	}
	*rec = record{}
	return json.Unmarshal(b, rec)
}

func trimBOM(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\r' || b[0] == '\n') {
		b = b[1:]
	}
	if len(b) >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF {
		b = b[3:]
	}
	return b
}

// advisory validates rec and converts it.
func (rec *record) advisory(name string) (vigil.Advisory, error) {
	bad := func(path, format string, args ...any) (vigil.Advisory, error) {
		return vigil.Advisory{}, untrusted.Invalid(name, path, format, args...)
	}
	if err := checkID(rec.ID); err != nil {
		return bad("id", "%v", err)
	}
	if rec.SchemaVersion != "" {
		if major, _, _ := strings.Cut(rec.SchemaVersion, "."); major != "1" {
			return bad("schema_version", "%q is not OSV schema 1.x", rec.SchemaVersion)
		}
	}
	a := vigil.Advisory{
		Source:  vigil.SourceOSV,
		ID:      rec.ID,
		Summary: rec.Summary,
		Details: rec.Details,
		Aliases: rec.Aliases,
		Related: rec.Related,
	}
	var err error
	if rec.Modified == "" {
		return bad("modified", "required")
	}
	if a.Modified, err = parseTime(rec.Modified); err != nil {
		return bad("modified", "%v", err)
	}
	if rec.Published != "" {
		if a.Published, err = parseTime(rec.Published); err != nil {
			return bad("published", "%v", err)
		}
	}
	if rec.Withdrawn != "" {
		if a.Withdrawn, err = parseTime(rec.Withdrawn); err != nil {
			return bad("withdrawn", "%v", err)
		}
		if a.Withdrawn.IsZero() {
			// 0001-01-01 would read as "not withdrawn"; the field's presence says it is.
			a.Withdrawn = time.Unix(0, 0).UTC()
		}
	}
	for i, s := range rec.Aliases {
		if err := checkID(s); err != nil {
			return bad(fmt.Sprintf("aliases[%d]", i), "%v", err)
		}
	}
	for i, s := range rec.Related {
		if err := checkID(s); err != nil {
			return bad(fmt.Sprintf("related[%d]", i), "%v", err)
		}
	}
	a.Scores = addScores(a.Scores, rec.Severity)
	if len(rec.References) > 0 {
		refs := rec.References[:0]
		for _, r := range rec.References {
			if r.URL != "" {
				refs = append(refs, r)
			}
		}
		if len(refs) > 0 {
			a.References = refs
		}
	}
	a.CWEs = addCWEs(a.CWEs, rec.DatabaseSpecific.CWEIDs)
	a.CWEs = addCWEs(a.CWEs, rec.DatabaseSpecific.CWEs)
	if len(rec.Affected) > 0 {
		a.Affected = make([]vigil.Affected, len(rec.Affected))
	}
	for i := range rec.Affected {
		af := &rec.Affected[i]
		path := "affected[" + strconv.Itoa(i) + "]"
		out := &a.Affected[i]
		if af.Package != nil {
			if af.Package.Ecosystem == "" {
				return bad(path+".package.ecosystem", "required")
			}
			if af.Package.Name == "" {
				return bad(path+".package.name", "required")
			}
			out.Ecosystem, out.Name, out.Purl = af.Package.Ecosystem, af.Package.Name, af.Package.Purl
		}
		for j := range af.Ranges {
			if err := checkRange(&af.Ranges[j]); err != nil {
				return bad(path+".ranges["+strconv.Itoa(j)+"]"+err.path, "%s", err.msg)
			}
		}
		for j, v := range af.Versions {
			if v == "" {
				return bad(fmt.Sprintf("%s.versions[%d]", path, j), "empty version")
			}
		}
		out.Ranges = af.Ranges
		out.Versions = af.Versions
		a.Scores = addScores(a.Scores, af.Severity)
		a.CWEs = addCWEs(a.CWEs, af.DatabaseSpecific.CWEs)
		switch {
		case len(af.DatabaseSpecific.CPEs) > 0 && len(rec.DatabaseSpecific.CPEs) > 0:
			out.CPEs = append(slices.Clone([]string(af.DatabaseSpecific.CPEs)), rec.DatabaseSpecific.CPEs...)
		case len(af.DatabaseSpecific.CPEs) > 0:
			out.CPEs = af.DatabaseSpecific.CPEs
		case len(rec.DatabaseSpecific.CPEs) > 0:
			// Bitnami writes the upstream product's CPEs at the top level; they describe every affected package.
			out.CPEs = rec.DatabaseSpecific.CPEs
		}
	}
	return a, nil
}

// checkID accepts an OSV identifier (or alias): non-empty, at most 256 bytes, no white space or control
// characters, since ids become keys and appear in messages.
func checkID(s string) error {
	if s == "" {
		return fmt.Errorf("required")
	}
	if len(s) > 256 {
		return fmt.Errorf("longer than 256 bytes")
	}
	for _, r := range s {
		if r <= ' ' || r == 0x7f {
			return fmt.Errorf("%q contains white space or a control character", s)
		}
	}
	return nil
}

// parseTime parses an OSV timestamp: RFC 3339, any offset (stored in UTC).
func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not an RFC 3339 timestamp", s)
	}
	return t.UTC(), nil
}

type rangeError struct{ path, msg string }

// checkRange enforces the schema's range rules (see the package comment).
func checkRange(r *vigil.Range) *rangeError {
	switch r.Type {
	case vigil.RangeEcosystem, vigil.RangeSemver:
	case vigil.RangeGit:
		if r.Repo == "" {
			return &rangeError{".repo", "required for a GIT range"}
		}
	case "":
		return &rangeError{".type", "required"}
	default:
		return &rangeError{".type", fmt.Sprintf("%q is not ECOSYSTEM, SEMVER or GIT", r.Type)}
	}
	if len(r.Events) == 0 {
		return &rangeError{".events", "a range needs at least one event"}
	}
	var introduced, fixed, lastAffected bool
	for k := range r.Events {
		e := &r.Events[k]
		n := 0
		if e.Introduced != "" {
			n++
			introduced = true
		}
		if e.Fixed != "" {
			n++
			fixed = true
		}
		if e.LastAffected != "" {
			n++
			lastAffected = true
		}
		if e.Limit != "" {
			n++
		}
		if n != 1 {
			msg := "an event holds exactly one of introduced, fixed, last_affected, limit"
			if n == 0 {
				msg = "an event needs one non-empty introduced, fixed, last_affected or limit"
			}
			return &rangeError{".events[" + strconv.Itoa(k) + "]", msg}
		}
	}
	if !introduced {
		return &rangeError{".events", "a range needs an introduced event"}
	}
	if fixed && lastAffected {
		return &rangeError{".events", "fixed and last_affected events are mutually exclusive in one range"}
	}
	return nil
}

// addScores appends the CVSS severities not already present (records repeat one vector per affected package).
func addScores(scores []vigil.Score, sev []severity) []vigil.Score {
	for _, s := range sev {
		switch s.Type {
		case "CVSS_V2", "CVSS_V3", "CVSS_V4":
		default:
			continue // Ubuntu's priority words and future types are not CVSS vectors
		}
		if s.Score == "" || slices.ContainsFunc(scores, func(x vigil.Score) bool { return x.Vector == s.Score }) {
			continue
		}
		scores = append(scores, vigil.Score{Source: vigil.SourceOSV, Vector: s.Score, Base: BaseScore(s.Score)})
	}
	return scores
}

// BaseScore returns the CVSS base score of a v2, v3.0, v3.1 or v4.0 vector, or 0 when the vector does not parse.
// For v4.0 only the base metrics count (a vector that also carries threat or environmental metrics would
// otherwise give a CVSS-BT/BE score).
func BaseScore(vector string) float64 {
	switch {
	case strings.HasPrefix(vector, "CVSS:3.1/"):
		if v, err := cvss31.ParseVector(vector); err == nil {
			return v.BaseScore()
		}
	case strings.HasPrefix(vector, "CVSS:3.0/"):
		if v, err := cvss30.ParseVector(vector); err == nil {
			return v.BaseScore()
		}
	case strings.HasPrefix(vector, "CVSS:4.0/"):
		if v, err := cvss40.ParseVector(baseV4(vector)); err == nil {
			return v.Score()
		}
	default:
		if v, err := cvss20.ParseVector(strings.TrimPrefix(vector, "CVSS:2.0/")); err == nil {
			return v.BaseScore()
		}
	}
	return 0
}

// baseV4 keeps the prefix and the eleven base metrics of a CVSS v4.0 vector.
func baseV4(vector string) string {
	parts := strings.Split(vector, "/")
	out := parts[:1]
	for _, p := range parts[1:] {
		k, _, _ := strings.Cut(p, ":")
		switch k {
		case "AV", "AC", "AT", "PR", "UI", "VC", "VI", "VA", "SC", "SI", "SA":
			out = append(out, p)
		}
	}
	return strings.Join(out, "/")
}
