package sbom

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/testfix"
	"github.com/vigil-dev/vigil/internal/untrusted"
)

func TestKey(t *testing.T) {
	tests := []struct {
		c    vigil.Component
		want string
	}{
		{vigil.Component{Name: "jackson-databind", Purl: "pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.9.10?type=jar&repository_url=https://repo1"},
			"pkg:maven/com.fasterxml.jackson.core/jackson-databind?type=jar"},
		{vigil.Component{Name: "libc6", Purl: "pkg:deb/debian/libc6@2.36-9?arch=amd64&distro=debian-12"}, "pkg:deb/debian/libc6?arch=amd64"},
		{vigil.Component{Name: "libc6", Purl: "pkg:deb/debian/libc6@2.36-9?arch=i386&distro=debian-12"}, "pkg:deb/debian/libc6?arch=i386"},
		{vigil.Component{Name: "WolfSSL", CPE: "cpe:2.3:a:wolfssl:wolfssl:4.8.1:*:*:*:*:*:*:*"}, "wolfssl"},
		{vigil.Component{Group: "com.acme", Name: "Pump-FW"}, "com.acme/pump-fw"},
		{vigil.Component{Name: "bad", Purl: "not-a-purl"}, "bad"},
	}
	for _, tt := range tests {
		if got := Key(tt.c); got != tt.want {
			t.Errorf("Key(%+v) = %q, want %q", tt.c, got, tt.want)
		}
	}
}

