package importer

import (
	"context"
	"net/url"
	"strings"
	"time"

	"github.com/vigil-dev/vigil"
)

// DefaultFeeds are the sources a PSIRT watches, configured when a store has none: NVD every two hours, KEV, EPSS,
// OSV (the ecosystems device software is most often built from) and CISA's CSAF advisories (ICS and ICS-medical)
// daily.
func DefaultFeeds() []vigil.Feed {
	day := 24 * time.Hour
	feeds := []vigil.Feed{
		{Name: "nvd", Source: vigil.SourceNVD, URL: "https://services.nvd.nist.gov/rest/json/cves/2.0", Every: 2 * time.Hour},
		{Name: "kev", Source: vigil.SourceKEV, URL: "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json", Every: day},
		{Name: "epss", Source: vigil.SourceEPSS, URL: "https://epss.empiricalsecurity.com/epss_scores-current.csv.gz", Every: day},
		{Name: "cisa-csaf-ot", Source: vigil.SourceCSAF, URL: "https://raw.githubusercontent.com/cisagov/CSAF/develop/csaf_files/OT/white/cisa-csaf-ot-feed-tlp-white.json", Every: day},
	}
	for _, eco := range []string{"PyPI", "npm", "Maven", "Go", "NuGet", "crates.io", "Debian"} {
		feeds = append(feeds, vigil.Feed{Name: "osv-" + strings.ToLower(eco), Source: vigil.SourceOSV,
			URL: "https://osv-vulnerabilities.storage.googleapis.com/" + eco + "/all.zip", Every: day})
	}
	for i := range feeds {
		feeds[i].Enabled = true
		feeds[i].Schedule = vigil.ScheduleText(feeds[i].Every)
	}
	return feeds
}

// AllowList returns the hosts an importer may fetch from: those of the configured feeds' URLs and extra (a
// provider whose feed lists documents on another host, such as CISA's CSAF feed on GitHub, is configured by
// adding that host).
func AllowList(feeds []*vigil.Feed, extra ...string) []string {
	seen := map[string]bool{}
	var out []string
	add := func(h string) {
		h = strings.ToLower(strings.TrimSpace(h))
		if h != "" && !seen[h] {
			seen[h] = true
			out = append(out, h)
		}
	}
	for _, f := range feeds {
		if u, err := url.Parse(f.URL); err == nil {
			add(u.Hostname())
		}
	}
	for _, h := range extra {
		add(h)
	}
	return out
}

// Sync runs one configured feed: an import of its URL read as its source, from its cursor. The caller records the
// attempt (with the result's cursor) on the feed.
func (im *Importer) Sync(ctx context.Context, f *vigil.Feed) (*Result, error) {
	return im.Import(ctx, []string{f.URL}, vigil.ImportOptions{Source: f.Source, Feed: f.Name})
}
