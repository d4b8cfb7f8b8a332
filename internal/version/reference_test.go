package version_test

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/version"
)

// refCase is one assertion of an ecosystem tool's own test suite, transcribed in testdata/reference.
type refCase struct {
	line int
	kind string // "valid", "invalid", "warn", or "cmp"
	a, b string
	op   string // "<", "=", ">" or "!=" for kind "cmp"
}

// readReference reads a transcribed suite. Its header must name the source repository, path and commit; a chain
// "a < b < c" (or "a = b = c") stands for every pair, as the source's array checks assert every pair.
func readReference(t *testing.T, name string) []refCase {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "reference", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []refCase
	provenance := map[string]bool{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		for _, k := range []string{"# Source: https://github.com/", "# Path: ", "# Commit: "} {
			if strings.HasPrefix(line, k) && len(line) > len(k) {
				provenance[k] = true
			}
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields, err := splitFields(line)
		if err != nil {
			t.Fatalf("%s:%d: %v", name, n, err)
		}
		switch {
		case len(fields) == 2 && (fields[0] == "valid" || fields[0] == "invalid" || fields[0] == "warn"):
			out = append(out, refCase{line: n, kind: fields[0], a: fields[1]})
		case len(fields) >= 3 && len(fields)%2 == 1:
			op := fields[1]
			vs := []string{fields[0]}
			for i := 1; i < len(fields); i += 2 {
				if fields[i] != op || !strings.Contains("< = > !=", op) || (op == "!=" || op == ">") && len(fields) > 3 {
					t.Fatalf("%s:%d: want \"a op b\" or a chain of one op (< or =), got %q", name, n, line)
				}
				vs = append(vs, fields[i+1])
			}
			for i := range vs {
				for j := i + 1; j < len(vs); j++ {
					out = append(out, refCase{line: n, kind: "cmp", a: vs[i], b: vs[j], op: op})
				}
			}
		default:
			t.Fatalf("%s:%d: cannot read %q", name, n, line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(provenance) != 3 {
		t.Fatalf("%s: the header must name the source (# Source: https://github.com/..., # Path:, # Commit:)", name)
	}
	return out
}

// splitFields splits at spaces; a field starting with '"' is a Go-quoted string and may hold spaces.
func splitFields(line string) ([]string, error) {
	var out []string
	for rest := strings.TrimSpace(line); rest != ""; rest = strings.TrimLeft(rest, " ") {
		if rest[0] == '"' {
			q, err := strconv.QuotedPrefix(rest)
			if err != nil {
				return nil, fmt.Errorf("bad quoted field: %v", err)
			}
			s, _ := strconv.Unquote(q)
			out, rest = append(out, s), rest[len(q):]
			continue
		}
		f, r, _ := strings.Cut(rest, " ")
		out, rest = append(out, f), r
	}
	return out, nil
}

// TestReferenceSuites holds each comparator to its ecosystem tool's own published test suite: Maven's
// ComparableVersionTest, apk-tools' version.data, dpkg's Dpkg_Version.t and t-version.c, and RubyGems'
// test_gem_version.rb. Every comparison runs both ways round.
func TestReferenceSuites(t *testing.T) {
	tests := []struct {
		file, eco string
		cases     int // as counted from the file, so a truncated transcription fails
	}{
		{"maven.txt", "Maven", 977},
		{"apk.txt", "Alpine", 769},
		{"dpkg.txt", "Debian", 170},
		{"rubygems.txt", "RubyGems", 37},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			cases := readReference(t, tt.file)
			if len(cases) != tt.cases {
				t.Errorf("%d cases, want %d", len(cases), tt.cases)
			}
			failed := 0
			for _, c := range cases {
				if err := checkRef(tt.eco, c); err != nil {
					failed++
					t.Errorf("line %d: %v", c.line, err)
				}
			}
			t.Logf("%s: %d of %d cases pass", tt.file, len(cases)-failed, len(cases))
		})
	}
}

func checkRef(eco string, c refCase) error {
	switch c.kind {
	case "invalid":
		// Refused, or ordered as the reference's comparator orders it but never silently.
		if v, err := version.Parse(eco, c.a); err == nil && v.Warning() == "" {
			return fmt.Errorf("%q: accepted without a warning, the reference calls it invalid", c.a)
		} else if err != nil && vigil.ErrorCode(err) != vigil.EINVALID {
			return fmt.Errorf("%q: %v", c.a, err)
		}
		return nil
	case "valid", "warn":
		v, err := version.Parse(eco, c.a)
		switch {
		case err != nil:
			return fmt.Errorf("%q: %v", c.a, err)
		case c.kind == "warn" && v.Warning() == "":
			return fmt.Errorf("%q: accepted without the warning the reference gives", c.a)
		case c.kind == "valid" && v.Warning() != "":
			return fmt.Errorf("%q: warns %q, the reference accepts it as it is", c.a, v.Warning())
		}
		return nil
	}
	got, err := version.Compare(eco, c.a, c.b)
	if err != nil {
		return err
	}
	back, err := version.Compare(eco, c.b, c.a)
	if err != nil {
		return err
	}
	if got != -back {
		return fmt.Errorf("%s vs %s = %d but reverse %d", c.a, c.b, got, back)
	}
	want := map[string]int{"<": -1, "=": 0, ">": +1}
	if ok := c.op == "!=" && got != 0 || c.op != "!=" && got == want[c.op]; !ok {
		return fmt.Errorf("%s vs %s = %d, want %s", c.a, c.b, got, c.op)
	}
	return nil
}

// disputedLine is a line of an osv-semantic-versions fixture that the ecosystem's own tool answers differently,
// with the tool's answer.
type disputedLine struct {
	key string // fixture:line
	eco string
	ref refCase
}

// readDisputed reads testdata/reference/osv-scalibr-disputed.txt: "fixture:line" then the tool's answer in the
// reference suites' syntax.
func readDisputed(t *testing.T) []disputedLine {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "reference", "osv-scalibr-disputed.txt"))
	if err != nil {
		t.Fatal(err)
	}
	ecos := map[string]string{"alpine": "Alpine", "maven": "Maven", "rubygems": "RubyGems", "debian": "Debian"}
	var out []disputedLine
	for n, line := range strings.Split(string(data), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, rest, _ := strings.Cut(line, " ")
		file, _, _ := strings.Cut(key, ":")
		eco := ecos[strings.SplitN(file, "-", 2)[0]]
		fields, err := splitFields(rest)
		if err != nil || eco == "" {
			t.Fatalf("osv-scalibr-disputed.txt:%d: cannot read %q", n+1, line)
		}
		c := refCase{line: n + 1, kind: "cmp"}
		switch len(fields) {
		case 2:
			c.kind, c.a = fields[0], fields[1]
		case 3:
			c.a, c.op, c.b = fields[0], fields[1], fields[2]
		default:
			t.Fatalf("osv-scalibr-disputed.txt:%d: cannot read %q", n+1, line)
		}
		out = append(out, disputedLine{key: key, eco: eco, ref: c})
	}
	return out
}

// TestDisputed holds Vigil to the ecosystem tool's answer on each osv-scalibr fixture line the tool disputes.
func TestDisputed(t *testing.T) {
	for _, d := range readDisputed(t) {
		if err := checkRef(d.eco, d.ref); err != nil {
			t.Errorf("%s: %v", d.key, err)
		}
	}
}
