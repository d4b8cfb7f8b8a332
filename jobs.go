package vigil

import "time"

// JobLease is who runs a scheduled job among the servers sharing the database (`vigil jobs`): a feed's sync is the
// job "feed:NAME"; periodic jobs (the re-match "rematch") also record when they last completed.
type JobLease struct {
	Name      string    `json:"name"`
	Owner     string    `json:"owner"` // the server that holds it, or held it last
	Acquired  time.Time `json:"acquired"`
	Renewed   time.Time `json:"renewed"`
	Expires   time.Time `json:"expires"`
	Completed time.Time `json:"completed,omitzero"`
}

// Held reports whether the lease is live at now: its owner is running the job (or was killed less than a lease
// ago).
func (l *JobLease) Held(now time.Time) bool { return now.Before(l.Expires) }
