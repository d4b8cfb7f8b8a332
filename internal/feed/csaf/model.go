package csaf

import "encoding/json"

// The raw model mirrors the CSAF 2.0 JSON closely and leniently: every field is optional here, strings stay
// strings (dates are parsed later so an error can name the field), and CVSS objects stay raw so that the mandatory
// tests can look at them exactly as written. Value types rather than pointers, except where absence matters to a
// test (product_tree, product_status, cwe, distribution).

type rawDoc struct {
	Document        rawDocument        `json:"document"`
	ProductTree     *rawProductTree    `json:"product_tree"`
	Vulnerabilities []rawVulnerability `json:"vulnerabilities"`
}

type rawDocument struct {
	Category     string           `json:"category"`
	CSAFVersion  string           `json:"csaf_version"`
	Lang         string           `json:"lang"`
	SourceLang   string           `json:"source_lang"`
	Title        string           `json:"title"`
	Publisher    rawPublisher     `json:"publisher"`
	Tracking     rawTracking      `json:"tracking"`
	Distribution *rawDistribution `json:"distribution"`
	Notes        []rawNote        `json:"notes"`
	References   []rawReference   `json:"references"`
}

type rawPublisher struct {
	Category         string `json:"category"`
	Name             string `json:"name"`
	Namespace        string `json:"namespace"`
	ContactDetails   string `json:"contact_details"`
	IssuingAuthority string `json:"issuing_authority"`
}

type rawTracking struct {
	ID                 string          `json:"id"`
	Version            string          `json:"version"`
	Status             string          `json:"status"`
	InitialReleaseDate string          `json:"initial_release_date"`
	CurrentReleaseDate string          `json:"current_release_date"`
	RevisionHistory    []rawRevision   `json:"revision_history"`
	Aliases            []string        `json:"aliases"`
	Generator          json.RawMessage `json:"generator"`
}

type rawRevision struct {
	Number        string `json:"number"`
	Date          string `json:"date"`
	Summary       string `json:"summary"`
	LegacyVersion string `json:"legacy_version"`
}

type rawDistribution struct {
	Text string  `json:"text"`
	TLP  *rawTLP `json:"tlp"`
}

type rawTLP struct {
	Label string `json:"label"`
	URL   string `json:"url"`
}

type rawNote struct {
	Category string `json:"category"`
	Text     string `json:"text"`
	Title    string `json:"title"`
	Audience string `json:"audience"`
}

type rawReference struct {
	Category string `json:"category"`
	Summary  string `json:"summary"`
	URL      string `json:"url"`
}

type rawProductTree struct {
	Branches         []rawBranch       `json:"branches"`
	FullProductNames []rawFullProduct  `json:"full_product_names"`
	Relationships    []rawRelationship `json:"relationships"`
	ProductGroups    []rawProductGroup `json:"product_groups"`
}

type rawBranch struct {
	Category string          `json:"category"`
	Name     string          `json:"name"`
	Product  *rawFullProduct `json:"product"`
	Branches []rawBranch     `json:"branches"`
}

type rawFullProduct struct {
	Name      string       `json:"name"`
	ProductID string       `json:"product_id"`
	Helper    *rawPIHelper `json:"product_identification_helper"`
}

type rawPIHelper struct {
	CPE           string       `json:"cpe"`
	Purl          string       `json:"purl"`
	ModelNumbers  []string     `json:"model_numbers"`
	SKUs          []string     `json:"skus"`
	SerialNumbers []string     `json:"serial_numbers"`
	SBOMURLs      []string     `json:"sbom_urls"`
	Hashes        []rawHashes  `json:"hashes"`
	XGenericURIs  []rawGeneric `json:"x_generic_uris"`
}

type rawHashes struct {
	Filename   string        `json:"filename"`
	FileHashes []rawFileHash `json:"file_hashes"`
}

type rawFileHash struct {
	Algorithm string `json:"algorithm"`
	Value     string `json:"value"`
}

