package cpe_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/cpe"
)

func TestParse(t *testing.T) {
	any11 := func(part, vendor, product, version string) cpe.CPE {
		return cpe.CPE{Part: part, Vendor: vendor, Product: product, Version: version, Update: "*", Edition: "*",
			Language: "*", SWEdition: "*", TargetSW: "*", TargetHW: "*", Other: "*"}
	}
	with := func(c cpe.CPE, f func(*cpe.CPE)) cpe.CPE { f(&c); return c }
	tests := []struct {
		name string
		in   string
		want cpe.CPE
	}{
		{"formatted string", "cpe:2.3:a:openssl:openssl:1.0.2u:*:*:*:*:*:*:*",
			any11("a", "openssl", "openssl", "1.0.2u")},
		{"firmware, NA version", "cpe:2.3:o:medtronic:minimed_paradigm_veo_754cm_firmware:-:*:*:*:*:*:*:*",
			any11("o", "medtronic", "minimed_paradigm_veo_754cm_firmware", "-")},
		{"upper case folds", "CPE:2.3:H:Medtronic:MiniMed_508:-:*:*:*:*:*:*:*",
			any11("h", "medtronic", "minimed_508", "-")},
		{"quoted colon and dot", `cpe:2.3:a:vendor:prod\:uct:1\.0\:beta:*:*:*:*:*:*:*`,
			any11("a", "vendor", "prod:uct", "1.0:beta")},
		{"quoted punctuation", `cpe:2.3:a:myback\.link:whitepage:1\(2\):*:*:*:*:wordpress:*:*`,
			with(any11("a", "myback.link", "whitepage", "1(2)"), func(c *cpe.CPE) { c.TargetSW = "wordpress" })},
		{"unquoted punctuation is accepted", "cpe:2.3:a:myback.link:white-page:1.0+b(2):*:*:*:*:*:*:*",
			any11("a", "myback.link", "white-page", "1.0+b(2)")},
		{"quoted wildcard characters stay literal", `cpe:2.3:a:v:p:\*:*:*:*:*:*:*:\?`,
			with(any11("a", "v", "p", `\*`), func(c *cpe.CPE) { c.Other = `\?` })},
		{"quoted backslash", `cpe:2.3:a:v:p\\x:1:*:*:*:*:*:*:*`, any11("a", "v", `p\\x`, "1")},
		{"quoted lone hyphen is not NA", `cpe:2.3:a:v:p:\-:*:*:*:*:*:*:*`, any11("a", "v", "p", `\-`)},
		{"wildcards", "cpe:2.3:o:medtronic:*_firmware:1.?:*:*:*:*:*:*:*",
			any11("o", "medtronic", "*_firmware", "1.?")},
		{"longest attribute", "cpe:2.3:a:v:" + strings.Repeat("p", cpe.MaxAttrLen),
			any11("a", "v", strings.Repeat("p", cpe.MaxAttrLen), "*")},
		{"all attributes", "cpe:2.3:o:microsoft:windows_10:1607:sp1:pro:en-us:enterprise:*:x64:other",
			cpe.CPE{Part: "o", Vendor: "microsoft", Product: "windows_10", Version: "1607", Update: "sp1",
				Edition: "pro", Language: "en-us", SWEdition: "enterprise", TargetSW: "*", TargetHW: "x64",
				Other: "other"}},
		{"truncated after the product", "cpe:2.3:a:zlib:zlib", any11("a", "zlib", "zlib", "*")},
		{"truncated after the version", "cpe:2.3:a:zlib:zlib:1.2.13", any11("a", "zlib", "zlib", "1.2.13")},
		{"URI", "cpe:/a:openssl:openssl:1.0.2u", any11("a", "openssl", "openssl", "1.0.2u")},
		{"URI, empty is any", "cpe:/o:microsoft:windows_xp::sp3",
			with(any11("o", "microsoft", "windows_xp", "*"), func(c *cpe.CPE) { c.Update = "sp3" })},
		{"URI packed edition", "cpe:/a:hp:insight_diagnostics:7.4.0.1570:-:~~online~win2003~x64~:en",
			with(any11("a", "hp", "insight_diagnostics", "7.4.0.1570"), func(c *cpe.CPE) {
				c.Update, c.Edition, c.SWEdition, c.TargetSW, c.TargetHW, c.Other, c.Language =
					"-", "*", "online", "win2003", "x64", "*", "en"
			})},
		{"URI wildcards", "cpe:/a:%02soft:prod%01%01", any11("a", "*soft", "prod??", "*")},
		{"URI NA", "cpe:/h:medtronic:minimed_508:-", any11("h", "medtronic", "minimed_508", "-")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := cpe.Parse(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
			// The formatted string round-trips.
			again, err := cpe.Parse(got.String())
			if err != nil {
				t.Fatalf("Parse(%q): %v", got.String(), err)
			}
			if diff := cmp.Diff(got, again); diff != "" {
				t.Errorf("round trip through %q (-first +second):\n%s", got.String(), diff)
			}
		})
	}
}

