package xsd

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/vigil-dev/vigil/internal/untrusted"
)

const xsiNS = "http://www.w3.org/2001/XMLSchema-instance"

// frame is one open element during validation. Validation streams: only the names of each open element's children
// are kept (to check them against its content model when it closes), never a tree of the document.
type frame struct {
	name   qname
	path   string
	line   int
	decl   *elemDecl
	ct     *ctype
	st     *stype // simple type, or simpleContent text type
	skip   bool   // lax wildcard or xs:anyType: nothing below is checked
	kids   []int32
	counts map[int32]int
	text   strings.Builder
	hasTxt bool // non-space text seen
}

// Validator checks one document against a compiled Schema as its tokens pass: the caller hands it each start
// element, end element and text in document order. Validation streams: only the names of each open element's
// children are kept (to check them against its content model when it closes). A Validator is for one document.
type Validator struct {
	s     *Schema
	stack []*frame
	names []qname
	ids   map[qname]int32
	refs  map[string]string // bom-ref → path of first use
	run   nfaRun
}

// NewValidator returns a Validator of one document against s.
func NewValidator(s *Schema) *Validator {
	return &Validator{s: s, ids: map[qname]int32{}, refs: map[string]string{}}
}

// Error is a departure of the document from its schema: the element's path (bom/components[1]/component[2], with
// /@attr or /child for the part at fault), the line the element starts on, and what is wrong.
type Error struct {
	Path string
	Line int
	Msg  string
}

func (e *Error) Error() string { return fmt.Sprintf("%s: line %d: %s", e.Path, e.Line, e.Msg) }

// Depth returns the number of open elements.
func (v *Validator) Depth() int { return len(v.stack) }

// Start opens an element that starts on line: it must be declared where it stands, with valid attributes.
func (v *Validator) Start(t xml.StartElement, line int) error {
	f, err := v.open(v.stack, t, line)
	if err != nil {
		return err
	}
	v.stack = append(v.stack, f)
	return nil
}

// End closes the innermost open element, checking its text and its children against its type.
func (v *Validator) End() error {
	f := v.stack[len(v.stack)-1]
	v.stack = v.stack[:len(v.stack)-1]
	return v.close(f)
}

// Text records character data of the innermost open element (outside any element it is ignored).
func (v *Validator) Text(t xml.CharData) {
	if len(v.stack) == 0 {
		return
	}
	f := v.stack[len(v.stack)-1]
	if f.skip {
		return
	}
	if f.st != nil {
		f.text.Write(t)
	} else if !f.hasTxt && len(bytes.TrimSpace(t)) > 0 {
		f.hasTxt = true
	}
}

func (v *Validator) id(q qname) int32 {
	if id, ok := v.ids[q]; ok {
		return id
	}
	id := int32(len(v.names))
	v.names = append(v.names, q)
	v.ids[q] = id
	return id
}

func (v *Validator) fail(f *frame, field, format string, args ...any) error {
	path := f.path
	if field != "" {
		path += "/" + field
	}
	return &Error{Path: path, Line: f.line, Msg: fmt.Sprintf(format, args...)}
}

// open starts an element: it finds its declaration, checks its attributes and records it as a child of its parent.
func (v *Validator) open(stack []*frame, t xml.StartElement, line int) (*frame, error) {
	q := qname{t.Name.Space, t.Name.Local}
	f := &frame{name: q, line: line}
	var parent *frame
	if len(stack) > 0 {
		parent = stack[len(stack)-1]
		id := v.id(q)
		parent.kids = append(parent.kids, id)
		if parent.counts == nil {
			parent.counts = map[int32]int{}
		}
		parent.counts[id]++
		f.path = fmt.Sprintf("%s/%s[%d]", parent.path, q.local, parent.counts[id])
	} else {
		f.path = q.local
	}
	for _, a := range t.Attr {
		if a.Name.Space == "" && a.Name.Local == "bom-ref" {
			if first, dup := v.refs[a.Value]; dup {
				return nil, v.fail(f, "@bom-ref", "duplicate bom-ref %q (first used by %s)", untrusted.Clip(a.Value), first)
			}
			v.refs[a.Value] = f.path
		}
	}
	switch {
	case parent == nil:
		d, ok := v.s.elems[q]
		if !ok {
			return nil, v.fail(f, "", "element <%s> is not declared", q.local)
		}
		f.decl = d
	case parent.skip:
		f.skip = true
		return f, nil
	case parent.ct != nil:
		if d, ok := parent.ct.byName[q]; ok {
			f.decl = d
		} else {
			// Not declared here: either matched by a wildcard (checked when the parent closes) or wrong, which
			// the content model check reports with the parent's context. Either way nothing inside is checked.
			f.skip = true
			return f, nil
		}
	default:
		return nil, v.fail(f, "", "element <%s> is not allowed in <%s>, which has simple content", q.local, parent.name.local)
	}
	if f.decl.typ == nil {
		f.skip = true
		return f, nil
	}
	typ := f.decl.typ
	if typ.simple != nil {
		f.st = typ.simple
		return f, v.checkAttrs(f, t.Attr, nil)
	}
	f.ct = typ.complex
	f.st = f.ct.text
	return f, v.checkAttrs(f, t.Attr, f.ct)
}

