// Package xsd validates XML documents against XML Schema 1.0 schemas, streaming: a Validator is fed the tokens of an
// encoding/xml decoder and keeps only the open elements' child names, never a tree. There is no XSD validator for
// Go, so this package implements the part of XML Schema 1.0 that the CycloneDX XSDs
// (1.0–1.7) and spdx.xsd use, and nothing more: global and local element declarations, named and anonymous
// complex types with sequence/choice/any particles (minOccurs/maxOccurs), mixed content, simpleContent
// extensions, attributes (required, typed), attribute groups, anyAttribute, simple types restricted by enumeration,
// pattern, min/maxLength and min/maxInclusive, unions, the built-in types the schemas name, and the one identity
// constraint (bom-ref unique in the document). Anything else in a schema makes compilation fail, so a future
// schema that needs more cannot be validated half-way by accident. XSD 1.1 asserts appear in the schemas only as
// comments and are not checked.
//
// It reads no files and knows no schema of its own: the caller compiles the schemas it embeds (Compile) and
// decides what a document's root and namespace mean (internal/sbom/cyclonedx does for CycloneDX).
package xsd

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math/big"
	"regexp"
	"strconv"
	"strings"
)

const xsNS = "http://www.w3.org/2001/XMLSchema"

type qname struct{ ns, local string }

func (q qname) String() string { return q.local }

// xnode is a schema element as read from the XSD, annotations dropped.
type xnode struct {
	kind  string // local name in the XSD namespace: element, complexType, sequence, ...
	attrs map[string]string
	kids  []*xnode
}

// Compiled schema model.

// Schema is a compiled schema, safe for concurrent use by any number of Validators.
type Schema struct {
	target   string
	elems    map[qname]*elemDecl
	types    map[qname]*xtype
	groups   map[qname]*xnode // attributeGroup definitions
	ns       map[string]string
	imported *Schema // the one imported namespace's schema
}

type xtype struct {
	name    string
	simple  *stype
	complex *ctype
	src     *xnode
	done    bool
}

// Whitespace handling of simple types.
const (
	wsPreserve = iota
	wsReplace
	wsCollapse
)

type stype struct {
	name     string
	builtin  string // set on built-in types only
	base     *stype
	ws       int
	enums    []string
	patterns []*regexp.Regexp
	patSrc   []string
	minLen   int
	maxLen   int
	minIncl  *big.Rat
	maxIncl  *big.Rat
	union    []*stype
}

type ctype struct {
	content *particle // nil: empty content
	mixed   bool
	text    *stype // simpleContent
	attrs   map[string]*attrDecl
	anyAttr string // "", "##any", "##other"
	byName  map[qname]*elemDecl
	nfa     *nfa // content compiled for matching children
}

type attrDecl struct {
	name     string
	typ      *stype
	required bool
}

type elemDecl struct {
	name   qname
	typ    *xtype // nil: xs:anyType, anything goes
	unique bool   // bom-ref values must be unique below this element
}

const (
	pElem = iota
	pSeq
	pChoice
	pAny
)

type particle struct {
	kind     int
	min, max int // max < 0: unbounded
	elem     *elemDecl
	kids     []*particle
	anyNS    string
}

