package csaf

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"path"
	"sort"
	"strings"
	"time"
)

// ProviderDoc is one published document as a CSAF provider serves it.
type ProviderDoc struct {
	TrackingID string
	Title      string
	TLP        string
	Initial    time.Time
	Current    time.Time
	JSON       []byte
}

// Provider lays out a CSAF provider (CSAF 2.0 §7.1) under base + "/.well-known/csaf/": provider-metadata.json,
// one folder per TLP label (white/, green/, ...) with a folder per year of initial release, index.txt,
// changes.csv, a ROLIE feed, .sha256 and .sha512 per document (and .asc, an OpenPGP signature, with the public
// key under openpgp/ named in provider-metadata.json, when the publisher has a Signer), and directory listings. Files maps a path relative
// to /.well-known/csaf/ ("white/2026/x.json", "white/" for a listing) to its content; Types to its media type.
type Provider struct {
	Files map[string][]byte
	Types map[string]string
}

// RolieFeedName is the ROLIE feed file of a TLP label.
func RolieFeedName(tlp string) string { return "csaf-feed-tlp-" + strings.ToLower(tlp) + ".json" }

// BuildProvider lays out the provider for docs (each already valid). labels are the TLP labels the provider
// offers feeds for whether or not a document has one yet (WHITE at least).
func BuildProvider(base string, pub Publisher, docs []ProviderDoc, labels []string, updated time.Time) (*Provider, error) {
	base = strings.TrimSuffix(base, "/") + "/.well-known/csaf/"
	p := &Provider{Files: map[string][]byte{}, Types: map[string]string{}}
	put := func(name, typ string, b []byte) { p.Files[name], p.Types[name] = b, typ }
	byTLP := map[string][]ProviderDoc{}
	for _, d := range docs {
		byTLP[strings.ToLower(d.TLP)] = append(byTLP[strings.ToLower(d.TLP)], d)
	}
	var dists, workspaces []any
	for _, label := range labels {
		dir := strings.ToLower(label) + "/"
		ds := byTLP[strings.ToLower(label)]
		sort.Slice(ds, func(i, j int) bool {
			return ds[i].Current.After(ds[j].Current) || ds[i].Current.Equal(ds[j].Current) && ds[i].TrackingID < ds[j].TrackingID
		})
		var index, changes strings.Builder
		var entries []any
		years := map[string][]string{}
		for _, d := range ds {
			year := fmt.Sprint(d.Initial.UTC().Year())
			rel := year + "/" + FileName(d.TrackingID)
			url := base + dir + rel
			s256, s512 := sha256.Sum256(d.JSON), sha512.Sum512(d.JSON)
			put(dir+rel, "application/json", d.JSON)
			put(dir+rel+".sha256", "text/plain; charset=utf-8", []byte(hex.EncodeToString(s256[:])+"  "+FileName(d.TrackingID)+"\n"))
			put(dir+rel+".sha512", "text/plain; charset=utf-8", []byte(hex.EncodeToString(s512[:])+"  "+FileName(d.TrackingID)+"\n"))
			years[year] = append(years[year], FileName(d.TrackingID), FileName(d.TrackingID)+".sha256", FileName(d.TrackingID)+".sha512")
			links := []any{map[string]string{"rel": "self", "href": url}, map[string]string{"rel": "hash", "href": url + ".sha256"}, map[string]string{"rel": "hash", "href": url + ".sha512"}}
			if pub.Signer != nil {
				sig, err := pub.Signer.DetachSign(d.JSON, d.Current)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", d.TrackingID, err)
				}
				put(dir+rel+".asc", "application/pgp-signature", sig)
				years[year] = append(years[year], FileName(d.TrackingID)+".asc")
				links = append(links, map[string]string{"rel": "signature", "href": url + ".asc"})
			}
			index.WriteString(rel + "\n")
			fmt.Fprintf(&changes, "%q,%q\n", rel, d.Current.UTC().Format(time.RFC3339))
			entries = append(entries, map[string]any{
				"id": d.TrackingID, "title": d.Title,
				"link":      links,
				"published": d.Initial.UTC().Format(time.RFC3339), "updated": d.Current.UTC().Format(time.RFC3339),
				"content": map[string]string{"type": "application/json", "src": url},
				"format":  map[string]string{"schema": "https://docs.oasis-open.org/csaf/csaf/v2.0/csaf_json_schema.json", "version": "2.0"},
			})
		}
		put(dir+"index.txt", "text/plain; charset=utf-8", []byte(index.String()))
		put(dir+"changes.csv", "text/csv; charset=utf-8", []byte(changes.String()))
		if entries == nil {
			entries = []any{}
		}
		feedURL := base + dir + RolieFeedName(label)
		feed, err := json.MarshalIndent(map[string]any{"feed": map[string]any{
			"id": "csaf-feed-tlp-" + strings.ToLower(label), "title": pub.Name + " CSAF feed (TLP:" + strings.ToUpper(label) + ")",
			"link":     []any{map[string]string{"rel": "self", "href": feedURL}},
			"category": []any{map[string]string{"scheme": "urn:ietf:params:rolie:category:information-type", "term": "csaf"}},
			"updated":  updated.UTC().Format(time.RFC3339), "entry": entries,
		}}, "", "  ")
		if err != nil {
			return nil, err
		}
		put(dir+RolieFeedName(label), "application/json", feed)
		top := []string{"index.txt", "changes.csv", RolieFeedName(label)}
		for year, files := range years {
			top = append(top, year+"/")
			put(dir+year+"/", "text/html; charset=utf-8", listing(files))
		}
		sort.Strings(top)
		put(dir, "text/html; charset=utf-8", listing(top))
		workspaces = append(workspaces, map[string]any{"title": "TLP:" + strings.ToUpper(label) + " advisories",
			"collection": []any{map[string]any{"title": "TLP:" + strings.ToUpper(label) + " advisories", "href": feedURL,
				"categories": map[string]any{"category": []any{map[string]string{"scheme": "urn:ietf:params:rolie:category:information-type", "term": "csaf"}}}}}})
		dists = append(dists, map[string]any{"directory_url": base + dir,
			"rolie": map[string]any{"feeds": []any{map[string]string{"summary": "TLP:" + strings.ToUpper(label) + " advisories", "tlp_label": strings.ToUpper(label), "url": feedURL}}}})
	}
	// The ROLIE service document (RFC 8322 §5) lists the feeds.
	svc, err := json.MarshalIndent(map[string]any{"service": map[string]any{"workspace": workspaces}}, "", "  ")
	if err != nil {
		return nil, err
	}
	put("service.json", "application/json", svc)
	keys := []any{}
	if pub.Signer != nil {
		name := "openpgp/" + pub.Signer.Fingerprint() + ".asc"
		put(name, "application/pgp-keys", pub.Signer.PublicKey())
		keys = append(keys, map[string]string{"fingerprint": pub.Signer.Fingerprint(), "url": base + name})
	}
	pm, err := json.MarshalIndent(map[string]any{
		"canonical_url":              base + "provider-metadata.json",
		"public_openpgp_keys":        keys,
		"distributions":              dists,
		"last_updated":               updated.UTC().Format(time.RFC3339),
		"list_on_CSAF_aggregators":   true,
		"metadata_version":           "2.0",
		"mirror_on_CSAF_aggregators": true,
		"publisher":                  map[string]string{"category": "vendor", "name": pub.Name, "namespace": pub.Namespace, "contact_details": pub.ContactDetails},
		"role":                       "csaf_provider",
	}, "", "  ")
	if err != nil {
		return nil, err
	}
	put("provider-metadata.json", "application/json", pm)
	return p, nil
}

// listing is a directory listing (CSAF 2.0 requirement 14): one link per entry.
func listing(names []string) []byte {
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Index</title></head><body><ul>\n")
	for _, n := range names {
		fmt.Fprintf(&b, "<li><a href=\"%s\">%s</a></li>\n", html.EscapeString(n), html.EscapeString(path.Clean(n)))
	}
	b.WriteString("</ul></body></html>\n")
	return []byte(b.String())
}
