package match

import (
	"encoding/binary"
	"slices"
	"time"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/version"
)

// A match record is what matching reads of an advisory (its source, ids, withdrawal, OSV affected data, NVD
// configurations and CSAF products) in a compact binary form that the store keeps beside the advisory's JSON
// document. A re-match of a whole portfolio reads hundreds of thousands of advisories: decoding the full JSON
// (titles, details, references, scores) was most of its time, and a record decodes an order of magnitude faster
// into the same Index. Everything a finding shows beyond the ids is read from the document when it is shown.
//
// Layout: a format byte, then the fields in declaration order; strings and slices as a uvarint length and their
// contents, booleans as one byte, the withdrawal time as a varint of Unix nanoseconds (0 when not withdrawn). Since
// format 2 an affected package's versions list is stored in match order (its entries that are versions of its
// ecosystem sorted in that ecosystem's order, ties as written, then the others as written) after the count of the
// ordered ones (vigil.Affected.Ordered): a scan then finds a component's version in a list by binary search,
// parsing a handful of entries, instead of parsing and sorting every list it meets.

// recordFormat is the first byte of every record; a new layout gets a new value and the store rebuilds its records
// (migration 37 re-encoded format 1). The stored order is internal/version's: a change of an ecosystem's order
// needs a new format too, so that the store rebuilds its lists.
const recordFormat = 2

// recordFormat1 is the layout before lists were stored in match order; DecodeRecord still reads it (Ordered 0),
// for the migration that re-encodes it.
const recordFormat1 = 1

// EncodeRecord returns a's match record.
func EncodeRecord(a *vigil.Advisory) []byte {
	e := recEncoder{b: make([]byte, 0, 256)}
	e.b = append(e.b, recordFormat)
	e.str(a.Source)
	e.str(a.ID)
	e.strs(a.Aliases)
	e.str(a.Document)
	var wd int64
	if !a.Withdrawn.IsZero() {
		wd = a.Withdrawn.UnixNano()
		if wd == 0 {
			wd = 1 // the epoch itself still means withdrawn
		}
	}
	e.b = binary.AppendVarint(e.b, wd)
	e.n(len(a.Affected))
	for i := range a.Affected {
		af := &a.Affected[i]
		e.str(af.Ecosystem)
		e.str(af.Name)
		e.str(af.Purl)
		e.n(len(af.Ranges))
		for _, r := range af.Ranges {
			e.str(r.Type)
			e.str(r.Repo)
			e.n(len(r.Events))
			for _, ev := range r.Events {
				e.str(ev.Introduced)
				e.str(ev.Fixed)
				e.str(ev.LastAffected)
				e.str(ev.Limit)
			}
		}
		vs, ordered := matchOrder(af.Ecosystem, af.Versions, version.Parse)
		e.n(ordered)
		e.strs(vs)
		e.strs(af.CPEs)
	}
	e.n(len(a.Configurations))
	for _, c := range a.Configurations {
		e.str(c.Operator)
		e.bool(c.Negate)
		e.n(len(c.Nodes))
		for _, nd := range c.Nodes {
			e.str(nd.Operator)
			e.bool(nd.Negate)
			e.n(len(nd.Matches))
			for _, m := range nd.Matches {
				e.bool(m.Vulnerable)
				e.str(m.Criteria)
				e.str(m.VersionStartIncluding)
				e.str(m.VersionStartExcluding)
				e.str(m.VersionEndIncluding)
				e.str(m.VersionEndExcluding)
			}
		}
	}
	e.n(len(a.Products))
	for _, p := range a.Products {
		e.str(p.ID)
		e.str(p.Vendor)
		e.str(p.Name)
		e.str(p.Version)
		e.str(p.VersionRange)
		e.str(p.CPE)
		e.str(p.Purl)
		e.strs(p.ModelNumbers)
		e.strs(p.SKUs)
		e.str(p.Status)
	}
	return e.b
}

type recEncoder struct{ b []byte }

func (e *recEncoder) n(n int)      { e.b = binary.AppendUvarint(e.b, uint64(n)) }
func (e *recEncoder) str(s string) { e.n(len(s)); e.b = append(e.b, s...) }
func (e *recEncoder) strs(s []string) {
	e.n(len(s))
	for _, x := range s {
		e.str(x)
	}
}
func (e *recEncoder) bool(v bool) {
	if v {
		e.b = append(e.b, 1)
	} else {
		e.b = append(e.b, 0)
	}
}