func TestParseURIPercent(t *testing.T) {
	got, err := cpe.Parse("cpe:/a:foo%5cbar:big%24money_2010:1.0%3abeta")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`foo\\bar`, "big$money_2010", "1.0:beta"}
	if diff := cmp.Diff(want, []string{got.Vendor, got.Product, got.Version}); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
	if got, want := got.String(), `cpe:2.3:a:foo\\bar:big\$money_2010:1.0\:beta:*:*:*:*:*:*:*`; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		in   string
		want string // part of the message: the attribute and the reason
	}{
		{"", "want a"},
		{"openssl:openssl", "want a"},
		{"cpe:2.2:a:v:p", "want a"},
		{"cpe:2.3:a:v", "at least part, vendor and product"},
		{"cpe:2.3:a:v:p:1:*:*:*:*:*:*:*:extra", "more than 11"},
		{"cpe:2.3:a::p:1:*:*:*:*:*:*:*", "vendor: empty"},
		{"cpe:2.3:x:v:p:1:*:*:*:*:*:*:*", "part: want a, o or h"},
		{"cpe:2.3:-:v:p:1:*:*:*:*:*:*:*", "part: want a, o or h"},
		{`cpe:2.3:a:v:p:1\`, "version: ends with a lone backslash"},
		{"cpe:2.3:a:v:p:1*2:*:*:*:*:*:*:*", "version: a * wildcard"},
		{"cpe:2.3:a:v:**:1:*:*:*:*:*:*:*", "product: a * wildcard"},
		{"cpe:2.3:a:v:p:1?2:*:*:*:*:*:*:*", "version: a ? wildcard"},
		{"cpe:2.3:a:v:p:1 2:*:*:*:*:*:*:*", "version: invalid character"},
		{"cpe:2.3:a:v:pé:1:*:*:*:*:*:*:*", "product: invalid character"},
		{"cpe:2.3:a:v:p:1\x00:*:*:*:*:*:*:*", "version: invalid character"},
		{"cpe:2.3:a:v:" + strings.Repeat("p", cpe.MaxLen), "longer than 8192 bytes"},
		{"cpe:2.3:a:v:" + strings.Repeat("p", cpe.MaxAttrLen+1), "product: longer than 256 characters"},
		{"cpe:2.3:a:v:p:" + strings.Repeat(`\!`, cpe.MaxAttrLen+1), "version: longer than 256 characters"},
		{"cpe:/a:v:" + strings.Repeat("%21", cpe.MaxAttrLen+1), "product: longer than 256 characters"},
		{"cpe:/a:v", "at least part, vendor and product"},
		{"cpe:/a:v:p:1:u:e:l:x", "at most 7"},
		{"cpe:/a:v:p:1%", "version: bad percent-encoding"},
		{"cpe:/a:v:p:1%zz", "version: bad percent-encoding"},
		{"cpe:/a:v:p:1%07", "version: invalid character"},
		{"cpe:/a:v:p:1%02x%02", "version: a * wildcard"},
		{"cpe:/a:v:p:1:u:~a~b", "edition: a packed edition"},
		{"cpe:/q:v:p", "part: want a, o or h"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := cpe.Parse(tt.in)
			if vigil.ErrorCode(err) != vigil.EINVALID {
				t.Fatalf("code = %q, want EINVALID (%v)", vigil.ErrorCode(err), err)
			}
			msg := vigil.ErrorMessage(err)
			if !strings.Contains(msg, tt.want) {
				t.Errorf("message %q does not say %q", msg, tt.want)
			}
			if len(msg) > 400 {
				t.Errorf("message is %d bytes: the input should be clipped", len(msg))
			}
		})
	}
}

func TestUnquote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"1.0.2u", "1.0.2u"},
		{`\-`, "-"},
		{`p\\x`, `p\x`},
		{`\*`, "*"},
		{"*_firmware", "*_firmware"},
		{cpe.Any, ""},
		{cpe.NA, ""},
	}
	for _, tt := range tests {
		if got := cpe.Unquote(tt.in); got != tt.want {
			t.Errorf("Unquote(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"cpe:/a:openssl:openssl:1.0.2u", "cpe:2.3:a:openssl:openssl:1.0.2u:*:*:*:*:*:*:*"},
		{"cpe:2.3:a:v:p", "cpe:2.3:a:v:p:*:*:*:*:*:*:*:*"},
		{`cpe:2.3:a:v\.x:p\_q:1\-2:*:*:*:*:*:*:*`, "cpe:2.3:a:v.x:p_q:1-2:*:*:*:*:*:*:*"},
		{"cpe:2.3:a:v:p:1(2):*:*:*:*:*:*:*", `cpe:2.3:a:v:p:1\(2\):*:*:*:*:*:*:*`},
		{"cpe:2.3:a:v:*p?:1:*:*:*:*:*:*:*", "cpe:2.3:a:v:*p?:1:*:*:*:*:*:*:*"},
		{`cpe:2.3:a:v:p:\-:*:*:*:*:*:*:*`, `cpe:2.3:a:v:p:\-:*:*:*:*:*:*:*`},
		{"cpe:/a:v:p:%2d", `cpe:2.3:a:v:p:\-:*:*:*:*:*:*:*`},
	}
	for _, tt := range tests {
		c, err := cpe.Parse(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.String(); got != tt.want {
			t.Errorf("Parse(%q).String() = %q, want %q", tt.in, got, tt.want)
		}
	}
	var zero cpe.CPE
	if got := zero.String(); got != "cpe:2.3:*:*:*:*:*:*:*:*:*:*:*" {
		t.Errorf("zero CPE String() = %q", got)
	}
}
