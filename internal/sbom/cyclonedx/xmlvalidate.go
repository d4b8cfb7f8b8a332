package cyclonedx

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/vigil-dev/vigil/internal/untrusted"
	"github.com/vigil-dev/vigil/internal/xsd"
)

// xsdFiles maps a spec version to its XSD.
var xsdFiles = map[string]string{
	"1.0": "bom-1.0.xsd", "1.1": "bom-1.1.xsd", "1.2": "bom-1.2.xsd", "1.3": "bom-1.3.xsd",
	"1.4": "bom-1.4.xsd", "1.5": "bom-1.5.xsd", "1.6": "bom-1.6.xsd", "1.7": "bom-1.7.xsd",
}

type compiledXSD struct {
	once sync.Once
	s    *xsd.Schema
	err  error
}

// xsds caches one compiled XSD per version; filled lazily, never reset.
var xsds = func() map[string]*compiledXSD {
	m := make(map[string]*compiledXSD, len(xsdFiles))
	for v := range xsdFiles {
		m[v] = &compiledXSD{}
	}
	return m
}()

// spdxXSD is the license id schema every CycloneDX XSD imports.
var spdxXSD compiledXSD

func xsdFor(version string) (*xsd.Schema, error) {
	c, ok := xsds[version]
	if !ok {
		return nil, fmt.Errorf("no XSD for CycloneDX %s", version)
	}
	c.once.Do(func() {
		spdxXSD.once.Do(func() { spdxXSD.s, spdxXSD.err = compileXSD("spdx.xsd", nil) })
		if spdxXSD.err != nil {
			c.err = spdxXSD.err
			return
		}
		c.s, c.err = compileXSD(xsdFiles[version], spdxXSD.s)
	})
	return c.s, c.err
}

func compileXSD(file string, imported *xsd.Schema) (*xsd.Schema, error) {
	b, err := schemaFS.ReadFile("schema/" + file)
	if err != nil {
		return nil, err
	}
	return xsd.Compile(file, b, imported)
}

// validatingReader is an xml.TokenReader that checks every token as it passes: it refuses a DOCTYPE (the only way
// to declare entities, so no external entity is ever resolved and no "billion laughs" expansion can start),
// bounds the nesting depth, finds the spec version from the root element's namespace and validates the document
// against that version's XSD. Decoding the components reads through it, so the document is tokenized only once.
type validatingReader struct {
	d       *xml.Decoder
	b       []byte
	name    string
	lim     untrusted.Limits
	v       *xsd.Validator // set at the root element
	version string
	err     error // the first error, returned again on every later call
}

func newValidatingReader(b []byte, name string, lim untrusted.Limits) *validatingReader {
	return &validatingReader{d: newXMLDecoder(b), b: b, name: name, lim: lim}
}

// Token implements xml.TokenReader.
func (r *validatingReader) Token() (xml.Token, error) {
	if r.err != nil {
		return nil, r.err
	}
	// The position before reading a token is where it starts (text between tokens is a token of its own).
	line, _ := r.d.InputPos()
	tok, err := r.d.Token()
	if errors.Is(err, io.EOF) {
		if r.version == "" {
			r.err = untrusted.Invalid(r.name, "", "no root element")
			return nil, r.err
		}
		return nil, io.EOF
	}
	if err != nil {
		r.err = xmlError(r.name, r.b, err)
		return nil, r.err
	}
	if err := r.check(tok, line); err != nil {
		r.err = err
		return nil, err
	}
	return tok, nil
}

// finish reads whatever follows the root element (comments, a second root) to the end of the document.
func (r *validatingReader) finish() error {
	for {
		if _, err := r.Token(); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return err
		}
	}
}

func (r *validatingReader) depth() int {
	if r.v == nil {
		return 0
	}
	return r.v.Depth()
}

func (r *validatingReader) check(tok xml.Token, line int) error {
	switch t := tok.(type) {
	case xml.Directive:
		return untrusted.Invalid(r.name, fmt.Sprintf("line %d", line), "XML directives (DOCTYPE, ENTITY) are not allowed: they enable external entities and entity expansion")
	case xml.StartElement:
		if r.depth() >= r.lim.MaxDepth {
			return untrusted.Invalid(r.name, fmt.Sprintf("line %d", line), "XML nests deeper than the limit of %d", r.lim.MaxDepth)
		}
		if r.depth() == 0 {
			if r.version != "" {
				return untrusted.Invalid(r.name, fmt.Sprintf("line %d", line), "more than one root element")
			}
			if t.Name.Local != "bom" {
				return untrusted.Invalid(r.name, t.Name.Local, "root element is <%s>, want a CycloneDX <bom>", untrusted.Clip(t.Name.Local))
			}
			ver, ok := xmlNamespaces[t.Name.Space]
			if !ok {
				return untrusted.Invalid(r.name, "bom/@xmlns", "unknown CycloneDX namespace %q", untrusted.Clip(t.Name.Space))
			}
			s, err := xsdFor(ver)
			if err != nil {
				return untrusted.Invalid(r.name, "", "CycloneDX %s XSD: %v", ver, err)
			}
			r.version = ver
			r.v = xsd.NewValidator(s)
		}
		return r.schemaError(r.v.Start(t, line))
	case xml.EndElement:
		return r.schemaError(r.v.End())
	case xml.CharData:
		if r.v != nil {
			r.v.Text(t)
		}
	}
	return nil
}

// schemaError names the file, the element and the schema in a validation error.
func (r *validatingReader) schemaError(err error) error {
	var e *xsd.Error
	if errors.As(err, &e) {
		return untrusted.Invalid(r.name, e.Path, "line %d: %s (CycloneDX %s XSD)", e.Line, e.Msg, r.version)
	}
	return err
}
