package cyclonedx

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/vigil-dev/vigil/internal/sbom/model"
	"github.com/vigil-dev/vigil/internal/untrusted"
)

// xmlNamespaces maps each CycloneDX XML namespace to its spec version.
var xmlNamespaces = map[string]string{
	"http://cyclonedx.org/schema/bom/1.0": "1.0",
	"http://cyclonedx.org/schema/bom/1.1": "1.1",
	"http://cyclonedx.org/schema/bom/1.2": "1.2",
	"http://cyclonedx.org/schema/bom/1.3": "1.3",
	"http://cyclonedx.org/schema/bom/1.4": "1.4",
	"http://cyclonedx.org/schema/bom/1.5": "1.5",
	"http://cyclonedx.org/schema/bom/1.6": "1.6",
	"http://cyclonedx.org/schema/bom/1.7": "1.7",
}

// ParseXML parses and validates a CycloneDX XML document held in b.
func ParseXML(name string, b []byte, lim untrusted.Limits) (*model.Document, error) {
	lim, name = lim.Or(model.DefaultLimits()), model.Name(name)
	if err := untrusted.CheckSize(name, b, lim.MaxRecordSize); err != nil {
		return nil, err
	}
	r := newValidatingReader(b, name, lim)
	var bom bomDoc
	if err := xml.NewTokenDecoder(r).Decode(&bom); err != nil {
		if r.err != nil {
			return nil, r.err
		}
		return nil, xmlError(name, b, err)
	}
	if err := r.finish(); err != nil {
		return nil, err
	}
	return convert(&bom, name, model.FormatCycloneDXXML, r.version, lim)
}

// newXMLDecoder returns a strict decoder that knows only XML's five predefined entities and no character sets
// but UTF-8 (and ASCII), so that nothing in the document can make it read another file or expand text.
func newXMLDecoder(b []byte) *xml.Decoder {
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = true
	d.Entity = nil
	d.CharsetReader = func(label string, r io.Reader) (io.Reader, error) {
		switch strings.ToLower(label) {
		case "utf-8", "utf8", "us-ascii", "ascii":
			return r, nil
		}
		return nil, fmt.Errorf("unsupported encoding %q: send UTF-8", label)
	}
	return d
}

func xmlError(name string, b []byte, err error) error {
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		return untrusted.Invalid(name, fmt.Sprintf("line %d", se.Line), "invalid XML: %s", se.Msg)
	}
	return untrusted.Invalid(name, "", "invalid XML: %v", err)
}
