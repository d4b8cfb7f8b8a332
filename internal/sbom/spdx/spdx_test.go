package spdx

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/sbom/model"
	"github.com/vigil-dev/vigil/internal/testfix"
	"github.com/vigil-dev/vigil/internal/untrusted"
)

func errMessage(t *testing.T, err error) string {
	t.Helper()
	var e *vigil.Error
	if !errors.As(err, &e) || e.Code != vigil.EINVALID {
		t.Fatalf("error %v is not an EINVALID *vigil.Error", err)
	}
	return e.Message
}

func parseFile(t *testing.T, path string) (*model.Document, error) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return Parse(filepath.Base(path), f, untrusted.Limits{})
}

// TestExamples reads every SPDX 2.2 and 2.3 document, JSON and tag-value, of the SPDX specification's examples and
// the spdx-examples repository. tools-golang cannot read the specification's own tag-value examples as written:
// it refuses a snippet section that does not follow a file section; snippets are dropped before parsing (see
// dropSnippets), after which they read and agree with the JSON twins (TestSameDocumentAcrossFormats).
func TestExamples(t *testing.T) {
	root := testfix.Path(t, "spdx-examples")
	want := map[string]struct {
		format, version string
		packages        int
	}{
		"spdx-spec-v2.2/SPDXJSONExample-v2.2.spdx.json":                                          {model.FormatSPDXJSON, "2.2", 4},
		"spdx-spec-v2.2/SPDXTagExample-v2.2.spdx":                                                {model.FormatSPDXTagValue, "2.2", 4},
		"spdx-spec-v2.3/SPDXJSONExample-v2.3.spdx.json":                                          {model.FormatSPDXJSON, "2.3", 4},
		"spdx-spec-v2.3/SPDXTagExample-v2.3.spdx":                                                {model.FormatSPDXTagValue, "2.3", 4},
		"spdx-examples-repo/software/example1/spdx2.2/example1.spdx":                             {model.FormatSPDXTagValue, "2.2", 1},
		"spdx-examples-repo/software/example2/spdx2.2/example2-bin.spdx":                         {model.FormatSPDXTagValue, "2.2", 1},
		"spdx-examples-repo/software/example2/spdx2.2/example2-src.spdx":                         {model.FormatSPDXTagValue, "2.2", 1},
		"spdx-examples-repo/software/example3/spdx2.2/example3-bin.spdx":                         {model.FormatSPDXTagValue, "2.2", 1},
		"spdx-examples-repo/software/example3/spdx2.2/example3-src.spdx":                         {model.FormatSPDXTagValue, "2.2", 1},
		"spdx-examples-repo/software/example4/spdx2.2/example4-bin.spdx":                         {model.FormatSPDXTagValue, "2.2", 3},
		"spdx-examples-repo/software/example4/spdx2.2/example4-src.spdx":                         {model.FormatSPDXTagValue, "2.2", 1},
		"spdx-examples-repo/software/example5/spdx2.2/example5-bin.spdx":                         {model.FormatSPDXTagValue, "2.2", 1},
		"spdx-examples-repo/software/example5/spdx2.2/example5-src.spdx":                         {model.FormatSPDXTagValue, "2.2", 1},
		"spdx-examples-repo/software/example6/spdx2.2/example6-bin.spdx":                         {model.FormatSPDXTagValue, "2.2", 1},
		"spdx-examples-repo/software/example6/spdx2.2/example6-lib.spdx":                         {model.FormatSPDXTagValue, "2.2", 5},
		"spdx-examples-repo/software/example6/spdx2.2/example6-src.spdx":                         {model.FormatSPDXTagValue, "2.2", 1},
		"spdx-examples-repo/software/example7/spdx2.2/example7-bin.spdx.json":                    {model.FormatSPDXJSON, "2.2", 1},
		"spdx-examples-repo/software/example7/spdx2.2/example7-go-module.spdx.json":              {model.FormatSPDXJSON, "2.2", 1},
		"spdx-examples-repo/software/example7/spdx2.2/example7-golang.spdx.json":                 {model.FormatSPDXJSON, "2.2", 2},
		"spdx-examples-repo/software/example7/spdx2.2/example7-third-party-modules.spdx.json":    {model.FormatSPDXJSON, "2.2", 3},
		"spdx-examples-repo/software/example8/spdx2.3/examplemaven-0.0.1.spdx.json":              {model.FormatSPDXJSON, "2.3", 6},
		"spdx-examples-repo/software/example9/spdx2.2/appbomination.spdx.json":                   {model.FormatSPDXJSON, "2.2", 7},
		"spdx-examples-repo/software/example10/spdx2.3/hello-source.spdx.json":                   {model.FormatSPDXJSON, "2.3", 1},
		"spdx-examples-repo/software/example11/spdx2.3/sbom.spdx.json":                           {model.FormatSPDXJSON, "2.3", 4},
		"spdx-examples-repo/software/example12/spdx2.2/hello-dist.spdx.json":                     {model.FormatSPDXJSON, "2.2", 1},
		"spdx-examples-repo/software/example12/spdx2.2/hello-src.spdx.json":                      {model.FormatSPDXJSON, "2.2", 1},
		"spdx-examples-repo/software/example14/spdx2.3/examplemaven-0.0.1-enriched.spdx.json":    {model.FormatSPDXJSON, "2.3", 6},
		"spdx-examples-repo/presentations/SBOMS-SPDX-Now-and-Future/ACME-v2.3.spdx.json":         {model.FormatSPDXJSON, "2.3", 4},
		"spdx-examples-repo/presentations/OSS-NA-2023/SPDXVersion2.3/01-MinimalSBOM.json":        {model.FormatSPDXJSON, "2.3", 1},
		"spdx-examples-repo/presentations/OSS-NA-2023/SPDXVersion2.3/02-SBOMwSource.json":        {model.FormatSPDXJSON, "2.3", 1},
		"spdx-examples-repo/presentations/OSS-NA-2023/SPDXVersion2.3/03-SBOMwDependency.json":    {model.FormatSPDXJSON, "2.3", 2},
		"spdx-examples-repo/presentations/OSS-NA-2023/SPDXVersion2.3/04-SBOMwSecurity.json":      {model.FormatSPDXJSON, "2.3", 2},
		"spdx-examples-repo/presentations/OSS-NA-2023/SPDXVersion2.3/05-SBOMwSourceLicense.json": {model.FormatSPDXJSON, "2.3", 1},
	}
	// Every SPDX 2.x JSON or tag-value document in the fixture is in the table (the schemas, YAML, RDF, XML and
	// SPDX 3 files are not SPDX 2 JSON or tag-value documents).
	found := 0
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if strings.Contains(rel, "spdx3") || strings.HasSuffix(rel, "schema.json") || !(strings.HasSuffix(rel, ".json") || strings.HasSuffix(rel, ".spdx")) {
			return nil
		}
		found++
		if _, ok := want[rel]; !ok {
			t.Errorf("%s is not in the table", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if found != len(want) {
		t.Errorf("found %d SPDX 2 documents, table has %d", found, len(want))
	}
	for rel, w := range want {
		t.Run(rel, func(t *testing.T) {
			doc, err := parseFile(t, filepath.Join(root, rel))
			if err != nil {
				t.Fatalf("rejected: %v", err)
			}
			if doc.Format != w.format || doc.SpecVersion != w.version || len(doc.Components) != w.packages {
				t.Errorf("got %s %s with %d packages, want %s %s with %d", doc.Format, doc.SpecVersion, len(doc.Components), w.format, w.version, w.packages)
			}
			for i, c := range doc.Components {
				if c.Name == "" || !strings.HasPrefix(doc.Refs[i], "SPDXRef-") || c.Support != vigil.SupportUnknown && c.EndOfSupport == nil {
					t.Errorf("component %d = %+v ref %q", i, c, doc.Refs[i])
				}
			}
		})
	}
}

// TestSameDocumentAcrossFormats: the specification's example document is the same in JSON and tag-value.
func TestSameDocumentAcrossFormats(t *testing.T) {
	for _, v := range []string{"2.2", "2.3"} {
		t.Run(v, func(t *testing.T) {
			dir := testfix.Path(t, "spdx-examples", "spdx-spec-v"+v)
			js, err := parseFile(t, filepath.Join(dir, "SPDXJSONExample-v"+v+".spdx.json"))
			if err != nil {
				t.Fatal(err)
			}
			tv, err := parseFile(t, filepath.Join(dir, "SPDXTagExample-v"+v+".spdx"))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(js.Components, tv.Components); diff != "" {
				t.Errorf("components (-json +tag-value):\n%s", diff)
			}
			if diff := cmp.Diff(js.Refs, tv.Refs); diff != "" {
				t.Errorf("refs (-json +tag-value):\n%s", diff)
			}
			if js.Name != tv.Name || js.Serial != tv.Serial {
				t.Errorf("name/serial: %q %q vs %q %q", js.Name, js.Serial, tv.Name, tv.Serial)
			}
		})
	}
}

// TestSpecExampleMapping pins what Vigil takes from the 2.3 example's packages.
func TestSpecExampleMapping(t *testing.T) {
	doc, err := parseFile(t, testfix.Path(t, "spdx-examples", "spdx-spec-v2.3", "SPDXJSONExample-v2.3.spdx.json"))
	if err != nil {
		t.Fatal(err)
	}
	valid := vigil.NewDate(2014, 1, 29)
	want := []vigil.Component{
		{Name: "glibc", Version: "2.11.1", Supplier: "Jane Doe (jane.doe@example.com)", Type: "source",
			CPE:          "cpe:2.3:a:pivotal_software:spring_framework:4.1.0:*:*:*:*:*:*:*",
			Hashes:       map[string]string{"MD5": "624c1abb3664f4b35547e7c73864ad24", "SHA-1": "85ed0817af83a24ad8da68c2b5094de69833983c", "SHA-256": "11b6d3ee554eedf79299905a98f9b9a04e498210b59f15094c916c91d150efcd", "BLAKE2b-384": "aaabd89c926ab525c242e6621f2f5fa73aa4afe3d9e24aed727faaadd6af38b620bdb623dd2b4788b1c8086984af8706"},
			Support:      vigil.SupportUnknown,
			EndOfSupport: &valid},
		{Name: "Apache Commons Lang", Support: vigil.SupportUnknown},
		{Name: "Jena", Version: "3.12.0", Purl: "pkg:maven/org.apache.jena/apache-jena@3.12.0", Group: "org.apache.jena", Support: vigil.SupportUnknown},
		{Name: "Saxon", Version: "8.8", Hashes: map[string]string{"SHA-1": "85ed0817af83a24ad8da68c2b5094de69833983c"}, Support: vigil.SupportUnknown},
	}
	if diff := cmp.Diff(want, doc.Components); diff != "" {
		t.Errorf("components (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"SPDXRef-Package", "SPDXRef-fromDoap-1", "SPDXRef-fromDoap-0", "SPDXRef-Saxon"}, doc.Refs); diff != "" {
		t.Errorf("refs (-want +got):\n%s", diff)
	}
	rel := model.Relationship{From: "SPDXRef-DOCUMENT", Type: "CONTAINS", To: "SPDXRef-Package"}
	found := false
	for _, r := range doc.Relationships {
		if r == rel {
			found = true
		}
	}
	if !found {
		t.Errorf("relationships %v lack %v", doc.Relationships, rel)
	}
}

// TestSBOMShelter reads real SPDX SBOMs of embedded-board Linux images and two projects; counts from PROVENANCE.md.
func TestSBOMShelter(t *testing.T) {
	root := testfix.Path(t, "sbom-shelter-spdx")
	tests := []struct {
		file     string
		version  string
		packages int
		purls    int // packages with a purl
	}{
		{"in-the-lab/spdx-bom-balenalib_am571x-evm-alpine-node-sha256_8b2c99e327b751d6583d4f34248c5b2a91cc855bdfbd350a8f58cf7db7293169.json", "2.3", 15, 1},
		{"in-the-lab/spdx-bom-balenalib_beaglebone-black-debian-node-sha256_feb54ebdc2d6d10f44bcff897a8a167f3f15daca75956cf6d6c7982455bd16c0.json", "2.3", 174, 158},
		{"in-the-lab/spdx-syft-balenalib_apalis-imx6q-alpine-python-sha256_72b4e6d24e42e7012033e18f231dae3e9c821453c7d8147f52848485f33a10ef.json", "2.3", 84, 82},
		{"in-the-wild/julia.spdx.json", "2.2", 34, 0},
		{"in-the-wild/usbutils.spdx", "2.1", 0, 0}, // REUSE output: files only, no packages
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.file), func(t *testing.T) {
			doc, err := parseFile(t, filepath.Join(root, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			purls := 0
			for _, c := range doc.Components {
				if c.Purl != "" {
					purls++
				}
			}
			if doc.SpecVersion != tt.version || len(doc.Components) != tt.packages || purls != tt.purls {
				t.Errorf("got SPDX %s, %d packages, %d with purl; want %s, %d, %d", doc.SpecVersion, len(doc.Components), purls, tt.version, tt.packages, tt.purls)
			}
		})
	}
}

const tvHead = `SPDXVersion: SPDX-2.3
DataLicense: CC0-1.0
SPDXID: SPDXRef-DOCUMENT
DocumentName: pump-firmware
DocumentNamespace: https://example.com/spdx/pump-4.2
Creator: Tool: vigil-test
Created: 2026-01-01T00:00:00Z
`

// TestTagValueRejects: the library's errors become messages naming the file and line.
func TestTagValueRejects(t *testing.T) {
	tests := []struct {
		name, doc, want string
	}{
		{"misspelled tag", tvHead + "\nPackageName: zlib\nSPDXID: SPDXRef-zlib\nPackageVersoin: 1.2.13\n",
			"line 11: received unknown tag PackageVersoin in Package section"},
		{"no colon", tvHead + "PackageName zlib\n", `line 8: no colon: want "Tag: value", got "PackageName zlib"`},
		{"unclosed text", tvHead + "\nPackageName: zlib\nSPDXID: SPDXRef-zlib\nPackageComment: <text>never\nclosed\n",
			"line 11: <text> opened here is never closed"},
		{"package without SPDXID", tvHead + "\nPackageName: zlib\nPackageVersion: 1.2.13\n\nPackageName: musl\nSPDXID: SPDXRef-musl\n",
			"does not have SPDX identifier"},
		{"malformed purl", tvHead + "\nPackageName: zlib\nSPDXID: SPDXRef-zlib\nExternalRef: SECURITY cpe23Type cpe:2.3:a:zlib:zlib:1.2.13:*:*:*:*:*:*:*\nExternalRef: PACKAGE-MANAGER purl pkg:apk/\n",
			"line 12: ExternalRef: malformed package URL"},
		{"duplicate SPDXID", tvHead + "\nPackageName: zlib\nSPDXID: SPDXRef-x\n\nPackageName: musl\nSPDXID: SPDXRef-x\n",
			`line 13: package 2 SPDXID: duplicate SPDXID "SPDXRef-x" (first used by package 1)`},
		{"bad version", strings.Replace(tvHead, "SPDX-2.3", "SPDX-9.9", 1), `line 1: SPDXVersion: unsupported or missing SPDX version "SPDX-9.9"`},
		{"no version", "DataLicense: CC0-1.0\n", `SPDXVersion: unsupported or missing SPDX version ""`},
		{"empty", "\n# only a comment\n", "no SPDX tag-value pairs found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := ParseTagValue("pump.spdx", []byte(tt.doc), untrusted.Limits{})
			if err == nil {
				t.Fatalf("accepted: %+v", doc)
			}
			if doc != nil {
				t.Error("rejected document half-returned")
			}
			if msg := errMessage(t, err); !strings.HasPrefix(msg, "sbom pump.spdx: ") || !strings.Contains(msg, tt.want) {
				t.Errorf("error = %q, want %q", msg, tt.want)
			}
		})
	}
}

// TestTagValueMapping: packages, external references, checksums and relationships from tag-value.
func TestTagValueMapping(t *testing.T) {
	doc := tvHead + `
PackageName: zlib
SPDXID: SPDXRef-zlib
PackageVersion: 1.2.13-r0
PackageSupplier: Organization: Alpine Linux
PackageChecksum: SHA256: 11B6D3EE554EEDF79299905A98F9B9A04E498210B59F15094C916C91D150EFCD
PrimaryPackagePurpose: OPERATING-SYSTEM
ValidUntilDate: 2027-05-01T00:00:00Z
ExternalRef: PACKAGE-MANAGER purl pkg:apk/alpine/zlib@1.2.13-r0?arch=armv7&distro=alpine-3.17
ExternalRef: SECURITY cpe22Type cpe:/a:zlib:zlib:1.2.13
ExternalRef: SECURITY cpe23Type cpe:2.3:a:zlib:zlib:1.2.13:*:*:*:*:*:*:*
PackageComment: <text>A multi-line
comment with a # and a colon: here</text>

Relationship: SPDXRef-DOCUMENT DESCRIBES SPDXRef-zlib
Relationship: SPDXRef-zlib DEPENDS_ON DocumentRef-musl:SPDXRef-musl
`
	got, err := Parse("zlib.spdx", strings.NewReader(doc), untrusted.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	until := vigil.NewDate(2027, 5, 1)
	want := &model.Document{
		Format: model.FormatSPDXTagValue, SpecVersion: "2.3", Name: "pump-firmware", Serial: "https://example.com/spdx/pump-4.2",
		Components: []vigil.Component{{
			Name: "zlib", Group: "alpine", Version: "1.2.13-r0", Supplier: "Alpine Linux", Type: "operating-system",
			Purl:    "pkg:apk/alpine/zlib@1.2.13-r0?arch=armv7&distro=alpine-3.17",
			CPE:     "cpe:2.3:a:zlib:zlib:1.2.13:*:*:*:*:*:*:*",
			Hashes:  map[string]string{"SHA-256": "11b6d3ee554eedf79299905a98f9b9a04e498210b59f15094c916c91d150efcd"},
			Support: vigil.SupportUnknown, EndOfSupport: &until,
		}},
		Refs: []string{"SPDXRef-zlib"},
		Relationships: []model.Relationship{
			{From: "SPDXRef-DOCUMENT", Type: "DESCRIBES", To: "SPDXRef-zlib"},
			{From: "SPDXRef-zlib", Type: "DEPENDS_ON", To: "DocumentRef-musl:SPDXRef-musl"},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
}

// TestJSONRejects: SPDX JSON errors name the JSON path.
func TestJSONRejects(t *testing.T) {
	pkg := func(extra string) string {
		return `{"SPDXID":"SPDXRef-p","name":"p","downloadLocation":"NOASSERTION"` + extra + `}`
	}
	doc := func(pkgs string) string {
		return `{"spdxVersion":"SPDX-2.3","SPDXID":"SPDXRef-DOCUMENT","name":"d","documentNamespace":"https://x","dataLicense":"CC0-1.0",
		"creationInfo":{"created":"2026-01-01T00:00:00Z","creators":["Tool: t"]},"packages":[` + pkgs + `]}`
	}
	tests := []struct{ name, doc, want string }{
		{"malformed purl", doc(pkg(`,"externalRefs":[{"referenceCategory":"SECURITY","referenceType":"cpe23Type","referenceLocator":"cpe:2.3:a:x:p:1:*:*:*:*:*:*:*"},{"referenceCategory":"PACKAGE_MANAGER","referenceType":"purl","referenceLocator":"pkg:npm/"}]`)),
			"packages[0].externalRefs[1].referenceLocator: malformed package URL"},
		{"missing name", doc(`{"SPDXID":"SPDXRef-p","downloadLocation":"NOASSERTION"}`), "packages[0].name: missing package name"},
		{"duplicate SPDXID", doc(pkg("") + "," + pkg("")), `packages[1].SPDXID: duplicate SPDXID "SPDXRef-p"`},
		{"wrong type", doc(`{"SPDXID":"SPDXRef-p","name":7}`), "packages.name: got a JSON number, want a string"},
		{"syntax", "{\n\"spdxVersion\": \"SPDX-2.3\",\n}", "line 3, column 1: malformed JSON"},
		{"SPDX 3", `{"@context":"https://spdx.org/rdf/3.0.1/spdx-context.jsonld","@graph":[]}`, "@context: SPDX 3 (JSON-LD) is not supported"},
		{"no version", `{"name":"x"}`, "spdxVersion: missing"},
		{"unknown version", `{"spdxVersion":"SPDX-3.0"}`, `spdxVersion: unsupported SPDX version "SPDX-3.0"`},
		{"too deep", `{"spdxVersion":"SPDX-2.3","x":` + strings.Repeat("[", 200) + strings.Repeat("]", 200) + `}`, "JSON nests deeper than the limit of 128"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseJSON("d.spdx.json", []byte(tt.doc), untrusted.Limits{})
			if err == nil {
				t.Fatalf("accepted: %+v", got)
			}
			if got != nil {
				t.Error("rejected document half-returned")
			}
			if msg := errMessage(t, err); !strings.HasPrefix(msg, "sbom d.spdx.json: ") || !strings.Contains(msg, tt.want) {
				t.Errorf("error = %q, want %q", msg, tt.want)
			}
		})
	}
}

func TestLimits(t *testing.T) {
	var b strings.Builder
	b.WriteString(tvHead)
	for i := 0; i < 11; i++ {
		b.WriteString("\nPackageName: p\nSPDXID: SPDXRef-p" + string(rune('a'+i)) + "\n")
	}
	doc := b.String()
	if _, err := Parse("many.spdx", strings.NewReader(doc), untrusted.Limits{MaxRecords: 11}); err != nil {
		t.Errorf("11 packages at a limit of 11: %v", err)
	}
	_, err := Parse("many.spdx", strings.NewReader(doc), untrusted.Limits{MaxRecords: 10})
	if err == nil || !strings.Contains(errMessage(t, err), "more than the limit of 10 components") {
		t.Errorf("11 packages at a limit of 10: %v", err)
	}
	_, err = Parse("many.spdx", strings.NewReader(doc), untrusted.Limits{MaxRecordSize: 100})
	if err == nil || !strings.Contains(errMessage(t, err), "larger than the limit of 100 bytes") {
		t.Errorf("over the size limit: %v", err)
	}
}