// DecodeRecord returns the advisory a match record holds: the fields EncodeRecord writes, the others zero, each
// versions list in match order with its Ordered count. An empty slice decodes as nil. Strings share one copy of b. A truncated or foreign record is EINVALID.
func DecodeRecord(b []byte) (*vigil.Advisory, error) {
	if len(b) == 0 || b[0] != recordFormat && b[0] != recordFormat1 {
		return nil, vigil.Errorf(vigil.EINVALID, "match record: unknown format")
	}
	ordered := b[0] != recordFormat1
	d := recDecoder{s: string(b[1:])}
	a := &vigil.Advisory{}
	a.Source = d.str()
	a.ID = d.str()
	a.Aliases = d.strs()
	a.Document = d.str()
	if wd := d.varint(); wd != 0 {
		a.Withdrawn = time.Unix(0, wd).UTC()
	}
	if n := d.count(); n > 0 {
		a.Affected = make([]vigil.Affected, n)
		for i := range a.Affected {
			af := &a.Affected[i]
			af.Ecosystem = d.str()
			af.Name = d.str()
			af.Purl = d.str()
			if n := d.count(); n > 0 {
				af.Ranges = make([]vigil.Range, n)
				for j := range af.Ranges {
					r := &af.Ranges[j]
					r.Type = d.str()
					r.Repo = d.str()
					if n := d.count(); n > 0 {
						r.Events = make([]vigil.RangeEvent, n)
						for k := range r.Events {
							ev := &r.Events[k]
							ev.Introduced, ev.Fixed, ev.LastAffected, ev.Limit = d.str(), d.str(), d.str(), d.str()
						}
					}
				}
			}
			if ordered {
				af.Ordered = d.count()
			}
			af.Versions = d.strs()
			if af.Ordered > len(af.Versions) {
				d.bad = true
			}
			af.CPEs = d.strs()
		}
	}
	if n := d.count(); n > 0 {
		a.Configurations = make([]vigil.CPEConfig, n)
		for i := range a.Configurations {
			c := &a.Configurations[i]
			c.Operator = d.str()
			c.Negate = d.bool()
			if n := d.count(); n > 0 {
				c.Nodes = make([]vigil.CPENode, n)
				for j := range c.Nodes {
					nd := &c.Nodes[j]
					nd.Operator = d.str()
					nd.Negate = d.bool()
					if n := d.count(); n > 0 {
						nd.Matches = make([]vigil.CPEMatch, n)
						for k := range nd.Matches {
							m := &nd.Matches[k]
							m.Vulnerable = d.bool()
							m.Criteria = d.str()
							m.VersionStartIncluding, m.VersionStartExcluding = d.str(), d.str()
							m.VersionEndIncluding, m.VersionEndExcluding = d.str(), d.str()
						}
					}
				}
			}
		}
	}
	if n := d.count(); n > 0 {
		a.Products = make([]vigil.Product, n)
		for i := range a.Products {
			p := &a.Products[i]
			p.ID, p.Vendor, p.Name, p.Version = d.str(), d.str(), d.str(), d.str()
			p.VersionRange, p.CPE, p.Purl = d.str(), d.str(), d.str()
			p.ModelNumbers = d.strs()
			p.SKUs = d.strs()
			p.Status = d.str()
		}
	}
	if d.bad || d.i != len(d.s) {
		return nil, vigil.Errorf(vigil.EINVALID, "match record of %q: truncated or corrupt", clip(a.ID))
	}
	return a, nil
}

// recDecoder reads a record; after the first error (bad) every read returns zero, and DecodeRecord reports it once.
type recDecoder struct {
	s   string
	i   int
	bad bool
}

func (d *recDecoder) uvarint() uint64 {
	if d.bad {
		return 0
	}
	var x uint64
	for shift := 0; shift < 64; shift += 7 {
		if d.i >= len(d.s) {
			break
		}
		c := d.s[d.i]
		d.i++
		x |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return x
		}
	}
	d.bad = true
	return 0
}

func (d *recDecoder) varint() int64 {
	u := d.uvarint()
	x := int64(u >> 1)
	if u&1 != 0 {
		x = ^x
	}
	return x
}

// count reads a length and checks it against the bytes left (each element takes at least one), so a corrupt
// record cannot make the decoder allocate more than its own size.
func (d *recDecoder) count() int {
	n := d.uvarint()
	if n > uint64(len(d.s)-d.i) {
		d.bad = true
		return 0
	}
	return int(n)
}

func (d *recDecoder) str() string {
	n := d.count()
	if d.bad {
		return ""
	}
	s := d.s[d.i : d.i+n]
	d.i += n
	return s
}

func (d *recDecoder) strs() []string {
	n := d.count()
	if n == 0 {
		return nil
	}
	out := make([]string, n)
	for i := range out {
		out[i] = d.str()
	}
	return out
}

func (d *recDecoder) bool() bool {
	if d.bad || d.i >= len(d.s) {
		d.bad = true
		return false
	}
	c := d.s[d.i]
	d.i++
	return c != 0
}

// matchOrder returns a versions list in match order and how many of its entries lead it ordered: the entries that
// parse as versions of ecosystem, sorted stably in its order, then the others as written. An ecosystem Vigil
// cannot order keeps its list as written, none ordered. The encoder and the matcher's compile of a list that
// comes without an order (a document, not a record) both use it, so both order alike.
func matchOrder(ecosystem string, vs []string, parse func(ecosystem, s string) (version.Version, error)) ([]string, int) {
	if len(vs) == 0 {
		return vs, 0
	}
	if _, known := version.Normalize(ecosystem); !known {
		return vs, 0
	}
	parsed := make([]listed, 0, len(vs))
	var rest []string
	for _, s := range vs {
		if v, err := parse(ecosystem, s); err == nil {
			parsed = append(parsed, listed{v, s})
		} else {
			rest = append(rest, s)
		}
	}
	slices.SortStableFunc(parsed, func(x, y listed) int { return x.v.Compare(y.v) })
	out := make([]string, 0, len(vs))
	for _, p := range parsed {
		out = append(out, p.src)
	}
	return append(out, rest...), len(parsed)
}
