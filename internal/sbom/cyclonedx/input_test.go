package cyclonedx

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/sbom/model"
	"github.com/vigil-dev/vigil/internal/testfix"
	"github.com/vigil-dev/vigil/internal/untrusted"
)

// TestMedicalDeviceSBOM reads the de-identified SBOM of a real medical device: support levels and end-of-support
// statements come from its "Level of Support" and "End-of-Support" properties, and its firmware components are
// identified by CPE (their purls are pkg:github, which no advisory database keys on).
func TestMedicalDeviceSBOM(t *testing.T) {
	doc, err := parseFile(t, testfix.Path(t, "medical-device-sboms", "case-study", "narrow.sbom.json"))
	if err != nil {
		t.Fatal(err)
	}
	if doc.Format != model.FormatCycloneDXJSON || doc.SpecVersion != "1.4" || doc.Name != "REDACTED" {
		t.Errorf("document = %s %s %q", doc.Format, doc.SpecVersion, doc.Name)
	}
	if doc.Subject == nil || doc.Subject.Type != "device" {
		t.Errorf("subject = %+v, want the device", doc.Subject)
	}
	types, support := map[string]int{}, map[string]int{}
	byName := map[string]vigil.Component{}
	for _, c := range doc.Components {
		types[c.Type]++
		support[c.Support]++
		byName[c.Name] = c
	}
	if diff := cmp.Diff(map[string]int{"library": 51, "firmware": 3, "device": 1}, types); diff != "" {
		t.Errorf("component types (-want +got):\n%s", diff)
	}
	// 45 "Actively maintained"; 2 "Deprecated" and 7 "Inactive" are no longer maintained; 1 "Unknown".
	wantSupport := map[string]int{vigil.SupportActive: 45, vigil.SupportNoLonger: 9, vigil.SupportUnknown: 1}
	if diff := cmp.Diff(wantSupport, support); diff != "" {
		t.Errorf("support levels (-want +got):\n%s", diff)
	}
	for _, c := range doc.Components {
		if c.Type == "firmware" && (c.CPE == "" || !strings.HasPrefix(c.Purl, "pkg:github/")) {
			t.Errorf("firmware %s: cpe %q purl %q, want a CPE and a non-ecosystem purl", c.Name, c.CPE, c.Purl)
		}
		if c.EndOfSupport != nil {
			t.Errorf("%s: end of support %v: the document gives words, not dates", c.Name, c.EndOfSupport)
		}
	}
	tests := []vigil.Component{
		{Name: "NXP SDK", Version: "2.9.0", Purl: "pkg:github/nxp-mcuxpresso/mcux-sdk", CPE: "cpe:2.3:a:nxp:nxp_sdk:2.9.0:*:*:*:*:*:*:*",
			Supplier: "NXP", Support: vigil.SupportActive, SupportNote: "Open source", Type: "firmware"},
		{Name: "WolfSSL", Version: "4.8.1", Purl: "pkg:github/wolfssl/wolfssl", CPE: "cpe:2.3:a:wolfssl:wolfssl:4.8.1:*:*:*:*:*:*:*",
			Supplier: "wolfSSL", Support: vigil.SupportActive, SupportNote: "Open source", Type: "firmware"},
		{Name: "Qualcomm Atheros QCA9563", Purl: "pkg:generic/qualcomm_atheros_qca9563", CPE: "cpe:2.3:h:qualcomm:atheros_qca9563:*:*:*:*:*:*:*:*",
			Supplier: "Qualcomm", Support: vigil.SupportActive, SupportNote: "Until hardware support ends", Type: "device"},
		{Name: "FluentValidationNA", Version: "1.2.16", Purl: "pkg:nuget/FluentValidationNA@1.2.16", CPE: byName["FluentValidationNA"].CPE,
			Supplier: byName["FluentValidationNA"].Supplier, Support: vigil.SupportNoLonger, SupportNote: "No longer supported", Type: "library"},
		{Name: "QMScoringAPI", Version: "2.0.3562.1", Purl: "pkg:generic/QMScoringAPI@2.0.3562.1", CPE: byName["QMScoringAPI"].CPE,
			Supplier: byName["QMScoringAPI"].Supplier, Support: vigil.SupportUnknown, SupportNote: "Unknown", Type: "library"},
	}
	for _, want := range tests {
		if diff := cmp.Diff(want, byName[want.Name]); diff != "" {
			t.Errorf("%s (-want +got):\n%s", want.Name, diff)
		}
	}
}

