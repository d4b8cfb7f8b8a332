package main

import (
	"archive/zip"
	"bufio"
	"bytes"
	"compress/flate"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Ecosystems and the share of records each gets, roughly as in OSV.dev (Debian and npm are the largest).
var ecosystems = []struct {
	Name   string
	Weight int
}{
	{"Debian:12", 24}, {"npm", 20}, {"PyPI", 14}, {"Maven", 14}, {"Go", 10}, {"crates.io", 6}, {"RubyGems", 6}, {"NuGet", 6},
}

// config is what the flags set.
type config struct {
	Out           string
	N             int
	Seed          uint64
	ModifyPercent float64
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("osvgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c config
	fs.StringVar(&c.Out, "out", "", "directory to write <Ecosystem>/all.zip into (required)")
	fs.IntVar(&c.N, "n", 500_000, "number of advisories")
	fs.Uint64Var(&c.Seed, "seed", 1, "seed: the same seed and n give the same corpus")
	fs.Float64Var(&c.ModifyPercent, "modify-percent", 0, "percent of records given a newer modified time and a changed range")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case c.Out == "":
		return errors.New("-out is required")
	case c.N <= 0:
		return errors.New("-n must be positive")
	case c.ModifyPercent < 0 || c.ModifyPercent > 100:
		return errors.New("-modify-percent must be within 0..100")
	}
	st, err := generate(ctx, c)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(st.PerEcosystem))
	for n := range st.PerEcosystem {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(stdout, "%-10s %8d  %s\n", n, st.PerEcosystem[n], filepath.Join(c.Out, n, "all.zip"))
	}
	fmt.Fprintf(stdout, "total      %8d  modified %d\n", c.N, st.Modified)
	return nil
}

// stats is what generate wrote.
type stats struct {
	PerEcosystem map[string]int
	Modified     int
}

