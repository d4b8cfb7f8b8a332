package cpe_test

import (
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-dev/vigil/internal/cpe"
)

func TestCompareVersions(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"1.0.2u", "1.0.2", +1},
		{"1.0.2u", "1.0.3", -1},
		{"1.0.2u", "1.0.2t", +1},
		{"1.0.2U", "1.0.2u", 0},
		{"2.0.1-beta", "2.0.1", -1},
		{"2.0.1beta", "2.0.1", -1},
		{"2.0.1-beta", "2.0.0", +1},
		{"2.0.1-rc1", "2.0.1-beta2", +1},
		{"2.0.1-beta10", "2.0.1-beta2", +1},
		{"1.0a1", "1.0", -1}, // a followed by a digit is alpha
		{"1.0alpha1", "1.0a1", 0},
		{"1.0-SNAPSHOT", "1.0-alpha", -1},
		{"2.4a", "2.4", +1},
		{"2.4a", "2.6a", -1},
		{"2.7a", "2.4a", +1},
		{"2.4b", "2.4a", +1},
		{"5.5p1", "5.5", +1},
		{"5.5p10", "5.5p2", +1},
		{"1.0", "1.0.0", 0},
		{"1.0.0-beta", "1.0-beta", 0},
		{"1.0.0.1", "1.0", +1},
		{"1.0.5", "1.5", -1},
		{"10.0", "9.9", +1},
		{"007", "7", 0},
		{"1.0.0", "1.0.0.0.0", 0},
		{"v1.2", "1.2", 0},
		{"V1.2", "1.2", 0},
		{"1.2.3.4", "1.2.3u", +1}, // a number after a word at the same place
		{"2019-10-01", "2019-09-30", +1},
		{"11.5", "11.4.0.3", +1},
		{"9.8", "9.10.0", -1},
		{"8.0.34", "8.0.4", +1},
		{"1.0 SP1", "1.0", +1},
		{"", "", 0},
		{"", "0", 0},
		{"", "1", -1},
		{"-", "*", 0},
		{"1.0_rc1", "1.0", -1},
		{"1.0.dev", "1.0", -1},
		{"1.0-1", "1.0", +1}, // a package revision is later
		{"99999999999999999999999", "99999999999999999999998", +1},
		{"1.é", "1", 0}, // non-ASCII is a separator
	}
	for _, tt := range tests {
		t.Run(tt.a+" vs "+tt.b, func(t *testing.T) {
			if got := cpe.CompareVersions(tt.a, tt.b); got != tt.want {
				t.Errorf("CompareVersions(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
			}
			if got := cpe.CompareVersions(tt.b, tt.a); got != -tt.want {
				t.Errorf("CompareVersions(%q, %q) = %d, want %d", tt.b, tt.a, got, -tt.want)
			}
		})
	}
}

// TestCompareVersionsSorts checks that the order is total on a mixed bag of vendor versions: sorting agrees with
// every pairwise comparison, so a range check can trust it.
func TestCompareVersionsSorts(t *testing.T) {
	vs := []string{"2.4a", "2.4", "2.6a", "2.7a", "1.0.2u", "1.0.2", "1.0.2-beta", "1.0.2rc1", "1.0.2.1", "1.0",
		"1.0.0", "1.0.0-beta", "1.0-beta", "1.0a1", "v1.0.3", "1.0.2p1", "1.0.2_sp2", "10", "9.9.9", "1.0.2-1",
		"0", "", "1.0.2-dev", "1.0.2.0.1", "1.0.02"}
	sorted := append([]string(nil), vs...)
	sort.SliceStable(sorted, func(i, j int) bool { return cpe.CompareVersions(sorted[i], sorted[j]) < 0 })
	for i := range sorted {
		for j := i + 1; j < len(sorted); j++ {
			if c := cpe.CompareVersions(sorted[i], sorted[j]); c > 0 {
				t.Errorf("sorted[%d]=%q after sorted[%d]=%q but compares %d", i, sorted[i], j, sorted[j], c)
			}
		}
	}
	// Equal versions keep their input order (a stable sort): "0" and "", "1.0.0-beta" and "1.0-beta", ...
	want := []string{"0", "", "1.0a1", "1.0.0-beta", "1.0-beta", "1.0", "1.0.0", "1.0.2-dev", "1.0.2-beta",
		"1.0.2rc1", "1.0.2", "1.0.02", "1.0.2p1", "1.0.2_sp2", "1.0.2u", "1.0.2.0.1", "1.0.2.1", "1.0.2-1", "v1.0.3",
		"2.4", "2.4a", "2.6a", "2.7a", "9.9.9", "10"}
	if diff := cmp.Diff(want, sorted); diff != "" {
		t.Errorf("sorted order (-want +got):\n%s", diff)
	}
}
