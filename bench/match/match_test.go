package match

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"testing"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/bench/sbomgen/gen"
	"github.com/vigil-dev/vigil/internal/match"
)

func corpus(tb testing.TB, def int) []*vigil.Advisory {
	tb.Helper()
	if dir := os.Getenv("VIGIL_BENCH_CORPUS"); dir != "" {
		advs, err := gen.LoadCorpus(dir)
		if err != nil {
			tb.Fatal(err)
		}
		return advs
	}
	n := def
	if s := os.Getenv("VIGIL_BENCH_ADVISORIES"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil {
			tb.Fatalf("VIGIL_BENCH_ADVISORIES: %v", err)
		}
		n = v
	}
	return gen.Synthetic(1, n)
}

func index(advs []*vigil.Advisory) *match.Index {
	x := match.NewIndex(match.Options{})
	x.Add(advs...)
	return x
}

func check(tb testing.TB, name string, set gen.Set, got []vigil.Finding) {
	tb.Helper()
	missed, unexpected := gen.Diff(set.Expected, got)
	if len(missed) > 0 || len(unexpected) > 0 {
		tb.Fatalf("%s: %d missed, %d unexpected (of %d expected)\nmissed: %v\nunexpected: %v", name, len(missed),
			len(unexpected), len(set.Expected), head(missed), head(unexpected))
	}
}

func head(s []string) []string {
	if len(s) > 10 {
		return s[:10]
	}
	return s
}

// TestExpectedFindings: 0 false positives and 0 false negatives against every generated expected-findings set,
// through the whole index and through the cold Engine path.
func TestExpectedFindings(t *testing.T) {
	advs := corpus(t, 30_000)
	x := index(advs)
	g := gen.New(advs)
	for _, n := range []int{100, 1000, 10000} {
		set := g.Generate(1, n)
		if set.Inside < n/10*9/10 || set.Unaffected < n*3/10*9/10 {
			t.Errorf("size %d: %d inside, %d unaffected: the corpus is too small for the mix", n, set.Inside, set.Unaffected)
		}
		got, err := x.Match(context.Background(), set.Components)
		if err != nil {
			t.Fatal(err)
		}
		check(t, fmt.Sprintf("Index.Match %d", n), set, got)
		cold, err := match.New(x, match.Options{}).Match(context.Background(), set.Components)
		if err != nil {
			t.Fatal(err)
		}
		check(t, fmt.Sprintf("Engine.Match %d", n), set, cold)
		t.Logf("%d components: %d inside, %d unaffected, %d unknown, %d findings", n, set.Inside, set.Unaffected, set.Unknown, len(got))
	}
}

// BenchmarkMatch is matching inside the server: the whole store in an Index, one SBOM per op.
func BenchmarkMatch(b *testing.B) {
	advs := corpus(b, 100_000)
	x := index(advs)
	g := gen.New(advs)
	for _, n := range []int{100, 1000, 10000} {
		set := g.Generate(1, n)
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			got, err := x.Match(context.Background(), set.Components) // compile what this SBOM touches, and check
			if err != nil {
				b.Fatal(err)
			}
			check(b, "warm-up", set, got)
			runtime.GC() // the corpus's garbage is not this benchmark's
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := x.Match(context.Background(), set.Components); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkEngine is the cold path without a database: look up the SBOM's keys, compile only those advisories,
// match. (scanbench measures the same through SQLite in a fresh process.)
func BenchmarkEngine(b *testing.B) {
	advs := corpus(b, 100_000)
	x := index(advs)
	g := gen.New(advs)
	for _, n := range []int{100, 1000, 10000} {
		set := g.Generate(1, n)
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				got, err := match.New(x, match.Options{}).Match(context.Background(), set.Components)
				if err != nil {
					b.Fatal(err)
				}
				if len(got) != len(set.Expected) {
					b.Fatalf("%d findings, want %d", len(got), len(set.Expected))
				}
			}
		})
	}
}

// BenchmarkPortfolio re-evaluates every version of a 200-device-version portfolio (1,000 components each) against
// the store's index: what a server does after a large feed update.
func BenchmarkPortfolio(b *testing.B) {
	advs := corpus(b, 100_000)
	x := index(advs)
	g := gen.New(advs)
	sets := make([]gen.Set, 200)
	want := 0
	for i := range sets {
		sets[i] = g.Generate(uint64(1000+i), 1000)
		want += len(sets[i].Expected)
	}
	for _, s := range sets { // compile what the portfolio touches, as a running server has
		if _, err := x.Match(context.Background(), s.Components); err != nil {
			b.Fatal(err)
		}
	}
	runtime.GC()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		found := 0
		for _, s := range sets {
			got, err := x.Match(context.Background(), s.Components)
			if err != nil {
				b.Fatal(err)
			}
			found += len(got)
		}
		if found != want {
			b.Fatalf("%d findings across the portfolio, want %d", found, want)
		}
	}
}

// BenchmarkIndexBuild is loading the store into a server's index (compilation is lazy, on first match).
func BenchmarkIndexBuild(b *testing.B) {
	advs := corpus(b, 100_000)
	b.ReportAllocs()
	for b.Loop() {
		index(advs)
	}
}