func TestDiff(t *testing.T) {
	c := func(name, version, purl string) vigil.Component {
		return vigil.Component{Name: name, Version: version, Purl: purl, Support: vigil.SupportUnknown}
	}
	openssl1 := c("openssl", "1.1.1k", "pkg:generic/openssl@1.1.1k")
	openssl3 := c("openssl", "3.0.13", "pkg:generic/openssl@3.0.13")
	lodash3 := c("lodash", "3.10.1", "pkg:npm/lodash@3.10.1")
	lodash4 := c("lodash", "4.17.20", "pkg:npm/lodash@4.17.20")
	lodash4b := c("lodash", "4.17.21", "pkg:npm/lodash@4.17.21")
	fw := vigil.Component{Name: "pump-fw", Version: "4.2.1", CPE: "cpe:2.3:o:acme:pump_fw:4.2.1:*:*:*:*:*:*:*", Support: vigil.SupportActive}
	fwEOL := fw
	fwEOL.Support = vigil.SupportNoLonger
	fwEOL.SupportNote = "vendor ended support"
	zlib := c("zlib", "1.2.13", "pkg:apk/alpine/zlib@1.2.13?distro=alpine-3.17")
	zlibNewDistro := c("zlib", "1.2.13", "pkg:apk/alpine/zlib@1.2.13?distro=alpine-3.18")

	tests := []struct {
		name     string
		old, new []vigil.Component
		want     DiffResult
	}{
		{"identical", []vigil.Component{openssl1, fw}, []vigil.Component{fw, openssl1},
			DiffResult{Added: []vigil.Component{}, Removed: []vigil.Component{}, Changed: []Change{}, Unchanged: 2}},
		{"upgrade is a change, not remove+add", []vigil.Component{openssl1}, []vigil.Component{openssl3},
			DiffResult{Added: []vigil.Component{}, Removed: []vigil.Component{}, Unchanged: 0,
				Changed: []Change{{Key: "pkg:generic/openssl", Old: openssl1, New: openssl3, Fields: []string{"version", "purl"}}}}},
		{"added and removed", []vigil.Component{openssl1}, []vigil.Component{fw},
			DiffResult{Added: []vigil.Component{fw}, Removed: []vigil.Component{openssl1}, Changed: []Change{}}},
		{"support change on a CPE-only component", []vigil.Component{fw}, []vigil.Component{fwEOL},
			DiffResult{Added: []vigil.Component{}, Removed: []vigil.Component{},
				Changed: []Change{{Key: "pump-fw", Old: fw, New: fwEOL, Fields: []string{"support", "support_note"}}}}},
		{"two copies, one upgraded", []vigil.Component{lodash4, lodash3}, []vigil.Component{lodash3, lodash4b},
			DiffResult{Added: []vigil.Component{}, Removed: []vigil.Component{}, Unchanged: 1,
				Changed: []Change{{Key: "pkg:npm/lodash", Old: lodash4, New: lodash4b, Fields: []string{"version", "purl"}}}}},
		{"copy dropped", []vigil.Component{lodash3, lodash4}, []vigil.Component{lodash4},
			DiffResult{Added: []vigil.Component{}, Removed: []vigil.Component{lodash3}, Changed: []Change{}, Unchanged: 1}},
		{"distro qualifier is not identity", []vigil.Component{zlib}, []vigil.Component{zlibNewDistro},
			DiffResult{Added: []vigil.Component{}, Removed: []vigil.Component{},
				Changed: []Change{{Key: "pkg:apk/alpine/zlib", Old: zlib, New: zlibNewDistro, Fields: []string{"purl"}}}}},
		{"first import", nil, []vigil.Component{openssl1},
			DiffResult{Added: []vigil.Component{openssl1}, Removed: []vigil.Component{}, Changed: []Change{}}},
		{"nothing", nil, nil, DiffResult{Added: []vigil.Component{}, Removed: []vigil.Component{}, Changed: []Change{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Diff(tt.old, tt.new)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
			if got.Empty() != (len(tt.want.Added)+len(tt.want.Removed)+len(tt.want.Changed) == 0) {
				t.Errorf("Empty() = %v", got.Empty())
			}
		})
	}
}

// TestDiffRealReleases: re-importing proton-bridge v1.8.0's SBOM over v1.6.3's shows the seven upgraded Go
// modules and nothing else; the same SBOM read from JSON and from XML shows no difference.
func TestDiffRealReleases(t *testing.T) {
	dir := testfix.Path(t, "cyclonedx-bom-examples", "SBOM", "proton-bridge")
	read := func(f string) []vigil.Component {
		t.Helper()
		doc, err := Parse(f, openFile(t, dir, f), untrusted.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		return doc.Components
	}
	v163, v180 := read("proton-bridge-v1.6.3.bom.json"), read("proton-bridge-v1.8.0.bom.json")
	d := Diff(v163, v180)
	var changed []string
	for _, c := range d.Changed {
		changed = append(changed, c.Key+" "+c.Old.Version+" -> "+c.New.Version)
		if diff := cmp.Diff([]string{"version", "purl", "hashes"}, c.Fields); diff != "" {
			t.Errorf("%s fields (-want +got):\n%s", c.Key, diff)
		}
	}
	want := []string{
		"pkg:golang/github.com/emersion/go-imap-quota v0.0.0-20200423100218-dcfd1b7d2b41 -> v0.0.0-20210203125329-619074823f3c",
		"pkg:golang/github.com/go-resty/resty/v2 v2.3.0 -> v2.6.0",
		"pkg:golang/github.com/miekg/dns v1.1.30 -> v1.1.41",
		"pkg:golang/golang.org/x/net v0.0.0-20200707034311-ab3426394381 -> v0.0.0-20210405180319-a5a99cb37ef4",
		"pkg:golang/golang.org/x/sync v0.0.0-20190911185100-cd5d95a43a6e -> v0.0.0-20210220032951-036812b2e83c",
		"pkg:golang/golang.org/x/sys v0.0.0-20200323222414-85ca7c5b95cd -> v0.0.0-20210330210617-4fbd30eecc44",
		"pkg:golang/golang.org/x/term v0.0.0-20201117132131-f5c789dd3221 -> v0.0.0-20201126162022-7de9c90e9dd1",
	}
	if diff := cmp.Diff(want, changed); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
	if len(d.Added) != 0 || len(d.Removed) != 0 || d.Unchanged != 194 {
		t.Errorf("added %d removed %d unchanged %d, want 0 0 194", len(d.Added), len(d.Removed), d.Unchanged)
	}
	if d := Diff(v180, read("proton-bridge-v1.8.0.bom.xml")); !d.Empty() || d.Unchanged != 201 {
		t.Errorf("JSON vs XML of one release: %+v", d)
	}
}
