package match_test

import (
	"context"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/match"
)

// FuzzMatch throws arbitrary ecosystems, range types, bounds, versions lists and component versions at the
// engine. It must never panic and must keep its promises: at most one finding per (component, id); an open
// finding names its range; a "could not evaluate" names its reason; a component version written verbatim in the
// versions list is affected; introduced "0" with nothing after it covers every version Vigil can read.
func FuzzMatch(f *testing.F) {
	f.Add("PyPI", "ECOSYSTEM", "1.0", "2.0", "", "", "1.5", "1.5")
	f.Add("Go", "SEMVER", "0", "1.6.0", "", "", "", "v1.5.0")
	f.Add("Bitnami", "SEMVER", "5.16.1", "", "5.16.1", "", "", "5.16.1")
	f.Add("npm", "SEMVER", "nightly.2026-03-10.0", "4.6.0", "", "", "", "4.5.0")
	f.Add("Debian:11", "ECOSYSTEM", "0", "1.1.1o-1", "", "", "", "1.1.1n-0+deb11u3")
	f.Add("Maven", "ECOSYSTEM", "2.0-beta9", "2.15.0", "", "3.0", "2.7", "2.7.0")
	f.Add("Android", "ECOSYSTEM", "0", "14", "", "", "13", "13")
	f.Add("PyPI", "GIT", "0", "74ea7cf7a6a27a4eeb2ae24e162bcc942a6706d5", "", "", "", "74ea7cf7a6a27a4eeb2ae24e162bcc942a6706d5")
	f.Add("Alpine:v3.18", "ECOSYSTEM", "1.0.2p-r0", "", "", "*", "", "1.0.2q-r0")
	f.Fuzz(func(t *testing.T, eco, typ, intro, fixed, last, limit, listed, v string) {
		var events []vigil.RangeEvent
		if intro != "" {
			events = append(events, vigil.RangeEvent{Introduced: intro})
		}
		if fixed != "" {
			events = append(events, vigil.RangeEvent{Fixed: fixed})
		}
		if last != "" {
			events = append(events, vigil.RangeEvent{LastAffected: last})
		}
		if limit != "" {
			events = append(events, vigil.RangeEvent{Limit: limit})
		}
		af := vigil.Affected{Ecosystem: eco, Name: "pkg", Ranges: []vigil.Range{{Type: typ, Events: events}}}
		if listed != "" {
			af.Versions = []string{listed}
		}
		x := match.NewIndex(match.Options{Ecosystem: eco})
		x.Add(&vigil.Advisory{Source: vigil.SourceOSV, ID: "FUZZ-1", Affected: []vigil.Affected{af}})
		comp := vigil.Component{Name: "pkg", Version: v}
		got, err := x.Match(context.Background(), []vigil.Component{comp, comp})
		if err != nil {
			t.Fatalf("Match: %v", err)
		}
		if len(got) > 1 {
			t.Fatalf("%d findings for one (component, id)", len(got))
		}
		for _, f := range got {
			switch f.State {
			case vigil.FindingOpen:
				if f.Evidence.Range == "" {
					t.Fatalf("open finding without a range: %+v", f.Evidence)
				}
			case vigil.FindingCouldNotEval:
				if f.Evidence.Reason == "" {
					t.Fatalf("could_not_evaluate without a reason")
				}
			default:
				t.Fatalf("state %q", f.State)
			}
		}
		if len(match.Identify(comp, match.Options{Ecosystem: eco})) == 0 {
			return // the declared ecosystem has no matcher: nothing may be found, nothing is promised
		}
		if listed != "" && listed == v && (len(got) != 1 || got[0].State != vigil.FindingOpen) &&
			strings.TrimSpace(v) == v && !strings.ContainsAny(eco, ":") {
			t.Fatalf("version %q listed verbatim but not affected: %+v", v, got)
		}
	})
}
