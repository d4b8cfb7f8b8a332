package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/feed/osv"
	"github.com/vigil-dev/vigil/internal/untrusted"
)

// read parses a generated corpus with the real OSV reader, failing on any rejected record.
func read(t *testing.T, dir string) map[string]vigil.Advisory {
	t.Helper()
	out := map[string]vigil.Advisory{}
	for _, e := range ecosystems {
		err := osv.ReadZipFile(filepath.Join(dir, e.Name, "all.zip"), untrusted.Limits{}, func(name string, a vigil.Advisory) error {
			if _, dup := out[a.ID]; dup {
				t.Fatalf("%s: duplicate id %s", name, a.ID)
			}
			if a.Affected[0].Ecosystem != e.Name {
				t.Fatalf("%s: ecosystem %q in %s/all.zip", name, a.Affected[0].Ecosystem, e.Name)
			}
			out[a.ID] = a
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func digest(t *testing.T, dir string) [32]byte {
	t.Helper()
	h := sha256.New()
	for _, e := range ecosystems {
		b, err := os.ReadFile(filepath.Join(dir, e.Name, "all.zip"))
		if err != nil {
			t.Fatal(err)
		}
		h.Write(b)
	}
	var d [32]byte
	copy(d[:], h.Sum(nil))
	return d
}

func TestGenerate(t *testing.T) {
	const n = 4000
	base, again, mod := t.TempDir(), t.TempDir(), t.TempDir()
	var out bytes.Buffer
	if err := run(context.Background(), []string{"-out", base, "-n", "4000", "-seed", "7"}, &out, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "total          4000  modified 0") {
		t.Errorf("summary:\n%s", out.String())
	}
	if _, err := generate(context.Background(), config{Out: again, N: n, Seed: 7}); err != nil {
		t.Fatal(err)
	}
	if digest(t, base) != digest(t, again) {
		t.Error("the same seed and n gave different archives")
	}
	st, err := generate(context.Background(), config{Out: mod, N: n, Seed: 7, ModifyPercent: 1})
	if err != nil {
		t.Fatal(err)
	}

	advs := read(t, base)
	if len(advs) != n {
		t.Fatalf("%d advisories, want %d", len(advs), n)
	}
	shapes := map[string]int{}
	for _, a := range advs {
		for _, al := range a.Aliases {
			if strings.HasPrefix(al, "CVE-") {
				shapes["cve alias"]++
			}
		}
		if len(a.Affected) > 1 {
			shapes["two packages"]++
		}
		for _, af := range a.Affected {
			if len(af.Versions) > 0 {
				shapes["versions list"]++
			}
			for _, r := range af.Ranges {
				shapes[r.Type]++
				intro := 0
				for _, e := range r.Events {
					if e.LastAffected != "" {
						shapes["last_affected"]++
					}
					if e.Introduced != "" {
						intro++
					}
				}
				if intro > 1 {
					shapes["several introduced"]++
				} else if len(r.Events) == 1 {
					shapes["unfixed"]++
				}
			}
		}
	}
	for _, s := range []string{"cve alias", "two packages", "versions list", "ECOSYSTEM", "SEMVER", "GIT", "last_affected", "several introduced", "unfixed"} {
		if shapes[s] < n/100 {
			t.Errorf("only %d records with %s", shapes[s], s)
		}
	}

	// The modified corpus differs exactly in the records it reports: a newer modified time and a changed range.
	modAdvs := read(t, mod)
	changed := 0
	for id, a := range advs {
		m, ok := modAdvs[id]
		if !ok {
			t.Fatalf("%s missing from the modified corpus", id)
		}
		if cmp.Equal(a, m) {
			continue
		}
		changed++
		if !m.Modified.After(a.Modified) || cmp.Equal(a.Affected, m.Affected) {
			t.Errorf("%s changed without a newer modified time and a changed range", id)
		}
		a.Modified, a.Affected, m.Affected = m.Modified, nil, nil
		if diff := cmp.Diff(a, m); diff != "" {
			t.Errorf("%s: more than modified and affected changed:\n%s", id, diff)
		}
	}
	if changed != st.Modified || changed < n/200 || changed > n/50 {
		t.Errorf("%d records changed, generate reported %d; want about 1%% of %d", changed, st.Modified, n)
	}
}

func TestFlags(t *testing.T) {
	for _, args := range [][]string{{}, {"-out", t.TempDir(), "-n", "0"}, {"-out", t.TempDir(), "-modify-percent", "101"}, {"-bogus"}} {
		var out bytes.Buffer
		if err := run(context.Background(), args, &out, &out); err == nil {
			t.Errorf("run %v succeeded", args)
		}
	}
}