// generate writes the corpus. Record i depends only on (seed, i), so a modified corpus differs from the base
// one only in the records chosen for modification.
func generate(ctx context.Context, c config) (stats, error) {
	st := stats{PerEcosystem: map[string]int{}}
	type archive struct {
		f  *os.File
		bw *bufio.Writer
		zw *zip.Writer
	}
	archives := map[string]*archive{}
	closeAll := func() error {
		var first error
		for _, a := range archives {
			for _, err := range []error{a.zw.Close(), a.bw.Flush(), a.f.Close()} {
				if err != nil && first == nil {
					first = err
				}
			}
		}
		return first
	}
	for _, e := range ecosystems {
		dir := filepath.Join(c.Out, e.Name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return st, err
		}
		f, err := os.Create(filepath.Join(dir, "all.zip"))
		if err != nil {
			return st, errors.Join(err, closeAll())
		}
		bw := bufio.NewWriterSize(f, 1<<20)
		zw := zip.NewWriter(bw)
		// Fast compression: generation speed matters more than a few percent of size.
		zw.RegisterCompressor(zip.Deflate, fastDeflate)
		archives[e.Name] = &archive{f, bw, zw}
	}
	// Records are built and encoded in parallel, a chunk per job, and written in order by this goroutine.
	const chunk = 1000
	type encoded struct {
		eco, id  string
		data     []byte
		modified bool
	}
	workers := runtime.GOMAXPROCS(0)
	type result struct {
		recs []encoded
		err  error
	}
	order := make(chan chan result, 2*workers)
	done := make(chan struct{})
	defer close(done)
	go func() {
		defer close(order)
		sem := make(chan struct{}, workers)
		for start := 0; start < c.N; start += chunk {
			out := make(chan result, 1)
			select {
			case order <- out:
			case <-done:
				return
			}
			sem <- struct{}{}
			go func(start int) {
				defer func() { <-sem }()
				end := min(start+chunk, c.N)
				recs := make([]encoded, 0, end-start)
				for i := start; i < end; i++ {
					rec, modified := record(c.Seed, i, c.ModifyPercent)
					var buf bytes.Buffer
					enc := json.NewEncoder(&buf)
					enc.SetIndent("", "  ")
					if err := enc.Encode(rec); err != nil {
						out <- result{err: err}
						return
					}
					recs = append(recs, encoded{rec.Affected[0].Package.Ecosystem, rec.ID, buf.Bytes(), modified})
				}
				out <- result{recs: recs}
			}(start)
		}
	}()
	for out := range order {
		if err := ctx.Err(); err != nil {
			return st, errors.Join(err, closeAll())
		}
		res := <-out
		if res.err != nil {
			return st, errors.Join(res.err, closeAll())
		}
		for _, e := range res.recs {
			if e.modified {
				st.Modified++
			}
			st.PerEcosystem[e.eco]++
			w, err := archives[e.eco].zw.CreateHeader(&zip.FileHeader{Name: e.id + ".json", Method: zip.Deflate,
				Modified: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
			if err != nil {
				return st, errors.Join(err, closeAll())
			}
			if _, err := w.Write(e.data); err != nil {
				return st, errors.Join(err, closeAll())
			}
		}
	}
	return st, closeAll()
}

// flateWriters recycles compressors: a flate.Writer is several hundred KB, and allocating one per entry made
// clearing memory the largest cost of generation.
var flateWriters sync.Pool

// fastDeflate is the zip compressor: deflate at BestSpeed, from the pool.
func fastDeflate(w io.Writer) (io.WriteCloser, error) {
	if fw, ok := flateWriters.Get().(*flate.Writer); ok {
		fw.Reset(w)
		return &pooledFlate{fw}, nil
	}
	fw, err := flate.NewWriter(w, flate.BestSpeed)
	if err != nil {
		return nil, err
	}
	return &pooledFlate{fw}, nil
}

type pooledFlate struct{ *flate.Writer }

func (p *pooledFlate) Close() error {
	err := p.Writer.Close()
	flateWriters.Put(p.Writer)
	return err
}

// The OSV record as written (field order follows OSV.dev's exports).
type osvRecord struct {
	SchemaVersion    string         `json:"schema_version"`
	ID               string         `json:"id"`
	Modified         string         `json:"modified"`
	Published        string         `json:"published"`
	Aliases          []string       `json:"aliases,omitempty"`
	Summary          string         `json:"summary,omitempty"`
	Details          string         `json:"details"`
	Severity         []severity     `json:"severity,omitempty"`
	Affected         []affected     `json:"affected"`
	References       []reference    `json:"references"`
	DatabaseSpecific map[string]any `json:"database_specific,omitempty"`
}

type severity struct {
	Type  string `json:"type"`
	Score string `json:"score"`
}

type affected struct {
	Package  pkg      `json:"package"`
	Ranges   []rng    `json:"ranges,omitempty"`
	Versions []string `json:"versions,omitempty"`
}

type pkg struct {
	Ecosystem string `json:"ecosystem"`
	Name      string `json:"name"`
	Purl      string `json:"purl,omitempty"`
}

type rng struct {
	Type   string              `json:"type"`
	Repo   string              `json:"repo,omitempty"`
	Events []map[string]string `json:"events"`
}

type reference struct {
	Type string `json:"type"`
	URL  string `json:"url"`
}

// rngFor returns the random source of record i: PCG seeded by (seed, i), so records are independent of each other
// and of N.
func rngFor(seed uint64, i int, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed^0x9e3779b97f4a7c15*stream, uint64(i)))
}

// chooseEcosystem picks record i's ecosystem by weight.
func chooseEcosystem(r *rand.Rand) string {
	total := 0
	for _, e := range ecosystems {
		total += e.Weight
	}
	n := r.IntN(total)
	for _, e := range ecosystems {
		if n < e.Weight {
			return e.Name
		}
		n -= e.Weight
	}
	return ecosystems[0].Name
}

var words = strings.Fields(`buffer overflow denial service remote code execution cross site scripting injection
path traversal improper validation input output memory leak null pointer dereference race condition integer
authentication bypass privilege escalation request forgery deserialization untrusted data regular expression
resource exhaustion certificate verification header parsing archive extraction symbolic link template sandbox
escape session fixation open redirect information disclosure timing side channel heap stack use after free`)

func sentence(r *rand.Rand, n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(words[r.IntN(len(words))])
	}
	return b.String()
}