// cdxJSON builds a CycloneDX 1.6 JSON document around the given components JSON.
func cdxJSON(components string) string {
	return `{"bomFormat":"CycloneDX","specVersion":"1.6","version":1,"components":[` + components + `]}`
}

func cdxXML(components string) string {
	return `<?xml version="1.0"?><bom xmlns="http://cyclonedx.org/schema/bom/1.6" version="1"><components>` + components + `</components></bom>`
}

// TestRejects: documents that must be rejected, with the field the error must name.
func TestRejects(t *testing.T) {
	lib := func(name, extra string) string {
		return fmt.Sprintf(`{"type":"library","name":%q%s}`, name, extra)
	}
	xlib := func(name, extra string) string {
		return fmt.Sprintf(`<component type="library"><name>%s</name>%s</component>`, name, extra)
	}
	tests := []struct {
		name, doc, want string
	}{
		{"malformed purl", cdxJSON(lib("a", "") + "," + lib("b", "") + "," + lib("c", "") + "," + lib("d", `,"purl":"pkg:/nope"`)),
			"components[3].purl: malformed package URL"},
		{"purl not a purl", cdxJSON(lib("a", `,"purl":"maven:org.acme/x@1"`)), "components[0].purl: malformed package URL"},
		{"nested malformed purl", cdxJSON(lib("a", `,"components":[`+lib("b", `,"purl":"pkg:npm/"`)+`]`)),
			"components[0].components[0].purl: malformed package URL"},
		{"xml malformed purl", cdxXML(xlib("a", "") + xlib("b", "<purl>pkg:</purl>")), "bom/components[1]/component[2]/purl[1]: malformed package URL"},
		{"duplicate bom-ref", cdxJSON(lib("a", `,"bom-ref":"x"`) + "," + lib("b", `,"bom-ref":"x"`)),
			`components[1].bom-ref: duplicate bom-ref "x" (first used by components[0])`},
		{"syntax error", "{\n\"bomFormat\": \"CycloneDX\",\n\"specVersion\": \"1.6\"\n\"version\": 1}", "line 4, column 1: malformed JSON"},
		{"truncated", `{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"type":"library"`, "truncated JSON"},
		{"not an object", `["bomFormat"]`, "$: a CycloneDX document is a JSON object"},
		{"no specVersion", `{"bomFormat":"CycloneDX"}`, "specVersion: missing"},
		{"unknown specVersion", `{"bomFormat":"CycloneDX","specVersion":"9.9"}`, `specVersion: unsupported CycloneDX specVersion "9.9"`},
		{"schema: wrong type", cdxJSON(`{"type":"library","name":7}`), "components[0].name: got number, want string"},
		{"schema: a later component", cdxJSON(lib("a", "") + "," + lib("b", "") + `,{"type":"library","name":7}`), "components[2].name: got number, want string"},
		{"schema: equal components", cdxJSON(lib("a", `,"version":"1"`) + "," + lib("b", "") + "," + `{"version":"1","name":"a","type":"library"}`),
			"components: items at 0 and 2 are equal"},
		{"schema: outside the components", `{"bomFormat":"CycloneDX","specVersion":"1.6","version":"one","components":[` + lib("a", "") + `]}`,
			"version: got string, want integer"},
		{"schema: components not an array", `{"bomFormat":"CycloneDX","specVersion":"1.6","components":{"a":1}}`, "components: got object, want array"},
		{"xml: wrong root", `<?xml version="1.0"?><sbom/>`, "sbom: root element is <sbom>"},
		{"xml: unknown element", cdxXML(xlib("a", "<colour>red</colour>")), "bom/components[1]/component[1]/colour: line 1: element <colour> is not allowed here in <component> (expected <components>, <copyright>, <cpe>"},
		{"xml: text in element-only content", cdxXML(`<component type="library">stray<name>a</name></component>`), "text is not allowed in <component>"},
		{"xml: undeclared attribute", cdxXML(xlib("a", `<hashes><hash alg="MD5" colour="red">3942447fac867ae5cdb3229b658f4d48</hash></hashes>`)),
			`bom/components[1]/component[1]/hashes[1]/hash[1]/@colour: line 1: attribute "colour" is not allowed`},
		{"xml: syntax", cdxXML(xlib("a", "<version>1</versio>")), "line 1: invalid XML"},
		{"xml: undefined entity", cdxXML(xlib("a&xxe;", "")), "invalid XML"},
		{"xml: other encoding", `<?xml version="1.0" encoding="ISO-8859-1"?><bom xmlns="http://cyclonedx.org/schema/bom/1.6"/>`, "invalid XML"},
		{"xml: two roots", cdxXML("") + `<bom xmlns="http://cyclonedx.org/schema/bom/1.6"/>`, "line 1: more than one root element"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := []byte(tt.doc)
			var doc *model.Document
			var err error
			if strings.HasPrefix(tt.doc, "<") {
				doc, err = ParseXML("x.cdx", b, untrusted.Limits{})
			} else {
				doc, err = ParseJSON("x.cdx", b, untrusted.Limits{})
			}
			if err == nil {
				t.Fatalf("accepted: %+v", doc)
			}
			if doc != nil {
				t.Errorf("rejected document half-returned: %+v", doc)
			}
			msg := errMessage(t, err)
			if !strings.HasPrefix(msg, "sbom x.cdx: ") || !strings.Contains(msg, tt.want) {
				t.Errorf("error = %q, want it to contain %q", msg, tt.want)
			}
		})
	}
}

