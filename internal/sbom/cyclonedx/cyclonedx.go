// Package cyclonedx reads CycloneDX SBOMs (JSON 1.2–1.7, XML 1.0–1.7) into Vigil components, validating each
// document against the official schema of its version first, and writes CycloneDX VEX documents for scan results.
// Input is untrusted: reads are bounded, XML with a DOCTYPE is refused before anything else is parsed, and every
// error names the file and the field (components[3].purl) so a supplier can fix what it sent.
package cyclonedx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/vigil-dev/vigil/internal/sbom/model"
)

// Parse reads a CycloneDX document from r, JSON or XML by its first non-space byte. name is used in errors only.
func Parse(r io.Reader, name string, lim model.Limits) (*model.Document, error) {
	b, err := model.ReadAll(r, name, lim)
	if err != nil {
		return nil, err
	}
	if first := firstByte(b); first == '<' {
		return ParseXML(b, name, lim)
	}
	return ParseJSON(b, name, lim)
}

// ParseJSON parses and validates a CycloneDX JSON document held in b.
func ParseJSON(b []byte, name string, lim model.Limits) (*model.Document, error) {
	lim = lim.WithDefaults()
	// Windows tools write a UTF-8 byte order mark, which JSON does not allow but every reader tolerates.
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	if int64(len(b)) > lim.MaxBytes {
		return nil, model.Invalid(name, "", "document is larger than the limit of %d bytes", lim.MaxBytes)
	}
	if err := model.JSONDepth(b, name, lim.MaxDepth); err != nil {
		return nil, err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return nil, jsonSyntax(name, b, err)
	}
	top, ok := inst.(map[string]any)
	if !ok {
		return nil, model.Invalid(name, "$", "a CycloneDX document is a JSON object")
	}
	version, _ := top["specVersion"].(string)
	if version == "" {
		return nil, model.Invalid(name, "specVersion", "missing or not a string")
	}
	if err := validateDoc(name, version, inst); err != nil {
		return nil, err
	}
	var bom bomDoc
	if err := json.Unmarshal(b, &bom); err != nil {
		return nil, jsonSyntax(name, b, err)
	}
	return convert(&bom, name, model.FormatCycloneDXJSON, version, lim)
}

func validateDoc(name, version string, inst any) error {
	field, msg, err := validate(version, inst)
	if err != nil {
		return model.Invalid(name, "specVersion", "%v", err)
	}
	if msg != "" {
		return model.Invalid(name, field, "%s (CycloneDX %s schema)", model.Clip(msg), version)
	}
	return nil
}

// jsonSyntax turns a decoding error into one that names the line and column, or the field for a type mismatch.
func jsonSyntax(name string, b []byte, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		// Offset counts the bytes read, the offending one included.
		line, col := lineCol(b, se.Offset-1)
		return model.Invalid(name, fmt.Sprintf("line %d, column %d", line, col), "invalid JSON: %v", se)
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "$"
		}
		return model.Invalid(name, field, "cannot read a JSON %s as %v", te.Value, te.Type)
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return model.Invalid(name, "", "invalid JSON: unexpected end of input")
	}
	return model.Invalid(name, "", "invalid JSON: %v", err)
}

func lineCol(b []byte, off int64) (line, col int) {
	off = max(0, min(off, int64(len(b))))
	line, col = 1, 1
	for _, c := range b[:off] {
		if c == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return line, col
}

func firstByte(b []byte) byte {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	for _, c := range b {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		}
		return c
	}
	return 0
}
