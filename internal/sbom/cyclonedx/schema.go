package cyclonedx

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"sort"
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
	sch  *jsonschema.Schema
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

func schemaFor(version string) (*jsonschema.Schema, error) {
	c, ok := schemas[version]
	if !ok {
		return nil, fmt.Errorf("unsupported CycloneDX specVersion %q (supported: %s)", version, strings.Join(SpecVersions(), ", "))
	}
	c.once.Do(func() { c.sch, c.err = compileSchema(version) })
	return c.sch, c.err
}

func compileSchema(version string) (*jsonschema.Schema, error) {
	comp := jsonschema.NewCompiler()
	// Formats (date-time, iri-reference, email) are part of conformance: invalid-metadata-timestamp must fail.
	comp.AssertFormat()
	add := func(file string) error {
		b, err := schemaFS.ReadFile("schema/" + file)
		if err != nil {
			return err
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		return comp.AddResource(schemaBase+file, doc)
	}
	for _, f := range sharedSchemas {
		if err := add(f); err != nil {
			return nil, err
		}
	}
	file := schemaFiles[version]
	if err := add(file); err != nil {
		return nil, err
	}
	return comp.Compile(schemaBase + file)
}

// validate checks doc (decoded with jsonschema.UnmarshalJSON) against the schema of version and returns a message
// that names the most specific failing field as a JSON path (components[3].hashes[0].alg), or nil.
func validate(version string, doc any) (field, msg string, err error) {
	sch, err := schemaFor(version)
	if err != nil {
		return "", "", err
	}
	verr := sch.Validate(doc)
	if verr == nil {
		return "", "", nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(verr, &ve) {
		return "", verr.Error(), nil
	}
	leaf := deepest(ve)
	return jsonPath(leaf.InstanceLocation), leaf.ErrorKind.LocalizedString(printer), nil
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