// Compile compiles the schema document b (named file in errors). imported, when not nil, is the compiled schema
// of the one namespace b imports (the CycloneDX XSDs import spdx.xsd for license ids). A schema that uses a part of
// XML Schema this package does not implement fails to compile.
func Compile(file string, b []byte, imported *Schema) (*Schema, error) {
	root, ns, err := readXSD(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	s := &Schema{
		target:   root.attrs["targetNamespace"],
		elems:    map[qname]*elemDecl{},
		types:    map[qname]*xtype{},
		groups:   map[qname]*xnode{},
		ns:       ns,
		imported: imported,
	}
	// Declare every global first so that references resolve whatever the order of definitions.
	for _, k := range root.kids {
		name := qname{s.target, k.attrs["name"]}
		switch k.kind {
		case "simpleType", "complexType":
			s.types[name] = &xtype{name: name.local, src: k}
		case "element":
			s.elems[name] = &elemDecl{name: name}
		case "attributeGroup":
			s.groups[name] = k
		case "import", "annotation":
		default:
			return nil, fmt.Errorf("%s: unsupported top-level <xs:%s>", file, k.kind)
		}
	}
	for _, t := range s.types {
		if err := s.completeType(t); err != nil {
			return nil, fmt.Errorf("%s: type %s: %w", file, t.name, err)
		}
	}
	for _, k := range root.kids {
		if k.kind != "element" {
			continue
		}
		d := s.elems[qname{s.target, k.attrs["name"]}]
		if err := s.fillElement(d, k); err != nil {
			return nil, fmt.Errorf("%s: element %s: %w", file, d.name.local, err)
		}
	}
	return s, nil
}

// readXSD reads a schema document into xnodes, keeping only XSD-namespace elements outside annotations.
func readXSD(b []byte) (*xnode, map[string]string, error) {
	d := xml.NewDecoder(bytes.NewReader(b))
	var stack []*xnode
	var root *xnode
	ns := map[string]string{}
	skip := 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if skip > 0 || t.Name.Space != xsNS || t.Name.Local == "annotation" {
				skip++
				continue
			}
			n := &xnode{kind: t.Name.Local, attrs: map[string]string{}}
			for _, a := range t.Attr {
				switch {
				case a.Name.Space == "xmlns":
					ns[a.Name.Local] = a.Value
				case a.Name.Space == "" && a.Name.Local == "xmlns":
					ns[""] = a.Value
				case a.Name.Space == "":
					n.attrs[a.Name.Local] = a.Value
				}
			}
			if len(stack) == 0 {
				root = n
			} else {
				p := stack[len(stack)-1]
				p.kids = append(p.kids, n)
			}
			stack = append(stack, n)
		case xml.EndElement:
			if skip > 0 {
				skip--
				continue
			}
			stack = stack[:len(stack)-1]
		}
	}
	if root == nil || root.kind != "schema" {
		return nil, nil, errors.New("not an XML schema")
	}
	return root, ns, nil
}

func (s *Schema) resolveQName(v string) (qname, error) {
	prefix, local, ok := strings.Cut(v, ":")
	if !ok {
		prefix, local = "", v
	}
	uri, known := s.ns[prefix]
	if !known {
		return qname{}, fmt.Errorf("unknown namespace prefix in %q", v)
	}
	return qname{uri, local}, nil
}

// typeRef resolves a type="..." reference.
func (s *Schema) typeRef(v string) (*xtype, error) {
	q, err := s.resolveQName(v)
	if err != nil {
		return nil, err
	}
	if q.ns == xsNS {
		if q.local == "anyType" {
			return nil, nil
		}
		st, err := builtin(q.local)
		if err != nil {
			return nil, err
		}
		return &xtype{name: q.local, simple: st, done: true}, nil
	}
	if s.imported != nil && q.ns == s.imported.target {
		t, ok := s.imported.types[q]
		if !ok {
			return nil, fmt.Errorf("unknown type %q", v)
		}
		return t, nil
	}
	t, ok := s.types[q]
	if !ok {
		return nil, fmt.Errorf("unknown type %q", v)
	}
	if err := s.completeType(t); err != nil {
		return nil, err
	}
	return t, nil
}

func (s *Schema) simpleRef(v string) (*stype, error) {
	t, err := s.typeRef(v)
	if err != nil {
		return nil, err
	}
	if t == nil || t.simple == nil {
		return nil, fmt.Errorf("%q is not a simple type", v)
	}
	return t.simple, nil
}

