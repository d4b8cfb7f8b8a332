package csaf

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

//go:embed schema/csaf_json_schema.json schema/cvss-v2.0.json schema/cvss-v3.0.json schema/cvss-v3.1.json
var schemaFiles embed.FS

// The schemas are known by the URLs the CSAF schema uses to reference them; nothing is ever fetched.
const (
	csafSchemaURL   = "https://docs.oasis-open.org/csaf/csaf/v2.0/csaf_json_schema.json"
	cvss20SchemaURL = "https://www.first.org/cvss/cvss-v2.0.json"
	cvss30SchemaURL = "https://www.first.org/cvss/cvss-v3.0.json"
	cvss31SchemaURL = "https://www.first.org/cvss/cvss-v3.1.json"
)

var schemaByURL = map[string]string{
	csafSchemaURL:   "schema/csaf_json_schema.json",
	cvss20SchemaURL: "schema/cvss-v2.0.json",
	cvss30SchemaURL: "schema/cvss-v3.0.json",
	cvss31SchemaURL: "schema/cvss-v3.1.json",
}

// maxSchemaErrors caps the schema errors one report lists: a hostile document can otherwise produce one per node.
const maxSchemaErrors = 200

type schemas struct {
	csaf, cvss20, cvss30, cvss31 *jsonschema.Schema
}

// offlineLoader serves the embedded schemas and refuses every other URL, so validation never touches the network.
type offlineLoader struct{}

func (offlineLoader) Load(url string) (any, error) {
	file, ok := schemaByURL[url]
	if !ok {
		return nil, fmt.Errorf("schema %s is not embedded (validation is offline)", url)
	}
	b, err := schemaFiles.ReadFile(file)
	if err != nil {
		return nil, err
	}
	return jsonschema.UnmarshalJSON(bytes.NewReader(b))
}

// compiledSchemas compiles the embedded schemas once; they are immutable afterwards.
var compiledSchemas = sync.OnceValues(func() (*schemas, error) {
	c := jsonschema.NewCompiler()
	c.UseLoader(offlineLoader{})
	c.AssertFormat()
	var s schemas
	for _, x := range []struct {
		url string
		dst **jsonschema.Schema
	}{{csafSchemaURL, &s.csaf}, {cvss20SchemaURL, &s.cvss20}, {cvss30SchemaURL, &s.cvss30}, {cvss31SchemaURL, &s.cvss31}} {
		sch, err := c.Compile(x.url)
		if err != nil {
			return nil, fmt.Errorf("csaf: compile embedded schema %s: %w", x.url, err)
		}
		*x.dst = sch
	}
	return &s, nil
})

// schemaErrors validates an instance (as decoded by jsonschema.UnmarshalJSON) and returns "pointer: message" lines,
// sorted by location, at most maxSchemaErrors of them. prefix is prepended to every location.
func schemaErrors(sch *jsonschema.Schema, inst any, prefix string) ([]string, error) {
	err := sch.Validate(inst)
	if err == nil {
		return nil, nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return nil, err
	}
	var out []string
	seen := map[string]bool{}
	for _, u := range ve.BasicOutput().Errors {
		if u.Error == nil {
			continue
		}
		msg := u.Error.String()
		// The basic output repeats the "doesn't validate with" wrappers of $ref and allOf; keep the leaves.
		if strings.HasPrefix(msg, "doesn't validate with") || strings.HasPrefix(msg, "validation failed") {
			continue
		}
		line := prefix + u.InstanceLocation + ": " + msg
		if !seen[line] {
			seen[line] = true
			out = append(out, line)
		}
	}
	if len(out) == 0 {
		out = append(out, prefix+": "+ve.Error())
	}
	sort.Strings(out)
	if len(out) > maxSchemaErrors {
		out = append(out[:maxSchemaErrors], fmt.Sprintf("... and %d more", len(out)-maxSchemaErrors))
	}
	return out, nil
}
