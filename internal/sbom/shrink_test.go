package sbom

import (
	"errors"
	"fmt"
	"testing"

	"github.com/vigil-dev/vigil"
)

// TestCheckShrink holds the line of the shrink rule: an empty SBOM is always refused, one removing exactly half the
// components passes, one removing more is refused; a version upgrade is a change, not a removal.
func TestCheckShrink(t *testing.T) {
	comps := func(n int, version string) []vigil.Component {
		var out []vigil.Component
		for i := range n {
			out = append(out, vigil.Component{Name: fmt.Sprintf("lib%d", i), Version: version, Purl: fmt.Sprintf("pkg:npm/lib%d@%s", i, version)})
		}
		return out
	}
	tests := []struct {
		name       string
		prev, next []vigil.Component
		want       string // "" when allowed
	}{
		{"first SBOM", nil, comps(3, "1"), ""},
		{"empty first SBOM", nil, nil, "sbom x.json has no components: 0 components where the current SBOM has 0 (0 added, 0 removed, 0 changed, 0 unchanged); nothing was imported"},
		{"empty replacing 4", comps(4, "1"), nil, "sbom x.json has no components: 0 components where the current SBOM has 4 (0 added, 4 removed, 0 changed, 0 unchanged); nothing was imported"},
		{"half removed", comps(4, "1"), comps(2, "1"), ""},
		{"more than half removed", comps(4, "1"), comps(1, "1"), "sbom x.json drops more than half the components: 1 components where the current SBOM has 4 (0 added, 3 removed, 0 changed, 1 unchanged); nothing was imported"},
		{"all upgraded", comps(4, "1"), comps(4, "2"), ""},
		{"all replaced by as many others", comps(2, "1"), []vigil.Component{{Name: "a"}, {Name: "b"}}, "sbom x.json drops more than half the components: 2 components where the current SBOM has 2 (2 added, 2 removed, 0 changed, 0 unchanged); nothing was imported"},
	}
	for _, tt := range tests {
		err := CheckShrink("x.json", tt.prev, tt.next)
		if tt.want == "" {
			if err != nil {
				t.Errorf("%s: %v, want allowed", tt.name, err)
			}
			continue
		}
		var se *ShrinkError
		if !errors.As(err, &se) || vigil.ErrorCode(err) != vigil.EINVALID || vigil.ErrorMessage(err) != tt.want {
			t.Errorf("%s: %v (%s), want EINVALID %q", tt.name, err, vigil.ErrorCode(err), tt.want)
		}
	}
}
