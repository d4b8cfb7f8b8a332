package vigil

import (
	"encoding/json"
	"time"
)

// The rows the screens' read models are computed from (internal/readmodel asks the store for them): pages and
// counts of findings, the day-by-day and per-version counts behind the dashboard's charts, and the audit trail's
// changes the read models follow.

// MaxFindingList bounds a page of FindingList.
const MaxFindingList = 5000

// AuditChange is one audit event as a cache following the trail needs it: what changed, not the details.
type AuditChange struct {
	Seq        int64
	Action     string
	ObjectType string
	ObjectID   string
}

// FindingListQuery selects findings for a list: every field narrows the selection. After and Before are cursors
// (finding ids): the page of findings older than After, or newer than Before; the newest page without either.
type FindingListQuery struct {
	DeviceID  int64
	VersionID int64
	States    []FindingState // default FindingStatesToWork (open, could_not_evaluate, needs_review)
	Vuln      string         // an id or an alias, exactly
	Text      string         // a substring (any case) of the component key or name, or of the vulnerability id
	Risk      RiskFilter     // the latest assessment's risk, or unassessed (none)
	Since     time.Time      // first seen at or after
	After     int64
	Before    int64
	Limit     int // rows per page: 1 to MaxFindingList, 50 when 0
}

// FindingListRow is a finding as lists show it: with its device, version and latest assessment's risk and
// severity ("" when it was never assessed).
type FindingListRow struct {
	Finding  *Finding
	Device   string
	Version  string
	Risk     Risk
	Severity string
}

// FindingList is one page of findings, newest first. Older and Newer are the cursors of the neighbouring pages
// (0 when there is none): pass Older as After, Newer as Before.
type FindingList struct {
	Rows  []FindingListRow
	Older int64
	Newer int64
}

// OpenCount is the number of findings in one state (open or could_not_evaluate) of one device version.
type OpenCount struct {
	DeviceID  int64
	Device    string
	VersionID int64
	Version   string
	State     FindingState
	N         int
}

// DayCount is a number of findings on one day ("YYYY-MM-DD", UTC as stored).
type DayCount struct {
	Day string
	N   int
}

// FixEvent is a fix_distributed event with its case's identification day (D0) and resolution. Learned and Date
// are the stored texts (dates, unless the row is damaged); Details is the event's data as stored.
type FixEvent struct {
	CaseID        int64
	Vulnerability string
	Learned       string
	ResolvedAt    time.Time // zero while the finding is unresolved
	Date          string
	Details       json.RawMessage
}

// KEVCandidate is an open finding that may name a KEV-listed vulnerability, with its device's name.
type KEVCandidate struct {
	FindingID     int64
	Vulnerability string
	Aliases       []string
	Device        string
}

// CaseQueueRow is one live (not merged) case as the case queue reads it from storage: the case, the number of its
// device's versions it affects now (findings open or under investigation) and its vulnerability's latest EPSS
// score (nil when none is known).
type CaseQueueRow struct {
	Case     *Case
	Affected int
	EPSS     *EPSSScore
}