// version returns a version string in the ecosystem's usual shape.
func version(r *rand.Rand, eco string, major int) string {
	minor, patch := r.IntN(20), r.IntN(30)
	switch eco {
	case "Debian:12":
		return fmt.Sprintf("%d.%d.%d-%d+deb12u%d", major, minor, patch, 1+r.IntN(3), 1+r.IntN(4))
	case "PyPI":
		if r.IntN(4) == 0 {
			return fmt.Sprintf("%d.%d", major, minor)
		}
	case "Maven":
		if r.IntN(5) == 0 {
			return fmt.Sprintf("%d.%d.%d.Final", major, minor, patch)
		}
	}
	return fmt.Sprintf("%d.%d.%d", major, minor, patch)
}

func packageName(r *rand.Rand, eco string) (name, purl string) {
	k, w := r.IntN(25_000), words[r.IntN(len(words))]
	switch eco {
	case "Go":
		name = fmt.Sprintf("github.com/org%d/%s%d", k%3000, w, k)
		return name, "pkg:golang/" + name
	case "Maven":
		name = fmt.Sprintf("org.example%d:%s-%d", k%2000, w, k)
		return name, "pkg:maven/" + strings.Replace(name, ":", "/", 1)
	case "npm":
		name = fmt.Sprintf("%s-%d", w, k)
		return name, "pkg:npm/" + name
	case "PyPI":
		name = fmt.Sprintf("py%s-%d", w, k)
		return name, "pkg:pypi/" + name
	case "crates.io":
		name = fmt.Sprintf("%s_%d", w, k)
		return name, "pkg:cargo/" + name
	case "Debian:12":
		name = fmt.Sprintf("lib%s%d", w, k)
		return name, "pkg:deb/debian/" + name + "?distro=bookworm"
	case "RubyGems":
		name = fmt.Sprintf("%s-rb%d", w, k)
		return name, "pkg:gem/" + name
	case "NuGet":
		name = fmt.Sprintf("Example%d.%s", k, strings.ToUpper(w[:1])+w[1:])
		return name, "pkg:nuget/" + name
	}
	return fmt.Sprintf("%s%d", w, k), ""
}

