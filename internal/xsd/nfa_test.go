package xsd

import (
	"fmt"
	"strings"
	"testing"
)

const tns = "urn:test"

func el(name string, min, max int) *particle {
	return &particle{kind: pElem, min: min, max: max, elem: &elemDecl{name: qname{tns, name}}}
}

func anyOther(min, max int) *particle {
	return &particle{kind: pAny, min: min, max: max, anyNS: "##other"}
}

func seq(min, max int, kids ...*particle) *particle {
	return &particle{kind: pSeq, min: min, max: max, kids: kids}
}

func choice(min, max int, kids ...*particle) *particle {
	return &particle{kind: pChoice, min: min, max: max, kids: kids}
}

// TestContentModel checks the NFA matcher on content models shaped like the CycloneDX ones. Children are written
// as local names; "x:name" is an element in another namespace.
func TestContentModel(t *testing.T) {
	const u = -1 // unbounded
	tests := []struct {
		name    string
		model   *particle
		kids    string
		at      int    // -1: accepted; else index of the first child that cannot be there (len: incomplete)
		missing string // for an incomplete list, the one element that would complete it
	}{
		{"sequence ok", seq(1, 1, el("name", 1, 1), el("version", 0, 1)), "name version", -1, ""},
		{"optional left out", seq(1, 1, el("name", 1, 1), el("version", 0, 1)), "name", -1, ""},
		{"required missing", seq(1, 1, el("group", 0, 1), el("name", 1, 1), el("version", 0, 1)), "group", 1, "name"},
		{"empty but required", seq(1, 1, el("name", 1, 1)), "", 0, "name"},
		{"wrong order", seq(1, 1, el("name", 1, 1), el("version", 0, 1)), "version name", 0, ""},
		{"too many", seq(1, 1, el("name", 1, 1), el("version", 0, 1)), "name version version", 2, ""},
		{"list with extensions", seq(0, u, el("component", 1, 1), anyOther(0, u)), "component x:a x:b component", -1, ""},
		{"extension first", seq(0, u, el("component", 1, 1), anyOther(0, u)), "x:a component", 0, ""},
		{"own namespace is not ##other", seq(1, 1, el("name", 1, 1), anyOther(0, u)), "name name", 1, ""},
		{"choice repeated", choice(1, u, el("license", 1, 1), el("expression", 1, 1)), "license expression license", -1, ""},
		{"choice needs one", choice(1, u, el("license", 1, 1), el("expression", 1, 1)), "", 0, ""},
		{"license id or name", seq(1, 1, choice(1, 1, el("id", 1, 1), el("name", 1, 1)), el("text", 0, 1)), "id name", 1, ""},
		{"nullable loop then required", seq(1, 1, seq(0, u, el("a", 0, 1), el("b", 0, 1)), el("c", 1, 1)), "a b b a c", -1, ""},
		{"nullable loop, end missing", seq(1, 1, seq(0, u, el("a", 0, 1), el("b", 0, 1)), el("c", 1, 1)), "a b", 2, "c"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := &Validator{s: &Schema{target: tns}, ids: map[qname]int32{}}
			var kids []int32
			for _, k := range strings.Fields(tt.kids) {
				q := qname{tns, k}
				if local, ok := strings.CutPrefix(k, "x:"); ok {
					q = qname{"urn:other", local}
				}
				kids = append(kids, v.id(q))
			}
			n := buildNFA(tt.model)
			at, _ := v.match(n, kids)
			if at != tt.at {
				t.Fatalf("match = %d, want %d", at, tt.at)
			}
			if at == len(kids) {
				if got := v.missing(n, kids); got != tt.missing {
					t.Errorf("missing = %q, want %q", got, tt.missing)
				}
			}
		})
	}
}

// BenchmarkContentModelForeign: a repeated sequence of optional elements followed by 100,000 extension elements,
// the shape that makes a search over child positions quadratic. The NFA pass is linear.
func BenchmarkContentModelForeign(b *testing.B) {
	model := seq(0, -1, el("a", 0, 1), el("b", 0, 1), anyOther(0, -1))
	v := &Validator{s: &Schema{target: tns}, ids: map[qname]int32{}}
	kids := make([]int32, 100000)
	for i := range kids {
		kids[i] = v.id(qname{"urn:other", fmt.Sprint("e", i%7)})
	}
	n := buildNFA(model)
	for b.Loop() {
		if at, _ := v.match(n, kids); at != -1 {
			b.Fatalf("rejected at %d", at)
		}
	}
}
