package model

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-dev/vigil"
)

func TestNormalizePurl(t *testing.T) {
	tests := []struct {
		in, want, err string
	}{
		{"", "", ""},
		{"  pkg:npm/%40angular/core@12.0.0  ", "pkg:npm/%40angular/core@12.0.0", ""},
		{"PKG:NPM/lodash@4.17.21", "pkg:npm/lodash@4.17.21", ""},
		{"pkg:pypi/Django_Rest@3.0", "pkg:pypi/django-rest@3.0", ""},
		{"pkg:maven/org.apache/commons@1.0?type=jar&classifier=sources", "pkg:maven/org.apache/commons@1.0?classifier=sources&type=jar", ""},
		{"pkg:deb/Debian/LibC6@2.36?arch=amd64", "pkg:deb/debian/libc6@2.36?arch=amd64", ""},
		// Go module paths keep their case (packageurl-go would lower-case them).
		{"pkg:golang/github.com/BurntSushi/toml@v1.2.1", "pkg:golang/github.com/BurntSushi/toml@v1.2.1", ""},
		{"pkg:Golang/github.com/Azure/go-autorest/autorest@v0.11.0#sub/Dir", "pkg:golang/github.com/Azure/go-autorest/autorest@v0.11.0#sub/Dir", ""},
		{"pkg:npm/", "", "malformed package URL"},
		{"npm/lodash@1", "", `purl scheme is not "pkg"`},
		{"pkg:", "", "malformed package URL"},
		{"pkg:n pm/x@1", "", "invalid type"},
	}
	for _, tt := range tests {
		got, err := NormalizePurl(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("NormalizePurl(%q) = %q, %v; want error %q", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("NormalizePurl(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestApplySupport(t *testing.T) {
	d := func(y int, m time.Month, day int) *vigil.Date { x := vigil.NewDate(y, m, day); return &x }
	tests := []struct {
		level, eos string
		want       vigil.Component
	}{
		{"", "", vigil.Component{Support: vigil.SupportUnknown}},
		{"Actively maintained", "Open source", vigil.Component{Support: vigil.SupportActive, SupportNote: "Open source"}},
		{"actively-maintained", "2030-06-30", vigil.Component{Support: vigil.SupportActive, EndOfSupport: d(2030, 6, 30)}},
		{"Deprecated", "No longer supported", vigil.Component{Support: vigil.SupportNoLonger, SupportNote: "No longer supported"}},
		{"Inactive", "2019-12-31T00:00:00Z", vigil.Component{Support: vigil.SupportNoLonger, EndOfSupport: d(2019, 12, 31)}},
		{"EOL", "", vigil.Component{Support: vigil.SupportNoLonger}},
		{"Abandoned", "", vigil.Component{Support: vigil.SupportAbandoned}},
		{"Unknown", "Unknown", vigil.Component{Support: vigil.SupportUnknown, SupportNote: "Unknown"}},
		{"Community", "2025-02-30", vigil.Component{Support: vigil.SupportUnknown, SupportNote: "level of support: Community; 2025-02-30"}},
	}
	for _, tt := range tests {
		var got vigil.Component
		ApplySupport(&got, tt.level, tt.eos)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("ApplySupport(%q, %q) (-want +got):\n%s", tt.level, tt.eos, diff)
		}
	}
}

func TestSupportKeys(t *testing.T) {
	for _, k := range []string{"Level of Support", "levelOfSupport", "support-level", "SUPPORT_LEVEL"} {
		if !IsSupportLevelKey(k) || IsEndOfSupportKey(k) {
			t.Errorf("%q: level %v eos %v", k, IsSupportLevelKey(k), IsEndOfSupportKey(k))
		}
	}
	for _, k := range []string{"End-of-Support", "end of support", "endOfSupportDate", "EOL date", "cdx:eol"} {
		if k == "cdx:eol" {
			if IsEndOfSupportKey(k) {
				t.Errorf("%q should not be an end-of-support key", k)
			}
			continue
		}
		if !IsEndOfSupportKey(k) || IsSupportLevelKey(k) {
			t.Errorf("%q: level %v eos %v", k, IsSupportLevelKey(k), IsEndOfSupportKey(k))
		}
	}
}

func TestNormalizeHashAlg(t *testing.T) {
	for in, want := range map[string]string{
		"SHA1": "SHA-1", "SHA256": "SHA-256", "sha-512": "SHA-512", "SHA3_256": "SHA3-256", "SHA3-384": "SHA3-384",
		"BLAKE2b_256": "BLAKE2b-256", "BLAKE2b-512": "BLAKE2b-512", "MD5": "MD5", "BLAKE3": "BLAKE3", "Streebog-256": "Streebog-256",
	} {
		if got := NormalizeHashAlg(in); got != want {
			t.Errorf("NormalizeHashAlg(%q) = %q, want %q", in, got, want)
		}
	}
}