func (v *Validator) checkAttrs(f *frame, attrs []xml.Attr, ct *ctype) error {
	seen := map[string]bool{}
	for _, a := range attrs {
		switch {
		case a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns"):
			continue
		case a.Name.Space == xsiNS:
			continue
		case a.Name.Space == "":
			var decl *attrDecl
			if ct != nil {
				decl = ct.attrs[a.Name.Local]
			}
			if decl == nil {
				if ct != nil && ct.anyAttr == "##any" {
					continue
				}
				return v.fail(f, "@"+a.Name.Local, "attribute %q is not allowed", untrusted.Clip(a.Name.Local))
			}
			seen[a.Name.Local] = true
			if decl.typ != nil {
				if err := checkSimple(decl.typ, a.Value); err != nil {
					return v.fail(f, "@"+a.Name.Local, "%v", err)
				}
			}
		default:
			// A namespaced attribute: allowed by anyAttribute ##any, or ##other when not in the schema's namespace.
			if ct != nil && (ct.anyAttr == "##any" || (ct.anyAttr == "##other" && a.Name.Space != v.s.target)) {
				continue
			}
			return v.fail(f, "@"+a.Name.Local, "attribute %q in namespace %q is not allowed", untrusted.Clip(a.Name.Local), untrusted.Clip(a.Name.Space))
		}
	}
	if ct != nil {
		for n, d := range ct.attrs {
			if d.required && !seen[n] {
				return v.fail(f, "@"+n, "required attribute %q is missing", n)
			}
		}
	}
	return nil
}

// close ends an element: text content against its simple type, children against its content model.
func (v *Validator) close(f *frame) error {
	if f.skip {
		return nil
	}
	if f.st != nil {
		if len(f.kids) > 0 {
			return v.fail(f, "", "element content is not allowed: <%s> holds text only", f.name.local)
		}
		if err := checkSimple(f.st, f.text.String()); err != nil {
			return v.fail(f, "", "%v", err)
		}
		return nil
	}
	ct := f.ct
	if ct == nil {
		return nil
	}
	if f.hasTxt && !ct.mixed {
		return v.fail(f, "", "text is not allowed in <%s>, which holds elements only", f.name.local)
	}
	if ct.content == nil {
		if len(f.kids) > 0 {
			return v.fail(f, "", "<%s> must be empty, found <%s>", f.name.local, v.names[f.kids[0]].local)
		}
		return nil
	}
	at, want := v.match(ct.nfa, f.kids)
	switch {
	case at < 0:
		return nil
	case at < len(f.kids):
		q := v.names[f.kids[at]]
		return v.fail(f, q.local, "element <%s> is not allowed here in <%s> (expected %s)", q.local, f.name.local, expectedList(want))
	default:
		if m := v.missing(ct.nfa, f.kids); m != "" {
			return v.fail(f, m, "required element <%s> is missing", m)
		}
		return v.fail(f, "", "<%s> is incomplete: expected %s", f.name.local, expectedList(want))
	}
}

// Simple type checks.

var (
	reDateTime = regexp.MustCompile(`^-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$`)
	reDate     = regexp.MustCompile(`^-?\d{4,}-\d{2}-\d{2}(Z|[+-]\d{2}:\d{2})?$`)
	reTime     = regexp.MustCompile(`^\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$`)
	reDecimal  = regexp.MustCompile(`^[+-]?(\d+(\.\d*)?|\.\d+)$`)
	reInteger  = regexp.MustCompile(`^[+-]?\d+$`)
	reLanguage = regexp.MustCompile(`^[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*$`)
)

func whitespace(ws int, s string) string {
	switch ws {
	case wsReplace:
		return strings.Map(func(r rune) rune {
			if r == '\t' || r == '\n' || r == '\r' {
				return ' '
			}
			return r
		}, s)
	case wsCollapse:
		return strings.Join(strings.Fields(s), " ")
	}
	return s
}

