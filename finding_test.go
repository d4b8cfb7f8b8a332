package vigil

import (
	"slices"
	"testing"
)

// TestParseFindingStates: the one reading of a state filter the CLI, the UI and the API share.
func TestParseFindingStates(t *testing.T) {
	for _, tt := range []struct {
		in      []string
		want    []FindingState
		wantErr bool
	}{
		{nil, nil, false},
		{[]string{"all"}, FindingStates, false},
		{[]string{"open, closed", "resolved"}, []FindingState{FindingOpen, FindingClosed, FindingResolved}, false},
		{[]string{" ", ""}, nil, false},
		{[]string{"open", "shut"}, nil, true},
	} {
		got, err := ParseFindingStates(tt.in)
		if (err != nil) != tt.wantErr || (err != nil && ErrorCode(err) != EINVALID) || !slices.Equal(got, tt.want) {
			t.Errorf("ParseFindingStates(%q) = %v, %v", tt.in, got, err)
		}
	}
}