// TestXMLEntities: a DOCTYPE is refused outright, so neither external entities (XXE, which could read local
// files or reach the network) nor internal entity expansion (billion laughs) is ever processed.
func TestXMLEntities(t *testing.T) {
	laughs := `<?xml version="1.0"?>
<!DOCTYPE bom [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<bom xmlns="http://cyclonedx.org/schema/bom/1.6" version="1"><components>
<component type="library"><name>&lol9;</name></component></components></bom>`
	tests := []struct{ name, doc string }{
		{"external entity", `<?xml version="1.0"?>
<!DOCTYPE bom [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<bom xmlns="http://cyclonedx.org/schema/bom/1.6" version="1"><components>
<component type="library"><name>&xxe;</name></component></components></bom>`},
		{"external DTD", `<?xml version="1.0"?>
<!DOCTYPE bom SYSTEM "http://attacker.example/evil.dtd">
<bom xmlns="http://cyclonedx.org/schema/bom/1.6" version="1"/>`},
		{"parameter entity", `<?xml version="1.0"?>
<!DOCTYPE bom [<!ENTITY % p SYSTEM "file:///etc/shadow"> %p;]>
<bom xmlns="http://cyclonedx.org/schema/bom/1.6" version="1"/>`},
		{"billion laughs", laughs},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := ParseXML("evil.xml", []byte(tt.doc), untrusted.Limits{})
			if err == nil {
				t.Fatalf("accepted: %+v", doc)
			}
			if msg := errMessage(t, err); !strings.Contains(msg, "line 2: XML directives (DOCTYPE, ENTITY) are not allowed") {
				t.Errorf("error = %q, want the DOCTYPE refused at line 2", msg)
			}
		})
	}
}

// TestLimits: size, nesting and component count are bounded, and a document over a bound yields nothing.
func TestLimits(t *testing.T) {
	nestJSON := func(depth int) string {
		c := `{"type":"library","name":"leaf"}`
		for i := 0; i < depth; i++ {
			c = `{"type":"library","name":"n","components":[` + c + `]}`
		}
		return cdxJSON(c)
	}
	nestXML := func(depth int) string {
		c := `<component type="library"><name>leaf</name></component>`
		for i := 0; i < depth; i++ {
			c = `<component type="library"><name>n</name><components>` + c + `</components></component>`
		}
		return cdxXML(c)
	}
	many := func(n int) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = fmt.Sprintf(`{"type":"library","name":"c%d"}`, i)
		}
		return cdxJSON(strings.Join(parts, ","))
	}
	manyXML := func(n int) string {
		var b strings.Builder
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, `<component type="library"><name>c%d</name></component>`, i)
		}
		return cdxXML(b.String())
	}
	tests := []struct {
		name string
		doc  string
		lim  untrusted.Limits
		want string // "" means accepted
	}{
		{"size within", many(3), untrusted.Limits{MaxRecordSize: int64(len(many(3)))}, ""},
		{"size over", many(3), untrusted.Limits{MaxRecordSize: int64(len(many(3))) - 1}, "larger than the limit"},
		{"depth within json", nestJSON(5), untrusted.Limits{MaxDepth: 20}, ""},
		{"depth over json", nestJSON(5), untrusted.Limits{MaxDepth: 10}, "JSON nests deeper than the limit of 10"},
		{"hostile depth json", cdxJSON(strings.Repeat("[", 100000)), untrusted.Limits{}, "JSON nests deeper than the limit of 128"},
		{"depth within xml", nestXML(5), untrusted.Limits{MaxDepth: 20}, ""},
		{"depth over xml", nestXML(5), untrusted.Limits{MaxDepth: 10}, "XML nests deeper than the limit of 10"},
		{"hostile depth xml", `<bom xmlns="http://cyclonedx.org/schema/bom/1.6">` + strings.Repeat("<a>", 100000), untrusted.Limits{}, "line 1: XML nests deeper than the limit of 128"},
		{"count within", many(10), untrusted.Limits{MaxRecords: 10}, ""},
		{"count over", many(11), untrusted.Limits{MaxRecords: 10}, "more than the limit of 10 components"},
		{"count over xml", manyXML(11), untrusted.Limits{MaxRecords: 10}, "more than the limit of 10 components"},
		{"nested count over", nestJSON(10), untrusted.Limits{MaxRecords: 10}, "more than the limit of 10 components"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := Parse("big.json", strings.NewReader(tt.doc), tt.lim)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted %d components", len(doc.Components))
			}
			if doc != nil {
				t.Errorf("rejected document half-returned")
			}
			if msg := errMessage(t, err); !strings.Contains(msg, tt.want) {
				t.Errorf("error = %q, want %q", msg, tt.want)
			}
		})
	}
}

