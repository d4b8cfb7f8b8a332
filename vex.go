package vigil

import (
	"context"
	"io"
	"time"
)

// VEXProduct names what a VEX statement is about, as precisely as the document does: a purl, else a name and a
// version (Range keeps a CSAF product_version_range as written; matching then ignores the version).
type VEXProduct struct {
	Purl    string `json:"purl,omitempty"`
	Name    string `json:"name,omitempty"`
	Version string `json:"version,omitempty"`
	Range   string `json:"range,omitempty"`
}

// String is the product as a person reads it.
func (p VEXProduct) String() string {
	switch {
	case p.Purl != "":
		return p.Purl
	case p.Range != "":
		return p.Name + " " + p.Range
	case p.Version != "":
		return p.Name + " " + p.Version
	}
	return p.Name
}

// VEXStatement is one statement of a supplier's VEX document: the status of a vulnerability for a product.
type VEXStatement struct {
	Vulnerability string     `json:"vulnerability"`
	Aliases       []string   `json:"aliases,omitempty"`
	Product       VEXProduct `json:"product"`
	Status        VEXStatus  `json:"status"`
	Justification string     `json:"justification,omitempty"`
	Detail        string     `json:"detail,omitempty"`
}

// Validate checks a statement as a parser produced it.
func (s VEXStatement) Validate() error {
	if err := required("vulnerability", s.Vulnerability); err != nil {
		return err
	}
	if s.Product.Purl == "" && s.Product.Name == "" {
		return Errorf(EINVALID, "product: a purl or a name is required")
	}
	if err := texts(field{"vulnerability", s.Vulnerability, MaxName}, field{"product.purl", s.Product.Purl, MaxIdent},
		field{"product.name", s.Product.Name, MaxName}, field{"product.version", s.Product.Version, MaxName},
		field{"product.range", s.Product.Range, MaxName}, field{"justification", s.Justification, MaxName}, field{"detail", s.Detail, MaxText}); err != nil {
		return err
	}
	return s.Status.Validate()
}

// VEXDocument is an imported supplier VEX file.
type VEXDocument struct {
	ID         int64     `json:"id"`
	Name       string    `json:"name"`   // the file name as uploaded
	Format     string    `json:"format"` // cyclonedx, openvex or csaf
	Author     string    `json:"author,omitempty"`
	SHA256     string    `json:"sha256"`
	Statements int       `json:"statements"`
	ImportedAt time.Time `json:"imported_at"`
	ImportedBy string    `json:"imported_by"`
}

// VEXProposalState is where a proposed status stands.
type VEXProposalState string

// Proposal states: a person accepts or rejects each proposal, with a reason.
const (
	VEXProposed VEXProposalState = "proposed"
	VEXAccepted VEXProposalState = "accepted"
	VEXRejected VEXProposalState = "rejected"
)

// VEXProposalStates lists the proposal states.
var VEXProposalStates = []VEXProposalState{VEXProposed, VEXAccepted, VEXRejected}

// VEXProposal is a supplier's statement applied to one finding it matches: a proposed VEX status that a person
// accepts (accepting not_affected or fixed closes the finding, with the statement as the reason) or rejects.
type VEXProposal struct {
	ID         int64            `json:"id"`
	DocumentID int64            `json:"document_id"`
	Document   string           `json:"document"` // the document's file name and author, for reading
	FindingID  int64            `json:"finding_id"`
	Statement  VEXStatement     `json:"statement"`
	State      VEXProposalState `json:"state"`
	CreatedAt  time.Time        `json:"created_at"`
	DecidedBy  string           `json:"decided_by,omitempty"`
	DecidedAt  *time.Time       `json:"decided_at,omitempty"`
	Reason     string           `json:"reason,omitempty"`
}

// VEXImport is the answer to an import: the document and the proposals it made; Unmatched counts statements that
// match no open finding in the scope (kept in the document's count, not proposed).
type VEXImport struct {
	Document  VEXDocument    `json:"document"`
	Proposals []*VEXProposal `json:"proposals"`
	Unmatched int            `json:"unmatched"`
	Skipped   int            `json:"skipped"`
}

// VEXFilter selects proposals.
type VEXFilter struct {
	States     []VEXProposalState
	FindingID  int64
	DocumentID int64
	Limit      int
}

// VEXService imports supplier VEX documents as proposals on findings and records a person's decision on each.
type VEXService interface {
	ImportVEX(ctx context.Context, name string, r io.Reader, versionID int64) (*VEXImport, error)
	VEXProposals(ctx context.Context, f VEXFilter) ([]*VEXProposal, error)
	DecideVEX(ctx context.Context, id int64, accept bool, reason string) (*VEXProposal, error)
}
