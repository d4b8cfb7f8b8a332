// Package vex is the supplier-VEX use case: a supplier's VEX document (CycloneDX VEX, OpenVEX, CSAF VEX) is read
// as VEX — never as an SBOM, which had replaced a version's components with none — and each statement is applied to
// the open findings it matches as a proposed status, which a person accepts or rejects with a reason. A statement
// matches a finding when its vulnerability is the finding's (by id or any alias, the store's one alias rule) and
// its product is the finding's component: by purl (type, namespace and name; the version too when the statement's
// purl has one), else by name and version (a CSAF version range matches every version of the name, for the person
// to judge). Importing needs vigil.PermAssess, like assessing; reading needs vigil.PermRead.
package vex

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/url"
	"strings"

	packageurl "github.com/package-url/packageurl-go"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/untrusted"
	vexdoc "github.com/vigil-dev/vigil/internal/vex"
)

// Store is what the use case needs of storage.
type Store interface {
	ImportVEX(ctx context.Context, doc *vigil.VEXDocument, props []*vigil.VEXProposal) error
	VEXProposals(ctx context.Context, f vigil.VEXFilter) ([]*vigil.VEXProposal, error)
	DecideVEX(ctx context.Context, id int64, accept bool, reason string) (*vigil.VEXProposal, error)
	Findings(ctx context.Context, f vigil.FindingFilter) ([]*vigil.Finding, error)
}

// Service implements vigil.VEXService.
type Service struct {
	Store Store
}

var _ vigil.VEXService = (*Service)(nil)

// ImportVEX reads a VEX document and proposes its statuses to the open findings it matches, across the portfolio
// or, with versionID, in one device version. The document and its proposals are stored in one transaction.
func (s *Service) ImportVEX(ctx context.Context, name string, r io.Reader, versionID int64) (*vigil.VEXImport, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermAssess); err != nil {
		return nil, err
	}
	lim := vexdoc.Limits()
	b, err := untrusted.ReadAll(name, r, lim.MaxRecordSize)
	if err != nil {
		return nil, err
	}
	doc, err := vexdoc.ParseBytes(name, b, lim)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(b)
	out := &vigil.VEXImport{Document: vigil.VEXDocument{Name: name, Format: doc.Format, Author: doc.Author, SHA256: hex.EncodeToString(sum[:]),
		Statements: len(doc.Statements)}, Skipped: doc.Skipped, Proposals: []*vigil.VEXProposal{}}
	type key struct {
		finding int64
		status  vigil.VEXStatus
	}
	seen := map[key]bool{} // one proposal per finding and status, however many products or aliases name it
	for _, st := range doc.Statements {
		matched := false
		for _, id := range append([]string{st.Vulnerability}, st.Aliases...) {
			fs, err := s.Store.Findings(ctx, vigil.FindingFilter{Vuln: id, VersionID: versionID})
			if err != nil {
				return nil, err
			}
			for _, f := range fs {
				if !Matches(st.Product, f.Component) {
					continue
				}
				matched = true
				k := key{f.ID, st.Status}
				if seen[k] {
					continue
				}
				seen[k] = true
				out.Proposals = append(out.Proposals, &vigil.VEXProposal{FindingID: f.ID, Statement: st, Document: name})
			}
		}
		if !matched {
			out.Unmatched++
		}
	}
	if err := s.Store.ImportVEX(ctx, &out.Document, out.Proposals); err != nil {
		return nil, err
	}
	return out, nil
}

// VEXProposals lists proposals. Needs PermRead.
func (s *Service) VEXProposals(ctx context.Context, f vigil.VEXFilter) ([]*vigil.VEXProposal, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	return s.Store.VEXProposals(ctx, f)
}

// DecideVEX accepts or rejects a proposal with a reason. Needs PermAssess.
func (s *Service) DecideVEX(ctx context.Context, id int64, accept bool, reason string) (*vigil.VEXProposal, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermAssess); err != nil {
		return nil, err
	}
	return s.Store.DecideVEX(ctx, id, accept, reason)
}

// Matches reports whether a statement's product is the component: by purl when the statement has one (against a
// component without a purl, by the purl's name and version), else by name (case-insensitive) and, when the
// statement gives one, version.
func Matches(p vigil.VEXProduct, c vigil.Component) bool {
	if p.Purl != "" {
		sp, err := packageurl.FromString(p.Purl)
		if err != nil {
			return false
		}
		if c.Purl == "" {
			// A finding a person recorded names its component by name and version only.
			return strings.EqualFold(sp.Name, c.Name) && (sp.Version == "" || unescape(sp.Version) == c.Version)
		}
		cp, err := packageurl.FromString(c.Purl)
		if err != nil || !strings.EqualFold(sp.Type, cp.Type) || !strings.EqualFold(sp.Namespace, cp.Namespace) || !strings.EqualFold(sp.Name, cp.Name) {
			return false
		}
		if sp.Version == "" {
			return true
		}
		have := cp.Version
		if have == "" {
			have = c.Version
		}
		return unescape(sp.Version) == unescape(have)
	}
	if !strings.EqualFold(strings.TrimSpace(p.Name), strings.TrimSpace(c.Name)) {
		return false
	}
	return p.Version == "" || p.Version == c.Version
}

func unescape(s string) string {
	if u, err := url.PathUnescape(s); err == nil {
		return u
	}
	return s
}
