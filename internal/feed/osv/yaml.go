package osv

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/untrusted"
)

// ParseYAML parses one OSV record in YAML, as the PyPA advisory database stores them. The YAML is converted to the
// equivalent JSON (keeping YAML's own types: '1.0' stays a string, an unquoted 1.0 is a number and so an invalid
// version) and then read by the JSON path, so both formats are held to exactly the same rules and report the
// same paths.
func ParseYAML(name string, b []byte, lim untrusted.Limits) (vigil.Advisory, error) {
	lim = lim.WithDefaults()
	if int64(len(b)) > lim.MaxRecordSize {
		return vigil.Advisory{}, untrusted.Invalid(name, "", "larger than the limit of %d bytes", lim.MaxRecordSize)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return vigil.Advisory{}, untrusted.Invalid(name, "", "malformed YAML: %s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return vigil.Advisory{}, untrusted.Invalid(name, "", "empty YAML document")
	}
	var buf bytes.Buffer
	buf.Grow(len(b) + len(b)/4)
	if err := yamlToJSON(&buf, doc.Content[0], "", 1, lim.MaxDepth); err != nil {
		return vigil.Advisory{}, untrusted.Invalid(name, err.path, "%s", err.msg)
	}
	if doc.Content[0].Kind != yaml.MappingNode {
		return vigil.Advisory{}, untrusted.Invalid(name, "", "line %d: an OSV record is a mapping", doc.Content[0].Line)
	}
	var rec record
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		return vigil.Advisory{}, untrusted.JSONError(name, "", buf.Bytes(), err)
	}
	return rec.advisory(name)
}

type yamlError struct{ path, msg string }

// yamlToJSON writes node as JSON. It refuses aliases (expanding them is how a small YAML file becomes a huge one)
// and nesting deeper than max.
func yamlToJSON(buf *bytes.Buffer, n *yaml.Node, path string, depth, max int) *yamlError {
	if depth > max {
		return &yamlError{path, fmt.Sprintf("line %d: YAML nests deeper than the limit of %d", n.Line, max)}
	}
	switch n.Kind {
	case yaml.AliasNode:
		return &yamlError{path, fmt.Sprintf("line %d: YAML aliases are not accepted", n.Line)}
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			buf.WriteString("null")
			return nil
		}
		return yamlToJSON(buf, n.Content[0], path, depth, max)
	case yaml.MappingNode:
		buf.WriteByte('{')
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode {
				return &yamlError{path, fmt.Sprintf("line %d: a mapping key must be a plain value", k.Line)}
			}
			if i > 0 {
				buf.WriteByte(',')
			}
			writeString(buf, k.Value)
			buf.WriteByte(':')
			if err := yamlToJSON(buf, v, untrusted.JoinPath(path, k.Value), depth+1, max); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
	case yaml.SequenceNode:
		buf.WriteByte('[')
		for i, c := range n.Content {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := yamlToJSON(buf, c, path+"["+strconv.Itoa(i)+"]", depth+1, max); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			buf.WriteString("null")
		case "!!bool":
			if b, err := strconv.ParseBool(n.Value); err == nil {
				buf.WriteString(strconv.FormatBool(b))
			} else {
				writeString(buf, n.Value)
			}
		case "!!int", "!!float":
			// Numbers stay numbers when JSON can spell them (so a version written as 1.0 is caught as a number);
			// YAML-only spellings (0x1f, .inf) become strings.
			if json.Valid([]byte(n.Value)) {
				buf.WriteString(n.Value)
			} else {
				writeString(buf, n.Value)
			}
		default: // !!str, !!timestamp (kept as written), !!binary, custom tags
			writeString(buf, n.Value)
		}
	default:
		return &yamlError{path, fmt.Sprintf("line %d: unexpected YAML node", n.Line)}
	}
	return nil
}

func writeString(buf *bytes.Buffer, s string) {
	b, err := json.Marshal(s) // invalid UTF-8 is replaced, so this does not fail; if it ever did, say nothing
	if err != nil {
		b = []byte(`""`)
	}
	buf.Write(b)
}