// checkSimple validates a lexical value against a simple type: its base first, then its own facets.
func checkSimple(st *stype, raw string) error {
	if len(st.union) > 0 {
		for _, m := range st.union {
			if checkSimple(m, raw) == nil {
				return nil
			}
		}
		return fmt.Errorf("value %q is not valid for %s", untrusted.Clip(raw), st.name)
	}
	if st.base != nil {
		if err := checkSimple(st.base, raw); err != nil {
			return err
		}
	}
	v := whitespace(st.ws, raw)
	if st.builtin != "" {
		if err := checkBuiltin(st.builtin, v); err != nil {
			return err
		}
	}
	if len(st.enums) > 0 {
		ok := false
		for _, e := range st.enums {
			if whitespace(st.ws, e) == v {
				ok = true
				break
			}
		}
		if !ok {
			return fmt.Errorf("value %q is not one of %s", untrusted.Clip(v), enumList(st.enums))
		}
	}
	if len(st.patterns) > 0 {
		// Patterns given in one derivation step are alternatives.
		ok := false
		for _, re := range st.patterns {
			if re.MatchString(v) {
				ok = true
				break
			}
		}
		if !ok {
			return fmt.Errorf("value %q does not match pattern %s", untrusted.Clip(v), untrusted.Clip(st.patSrc[0]))
		}
	}
	n := utf8.RuneCountInString(v)
	if st.minLen >= 0 && n < st.minLen {
		return fmt.Errorf("value %q is shorter than %d characters", untrusted.Clip(v), st.minLen)
	}
	if st.maxLen >= 0 && n > st.maxLen {
		return fmt.Errorf("value %q is longer than %d characters", untrusted.Clip(v), st.maxLen)
	}
	if st.minIncl != nil || st.maxIncl != nil {
		r, ok := new(big.Rat).SetString(v)
		if !ok {
			return fmt.Errorf("value %q is not a number", untrusted.Clip(v))
		}
		if st.minIncl != nil && r.Cmp(st.minIncl) < 0 {
			return fmt.Errorf("value %s is below the minimum %s", v, st.minIncl.RatString())
		}
		if st.maxIncl != nil && r.Cmp(st.maxIncl) > 0 {
			return fmt.Errorf("value %s is above the maximum %s", v, st.maxIncl.RatString())
		}
	}
	return nil
}

func enumList(es []string) string {
	if len(es) > 12 {
		return "[" + strings.Join(es[:12], ", ") + fmt.Sprintf(", … (%d values)]", len(es))
	}
	return "[" + strings.Join(es, ", ") + "]"
}

func checkBuiltin(b, v string) error {
	bad := func(what string) error { return fmt.Errorf("value %q is not a valid %s", untrusted.Clip(v), what) }
	switch b {
	case "dateTime":
		if !reDateTime.MatchString(v) {
			return bad("xs:dateTime (want YYYY-MM-DDThh:mm:ss, optional fraction and zone)")
		}
	case "date":
		if !reDate.MatchString(v) {
			return bad("xs:date (want YYYY-MM-DD)")
		}
	case "time":
		if !reTime.MatchString(v) {
			return bad("xs:time")
		}
	case "boolean":
		switch v {
		case "true", "false", "1", "0":
		default:
			return bad("xs:boolean (true, false, 1 or 0)")
		}
	case "decimal":
		if !reDecimal.MatchString(v) {
			return bad("xs:decimal")
		}
	case "integer", "int", "long":
		if !reInteger.MatchString(v) {
			return bad("xs:" + b)
		}
	case "nonNegativeInteger", "positiveInteger":
		if !reInteger.MatchString(v) {
			return bad("xs:" + b)
		}
		n, _ := new(big.Int).SetString(strings.TrimPrefix(v, "+"), 10)
		if n == nil || n.Sign() < 0 || (b == "positiveInteger" && n.Sign() == 0) {
			return bad("xs:" + b)
		}
	case "double", "float":
		switch v {
		case "INF", "-INF", "NaN":
		default:
			if _, err := strconv.ParseFloat(v, 64); err != nil {
				return bad("xs:" + b)
			}
		}
	case "base64Binary":
		if _, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(v), "")); err != nil {
			return bad("xs:base64Binary")
		}
	case "language":
		if !reLanguage.MatchString(v) {
			return bad("xs:language")
		}
	}
	return nil
}

// nsAllowed reports whether a wildcard's namespace constraint admits an element from namespace ns.
func nsAllowed(spec, ns, target string) bool {
	switch spec {
	case "##any":
		return true
	case "##other":
		return ns != target && ns != ""
	case "##targetNamespace":
		return ns == target
	case "##local":
		return ns == ""
	}
	for _, s := range strings.Fields(spec) {
		if s == ns || (s == "##targetNamespace" && ns == target) || (s == "##local" && ns == "") {
			return true
		}
	}
	return false
}
