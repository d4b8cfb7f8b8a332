package vigil

import (
	"context"
	"strings"
	"time"
)

// SavedFilter is a list filter a user saved under a name to get it back: the query of a screen's filter form (its
// URL query string), kept per user and per screen.
type SavedFilter struct {
	ID        int64     `json:"id"`
	UserID    int64     `json:"user_id"`
	Screen    string    `json:"screen"`
	Name      string    `json:"name"`
	Query     string    `json:"query"`
	CreatedAt time.Time `json:"created_at"`
}

// SavedFilterScreens are the screens whose filters can be saved.
var SavedFilterScreens = []string{"cases"}

// MaxFilterQuery bounds a saved filter's query.
const MaxFilterQuery = 2000

// Validate checks a saved filter's fields.
func (f *SavedFilter) Validate() error {
	if err := OneOf("screen", f.Screen, SavedFilterScreens); err != nil {
		return err
	}
	f.Name = strings.TrimSpace(f.Name)
	if err := required("name", f.Name); err != nil {
		return err
	}
	return texts(field{"name", f.Name, 100}, field{"query", f.Query, MaxFilterQuery})
}

// SavedFilterService keeps each user's saved filters. A filter belongs to the signed-in user who saved it (a system
// actor has none): no one lists or deletes another's. Each call needs PermRead; saving and deleting are audited.
type SavedFilterService interface {
	// SavedFilters lists the caller's saved filters of a screen, by name.
	SavedFilters(ctx context.Context, screen string) ([]*SavedFilter, error)
	// SaveFilter saves the caller's filter under its name, replacing the caller's filter of that name on that
	// screen. EINVALID names the field.
	SaveFilter(ctx context.Context, f *SavedFilter) error
	// DeleteSavedFilter deletes one of the caller's saved filters; ENOTFOUND when the caller has none with that id.
	DeleteSavedFilter(ctx context.Context, id int64) error
}
