package csaf

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestBuildProvider checks the provider's layout (CSAF 2.0 §7.1): the metadata names the publisher and a
// distribution per TLP label, each folder has its index, changes (newest first), ROLIE feed and listing, and each
// document its hashes; csaf_checker judges the whole against a running Vigil in internal/app's TestCommunication.
func TestBuildProvider(t *testing.T) {
	a, err := Write(advisory())
	if err != nil {
		t.Fatal(err)
	}
	docs := []ProviderDoc{
		{TrackingID: "ACME-2026-0001", Title: "one", TLP: "WHITE", Initial: t0, Current: t1, JSON: a},
		{TrackingID: "ACME-2025-0009", Title: "old", TLP: "WHITE", Initial: t0.AddDate(-1, 0, 0), Current: t0, JSON: []byte(`{}`)},
		{TrackingID: "ACME-2026-0002", Title: "amber", TLP: "AMBER", Initial: t0, Current: t0, JSON: []byte(`{}`)},
	}
	p, err := BuildProvider("https://acme.example/", pub, docs, []string{"WHITE", "AMBER"}, t1)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(a)
	for name, want := range map[string]string{
		"white/index.txt":                       "2026/acme-2026-0001.json\n2025/acme-2025-0009.json\n",
		"white/changes.csv":                     "\"2026/acme-2026-0001.json\",\"2026-04-20T09:30:00Z\"\n\"2025/acme-2025-0009.json\",\"2026-03-02T15:04:00Z\"\n",
		"white/2026/acme-2026-0001.json.sha256": hex.EncodeToString(sum[:]) + "  acme-2026-0001.json\n",
		"amber/index.txt":                       "2026/acme-2026-0002.json\n",
		"white/2026/acme-2026-0001.json":        string(a),
		"white/2025/":                           `<a href="acme-2025-0009.json.sha512">`,
		"white/":                                `<a href="csaf-feed-tlp-white.json">`,
		"service.json":                          `"href": "https://acme.example/.well-known/csaf/amber/csaf-feed-tlp-amber.json"`,
		"white/csaf-feed-tlp-white.json":        `"src": "https://acme.example/.well-known/csaf/white/2026/acme-2026-0001.json"`,
		"white/2026/acme-2026-0001.json.sha512": "  acme-2026-0001.json\n",
	} {
		got, ok := p.Files[name]
		if !ok {
			t.Errorf("%s missing", name)
			continue
		}
		if !strings.Contains(string(got), want) || strings.HasSuffix(want, "\n") && !strings.HasSuffix(name, ".sha512") && string(got) != want {
			t.Errorf("%s =\n%s\nwant %q", name, got, want)
		}
	}
	var pm struct {
		CanonicalURL  string `json:"canonical_url"`
		Role          string `json:"role"`
		Distributions []struct {
			DirectoryURL string `json:"directory_url"`
			Rolie        struct {
				Feeds []struct{ TLPLabel, URL string }
			} `json:"rolie"`
		} `json:"distributions"`
		Publisher struct{ Namespace string } `json:"publisher"`
	}
	if err := json.Unmarshal(p.Files["provider-metadata.json"], &pm); err != nil {
		t.Fatal(err)
	}
	if pm.CanonicalURL != "https://acme.example/.well-known/csaf/provider-metadata.json" || pm.Role != "csaf_provider" || len(pm.Distributions) != 2 ||
		pm.Distributions[1].DirectoryURL != "https://acme.example/.well-known/csaf/amber/" || pm.Publisher.Namespace != "https://acme.example" {
		t.Errorf("provider metadata %+v", pm)
	}
	if p.Types["white/changes.csv"] != "text/csv; charset=utf-8" || p.Types["provider-metadata.json"] != "application/json" {
		t.Errorf("types %v", p.Types)
	}
}

// signer stands for the OpenPGP key (internal/pgpkey, verified by csaf_checker in internal/app's
// TestCommunication): it says what it signed and when.
type signer struct{}

func (signer) DetachSign(data []byte, at time.Time) ([]byte, error) {
	return []byte(fmt.Sprintf("signature of %d bytes at %s\n", len(data), at.UTC().Format(time.RFC3339))), nil
}
func (signer) PublicKey() []byte   { return []byte("public key\n") }
func (signer) Fingerprint() string { return "0123456789ABCDEF0123456789ABCDEF01234567" }

// TestBuildProviderSigned: with a signer, every document gets its .asc (dated by its current release, listed,
// linked from the ROLIE entry as the signature), and provider-metadata.json names the public key it publishes.
func TestBuildProviderSigned(t *testing.T) {
	a, err := Write(advisory())
	if err != nil {
		t.Fatal(err)
	}
	signed := pub
	signed.Signer = signer{}
	p, err := BuildProvider("https://acme.example", signed, []ProviderDoc{{TrackingID: "ACME-2026-0001", Title: "one", TLP: "WHITE", Initial: t0, Current: t1, JSON: a}},
		[]string{"WHITE"}, t1)
	if err != nil {
		t.Fatal(err)
	}
	const key = "openpgp/0123456789ABCDEF0123456789ABCDEF01234567.asc"
	for name, want := range map[string]string{
		"white/2026/acme-2026-0001.json.asc": fmt.Sprintf("signature of %d bytes at 2026-04-20T09:30:00Z\n", len(a)),
		"white/2026/":                        `<a href="acme-2026-0001.json.asc">`,
		"white/csaf-feed-tlp-white.json":     `"href": "https://acme.example/.well-known/csaf/white/2026/acme-2026-0001.json.asc",`,
		key:                                  "public key\n",
		"provider-metadata.json":             `"fingerprint": "0123456789ABCDEF0123456789ABCDEF01234567",` + "\n" + `      "url": "https://acme.example/.well-known/csaf/` + key + `"`,
	} {
		if got := string(p.Files[name]); !strings.Contains(got, want) {
			t.Errorf("%s =\n%s\nwant %q", name, got, want)
		}
	}
	if !strings.Contains(string(p.Files["white/csaf-feed-tlp-white.json"]), `"rel": "signature"`) {
		t.Error("the ROLIE entry does not link the signature")
	}
	if p.Types["white/2026/acme-2026-0001.json.asc"] != "application/pgp-signature" || p.Types[key] != "application/pgp-keys" {
		t.Errorf("types %v", p.Types)
	}
	unsigned, err := BuildProvider("https://acme.example", pub, nil, []string{"WHITE"}, t1)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(unsigned.Files["provider-metadata.json"]), `"public_openpgp_keys": []`) {
		t.Errorf("unsigned metadata: %s", unsigned.Files["provider-metadata.json"])
	}
}