type rawGeneric struct {
	Namespace string `json:"namespace"`
	URI       string `json:"uri"`
}

type rawRelationship struct {
	Category                  string         `json:"category"`
	FullProductName           rawFullProduct `json:"full_product_name"`
	ProductReference          string         `json:"product_reference"`
	RelatesToProductReference string         `json:"relates_to_product_reference"`
}

type rawProductGroup struct {
	GroupID    string   `json:"group_id"`
	ProductIDs []string `json:"product_ids"`
	Summary    string   `json:"summary"`
}

type rawVulnerability struct {
	CVE           string            `json:"cve"`
	CWE           *rawCWE           `json:"cwe"`
	Title         string            `json:"title"`
	IDs           []rawVulnID       `json:"ids"`
	Notes         []rawNote         `json:"notes"`
	DiscoveryDate string            `json:"discovery_date"`
	ReleaseDate   string            `json:"release_date"`
	ProductStatus *rawProductStatus `json:"product_status"`
	Scores        []rawScore        `json:"scores"`
	Remediations  []rawRemediation  `json:"remediations"`
	Threats       []rawThreat       `json:"threats"`
	Flags         []rawFlag         `json:"flags"`
	Involvements  []rawInvolvement  `json:"involvements"`
	References    []rawReference    `json:"references"`
}

type rawCWE struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type rawVulnID struct {
	SystemName string `json:"system_name"`
	Text       string `json:"text"`
}

type rawProductStatus struct {
	FirstAffected      []string `json:"first_affected"`
	FirstFixed         []string `json:"first_fixed"`
	Fixed              []string `json:"fixed"`
	KnownAffected      []string `json:"known_affected"`
	KnownNotAffected   []string `json:"known_not_affected"`
	LastAffected       []string `json:"last_affected"`
	Recommended        []string `json:"recommended"`
	UnderInvestigation []string `json:"under_investigation"`
}

// statusLists returns the product_status lists with their category names, in the schema's (alphabetical) order.
func (ps *rawProductStatus) statusLists() []statusList {
	if ps == nil {
		return nil
	}
	return []statusList{
		{"first_affected", ps.FirstAffected},
		{"first_fixed", ps.FirstFixed},
		{"fixed", ps.Fixed},
		{"known_affected", ps.KnownAffected},
		{"known_not_affected", ps.KnownNotAffected},
		{"last_affected", ps.LastAffected},
		{"recommended", ps.Recommended},
		{"under_investigation", ps.UnderInvestigation},
	}
}

type statusList struct {
	Status string
	IDs    []string
}

type rawScore struct {
	Products []string        `json:"products"`
	CVSSv2   json.RawMessage `json:"cvss_v2"`
	CVSSv3   json.RawMessage `json:"cvss_v3"`
}

// rawCVSS is the part of a FIRST CVSS v2/v3 object that Parse needs.
type rawCVSS struct {
	Version      string   `json:"version"`
	VectorString string   `json:"vectorString"`
	BaseScore    *float64 `json:"baseScore"`
	BaseSeverity string   `json:"baseSeverity"`
}

type rawRemediation struct {
	Category   string   `json:"category"`
	Details    string   `json:"details"`
	URL        string   `json:"url"`
	Date       string   `json:"date"`
	ProductIDs []string `json:"product_ids"`
	GroupIDs   []string `json:"group_ids"`
}

type rawThreat struct {
	Category   string   `json:"category"`
	Details    string   `json:"details"`
	Date       string   `json:"date"`
	ProductIDs []string `json:"product_ids"`
	GroupIDs   []string `json:"group_ids"`
}

type rawFlag struct {
	Label      string   `json:"label"`
	Date       string   `json:"date"`
	ProductIDs []string `json:"product_ids"`
	GroupIDs   []string `json:"group_ids"`
}

type rawInvolvement struct {
	Party   string `json:"party"`
	Status  string `json:"status"`
	Date    string `json:"date"`
	Summary string `json:"summary"`
}
