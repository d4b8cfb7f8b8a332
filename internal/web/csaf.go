package web

import (
	"context"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/publish/csaf"
)

// Advisories is the CSAF advisory service (internal/service/advisories) and the provider it lays out.
type Advisories interface {
	vigil.AdvisoryService
	// Provider is the CSAF provider's files as the caller may read them (TLP:WHITE for anyone).
	Provider(ctx context.Context) (*csaf.Provider, error)
	// Publisher is who publishes, or why nothing can be published yet (no https base URL).
	Publisher(ctx context.Context) (csaf.Publisher, error)
}

// csafProvider serves /.well-known/csaf/: provider-metadata.json, the TLP folders with index.txt, changes.csv,
// the ROLIE feed, each document with its hashes, and directory listings. A folder other than white/ asked for
// without signing in is 401, so its documents are never served to the public (CSAF 2.0 requirement 5).
func (s *Server) csafProvider(w http.ResponseWriter, r *http.Request) error {
	if s.svc.Advisories == nil {
		return vigil.Errorf(vigil.ENOTFOUND, "no CSAF provider")
	}
	name := chi.URLParam(r, "*")
	// Plain answers, not the screens' sign-in page or redirect: CSAF clients read the status code. The public key
	// (openpgp/) is public like the TLP:WHITE folder.
	if dir, rest, _ := strings.Cut(name, "/"); rest != "" || strings.HasSuffix(name, "/") {
		if _, ok := vigil.ActorFrom(r.Context()); !ok && dir != "white" && dir != "openpgp" {
			http.Error(w, "TLP:"+strings.ToUpper(dir)+" documents are for signed-in users", http.StatusUnauthorized)
			return nil
		}
	}
	p, err := s.svc.Advisories.Provider(r.Context())
	if err != nil {
		return err
	}
	b, ok := p.Files[name]
	if !ok {
		http.NotFound(w, r)
		return nil
	}
	w.Header().Set("Content-Type", p.Types[name])
	_, err = w.Write(b)
	return err
}
