package match_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/match"
)

// TestEngineSharedAndBounded: one Engine matching the corpus components in parts (as a re-match matches version
// after version) finds exactly what a fresh Engine finds for each part, whether its Index grows to hold every
// advisory met or is bounded and starts afresh along the way, and whether it works out the components' keys or is
// given them as the reverse index holds them (MatchKeys with StoreKeys, as a re-match does).
func TestEngineSharedAndBounded(t *testing.T) {
	ecosystems, least := []string{"Go", "PyPI", "Bitnami"}, 1000
	if testing.Short() {
		// The race run (scripts/test) checks the engines' goroutines on one ecosystem: six times slower under the
		// detector, the whole corpus was two minutes of it.
		ecosystems, least = []string{"Go"}, 100
	}
	src := match.NewIndex(match.Options{})
	var comps []vigil.Component
	for _, eco := range ecosystems {
		loadCorpus(t, src, eco)
		for _, c := range corpusComponents(eco, readRaw(t, eco)) {
			comps = append(comps, c.comp)
		}
	}
	const parts = 8
	shared := match.New(src, match.Options{})
	all := match.SetLimit(shared, 1<<30)
	bounded := match.New(src, match.Options{})
	held := match.SetLimit(bounded, 200)
	keyed := match.New(src, match.Options{})
	findings := 0
	for p := range parts {
		part := comps[p*len(comps)/parts : (p+1)*len(comps)/parts]
		want, err := match.New(src, match.Options{}).Match(t.Context(), part)
		if err != nil {
			t.Fatal(err)
		}
		findings += len(want)
		for name, en := range map[string]*match.Engine{"shared": shared, "bounded": bounded, "keyed": keyed} {
			var got []vigil.Finding
			var err error
			if en == keyed {
				got, err = en.MatchKeys(t.Context(), part, match.StoreKeys(part))
			} else {
				got, err = en.Match(t.Context(), part)
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("%s engine, part %d (-fresh +%s):\n%s", name, p, name, diff)
			}
		}
	}
	if findings < least {
		t.Fatalf("only %d findings: too thin to compare", findings)
	}
	if b, s := held(), all(); b >= s {
		t.Errorf("the bounded engine holds %d advisories, the unbounded one %d: it never started afresh", b, s)
	}
}
