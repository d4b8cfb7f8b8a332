package match

import (
	"fmt"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/cpe"
)

// cconfig is one NVD configuration with its criteria compiled.
type cconfig struct {
	cfg   *vigil.CPEConfig
	keys  []key           // vendor:product of every keyable criterion, vulnerable or platform
	vuln  []cpe.Criterion // the vulnerable criteria that compile
	fixed map[string]string
}

func (e *entry) nvdConfigs() []cconfig {
	e.cfgOnce.Do(func() {
		for i := range e.adv.Configurations {
			cfg := &e.adv.Configurations[i]
			cc := cconfig{cfg: cfg, fixed: map[string]string{}}
			var keys []key
			for _, n := range cfg.Nodes {
				for _, m := range n.Matches {
					cr, err := cpe.Compile(m)
					if err != nil {
						continue // Set.Evaluate reports it as undecidable, naming its path
					}
					if k, ok := cpeKey(parsedCPE(cr)); ok {
						keys = append(keys, k)
					}
					if m.Vulnerable {
						cc.vuln = append(cc.vuln, cr)
						if m.VersionEndExcluding != "" {
							cc.fixed[cr.String()] = m.VersionEndExcluding
						}
					}
				}
			}
			cc.keys = dedupKeys(keys)
			e.configs = append(e.configs, cc)
		}
	})
	return e.configs
}

// parsedCPE re-parses a compiled criterion's CPE (Criterion keeps its parse private).
func parsedCPE(cr cpe.Criterion) cpe.CPE {
	c, _ := cpe.Parse(cr.Match.Criteria)
	return c
}

// matchNVD evaluates the NVD configurations of e against the components that carry CPEs. A configuration is
// evaluated over the components whose CPE names one of its criteria's products (so an AND of firmware and the
// hardware it runs on needs both in the SBOM); each component that meets a vulnerable criterion of a matching
// configuration gets a finding. When a configuration cannot be decided (a criterion needs a version a component
// lacks), the components that name a vulnerable criterion's product get "could not evaluate".
func matchNVD(e *entry, comps []componentCPE, byKey map[key][]int, rec func(ci int, e *entry, o outcome, matcher string)) {
	for ci, cc := range e.nvdConfigs() {
		var idx []int
		seen := map[int]bool{}
		for _, k := range cc.keys {
			for _, i := range byKey[k] {
				if !seen[i] {
					seen[i] = true
					idx = append(idx, i)
				}
			}
		}
		if len(idx) == 0 {
			continue
		}
		items := make([]cpe.Item, len(idx))
		for j, i := range idx {
			items[j] = cpe.Item{CPE: comps[i].cpe.String(), Version: comps[i].version}
		}
		set, err := cpe.NewSet(items)
		if err != nil {
			continue // every item parsed once already; a CPE that does not round-trip cannot be judged
		}
		ok, hits, err := set.Evaluate(*cc.cfg)
		switch {
		case ok:
			for _, h := range hits {
				if h.Vulnerable && h.Item >= 0 && h.Item < len(idx) {
					rec(idx[h.Item], e, outcome{st: stYes, rng: h.Criterion, fixed: cc.fixed[h.Criterion]}, "nvd-cpe")
				}
			}
		case err != nil:
			reason := fmt.Sprintf("configurations[%d]: %s", ci, err.Error())
			for _, cr := range cc.vuln {
				for _, i := range idx {
					if _, merr := cr.Matches(comps[i].cpe, comps[i].version); merr != nil {
						rec(i, e, outcome{st: stUnknown, rng: cr.String(), reason: reason}, "nvd-cpe")
					}
				}
			}
		}
	}
}
