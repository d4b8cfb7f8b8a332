package vigil

import "time"

// Finding states.
const (
	FindingOpen         = "open"               // matched and not yet resolved
	FindingCouldNotEval = "could_not_evaluate" // a version the comparator cannot order: never a silent miss
	FindingResolved     = "resolved"           // no longer matches (advisory withdrawn or revised, component changed)
)

// Evidence explains why a component matched a vulnerability.
type Evidence struct {
	Matcher  string `json:"matcher"`            // e.g. "osv-ecosystem:PyPI", "nvd-cpe", "csaf-product"
	Source   string `json:"source,omitempty"`   // advisory source
	Advisory string `json:"advisory,omitempty"` // the id as the source names it
	Range    string `json:"range"`              // the range, versions entry or CPE criterion that matched
	Fixed    string `json:"fixed,omitempty"`    // first fixed version when known
	Reason   string `json:"reason,omitempty"`   // why it could not be evaluated, when it could not
}

// Finding is one (component, vulnerability) pair: a component of a device version matched by an advisory.
type Finding struct {
	ID            int64     `json:"id,omitempty"`
	VersionID     int64     `json:"version_id,omitempty"`
	Component     Component `json:"component"`
	Vulnerability string    `json:"vulnerability"` // the id as the feed names it
	Aliases       []string  `json:"aliases,omitempty"`
	State         string    `json:"state"`
	Evidence      Evidence  `json:"evidence"`
	FirstSeen     time.Time `json:"first_seen,omitzero"`
	ResolvedAt    time.Time `json:"resolved_at,omitzero"`
}
