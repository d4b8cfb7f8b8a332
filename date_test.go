package vigil_test

import (
	"testing"
	"time"

	"github.com/vigil-dev/vigil"
)

// TestDateIn: a day given in the organization's zone starts at its midnight there, which is another instant than
// midnight UTC on either side of the date line.
func TestDateIn(t *testing.T) {
	chicago, _ := time.LoadLocation("America/Chicago")
	kiritimati, _ := time.LoadLocation("Pacific/Kiritimati")
	for _, tc := range []struct {
		loc  *time.Location
		want string
	}{
		{nil, "2025-06-02T00:00:00Z"},
		{time.UTC, "2025-06-02T00:00:00Z"},
		{chicago, "2025-06-02T05:00:00Z"},    // CDT, UTC-5
		{kiritimati, "2025-06-01T10:00:00Z"}, // UTC+14
	} {
		if got := vigil.NewDate(2025, 6, 2).In(tc.loc).UTC().Format(time.RFC3339); got != tc.want {
			t.Errorf("2025-06-02 in %v starts at %s, want %s", tc.loc, got, tc.want)
		}
	}
	if !(vigil.Date{}).In(chicago).IsZero() {
		t.Error("the zero date gives a non-zero instant")
	}
}
