package xsd

import (
	"sort"
	"strings"
)

// A content model compiles to a Thompson NFA over child element names. Checking children is then one pass over
// them carrying a set of NFA states: time linear in the number of children times the size of the model, whatever
// the document does (a search over positions can be made quadratic by a sequence of optional particles repeated
// without bound, followed by many foreign-namespace elements). The pass also tells exactly which child went wrong
// and what was expected there.

type nfaState struct {
	match *particle // element or wildcard consumed to go to next; nil for a state with only ε-moves
	next  int
	eps   []int
}

type nfa struct {
	states []nfaState
	start  int
	accept int
}

// maxUnroll bounds how many copies of a particle a bounded maxOccurs is unrolled into. The schemas only use 0, 1
// and unbounded; a larger bound is treated as unbounded, accepting slightly more than the schema.
const maxUnroll = 16

func buildNFA(p *particle) *nfa {
	n := &nfa{}
	n.start, n.accept = n.frag(p)
	return n
}

func (n *nfa) add() int {
	n.states = append(n.states, nfaState{next: -1})
	return len(n.states) - 1
}

func (n *nfa) link(from, to int) { n.states[from].eps = append(n.states[from].eps, to) }

// frag builds p with its occurrence range and returns its entry and exit states.
func (n *nfa) frag(p *particle) (int, int) {
	start := n.add()
	cur := start
	for i := 0; i < p.min; i++ {
		s, e := n.once(p)
		n.link(cur, s)
		cur = e
	}
	end := n.add()
	max := p.max
	if max > maxUnroll {
		max = -1
	}
	switch {
	case max < 0:
		s, e := n.once(p)
		n.link(cur, s)
		n.link(e, cur)
		n.link(cur, end)
	default:
		for i := p.min; i < max; i++ {
			s, e := n.once(p)
			n.link(cur, s)
			n.link(cur, end)
			cur = e
		}
		n.link(cur, end)
	}
	return start, end
}

// once builds a single occurrence of p.
func (n *nfa) once(p *particle) (int, int) {
	switch p.kind {
	case pElem, pAny:
		s, e := n.add(), n.add()
		n.states[s].match, n.states[s].next = p, e
		return s, e
	case pSeq:
		s := n.add()
		cur := s
		for _, k := range p.kids {
			ks, ke := n.frag(k)
			n.link(cur, ks)
			cur = ke
		}
		return s, cur
	default: // pChoice
		s, e := n.add(), n.add()
		for _, k := range p.kids {
			ks, ke := n.frag(k)
			n.link(s, ks)
			n.link(ke, e)
		}
		return s, e
	}
}

// nfaRun simulates an NFA; its buffers are reused across elements of one document.
type nfaRun struct {
	mark  []int
	stamp int
	cur   []int
	next  []int
	stack []int
}

// closure adds to set every state reachable from the seeds by ε-moves.
func (r *nfaRun) closure(n *nfa, seeds []int, set []int) []int {
	if len(r.mark) < len(n.states) {
		r.mark = make([]int, len(n.states))
		r.stamp = 0
	}
	r.stamp++
	r.stack = append(r.stack[:0], seeds...)
	for len(r.stack) > 0 {
		s := r.stack[len(r.stack)-1]
		r.stack = r.stack[:len(r.stack)-1]
		if r.mark[s] == r.stamp {
			continue
		}
		r.mark[s] = r.stamp
		set = append(set, s)
		r.stack = append(r.stack, n.states[s].eps...)
	}
	return set
}

// match runs the children through the NFA. It returns -1 when they fit; else the index of the first child that
// cannot be there (len(kids) when the children end too early), and the names the model expected at that point.
func (v *Validator) match(n *nfa, kids []int32) (int, []string) {
	r := &v.run
	r.cur = r.closure(n, []int{n.start}, r.cur[:0])
	for i, k := range kids {
		q := v.names[k]
		r.next = r.next[:0]
		for _, s := range r.cur {
			st := &n.states[s]
			if st.match != nil && v.matchOne(st.match, q) {
				r.next = append(r.next, st.next)
			}
		}
		if len(r.next) == 0 {
			return i, expected(n, r.cur)
		}
		r.cur = r.closure(n, r.next, r.cur[:0])
	}
	for _, s := range r.cur {
		if s == n.accept {
			return -1, nil
		}
	}
	return len(kids), expected(n, r.cur)
}

// missing names the one element whose absence leaves the children incomplete, "" when it is not one element: of
// the elements the model could take after the last child, those after which it could end.
func (v *Validator) missing(n *nfa, kids []int32) string {
	r := &v.run
	// Re-run to the end to get the final state set (match left it in r.cur).
	if at, _ := v.match(n, kids); at != len(kids) {
		return ""
	}
	final := append([]int(nil), r.cur...)
	var names []string
	seen := map[string]bool{}
	for _, s := range final {
		p := n.states[s].match
		if p == nil || p.kind != pElem || seen[p.elem.name.local] {
			continue
		}
		after := r.closure(n, []int{n.states[s].next}, nil)
		for _, a := range after {
			if a == n.accept {
				seen[p.elem.name.local] = true
				names = append(names, p.elem.name.local)
				break
			}
		}
	}
	if len(names) == 1 {
		return names[0]
	}
	return ""
}

func (v *Validator) matchOne(p *particle, q qname) bool {
	if p.kind == pElem {
		return q == p.elem.name
	}
	return nsAllowed(p.anyNS, q.ns, v.s.target)
}

// expected lists what the states could consume next: element names, and "an element from another namespace".
func expected(n *nfa, set []int) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range set {
		p := n.states[s].match
		if p == nil {
			continue
		}
		name := "an extension element (" + p.anyNS + ")"
		if p.kind == pElem {
			name = "<" + p.elem.name.local + ">"
		}
		if !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

func expectedList(names []string) string {
	if len(names) == 0 {
		return "nothing more"
	}
	if len(names) > 8 {
		names = append(names[:8:8], "…")
	}
	return strings.Join(names, ", ")
}
