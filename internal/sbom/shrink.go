package sbom

import (
	"fmt"

	"github.com/vigil-dev/vigil"
)

// ShrinkError refuses an SBOM that is empty or drops more than half the components of the SBOM it would replace:
// such a document is far more often the wrong file (a VEX document, one sub-assembly's SBOM) than a real change,
// and importing it resolves the findings of every component it leaves out. It unwraps to an EINVALID *vigil.Error
// so every front end reports it as bad input; front ends look for it to offer their way of confirming.
type ShrinkError struct {
	Name     string // the document
	Previous int    // components in the current SBOM
	Next     int    // components in the refused one
	Diff     DiffResult
	err      *vigil.Error
}

func (e *ShrinkError) Error() string { return e.err.Message }
func (e *ShrinkError) Unwrap() error { return e.err }

// CheckShrink returns a *ShrinkError when next is empty or removes more than half of previous, nil otherwise.
func CheckShrink(name string, previous, next []vigil.Component) error {
	d := Diff(previous, next)
	if len(next) > 0 && 2*len(d.Removed) <= len(previous) {
		return nil
	}
	why := "has no components"
	if len(next) > 0 {
		why = "drops more than half the components"
	}
	msg := fmt.Sprintf("sbom %s %s: %d components where the current SBOM has %d (%d added, %d removed, %d changed, %d unchanged); nothing was imported",
		name, why, len(next), len(previous), len(d.Added), len(d.Removed), len(d.Changed), d.Unchanged)
	return &ShrinkError{Name: name, Previous: len(previous), Next: len(next), Diff: d, err: vigil.Errorf(vigil.EINVALID, "%s", msg)}
}
