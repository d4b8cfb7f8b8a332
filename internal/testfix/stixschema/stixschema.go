// Package stixschema validates STIX 2.1 JSON against the OASIS STIX 2.1 JSON schemas (draft 2020-12, from
// ../shared/testdata/stix-2.1/cti-stix2-json-schemas) for tests: the bundle against bundle.json and every object
// against its own type's schema as well, because bundle.json lists only some types (a note, for one, would
// otherwise be checked against the common core alone). The schemas are compiled once per test binary, offline:
// every $ref resolves to a file of the shared copy.
package stixschema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/vigil-dev/vigil/internal/testfix"
)

// base is the $id prefix of every OASIS schema file.
const base = "http://raw.githubusercontent.com/oasis-open/cti-stix2-json-schemas/stix2.1/schemas/"

// Validator holds the compiled schemas: the bundle's and one per object type.
type Validator struct {
	bundle *jsonschema.Schema
	types  map[string]*jsonschema.Schema
}

var (
	once     sync.Once
	shared   *Validator
	sharedEr error
)

// Load compiles the schemas (once per test binary) and fails the test when they cannot be found or compiled.
func Load(t testing.TB) *Validator {
	t.Helper()
	dir := testfix.Path(t, "stix-2.1", "cti-stix2-json-schemas", "schemas")
	once.Do(func() { shared, sharedEr = compile(dir) })
	if sharedEr != nil {
		t.Fatalf("OASIS STIX 2.1 schemas: %v", sharedEr)
	}
	return shared
}

func compile(dir string) (*Validator, error) {
	c := jsonschema.NewCompiler()
	c.UseLoader(loader{dir: dir})
	v := &Validator{types: map[string]*jsonschema.Schema{}}
	var err error
	if v.bundle, err = c.Compile(base + "common/bundle.json"); err != nil {
		return nil, err
	}
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		folder := filepath.Dir(rel)
		name := strings.TrimSuffix(filepath.Base(rel), ".json")
		if folder != "sdos" && folder != "sros" && folder != "observables" && !(folder == "common" && (name == "marking-definition" || name == "language-content" || name == "extension-definition")) {
			return nil
		}
		s, err := c.Compile(base + filepath.ToSlash(rel))
		if err != nil {
			return fmt.Errorf("%s: %w", rel, err)
		}
		v.types[name] = s
		return nil
	})
	return v, err
}

// loader maps the schemas' $id URLs to the local copy; any other URL is an error (validation stays offline).
type loader struct{ dir string }

func (l loader) Load(url string) (any, error) {
	rel, ok := strings.CutPrefix(url, base)
	if !ok {
		return nil, fmt.Errorf("%s: not an OASIS STIX 2.1 schema (validation is offline)", url)
	}
	b, err := os.ReadFile(filepath.Join(l.dir, filepath.FromSlash(rel)))
	if err != nil {
		return nil, err
	}
	return jsonschema.UnmarshalJSON(bytes.NewReader(b))
}

// Errors validates a bundle: against bundle.json, then each object against its type's schema. It returns every
// failure, each naming the object; an object of a type with no schema is a failure too (Vigil writes none).
func (v *Validator) Errors(raw []byte) []error {
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return []error{fmt.Errorf("bundle: %v", err)}
	}
	var errs []error
	if err := v.bundle.Validate(inst); err != nil {
		errs = append(errs, fmt.Errorf("bundle.json: %v", err))
	}
	var b struct {
		Objects []json.RawMessage `json:"objects"`
	}
	if err := json.Unmarshal(raw, &b); err != nil {
		return append(errs, err)
	}
	for i, o := range b.Objects {
		var h struct {
			Type string `json:"type"`
			ID   string `json:"id"`
		}
		json.Unmarshal(o, &h)
		s := v.types[h.Type]
		if s == nil {
			errs = append(errs, fmt.Errorf("objects[%d] %s: no OASIS schema for type %q", i, h.ID, h.Type))
			continue
		}
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(o))
		if err != nil {
			errs = append(errs, fmt.Errorf("objects[%d]: %v", i, err))
			continue
		}
		if err := s.Validate(inst); err != nil {
			errs = append(errs, fmt.Errorf("objects[%d] %s (%s.json): %v", i, h.ID, h.Type, err))
		}
	}
	return errs
}

// Types lists the object types with a schema.
func (v *Validator) Types() int { return len(v.types) }
