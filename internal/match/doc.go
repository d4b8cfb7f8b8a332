// Package match decides which of a device version's components are affected by which advisories, and says why.
// Components (a purl; else a group and name with a declared ecosystem; else a CPE) meet affected data (OSV ranges
// and versions lists, NVD CPE configurations, OSV's Bitnami CPEs, CSAF product versions and version ranges) and
// become findings, each carrying its evidence: the matcher, the advisory, the range or criterion that matched and
// the fixed version when one is known. A value the version comparator cannot order becomes a finding in state
// "could not evaluate" with the reason, never a silent miss and never a panic.
//
// The Index holds compiled advisories (range bounds parsed once) under package keys (ecosystem + normalized name,
// CPE vendor:product, CSAF product name) and answers Match for any number of components; a server can keep one for
// its whole store. A cold process (vigil scan) must not load half a million advisories to match a few hundred
// components, so Engine.Match asks its Source only for the keys the components carry (ComponentKeys, in the
// store's vigil.PackageKey vocabulary) and indexes just the advisories returned. That vocabulary is defined here
// too (storekey.go: AdvisoryKeys, NormalizeKey), so the store's affected and component-key indexes and the Index
// normalize names by one set of rules; the store keeps a compact record of what matching reads of each advisory
// (EncodeRecord) so a re-match never decodes advisory documents.
//
// Ecosystem knowledge (purl type, name normalization, how a component's version is spelled in advisories) lives in
// one matcher per ecosystem, registered in an explicit list in matchers.go. Version order comes from
// internal/version, CPE logic from internal/cpe. The package is an engine: pure, no store, no clock, no network.
//
// Semantics chosen where OSV leaves room (documented here so reviewers can disagree with one place):
//   - Ranges are evaluated with OSV's algorithm: events sorted by version (ties keep the record's order),
//     introduced "0" before everything, last_affected inclusive, limit an exclusive ceiling on the whole range.
//     A version is affected if any range or the versions list says so.
//   - SEMVER ranges use the ecosystem's order when Vigil knows it, else SemVer 2.0.
//   - GIT ranges cannot place a version string on a commit graph. They are skipped for components with a version;
//     a component whose version is a commit hash gets "could not evaluate" from a GIT range (a GIT range before an
//     ECOSYSTEM range never hides the ECOSYSTEM range).
//   - An ECOSYSTEM range in an ecosystem Vigil cannot order, a bound that does not parse, a component version that
//     does not parse or is missing: "could not evaluate", unless another range or the versions list decides.
//   - Versions lists match by equality in the ecosystem's order ("2.7" equals "2.7.0" in PyPI) or, for entries
//     that do not parse, by exact text.
//   - Distribution releases (Debian:11, Alpine:v3.18, Ubuntu:22.04:LTS) must agree when both the advisory and the
//     component (purl distro qualifier) state one; a component without one is matched against every release.
//   - Withdrawn advisories produce nothing. One finding per (component, vulnerability id as the feed names it):
//     an open result wins over "could not evaluate"; among equals, the first source in the order OSV, NVD, CSAF.
package match