// TestComponentMapping: every field Vigil keeps, from JSON and from the same document in XML.
func TestComponentMapping(t *testing.T) {
	json := `{"bomFormat":"CycloneDX","specVersion":"1.6","serialNumber":"urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79","version":1,
	"metadata":{"component":{"type":"device","bom-ref":"dev","name":"Infusion Pump","version":"4.2",
		"components":[{"type":"firmware","bom-ref":"fw","name":"pump-fw","version":"4.2.1","cpe":"cpe:2.3:o:acme:pump_firmware:4.2.1:*:*:*:*:*:*:*"}]}},
	"components":[
	 {"type":"library","bom-ref":"ssl","supplier":{"name":"OpenSSL Project"},"group":"","name":"openssl","version":"1.1.1k",
	  "hashes":[{"alg":"SHA-256","content":"ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789"}],
	  "purl":"PKG:Generic/openssl@1.1.1k?download_url=https://www.openssl.org","cpe":"cpe:2.3:a:openssl:openssl:1.1.1k:*:*:*:*:*:*:*",
	  "properties":[{"name":"Level of Support","value":"No longer maintained"},{"name":"End-of-Support","value":"2023-09-11"}],
	  "components":[{"type":"library","bom-ref":"crypto","name":"libcrypto","version":"1.1.1k","publisher":"OpenSSL"}]},
	 {"type":"library","bom-ref":"jackson","group":"com.fasterxml.jackson.core","name":"jackson-databind","version":"2.9.10",
	  "purl":"pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.9.10?type=jar","author":"FasterXML"},
	 {"type":"library","name":"toml","version":"v1.2.1","purl":"pkg:golang/github.com/BurntSushi/toml@v1.2.1"}],
	"dependencies":[{"ref":"dev","dependsOn":["ssl","jackson"]},{"ref":"ssl","dependsOn":["crypto"]}]}`
	xml := `<?xml version="1.0" encoding="UTF-8"?>
<bom xmlns="http://cyclonedx.org/schema/bom/1.6" serialNumber="urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79" version="1">
 <metadata><component type="device" bom-ref="dev"><name>Infusion Pump</name><version>4.2</version>
  <components><component type="firmware" bom-ref="fw"><name>pump-fw</name><version>4.2.1</version><cpe>cpe:2.3:o:acme:pump_firmware:4.2.1:*:*:*:*:*:*:*</cpe></component></components>
 </component></metadata>
 <components>
  <component type="library" bom-ref="ssl"><supplier><name>OpenSSL Project</name></supplier><name>openssl</name><version>1.1.1k</version>
   <hashes><hash alg="SHA-256">
     ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789
   </hash></hashes>
   <cpe>cpe:2.3:a:openssl:openssl:1.1.1k:*:*:*:*:*:*:*</cpe>
   <purl>PKG:Generic/openssl@1.1.1k?download_url=https://www.openssl.org</purl>
   <properties><property name="Level of Support">No longer maintained</property><property name="End-of-Support">2023-09-11</property></properties>
   <components><component type="library" bom-ref="crypto"><publisher>OpenSSL</publisher><name>libcrypto</name><version>1.1.1k</version></component></components>
  </component>
  <component type="library" bom-ref="jackson"><author>FasterXML</author><group>com.fasterxml.jackson.core</group><name>jackson-databind</name><version>2.9.10</version>
   <purl>pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.9.10?type=jar</purl></component>
  <component type="library"><name>toml</name><version>v1.2.1</version><purl>pkg:golang/github.com/BurntSushi/toml@v1.2.1</purl></component>
 </components>
 <dependencies><dependency ref="dev"><dependency ref="ssl"/><dependency ref="jackson"/></dependency><dependency ref="ssl"><dependency ref="crypto"/></dependency></dependencies>
</bom>`
	eos := vigil.NewDate(2023, 9, 11)
	want := &model.Document{
		SpecVersion: "1.6", Name: "Infusion Pump", Version: "4.2", Serial: "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
		Subject:    &vigil.Component{Name: "Infusion Pump", Version: "4.2", Type: "device", Support: vigil.SupportUnknown},
		SubjectRef: "dev",
		Components: []vigil.Component{
			{Name: "pump-fw", Version: "4.2.1", CPE: "cpe:2.3:o:acme:pump_firmware:4.2.1:*:*:*:*:*:*:*", Type: "firmware", Support: vigil.SupportUnknown},
			{Name: "openssl", Version: "1.1.1k", Supplier: "OpenSSL Project", Type: "library",
				Purl:    "pkg:generic/openssl@1.1.1k?download_url=https:%2F%2Fwww.openssl.org",
				CPE:     "cpe:2.3:a:openssl:openssl:1.1.1k:*:*:*:*:*:*:*",
				Hashes:  map[string]string{"SHA-256": "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789"},
				Support: vigil.SupportNoLonger, EndOfSupport: &eos},
			{Name: "libcrypto", Version: "1.1.1k", Supplier: "OpenSSL", Type: "library", Support: vigil.SupportUnknown},
			{Name: "jackson-databind", Group: "com.fasterxml.jackson.core", Version: "2.9.10", Supplier: "FasterXML", Type: "library",
				Purl: "pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.9.10?type=jar", Support: vigil.SupportUnknown},
			// Go module paths keep their case: advisories spell them so.
			{Name: "toml", Version: "v1.2.1", Purl: "pkg:golang/github.com/BurntSushi/toml@v1.2.1", Type: "library", Support: vigil.SupportUnknown},
		},
		Refs: []string{"fw", "ssl", "crypto", "jackson", ""},
		Relationships: []model.Relationship{
			{From: "dev", Type: model.RelContains, To: "fw"},
			{From: "ssl", Type: model.RelContains, To: "crypto"},
			{From: "dev", Type: model.RelDependsOn, To: "ssl"},
			{From: "dev", Type: model.RelDependsOn, To: "jackson"},
			{From: "ssl", Type: model.RelDependsOn, To: "crypto"},
		},
	}
	for _, tt := range []struct{ format, doc string }{{model.FormatCycloneDXJSON, json}, {model.FormatCycloneDXXML, xml}} {
		t.Run(tt.format, func(t *testing.T) {
			got, err := Parse("pump.cdx", strings.NewReader(tt.doc), untrusted.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			w := *want
			w.Format = tt.format
			if diff := cmp.Diff(&w, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
			if i, ok := got.Index("jackson"); !ok || got.Components[i].Name != "jackson-databind" {
				t.Errorf("Index(jackson) = %d, %v", i, ok)
			}
		})
	}
}

// TestValidationMemory parses a 4 MB SBOM made of 120,000 properties (the shape that took 1.3 GB at 42 MB) and
// bounds the heap it holds at once, sampled with the collector keeping the heap close to what is live: validating
// the whole document as one generic tree held about fifteen times the document; validating it a component at a
// time holds little more than the document and its components.
func TestValidationMemory(t *testing.T) {
	doc := testfix.PropertiesSBOM(4 << 20)
	if _, err := schemaFor("1.5"); err != nil { // compiled once per process, not the parse's cost
		t.Fatal(err)
	}
	defer debug.SetGCPercent(debug.SetGCPercent(5))
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	done := make(chan struct{})
	peak := make(chan uint64)
	go func() {
		var m runtime.MemStats
		var p uint64
		for {
			runtime.ReadMemStats(&m)
			p = max(p, m.HeapAlloc)
			select {
			case <-done:
				peak <- p
				return
			default:
			}
		}
	}()
	got, err := ParseJSON("props.cdx.json", doc, untrusted.Limits{})
	close(done)
	held := <-peak - base.HeapAlloc
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Components) < 2000 {
		t.Fatalf("%d components", len(got.Components))
	}
	t.Logf("parsing %d bytes held at most %d MiB", len(doc), held>>20)
	if held > uint64(6*len(doc)) {
		t.Errorf("parsing %d bytes held %d MiB at once, more than 6 times the document", len(doc), held>>20)
	}
}
