package sbom

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/vigil-dev/vigil/internal/untrusted"
)

// sbom10k returns a 10,000-component SBOM in the given format, shaped like a real one: every component with a
// purl, a hash and support properties; one in ten nests a child; a dependency per component.
func sbom10k(format string) []byte {
	const n = 10000
	var b bytes.Buffer
	switch format {
	case FormatCycloneDXJSON:
		b.WriteString(`{"bomFormat":"CycloneDX","specVersion":"1.6","version":1,"metadata":{"component":{"type":"device","bom-ref":"device","name":"pump","version":"4.2"}},"components":[`)
		for i := 0; i < n; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"type":"library","bom-ref":"c%d","group":"com.acme.g%d","name":"lib%d","version":"1.%d.0","purl":"pkg:maven/com.acme.g%d/lib%d@1.%d.0","hashes":[{"alg":"SHA-256","content":"%064x"}],"properties":[{"name":"Level of Support","value":"Actively maintained"},{"name":"End-of-Support","value":"2030-12-31"}]`, i, i%50, i, i%97, i%50, i, i%97, i)
			if i%10 == 0 {
				fmt.Fprintf(&b, `,"components":[{"type":"file","bom-ref":"f%d","name":"lib%d.so"}]`, i, i)
			}
			b.WriteByte('}')
		}
		b.WriteString(`],"dependencies":[`)
		for i := 0; i < n; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"ref":"c%d","dependsOn":["c%d"]}`, i, (i+1)%n)
		}
		b.WriteString(`]}`)
	case FormatCycloneDXXML:
		b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><bom xmlns="http://cyclonedx.org/schema/bom/1.6" version="1"><metadata><component type="device" bom-ref="device"><name>pump</name><version>4.2</version></component></metadata><components>`)
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, `<component type="library" bom-ref="c%d"><group>com.acme.g%d</group><name>lib%d</name><version>1.%d.0</version><hashes><hash alg="SHA-256">%064x</hash></hashes><purl>pkg:maven/com.acme.g%d/lib%d@1.%d.0</purl><properties><property name="Level of Support">Actively maintained</property><property name="End-of-Support">2030-12-31</property></properties>`, i, i%50, i, i%97, i, i%50, i, i%97)
			if i%10 == 0 {
				fmt.Fprintf(&b, `<components><component type="file" bom-ref="f%d"><name>lib%d.so</name></component></components>`, i, i)
			}
			b.WriteString(`</component>`)
		}
		b.WriteString(`</components><dependencies>`)
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, `<dependency ref="c%d"><dependency ref="c%d"/></dependency>`, i, (i+1)%n)
		}
		b.WriteString(`</dependencies></bom>`)
	case FormatSPDXJSON:
		b.WriteString(`{"spdxVersion":"SPDX-2.3","SPDXID":"SPDXRef-DOCUMENT","name":"pump","documentNamespace":"https://example.com/pump","dataLicense":"CC0-1.0","creationInfo":{"created":"2026-01-01T00:00:00Z","creators":["Tool: bench"]},"packages":[`)
		for i := 0; i < n; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"SPDXID":"SPDXRef-p%d","name":"lib%d","versionInfo":"1.%d.0","downloadLocation":"NOASSERTION","checksums":[{"algorithm":"SHA256","checksumValue":"%064x"}],"externalRefs":[{"referenceCategory":"PACKAGE-MANAGER","referenceType":"purl","referenceLocator":"pkg:maven/com.acme.g%d/lib%d@1.%d.0"}]}`, i, i, i%97, i, i%50, i, i%97)
		}
		b.WriteString(`],"relationships":[`)
		for i := 0; i < n; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"spdxElementId":"SPDXRef-DOCUMENT","relationshipType":"DESCRIBES","relatedSpdxElement":"SPDXRef-p%d"}`, i)
		}
		b.WriteString(`]}`)
	case FormatSPDXTagValue:
		b.WriteString("SPDXVersion: SPDX-2.3\nDataLicense: CC0-1.0\nSPDXID: SPDXRef-DOCUMENT\nDocumentName: pump\nDocumentNamespace: https://example.com/pump\nCreator: Tool: bench\nCreated: 2026-01-01T00:00:00Z\n")
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, "\nPackageName: lib%d\nSPDXID: SPDXRef-p%d\nPackageVersion: 1.%d.0\nPackageDownloadLocation: NOASSERTION\nPackageChecksum: SHA256: %064x\nExternalRef: PACKAGE-MANAGER purl pkg:maven/com.acme.g%d/lib%d@1.%d.0\n", i, i, i%97, i, i%50, i, i%97)
		}
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, "Relationship: SPDXRef-DOCUMENT DESCRIBES SPDXRef-p%d\n", i)
		}
	}
	return b.Bytes()
}

// BenchmarkParse10k parses a 10,000-component SBOM in each format, schema validation included.
func BenchmarkParse10k(b *testing.B) {
	for _, format := range []string{FormatCycloneDXJSON, FormatCycloneDXXML, FormatSPDXJSON, FormatSPDXTagValue} {
		doc := sbom10k(format)
		want := 10000
		if strings.HasPrefix(format, "cyclonedx") {
			want = 11000 // one in ten components nests a file
		}
		b.Run(format, func(b *testing.B) {
			b.SetBytes(int64(len(doc)))
			b.ReportAllocs()
			for b.Loop() {
				got, err := Parse("bench", bytes.NewReader(doc), untrusted.Limits{})
				if err != nil {
					b.Fatal(err)
				}
				if len(got.Components) != want {
					b.Fatalf("%d components, want %d", len(got.Components), want)
				}
			}
		})
	}
}

// BenchmarkDiff10k compares two 10,000-component lists that differ in one component in a hundred.
func BenchmarkDiff10k(b *testing.B) {
	doc, err := Parse("bench", bytes.NewReader(sbom10k(FormatCycloneDXJSON)), untrusted.Limits{})
	if err != nil {
		b.Fatal(err)
	}
	old := doc.Components
	next := append(old[:0:0], old...)
	for i := 0; i < len(next); i += 100 {
		next[i].Version += ".1"
	}
	for b.Loop() {
		if d := Diff(old, next); len(d.Changed) != 110 {
			b.Fatalf("%d changed", len(d.Changed))
		}
	}
}
