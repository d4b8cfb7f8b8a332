package store

import (
	"testing"

	"github.com/vigil-dev/vigil"
)

func TestMatchDevice(t *testing.T) {
	adv := &vigil.Advisory{Source: vigil.SourceCSAF, Products: []vigil.Product{
		{Vendor: "Medtronic", Name: "MiniMed Paradigm Veo 554CM and 754CM models only"},
		{Vendor: "Medtronic", Name: "MiniMed 508 pump"},
		{Vendor: "Baxter International Inc.", Name: "Sigma Spectrum Infusion Pump", ModelNumbers: []string{"35700BAX2"}},
		{Vendor: "GE Healthcare", Name: "Series 100 monitor"},
	}}
	dev := func(org, name, model string) *signalDevice {
		return &signalDevice{name: words(name), model: words(model), orgName: orgWords(org)}
	}
	tests := []struct {
		name    string
		d       *signalDevice
		by, hit string
	}{
		{"model in a product name", dev("Acme", "Pump", "554CM"), MatchModel, "MiniMed Paradigm Veo 554CM and 754CM models only"},
		{"model number field", dev("Acme", "Pump", "35700-BAX2"), "", ""},
		{"model number field exact", dev("Acme", "Pump", "35700BAX2"), MatchModel, "35700BAX2"},
		{"bare number not ours", dev("Acme", "Monitor", "100"), "", ""},
		{"bare number ours", dev("GE HealthCare", "Monitor", "100"), MatchModel, "Series 100 monitor"},
		{"device name inside product", dev("Acme", "MiniMed 508", ""), MatchName, "MiniMed 508 pump"},
		{"one-word product name needs equality", dev("Acme", "Infusion Pump IP-3", ""), "", ""},
		{"product name inside device name", dev("Acme", "Sigma Spectrum Infusion Pump v8", ""), MatchName, "Sigma Spectrum Infusion Pump"},
		{"vendor is us", dev("Baxter Inc", "Other", "X"), MatchVendor, "Baxter International Inc."},
		{"vendor prefix only", dev("Medtronic plc", "Other", ""), MatchVendor, "Medtronic"},
		{"a vendor word that is not a prefix", dev("Healthcare Corp", "Other", ""), "", ""},
		{"nothing", dev("Acme", "Ventilator", "V-1"), "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			by, hit, ok := matchDevice(tt.d, adv)
			if by != tt.by || hit != tt.hit || ok != (tt.by != "") {
				t.Errorf("matchDevice = %q %q %v, want %q %q", by, hit, ok, tt.by, tt.hit)
			}
		})
	}
}