// completeType compiles a named type once. Simple types are compiled eagerly on first use (their bases must be
// complete); complex types get their struct first so that recursive references (component within component)
// point at it while it is being filled.
func (s *Schema) completeType(t *xtype) error {
	if t.done {
		return nil
	}
	t.done = true
	switch t.src.kind {
	case "simpleType":
		st, err := s.compileSimple(t.src, t.name)
		if err != nil {
			return err
		}
		t.simple = st
	case "complexType":
		t.complex = &ctype{}
		if err := s.fillComplex(t.complex, t.src); err != nil {
			return err
		}
	}
	return nil
}

func (s *Schema) compileSimple(n *xnode, name string) (*stype, error) {
	for _, k := range n.kids {
		switch k.kind {
		case "restriction":
			return s.compileRestriction(k, name)
		case "union":
			st := &stype{name: name, ws: wsCollapse, minLen: -1, maxLen: -1}
			for _, m := range strings.Fields(k.attrs["memberTypes"]) {
				mt, err := s.simpleRef(m)
				if err != nil {
					return nil, err
				}
				st.union = append(st.union, mt)
			}
			for _, kk := range k.kids {
				if kk.kind != "simpleType" {
					return nil, fmt.Errorf("unsupported <xs:%s> in union", kk.kind)
				}
				mt, err := s.compileSimple(kk, name)
				if err != nil {
					return nil, err
				}
				st.union = append(st.union, mt)
			}
			return st, nil
		default:
			return nil, fmt.Errorf("unsupported <xs:%s> in simpleType", k.kind)
		}
	}
	return nil, errors.New("empty simpleType")
}

func (s *Schema) compileRestriction(r *xnode, name string) (*stype, error) {
	st := &stype{name: name, minLen: -1, maxLen: -1}
	if b := r.attrs["base"]; b != "" {
		base, err := s.simpleRef(b)
		if err != nil {
			return nil, err
		}
		st.base = base
	}
	for _, k := range r.kids {
		v := k.attrs["value"]
		switch k.kind {
		case "simpleType":
			base, err := s.compileSimple(k, name)
			if err != nil {
				return nil, err
			}
			st.base = base
		case "enumeration":
			st.enums = append(st.enums, v)
		case "pattern":
			re, err := regexp.Compile(xsdRegexp(v))
			if err != nil {
				return nil, fmt.Errorf("pattern %q: %w", v, err)
			}
			st.patterns = append(st.patterns, re)
			st.patSrc = append(st.patSrc, v)
		case "minLength", "maxLength":
			n, err := strconv.Atoi(v)
			if err != nil {
				return nil, fmt.Errorf("%s %q: %w", k.kind, v, err)
			}
			if k.kind == "minLength" {
				st.minLen = n
			} else {
				st.maxLen = n
			}
		case "minInclusive", "maxInclusive":
			r, ok := new(big.Rat).SetString(v)
			if !ok {
				return nil, fmt.Errorf("%s %q is not a number", k.kind, v)
			}
			if k.kind == "minInclusive" {
				st.minIncl = r
			} else {
				st.maxIncl = r
			}
		default:
			return nil, fmt.Errorf("unsupported facet <xs:%s>", k.kind)
		}
	}
	if st.base == nil {
		return nil, errors.New("restriction without a base")
	}
	st.ws = st.base.ws
	return st, nil
}

func (s *Schema) fillComplex(ct *ctype, n *xnode) error {
	ct.attrs = map[string]*attrDecl{}
	ct.byName = map[qname]*elemDecl{}
	ct.mixed = n.attrs["mixed"] == "true"
	for _, k := range n.kids {
		switch k.kind {
		case "sequence", "choice":
			p, err := s.compileParticle(k, ct)
			if err != nil {
				return err
			}
			ct.content = p
			ct.nfa = buildNFA(p)
		case "attribute", "attributeGroup", "anyAttribute":
			if err := s.addAttr(ct, k); err != nil {
				return err
			}
		case "simpleContent":
			if err := s.fillSimpleContent(ct, k); err != nil {
				return err
			}
		default:
			return fmt.Errorf("unsupported <xs:%s> in complexType", k.kind)
		}
	}
	return nil
}

