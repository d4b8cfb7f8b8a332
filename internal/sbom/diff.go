package sbom

import (
	"maps"
	"sort"
	"strings"

	"github.com/package-url/packageurl-go"

	"github.com/vigil-dev/vigil"
)

// DiffResult is what changed from one component list (the SBOM imported before) to another (the new one).
// Every list is sorted by Key, then version, so the same two inputs always give the same result.
type DiffResult struct {
	Added     []vigil.Component `json:"added"`
	Removed   []vigil.Component `json:"removed"`
	Changed   []Change          `json:"changed"`
	Unchanged int               `json:"unchanged"`
}

// Change is a component present in both lists under the same Key whose data differs, typically its version.
type Change struct {
	Key    string          `json:"key"`
	Old    vigil.Component `json:"old"`
	New    vigil.Component `json:"new"`
	Fields []string        `json:"fields"` // the JSON names of the fields that differ: version, purl, hashes, ...
}

// Empty reports whether nothing was added, removed or changed.
func (d DiffResult) Empty() bool {
	return len(d.Added) == 0 && len(d.Removed) == 0 && len(d.Changed) == 0
}

// identityQualifiers are the purl qualifiers that make a different artifact rather than a different build of the
// same one (a Debian package for another architecture, a Maven sources jar). Others (distro, repository_url,
// download_url, checksum) change from release to release and would hide an upgrade as a remove plus an add.
var identityQualifiers = map[string]bool{"arch": true, "classifier": true, "type": true, "os": true}

// Key identifies a component across SBOM versions: its purl without version and without qualifiers that vary
// between releases, else "group/name" lower-cased (CPE-only firmware, hand-written SBOMs).
func Key(c vigil.Component) string {
	if c.Purl != "" {
		if p, err := packageurl.FromString(c.Purl); err == nil {
			var qs packageurl.Qualifiers
			for _, q := range p.Qualifiers {
				if identityQualifiers[q.Key] {
					qs = append(qs, q)
				}
			}
			p.Version, p.Qualifiers = "", qs
			return p.ToString()
		}
	}
	name := strings.ToLower(strings.TrimSpace(c.Name))
	if g := strings.ToLower(strings.TrimSpace(c.Group)); g != "" {
		return g + "/" + name
	}
	return name
}

// Diff compares two component lists by Key. Several components may share a key (two versions of one npm package
// in one tree): identical ones pair first, then ones with the same version, then the rest in version order, so an
// upgrade of one copy shows as one change rather than as a removal and an addition.
func Diff(old, new []vigil.Component) DiffResult {
	res := DiffResult{Added: []vigil.Component{}, Removed: []vigil.Component{}, Changed: []Change{}}
	byKey := func(cs []vigil.Component) map[string][]vigil.Component {
		m := make(map[string][]vigil.Component)
		for _, c := range cs {
			k := Key(c)
			m[k] = append(m[k], c)
		}
		return m
	}
	olds, news := byKey(old), byKey(new)
	keys := make(map[string]bool, len(olds)+len(news))
	for k := range olds {
		keys[k] = true
	}
	for k := range news {
		keys[k] = true
	}
	for _, k := range sorted(keys) {
		o, n := sortByVersion(olds[k]), sortByVersion(news[k])
		o, n = pairOff(o, n, func(a, b vigil.Component) bool { return len(changedFields(a, b)) == 0 }, func(a, b vigil.Component) {
			res.Unchanged++
		})
		pair := func(a, b vigil.Component) {
			res.Changed = append(res.Changed, Change{Key: k, Old: a, New: b, Fields: changedFields(a, b)})
		}
		o, n = pairOff(o, n, func(a, b vigil.Component) bool { return a.Version == b.Version }, pair)
		for len(o) > 0 && len(n) > 0 {
			pair(o[0], n[0])
			o, n = o[1:], n[1:]
		}
		res.Removed = append(res.Removed, o...)
		res.Added = append(res.Added, n...)
	}
	return res
}

// pairOff pairs each a with the first unpaired b for which match holds, calls paired for each pair, and returns
// the unpaired rest of both lists in order.
func pairOff(as, bs []vigil.Component, match func(a, b vigil.Component) bool, paired func(a, b vigil.Component)) ([]vigil.Component, []vigil.Component) {
	used := make([]bool, len(bs))
	var restA []vigil.Component
	for _, a := range as {
		found := false
		for j, b := range bs {
			if !used[j] && match(a, b) {
				used[j], found = true, true
				paired(a, b)
				break
			}
		}
		if !found {
			restA = append(restA, a)
		}
	}
	var restB []vigil.Component
	for j, b := range bs {
		if !used[j] {
			restB = append(restB, b)
		}
	}
	return restA, restB
}

func sortByVersion(cs []vigil.Component) []vigil.Component {
	out := append([]vigil.Component(nil), cs...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out
}

func sorted(m map[string]bool) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// changedFields lists the JSON names of the SBOM-derived fields that differ. Store-assigned fields (ID, VersionID)
// are not compared: the old list usually comes from the store, the new one from a file.
func changedFields(a, b vigil.Component) []string {
	var f []string
	add := func(name string, differ bool) {
		if differ {
			f = append(f, name)
		}
	}
	add("name", a.Name != b.Name)
	add("group", a.Group != b.Group)
	add("version", a.Version != b.Version)
	add("purl", a.Purl != b.Purl)
	add("cpe", a.CPE != b.CPE)
	add("supplier", a.Supplier != b.Supplier)
	add("hashes", !maps.Equal(a.Hashes, b.Hashes))
	add("support", a.Support != b.Support)
	add("end_of_support", !sameDate(a.EndOfSupport, b.EndOfSupport))
	add("support_note", a.SupportNote != b.SupportNote)
	add("type", a.Type != b.Type)
	return f
}

func sameDate(a, b *vigil.Date) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(*b)
}
