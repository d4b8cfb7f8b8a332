package app

import (
	"github.com/vigil-dev/vigil/internal/importer"
	"github.com/vigil-dev/vigil/internal/store"
)

// Names of adapter types the command line shows or fills in. The CLI reaches adapters only through app (DESIGN.md:
// only app knows concrete types), so it uses these aliases rather than importing the store or the importer.
type (
	Feed           = store.Feed
	IntelSummary   = store.IntelSummary
	VulnDetail     = store.VulnDetail
	ImportOptions  = importer.Options
	ImportProgress = importer.Progress
)

// ImportSources lists the sources `vigil import --source` accepts.
var ImportSources = importer.Sources
