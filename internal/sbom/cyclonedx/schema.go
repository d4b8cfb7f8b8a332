package cyclonedx

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// The official CycloneDX JSON schemas, embedded because production cannot read the shared test data; see
// schema/README.md for their origin and license.
//
//go:embed schema/*.json schema/*.xsd
var schemaFS embed.FS

const schemaBase = "http://cyclonedx.org/schema/"

// schemaFiles maps a spec version to its schema file. 1.2 and 1.3 come from cyclonedx-go; their $id differs from the
// file name (bom-1.2b), so they are registered under the URL we compile.
var schemaFiles = map[string]string{
	"1.2": "bom-1.2.schema.json",
	"1.3": "bom-1.3.schema.json",
	"1.4": "bom-1.4.schema.json",
	"1.5": "bom-1.5.schema.json",
	"1.6": "bom-1.6.schema.json",
	"1.7": "bom-1.7.schema.json",
}

// The referenced schemas, by the name the bom schemas use in $ref.
var sharedSchemas = []string{"spdx.schema.json", "jsf-0.82.schema.json", "cryptography-defs.schema.json"}

type compiled struct {
	once sync.Once
	sch  *jsonschema.Schema // the document
	comp *jsonschema.Schema // its definitions/component, which the document applies to each of its components
	err  error
}

// schemas caches one compiled schema per version: compiling 1.7 takes tens of milliseconds, validating far less.
// It is filled lazily and never reset, so it is safe to share between goroutines and tests.
var schemas = func() map[string]*compiled {
	m := make(map[string]*compiled, len(schemaFiles))
	for v := range schemaFiles {
		m[v] = &compiled{}
	}
	return m
}()

// SpecVersions lists the CycloneDX versions whose JSON schema is embedded, oldest first.
func SpecVersions() []string {
	vs := make([]string, 0, len(schemaFiles))
	for v := range schemaFiles {
		vs = append(vs, v)
	}
	sort.Strings(vs)
	return vs
}

func schemaFor(version string) (*compiled, error) {
	c, ok := schemas[version]
	if !ok {
		return nil, fmt.Errorf("unsupported CycloneDX specVersion %q (supported: %s)", version, strings.Join(SpecVersions(), ", "))
	}
	c.once.Do(func() { c.sch, c.comp, c.err = compileSchema(version) })
	return c, c.err
}

func compileSchema(version string) (doc, comp *jsonschema.Schema, err error) {
	cc := jsonschema.NewCompiler()
	// Formats (date-time, iri-reference, email) are part of conformance: invalid-metadata-timestamp must fail.
	cc.AssertFormat()
	add := func(file string) error {
		b, err := schemaFS.ReadFile("schema/" + file)
		if err != nil {
			return err
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		return cc.AddResource(schemaBase+file, doc)
	}
	for _, f := range sharedSchemas {
		if err := add(f); err != nil {
			return nil, nil, err
		}
	}
	file := schemaFiles[version]
	if err := add(file); err != nil {
		return nil, nil, err
	}
	if doc, err = cc.Compile(schemaBase + file); err != nil {
		return nil, nil, err
	}
	c, err := cc.Compile(schemaBase + file + "#/definitions/component")
	return doc, c, err
}

// validate checks a CycloneDX JSON document against the schema of its version without decoding it whole into a
// generic tree, which took some thirty times the document in memory (a 40 MB SBOM with 1.2 million properties
// needed 1.2 GB): the document with its top-level components emptied is validated against the schema, then each
// component on its own against the schema's component definition, which is what the schema applies to every item
// of components, and the items' uniqueness (the schema's uniqueItems) is checked on their canonical encodings.
// So the tree held at once is the document's other parts and one component. top is the document decoded except
// for its components, which span the ranges of b given in comps. It returns a message naming the most specific
// failing field as a JSON path (components[3].hashes[0].alg), or "".
func validate(version string, top map[string]any, b []byte, comps [][2]int64) (field, msg string, err error) {
	c, err := schemaFor(version)
	if err != nil {
		return "", "", err
	}
	if comps != nil {
		top["components"] = []any{}
	}
	if field, msg := failure(c.sch.Validate(top), ""); msg != "" {
		return field, msg, nil
	}
	// Equal items are reported after every item has been validated, as one validation of the whole array did:
	// a component's own failure (an empty bom-ref, say) is the more specific message.
	seen := make(map[[sha256.Size]byte]int, len(comps))
	dup := [2]int{-1, -1}
	for i, r := range comps {
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b[r[0]:r[1]]))
		if err != nil {
			return "", "", err
		}
		at := "components/" + strconv.Itoa(i)
		if field, msg := failure(c.comp.Validate(inst), at); msg != "" {
			return field, msg, nil
		}
		canon, err := json.Marshal(inst) // object keys sorted: equal values encode alike
		if err != nil {
			return "", "", err
		}
		sum := sha256.Sum256(canon)
		if j, ok := seen[sum]; ok && dup[0] < 0 {
			dup = [2]int{j, i}
		} else if !ok {
			seen[sum] = i
		}
	}
	if dup[0] >= 0 {
		return "components", fmt.Sprintf("items at %d and %d are equal", dup[0], dup[1]), nil
	}
	return "", "", nil
}

