package feed

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/untrusted"
)

// HeadSize is how many leading bytes Detect should be given. Less works for most documents (the tell-tale keys
// come first), more helps when a long first field (an OSV "details") pushes them back.
const HeadSize = 16 << 10

// Detect tells which source a document comes from by its content: vigil.SourceOSV (JSON or YAML), SourceNVD
// (an API 2.0 page, a feed file or a bare cve object), SourceKEV (JSON or CSV), SourceEPSS (CSV), SourceCSAF or
// SourceSTIX. head is the start of the document (HeadSize bytes is plenty; it may end mid-token). name's
// extension is used only as a hint when the content leaves a choice (a .yaml OSV record without its usual keys).
// It returns EINVALID naming the file when it cannot tell, and for a compressed head (Walk decompresses .zip and
// .gz before calling back).
func Detect(name string, head []byte) (string, error) {
	head = bytes.TrimPrefix(head, []byte("\xef\xbb\xbf")) // UTF-8 byte order mark
	trimmed := bytes.TrimLeft(head, " \t\r\n")
	switch {
	case len(trimmed) == 0:
		return "", untrusted.Invalid(name, "", "empty document: not a feed")
	case bytes.HasPrefix(head, []byte("\x1f\x8b")):
		return "", untrusted.Invalid(name, "", "gzip-compressed: decompress it first")
	case bytes.HasPrefix(head, []byte("PK\x03\x04")) || bytes.HasPrefix(head, []byte("PK\x05\x06")):
		return "", untrusted.Invalid(name, "", "a zip archive: walk its entries")
	case trimmed[0] == '{':
		src := detectJSON(name, trimmed)
		if src == sideFile {
			return "", fmt.Errorf("%w: %w", ErrSideFile,
				untrusted.Invalid(name, "", "a feed's side file (ROLIE feed, provider metadata or JSON Schema), not a feed document"))
		}
		if src != "" {
			return src, nil
		}
		return "", untrusted.Invalid(name, "", "a JSON object that is none of OSV, NVD API 2.0, KEV, CSAF or STIX")
	case trimmed[0] == '[':
		return "", untrusted.Invalid(name, "", "a JSON array: feeds are JSON objects (one OSV record per file)")
	}
	if src := detectText(name, trimmed); src != "" {
		return src, nil
	}
	first, _, _ := bytes.Cut(trimmed, []byte("\n"))
	if len(first) > 80 {
		first = first[:80]
	}
	return "", untrusted.Invalid(name, "", "not a recognised feed (first line %q): want OSV JSON/YAML, NVD JSON, KEV JSON/CSV, EPSS CSV, CSAF or STIX",
		strings.TrimSpace(string(first)))
}

// ErrSideFile is wrapped (errors.Is) by Detect's error for documents that belong beside a feed but hold no
// vulnerability data: a CSAF provider's ROLIE feed or provider-metadata.json, a JSON Schema (CISA ships the KEV
// schema beside the catalog). An importer walking a provider's
// directory skips them; its error still carries EINVALID for a caller that named such a file explicitly.
var ErrSideFile = errors.New("not a feed document")

// sideFile is detectJSON's answer for an ErrSideFile document.
const sideFile = "-"

// topKeys is what detectJSON learns from the top level of an object: its keys, a few string values, and the keys
// of the first element of a top-level "vulnerabilities" array (KEV and NVD both use that name).
type topKeys struct {
	keys      map[string]bool
	values    map[string]string
	firstVuln map[string]bool
}

func scanTop(head []byte) topKeys {
	t := topKeys{keys: map[string]bool{}, values: map[string]string{}, firstVuln: map[string]bool{}}
	dec := json.NewDecoder(bytes.NewReader(head))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return t
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			return t // the head may end anywhere; what was seen is all there is
		}
		key, ok := tok.(string)
		if !ok {
			return t
		}
		t.keys[key] = true
		tok, err = dec.Token()
		if err != nil {
			return t
		}
		switch v := tok.(type) {
		case string:
			t.values[key] = v
		case json.Delim:
			if key == "vulnerabilities" && v == '[' {
				if !scanFirstVuln(dec, t.firstVuln) {
					return t
				}
				continue
			}
			if !skipValue(dec) {
				return t
			}
		}
	}
}

