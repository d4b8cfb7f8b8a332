// Package match holds the matcher's benchmarks (Go benchmarks, never timed tests): Index.Match for SBOMs of 100,
// 1,000 and 10,000 components, the cold Engine path, and re-matching a portfolio of 200 device versions, each
// checked against the exact expected findings of bench/sbomgen/gen. scanbench/ measures vigil scan as a cold
// process against a store holding the whole corpus.
//
// The corpus is bench/osvgen's output when VIGIL_BENCH_CORPUS names it, else gen.Synthetic with
// VIGIL_BENCH_ADVISORIES advisories (default 100,000; the targets are stated for 500,000).
package match