// failure turns a validation error into the field and message to report (see deepest); prefix is the instance
// location the validated value sits at in the document, slash-separated.
func failure(verr error, prefix string) (field, msg string) {
	if verr == nil {
		return "", ""
	}
	var ve *jsonschema.ValidationError
	if !errors.As(verr, &ve) {
		return "", verr.Error()
	}
	leaf := deepest(ve)
	loc := leaf.InstanceLocation
	if prefix != "" {
		loc = append(strings.Split(prefix, "/"), loc...)
	}
	return jsonPath(loc), leaf.ErrorKind.LocalizedString(printer)
}

// splitComponents decodes a JSON document's top level, all but the items of a top-level "components" array,
// whose byte ranges in b it returns instead (nil when there is no such array). b must be valid JSON.
func splitComponents(b []byte) (top map[string]any, comps [][2]int64, ok bool, err error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, nil, false, err
	}
	top = map[string]any{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, false, err
		}
		key, _ := tok.(string)
		start := dec.InputOffset()
		var raw json.RawMessage
		if key == "components" && bytes.HasPrefix(bytes.TrimLeft(b[start:], " \t\r\n:"), []byte("[")) {
			dec.Token() // [
			comps = [][2]int64{}
			for dec.More() {
				from := dec.InputOffset()
				if err := dec.Decode(&struct{}{}); err != nil {
					var te *json.UnmarshalTypeError
					if !errors.As(err, &te) { // an item that is no object is the schema's to report
						return nil, nil, false, err
					}
				}
				for from < int64(len(b)) && bytes.IndexByte([]byte(" \t\r\n,"), b[from]) >= 0 {
					from++
				}
				comps = append(comps, [2]int64{from, dec.InputOffset()})
			}
			if _, err := dec.Token(); err != nil { // ]
				return nil, nil, false, err
			}
			continue
		}
		if err := dec.Decode(&raw); err != nil {
			return nil, nil, false, err
		}
		v, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			return nil, nil, false, err
		}
		top[key] = v
	}
	return top, comps, true, nil
}

var printer = message.NewPrinter(language.English)

// deepest picks the cause to report: the one deepest in the instance, preferring concrete keyword failures over
// the "doesn't validate with" wrappers of $ref, anyOf and oneOf. Ties go to the first in schema order, which keeps
// messages stable from run to run.
func deepest(e *jsonschema.ValidationError) *jsonschema.ValidationError {
	best := e
	var walk func(*jsonschema.ValidationError)
	walk = func(v *jsonschema.ValidationError) {
		if better(v, best) {
			best = v
		}
		for _, c := range v.Causes {
			walk(c)
		}
	}
	walk(e)
	return best
}

func better(a, b *jsonschema.ValidationError) bool {
	if len(a.InstanceLocation) != len(b.InstanceLocation) {
		return len(a.InstanceLocation) > len(b.InstanceLocation)
	}
	return isWrapper(b) && !isWrapper(a)
}

func isWrapper(e *jsonschema.ValidationError) bool {
	switch e.ErrorKind.(type) {
	case *kind.Schema, *kind.Reference, *kind.Group, *kind.AnyOf, *kind.OneOf, *kind.AllOf:
		return true
	}
	return false
}

// jsonPath renders an instance location as components[3].purl; the document root is "$".
func jsonPath(loc []string) string {
	if len(loc) == 0 {
		return "$"
	}
	var b strings.Builder
	for _, tok := range loc {
		if isIndex(tok) {
			b.WriteString("[" + tok + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(tok)
	}
	return b.String()
}

func isIndex(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
