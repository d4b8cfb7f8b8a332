package app

import (
	"context"
	"embed"
	"fmt"
	"time"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/sbom"
	"github.com/vigil-dev/vigil/internal/store"
	"github.com/vigil-dev/vigil/internal/untrusted"
)

//go:embed demodata/*.json demodata/intel.zip
var demoFS embed.FS

type demoDevice struct {
	dev      vigil.Device
	versions []vigil.DeviceVersion
	sbom     string
}

func ptrDate(y, m, d int) *vigil.Date {
	x := vigil.NewDate(y, time.Month(m), d)
	return &x
}

var demoDevices = []demoDevice{
	{
		dev: vigil.Device{Name: "Infusio IP-3", Model: "IP-3", Class: "II", Pathway: vigil.Pathway510k, SubmissionNumber: "K213456", CyberDevice: true,
			IntendedUse:       "Large-volume infusion pump for continuous or intermittent delivery of fluids and medication in hospitals.",
			SafetyPerformance: "Deliver the programmed dose at the programmed rate; alarm on occlusion, air-in-line and free flow.",
			Functions: []vigil.ClinicalFunction{{Name: "dose delivery", Severity: vigil.HarmCatastrophic}, {Name: "occlusion and air-in-line alarms", Severity: vigil.HarmCritical},
				{Name: "drug library", Severity: vigil.HarmSerious}, {Name: "event log (PHI)", Severity: vigil.HarmNegligible}},
			UDIDI: "00812345678901"},
		versions: []vigil.DeviceVersion{{Version: "3.1.0", ReleaseDate: ptrDate(2023, 4, 3), Status: vigil.VersionFielded, UnitsFielded: 2400},
			{Version: "3.2.1", ReleaseDate: ptrDate(2024, 9, 16), Status: vigil.VersionMarketed, UnitsFielded: 5100}},
		sbom: "infusion-pump.cdx.json",
	},
	{
		dev: vigil.Device{Name: "VitalView PM-7", Model: "PM-7", Class: "II", Pathway: vigil.Pathway510k, SubmissionNumber: "K221987", CyberDevice: true,
			IntendedUse:       "Bedside patient monitor for ECG, SpO2, NIBP and temperature with central-station networking.",
			SafetyPerformance: "Display accurate vital signs and raise physiological alarms within 10 s.",
			Functions: []vigil.ClinicalFunction{{Name: "physiological alarms", Severity: vigil.HarmCritical}, {Name: "vital-sign display", Severity: vigil.HarmSerious},
				{Name: "central-station link", Severity: vigil.HarmMinor}}},
		versions: []vigil.DeviceVersion{{Version: "7.0.4", ReleaseDate: ptrDate(2024, 2, 12), Status: vigil.VersionMarketed, UnitsFielded: 830}},
		sbom:     "patient-monitor.spdx.json",
	},
	{
		dev: vigil.Device{Name: "ClearScan IW-2", Model: "IW-2", Class: "II", Pathway: vigil.Pathway510k, SubmissionNumber: "K230321", CyberDevice: true,
			IntendedUse:       "Imaging workstation to review, post-process and archive CT and MR studies (DICOM).",
			SafetyPerformance: "Display images without loss or misattribution of patient identity.",
			Functions: []vigil.ClinicalFunction{{Name: "image display for diagnosis", Severity: vigil.HarmSerious}, {Name: "patient identity on images", Severity: vigil.HarmSerious},
				{Name: "study archive (PHI)", Severity: vigil.HarmNegligible}}},
		versions: []vigil.DeviceVersion{{Version: "2.5", ReleaseDate: ptrDate(2025, 1, 20), Status: vigil.VersionMarketed, UnitsFielded: 140}},
		sbom:     "imaging-workstation.spdx.json",
	},
}

// SeedDemo fills an empty store with a demo organization, an admin user and three devices whose versions carry
// real SBOM components. It returns the admin's generated password, or "" when the store already holds the demo.
func (a *App) SeedDemo(ctx context.Context) (password string, err error) {
	ctx = vigil.WithActor(ctx, vigil.Actor{System: true, Name: "demo"})
	orgs, err := a.Portfolio.Orgs(ctx)
	if err != nil {
		return "", err
	}
	if len(orgs) > 0 {
		return "", nil
	}
	org := &vigil.Organization{Name: "Demo Medical Inc.", FEINumber: "3009876543", RegistrationNumber: "2950123", TimeZone: "America/New_York", CVDAckDays: 5,
		CVDContact: "psirt@demo-medical.example",
		ISAOs: []vigil.ISAOMembership{{Name: "Health-ISAC", Since: vigil.NewDate(2019, 3, 1),
			Documents: vigil.EvidenceNotes("Membership agreement HI-2019-114", "Health-ISAC participant agreement, TLP and privacy policies (2024 ed.)",
				"SOP-PSIRT-07 §4: every customer notice is shared with Health-ISAC", "SOP-PSIRT-03: intake of Health-ISAC threat bulletins into risk assessments")}}}
	if err := a.Portfolio.CreateOrg(ctx, org); err != nil {
		return "", err
	}
	password = store.NewSecret("")[:20]
	if err := a.Accounts.CreateUser(ctx, &vigil.User{Name: "admin", Role: vigil.RoleAdmin}, password); err != nil {
		return "", err
	}
	// The admin signs the demo's determinations (Part 11, required by default) with the printed name they show.
	if err := a.Accounts.SetFullName(ctx, "admin", "Dana Admin (demo)"); err != nil {
		return "", err
	}
	for _, dd := range demoDevices {
		d := dd.dev
		if err := a.Portfolio.CreateDevice(ctx, &d); err != nil {
			return "", fmt.Errorf("demo device %s: %w", d.Name, err)
		}
		comps, err := demoComponents(dd.sbom)
		if err != nil {
			return "", err
		}
		for _, v := range dd.versions {
			v.DeviceID = d.ID
			if err := a.Portfolio.CreateVersion(ctx, &v); err != nil {
				return "", err
			}
			if err := a.Portfolio.SetComponents(ctx, v.ID, comps, dd.sbom); err != nil {
				return "", fmt.Errorf("demo SBOM %s: %w", dd.sbom, err)
			}
		}
	}
	if err := a.seedDemoIntel(ctx, &vigil.SignRequest{Meaning: vigil.MeaningApproval, Signer: "admin", Password: password}); err != nil {
		return "", err
	}
	return password, nil
}

// demoComponents reads an embedded SBOM with the real parser.
func demoComponents(name string) ([]vigil.Component, error) {
	b, err := demoFS.ReadFile("demodata/" + name)
	if err != nil {
		return nil, err
	}
	doc, err := sbom.ParseBytes(name, b, untrusted.Limits{})
	if err != nil {
		return nil, fmt.Errorf("demo SBOM %s: %w", name, err)
	}
	return doc.Components, nil
}
