package match_test

import (
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/match"
)

// TestEngineSharedAndBounded: one Engine matching the corpus components in parts (as a re-match matches version
// after version) finds exactly what a fresh Engine finds for each part, whether its Index grows to hold every
// advisory met, is bounded and starts afresh along the way, or is told which keys the parts to come carry
// (Expect) and drops the advisories no part to come needs — holding none at the end — even when it was told of
// only some keys, and when the parts run at once.
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
	partOf := func(p int) []vigil.Component { return comps[p*len(comps)/parts : (p+1)*len(comps)/parts] }
	// What a portfolio's reverse index says: per key, the parts carrying it.
	counts, some := map[vigil.PackageKey]int{}, map[vigil.PackageKey]int{}
	for p := range parts {
		seen := map[vigil.PackageKey]bool{}
		for _, c := range partOf(p) {
			for _, k := range match.ComponentKeys(c, match.Options{}) {
				if k = match.NormalizeKey(k); !seen[k] {
					seen[k] = true
					counts[k]++
				}
			}
		}
	}
	i := 0
	for k, n := range counts {
		if i++; i%2 == 0 {
			some[k] = max(1, n/2) // a stale reverse index: half the keys unknown, the others undercounted
		}
	}
	expecting := match.New(src, match.Options{})
	expecting.Expect(counts)
	heldExpecting := match.SetLimit(expecting, 1<<30)
	partly := match.New(src, match.Options{})
	partly.Expect(some)
	heldPartly := match.SetLimit(partly, 1<<30)
	concurrent := match.New(src, match.Options{})
	concurrent.Expect(counts)
	heldConcurrent := match.SetLimit(concurrent, 1<<30)
	wants := make([][]vigil.Finding, parts)
	findings := 0
	for p := range parts {
		part := partOf(p)
		want, err := match.New(src, match.Options{}).Match(t.Context(), part)
		if err != nil {
			t.Fatal(err)
		}
		wants[p] = want
		findings += len(want)
		for name, en := range map[string]*match.Engine{"shared": shared, "bounded": bounded, "expecting": expecting, "partly told": partly} {
			got, err := en.Match(t.Context(), part)
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
	if n := heldExpecting(); n != 0 {
		t.Errorf("the expecting engine still holds %d advisories after the last part", n)
	}
	if n, s := heldPartly(), all(); n >= s {
		t.Errorf("the partly told engine holds %d advisories, the unbounded one %d: it dropped none", n, s)
	}
	var wg sync.WaitGroup
	for p := range parts {
		wg.Go(func() {
			got, err := concurrent.Match(t.Context(), partOf(p))
			if err != nil {
				t.Error(err)
				return
			}
			if diff := cmp.Diff(wants[p], got); diff != "" {
				t.Errorf("concurrent expecting engine, part %d (-fresh +got):\n%s", p, diff)
			}
		})
	}
	wg.Wait()
	if n := heldConcurrent(); n != 0 {
		t.Errorf("the concurrent expecting engine still holds %d advisories after the last part", n)
	}
}