func ghsa(r *rand.Rand) string {
	const alphabet = "23456789cfghjmpqrvwx"
	b := []byte("GHSA-xxxx-xxxx-xxxx")
	for i := range b {
		if b[i] == 'x' {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
	}
	return string(b)
}

func hash(r *rand.Rand) string {
	const hex = "0123456789abcdef"
	b := make([]byte, 40)
	for i := range b {
		b[i] = hex[r.IntN(16)]
	}
	return string(b)
}

// record returns record i and whether it is one of the modified ones.
func record(seed uint64, i int, modifyPercent float64) (osvRecord, bool) {
	r := rngFor(seed, i, 1)
	eco := chooseEcosystem(r)
	year := 2014 + r.IntN(12)
	published := time.Date(year, time.Month(1+r.IntN(12)), 1+r.IntN(28), r.IntN(24), r.IntN(60), r.IntN(60), 0, time.UTC)
	modified := published.Add(time.Duration(r.IntN(900*24)) * time.Hour)
	cve := fmt.Sprintf("CVE-%d-%d", year, 1000+i)
	var id string
	switch eco {
	case "PyPI":
		id = fmt.Sprintf("PYSEC-%d-%d", year, i)
	case "Go":
		id = fmt.Sprintf("GO-%d-%d", year, i)
	case "crates.io":
		id = fmt.Sprintf("RUSTSEC-%d-%d", year, i)
	case "Debian:12":
		id = fmt.Sprintf("DEBIAN-%s", cve)
	default:
		id = ghsa(r)
		// GHSA ids are random; a suffix keeps them unique across a large corpus.
		suffix := strconv.FormatInt(int64(i%1_000_000), 36)
		id = id[:len(id)-4] + strings.Repeat("0", 4-len(suffix)) + suffix
	}
	rec := osvRecord{
		SchemaVersion: "1.6.0",
		ID:            id,
		Published:     published.Format(time.RFC3339),
		Details:       sentence(r, 40+r.IntN(200)) + ".",
	}
	if r.IntN(100) < 85 {
		rec.Aliases = append(rec.Aliases, cve)
	}
	if eco != "Debian:12" && !strings.HasPrefix(id, "GHSA-") && r.IntN(100) < 50 {
		rec.Aliases = append(rec.Aliases, ghsa(r))
	}
	if eco != "Debian:12" {
		rec.Summary = sentence(r, 4+r.IntN(8))
	}
	if r.IntN(100) < 50 {
		av := []string{"N", "A", "L", "P"}[r.IntN(4)]
		cia := []string{"N", "L", "H"}
		rec.Severity = []severity{{Type: "CVSS_V3", Score: fmt.Sprintf("CVSS:3.1/AV:%s/AC:L/PR:N/UI:N/S:U/C:%s/I:%s/A:%s",
			av, cia[r.IntN(3)], cia[r.IntN(3)], cia[r.IntN(3)])}}
	}

	name, purl := packageName(r, eco)
	typ := "ECOSYSTEM"
	if eco == "Go" || eco == "npm" || eco == "crates.io" {
		typ = "SEMVER"
	}
	major := r.IntN(8)
	var events []map[string]string
	switch shape := r.IntN(100); {
	case shape < 55: // introduced 0, fixed
		events = []map[string]string{{"introduced": "0"}, {"fixed": version(r, eco, major+1)}}
	case shape < 70: // introduced, fixed
		events = []map[string]string{{"introduced": version(r, eco, major)}, {"fixed": version(r, eco, major+1)}}
	case shape < 80: // last_affected
		events = []map[string]string{{"introduced": "0"}, {"last_affected": version(r, eco, major)}}
	case shape < 95: // several introduced/fixed pairs (like Go's stdlib records)
		for k := 0; k < 2+r.IntN(3); k++ {
			events = append(events, map[string]string{"introduced": version(r, eco, major+2*k)},
				map[string]string{"fixed": version(r, eco, major+2*k+1)})
		}
	default: // no fix yet
		events = []map[string]string{{"introduced": "0"}}
	}
	af := affected{Package: pkg{Ecosystem: eco, Name: name, Purl: purl}, Ranges: []rng{{Type: typ, Events: events}}}
	if eco == "PyPI" && r.IntN(100) < 40 {
		af.Ranges = append([]rng{{Type: "GIT", Repo: fmt.Sprintf("https://github.com/org%d/%s", r.IntN(3000), name),
			Events: []map[string]string{{"introduced": "0"}, {"fixed": hash(r)}}}}, af.Ranges...)
	}
	if eco == "PyPI" && r.IntN(100) < 80 || eco == "RubyGems" && r.IntN(100) < 20 {
		for k, n := 0, 5+r.IntN(40); k < n; k++ {
			af.Versions = append(af.Versions, fmt.Sprintf("%d.%d.%d", major, k/10, k%10))
		}
	}
	rec.Affected = []affected{af}
	if r.IntN(100) < 15 { // a second package (another module or artifact of the same project)
		second := af
		second.Package.Name, second.Package.Purl = packageName(r, eco)
		second.Versions = nil
		rec.Affected = append(rec.Affected, second)
	}
	for k := 0; k < 1+r.IntN(5); k++ {
		t := []string{"ADVISORY", "WEB", "FIX", "PACKAGE", "REPORT"}[r.IntN(5)]
		rec.References = append(rec.References, reference{t, fmt.Sprintf("https://example.org/%s/%d/%d", strings.ToLower(t), i, k)})
	}
	if eco == "Debian:12" {
		rec.DatabaseSpecific = map[string]any{"urgency": []string{"low", "medium", "high", "not yet assigned"}[r.IntN(4)]}
	}

	// The modification uses its own random stream so the base record above is the same with or without it.
	m := rngFor(seed, i, 2)
	isModified := modifyPercent > 0 && m.Float64()*100 < modifyPercent
	if isModified {
		modified = modified.Add(time.Duration(24+m.IntN(24*365)) * time.Hour)
		rg := &rec.Affected[0].Ranges[len(rec.Affected[0].Ranges)-1]
		last := rg.Events[len(rg.Events)-1]
		if _, ok := last["introduced"]; ok {
			// Not fixed before: now it is.
			rg.Events = append(rg.Events, map[string]string{"fixed": version(m, eco, major+9)})
		} else {
			// A backport or a correction: the last fix or last affected version moves.
			for k, v := range last {
				last[k] = v + ".1"
			}
		}
	}
	rec.Modified = modified.Format(time.RFC3339)
	return rec, isModified
}
