package vigil

import (
	"context"
	"encoding/json"
	"time"
)

// Advisory statuses (CSAF tracking status): draft until first published, then interim or final.
const (
	AdvisoryDraft   = "draft"
	AdvisoryInterim = "interim"
	AdvisoryFinal   = "final"
)

// AdvisoryTLPs are the TLP labels an advisory may carry (CSAF 2.0's TLP 1.0 names): WHITE is public, the others
// are served only to signed-in users.
var AdvisoryTLPs = []string{"WHITE", "GREEN", "AMBER", "RED"}

// SecurityAdvisory is a CSAF 2.0 security advisory Vigil publishes for one or more cases (or a customer notice's cases).
// Each publication adds a revision and keeps the document it published; a draft is rendered from the live records
// whenever it is shown.
type SecurityAdvisory struct {
	ID          int64              `json:"id"`
	TrackingID  string             `json:"tracking_id"`
	Cases       []int64            `json:"cases"`
	NoticeID    int64              `json:"notice_id,omitempty"`
	TLP         string             `json:"tlp"`
	Status      string             `json:"status"`
	Revisions   []AdvisoryRevision `json:"revisions"`
	Document    json.RawMessage    `json:"-"` // the last published document (nil for a draft)
	PublishedAt *time.Time         `json:"published_at,omitempty"`
	CreatedAt   time.Time          `json:"created_at"`
	CreatedBy   string             `json:"created_by"`
	UpdatedAt   time.Time          `json:"updated_at"`
}

// AdvisoryRevision is one publication of an advisory.
type AdvisoryRevision struct {
	Number  int       `json:"number"`
	Date    time.Time `json:"date"`
	Summary string    `json:"summary"`
}

// AdvisoryService drafts, renders and publishes CSAF advisories. Reads need PermRead, drafting and publishing
// PermEvent; ProviderDocuments serves TLP:WHITE documents to anyone. ENOTFOUND, EINVALID naming the field.
type AdvisoryService interface {
	DraftAdvisory(ctx context.Context, cases []int64, noticeID int64, tlp string) (*SecurityAdvisory, error)
	Advisory(ctx context.Context, id int64) (*SecurityAdvisory, error)
	Advisories(ctx context.Context) ([]*SecurityAdvisory, error)
	// AdvisoryDocument is the CSAF JSON: the published document, or a draft rendered now.
	AdvisoryDocument(ctx context.Context, id int64) ([]byte, error)
	// PublishAdvisory renders, validates and publishes a revision (status interim or final).
	PublishAdvisory(ctx context.Context, id int64, status, summary string) (*SecurityAdvisory, error)
	// ProviderDocuments lists the published advisories the caller may read: TLP:WHITE ones for anyone, all of
	// them for a signed-in user.
	ProviderDocuments(ctx context.Context) ([]*SecurityAdvisory, error)
}