func (s *Schema) fillSimpleContent(ct *ctype, n *xnode) error {
	for _, k := range n.kids {
		if k.kind != "extension" {
			return fmt.Errorf("unsupported <xs:%s> in simpleContent", k.kind)
		}
		base, err := s.typeRef(k.attrs["base"])
		if err != nil {
			return err
		}
		switch {
		case base != nil && base.simple != nil:
			ct.text = base.simple
		case base != nil && base.complex != nil && base.complex.text != nil:
			// Extension of a complex type with simple content: inherit its text type and attributes.
			ct.text = base.complex.text
			for k, v := range base.complex.attrs {
				ct.attrs[k] = v
			}
			if ct.anyAttr == "" {
				ct.anyAttr = base.complex.anyAttr
			}
		default:
			return fmt.Errorf("simpleContent extension of %q is not supported", k.attrs["base"])
		}
		for _, a := range k.kids {
			if err := s.addAttr(ct, a); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *Schema) addAttr(ct *ctype, k *xnode) error {
	switch k.kind {
	case "attribute":
		name := k.attrs["name"]
		if name == "" {
			return errors.New("attribute without a name (ref= is not supported)")
		}
		a := &attrDecl{name: name, required: k.attrs["use"] == "required"}
		if tn := k.attrs["type"]; tn != "" {
			st, err := s.simpleRef(tn)
			if err != nil {
				return err
			}
			a.typ = st
		}
		for _, kk := range k.kids {
			if kk.kind != "simpleType" {
				return fmt.Errorf("unsupported <xs:%s> in attribute", kk.kind)
			}
			st, err := s.compileSimple(kk, name)
			if err != nil {
				return err
			}
			a.typ = st
		}
		ct.attrs[name] = a
	case "attributeGroup":
		q, err := s.resolveQName(k.attrs["ref"])
		if err != nil {
			return err
		}
		g, ok := s.groups[q]
		if !ok {
			return fmt.Errorf("unknown attributeGroup %q", k.attrs["ref"])
		}
		for _, a := range g.kids {
			if err := s.addAttr(ct, a); err != nil {
				return err
			}
		}
	case "anyAttribute":
		ns := k.attrs["namespace"]
		if ns == "" {
			ns = "##any"
		}
		ct.anyAttr = ns
	default:
		return fmt.Errorf("unsupported <xs:%s> among attributes", k.kind)
	}
	return nil
}

func occurs(n *xnode) (min, max int, err error) {
	min, max = 1, 1
	if v, ok := n.attrs["minOccurs"]; ok {
		if min, err = strconv.Atoi(v); err != nil {
			return 0, 0, fmt.Errorf("minOccurs %q", v)
		}
	}
	if v, ok := n.attrs["maxOccurs"]; ok {
		if v == "unbounded" {
			max = -1
		} else if max, err = strconv.Atoi(v); err != nil {
			return 0, 0, fmt.Errorf("maxOccurs %q", v)
		}
	}
	return min, max, nil
}

func (s *Schema) compileParticle(n *xnode, ct *ctype) (*particle, error) {
	min, max, err := occurs(n)
	if err != nil {
		return nil, err
	}
	p := &particle{min: min, max: max}
	switch n.kind {
	case "sequence", "choice":
		p.kind = pSeq
		if n.kind == "choice" {
			p.kind = pChoice
		}
		for _, k := range n.kids {
			kp, err := s.compileParticle(k, ct)
			if err != nil {
				return nil, err
			}
			p.kids = append(p.kids, kp)
		}
	case "any":
		p.kind = pAny
		p.anyNS = n.attrs["namespace"]
		if p.anyNS == "" {
			p.anyNS = "##any"
		}
	case "element":
		p.kind = pElem
		name := n.attrs["name"]
		if name == "" {
			return nil, errors.New("element without a name (ref= is not supported)")
		}
		q := qname{s.target, name}
		if n.attrs["form"] == "unqualified" {
			q.ns = ""
		}
		// Element Declarations Consistent: one name, one type within a content model, so children are attributed
		// to declarations by name.
		if d, ok := ct.byName[q]; ok {
			p.elem = d
			break
		}
		d := &elemDecl{name: q}
		ct.byName[q] = d
		if err := s.fillElement(d, n); err != nil {
			return nil, fmt.Errorf("element %s: %w", name, err)
		}
		p.elem = d
	default:
		return nil, fmt.Errorf("unsupported particle <xs:%s>", n.kind)
	}
	return p, nil
}

func (s *Schema) fillElement(d *elemDecl, n *xnode) error {
	if tn := n.attrs["type"]; tn != "" {
		t, err := s.typeRef(tn)
		if err != nil {
			return err
		}
		d.typ = t
	}
	for _, k := range n.kids {
		switch k.kind {
		case "complexType":
			t := &xtype{name: d.name.local, complex: &ctype{}, done: true}
			d.typ = t
			if err := s.fillComplex(t.complex, k); err != nil {
				return err
			}
		case "simpleType":
			st, err := s.compileSimple(k, d.name.local)
			if err != nil {
				return err
			}
			d.typ = &xtype{name: d.name.local, simple: st, done: true}
		case "unique":
			if !isBomRefUnique(k) {
				return errors.New("unsupported identity constraint")
			}
			d.unique = true
		default:
			return fmt.Errorf("unsupported <xs:%s> in element", k.kind)
		}
	}
	return nil
}

// isBomRefUnique recognises the one identity constraint the schemas declare: every @bom-ref below <bom> unique.
func isBomRefUnique(n *xnode) bool {
	var sel, field string
	for _, k := range n.kids {
		switch k.kind {
		case "selector":
			sel = k.attrs["xpath"]
		case "field":
			field = k.attrs["xpath"]
		}
	}
	return sel == ".//*" && field == "@bom-ref"
}

var builtins = map[string]int{
	"string": wsPreserve, "normalizedString": wsReplace, "token": wsCollapse, "anyURI": wsCollapse,
	"dateTime": wsCollapse, "date": wsCollapse, "time": wsCollapse, "boolean": wsCollapse, "decimal": wsCollapse,
	"integer": wsCollapse, "nonNegativeInteger": wsCollapse, "positiveInteger": wsCollapse, "int": wsCollapse,
	"long": wsCollapse, "double": wsCollapse, "float": wsCollapse, "base64Binary": wsCollapse,
	"language": wsCollapse, "NMTOKEN": wsCollapse, "Name": wsCollapse, "NCName": wsCollapse, "ID": wsCollapse,
	"IDREF": wsCollapse, "anySimpleType": wsPreserve,
}

func builtin(name string) (*stype, error) {
	ws, ok := builtins[name]
	if !ok {
		return nil, fmt.Errorf("unsupported built-in type xs:%s", name)
	}
	return &stype{name: "xs:" + name, builtin: name, ws: ws, minLen: -1, maxLen: -1}, nil
}

// xsdRegexp translates an XSD pattern to Go syntax: XSD patterns match the whole value and treat ^ and $ as
// ordinary characters outside character classes.
func xsdRegexp(p string) string {
	var b strings.Builder
	b.WriteString(`^(?:`)
	inClass := false
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\\' && i+1 < len(p):
			b.WriteByte(c)
			b.WriteByte(p[i+1])
			i++
			continue
		case c == '[':
			inClass = true
		case c == ']':
			inClass = false
		case !inClass && (c == '^' || c == '$'):
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	b.WriteString(`)$`)
	return b.String()
}