// scanFirstVuln records the keys of the first object in an array whose '[' was just read, then skips the rest.
func scanFirstVuln(dec *json.Decoder, keys map[string]bool) bool {
	tok, err := dec.Token()
	if err != nil {
		return false
	}
	if d, ok := tok.(json.Delim); ok && d == '{' {
		for {
			tok, err := dec.Token()
			if err != nil {
				return false
			}
			if d, ok := tok.(json.Delim); ok && d == '}' {
				break
			}
			k, ok := tok.(string)
			if !ok {
				return false
			}
			keys[k] = true
			tok, err = dec.Token()
			if err != nil {
				return false
			}
			if d, ok := tok.(json.Delim); ok && (d == '{' || d == '[') && !skipValue(dec) {
				return false
			}
		}
	} else if d, ok := tok.(json.Delim); ok && d == ']' {
		return true
	} else if ok && !skipValue(dec) {
		return false
	}
	return skipValue(dec) // the rest of the array
}

// skipValue skips to the end of the object or array whose opening delimiter was just read.
func skipValue(dec *json.Decoder) bool {
	for depth := 1; depth > 0; {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		if d, ok := tok.(json.Delim); ok {
			if d == '{' || d == '[' {
				depth++
			} else {
				depth--
			}
		}
	}
	return true
}

func detectJSON(name string, head []byte) string {
	t := scanTop(head)
	k := t.keys
	has := func(names ...string) bool {
		for _, n := range names {
			if k[n] {
				return true
			}
		}
		return false
	}
	id := t.values["id"]
	switch {
	case t.values["format"] == "NVD_CVE", has("resultsPerPage", "totalResults", "startIndex"), t.firstVuln["cve"] && !k["document"]:
		return vigil.SourceNVD
	case has("catalogVersion", "dateReleased"), t.firstVuln["cveID"]:
		return vigil.SourceKEV
	case k["document"]:
		return vigil.SourceCSAF
	case k["feed"] && len(k) <= 2, k["canonical_url"] && k["metadata_version"], k["$schema"]:
		return sideFile
	case t.values["type"] == "bundle", k["spec_version"] && strings.Contains(id, "--"):
		return vigil.SourceSTIX
	case strings.HasPrefix(id, "CVE-") && has("sourceIdentifier", "vulnStatus", "descriptions", "lastModified", "cveTags"):
		return vigil.SourceNVD
	case k["id"] && has("schema_version", "affected", "modified", "aliases", "summary", "details", "withdrawn",
		"related", "severity", "database_specific", "published"):
		return vigil.SourceOSV
	}
	// Inconclusive content (a head cut short): fall back on the name.
	return fromName(name)
}

// fromName guesses the source from conventional file names; used only when content leaves a choice.
func fromName(name string) string {
	n := strings.ToLower(name)
	switch {
	case strings.Contains(n, "nvdcve"):
		return vigil.SourceNVD
	case strings.Contains(n, "known_exploited"):
		return vigil.SourceKEV
	case strings.Contains(n, "epss"):
		return vigil.SourceEPSS
	case strings.Contains(n, "csaf"):
		return vigil.SourceCSAF
	case strings.Contains(n, "stix"):
		return vigil.SourceSTIX
	case strings.Contains(n, "all.zip!"), strings.Contains(n, "osv"):
		return vigil.SourceOSV
	}
	return ""
}

func detectText(name string, head []byte) string {
	first, _, _ := bytes.Cut(head, []byte("\n"))
	first = bytes.TrimSpace(first)
	lower := strings.ToLower(string(first))
	switch {
	case strings.HasPrefix(lower, "#model_version"), strings.HasPrefix(lower, "cve,epss"):
		return vigil.SourceEPSS
	case strings.HasPrefix(lower, "cveid,vendorproject"), strings.HasPrefix(lower, `"cveid","vendorproject"`):
		return vigil.SourceKEV
	}
	// OSV in YAML (the PyPA advisory database): top-level "id:" with the usual OSV keys at column 0.
	ext := strings.ToLower(path.Ext(strings.TrimSuffix(name, ".gz")))
	yamlKeys, hasID := 0, false
	for _, line := range bytes.Split(head, []byte("\n")) {
		for _, k := range []string{"affected:", "modified:", "published:", "aliases:", "details:", "summary:", "schema_version:", "withdrawn:"} {
			if bytes.HasPrefix(line, []byte(k)) {
				yamlKeys++
			}
		}
		if bytes.HasPrefix(line, []byte("id:")) {
			hasID = true
		}
	}
	if hasID && (yamlKeys > 0 || ext == ".yaml" || ext == ".yml") {
		return vigil.SourceOSV
	}
	return ""
}
