package vigil

import (
	"context"
	"encoding/json"
	"time"
)

// Organization is the manufacturer. Exactly one is expected per store, but nothing prevents several.
type Organization struct {
	ID        int64  `json:"id"`
	Name      string `json:"name"`
	FEINumber string `json:"fei_number,omitempty"` // FDA Establishment Identifier (FEI)
	// RegistrationNumber is the FDA establishment registration number (21 CFR 807), a different number from the
	// FEI: an 806 report number starts with it (21 CFR 806.10(c)(1)).
	RegistrationNumber string           `json:"registration_number,omitempty"`
	TimeZone           string           `json:"time_zone"`             // IANA name; regulatory dates are days in this zone
	ISAOs              []ISAOMembership `json:"isaos"`                 // stored apart (isao_memberships); CreateOrg writes the ones given
	CVDAckDays         int              `json:"cvd_ack_days"`          // business days promised to acknowledge a report
	CVDContact         string           `json:"cvd_contact,omitempty"` // where researchers write
	// Policy is the organization's regulatory policy: every finding's determination runs under it and records it.
	Policy    OrgPolicy `json:"policy"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// OrgPolicy holds the choices the organization makes where the regulations are silent (REGULATORY.md "(policy)"
// items), as stored and edited; an empty field means the documented default. The CVD acknowledgement time is the
// organization's CVDAckDays. internal/regulatory reads and checks it (regulatory.OrgPolicy), so the command line,
// the API and the settings page refuse the same values with the same messages.
type OrgPolicy struct {
	// WorkingDays is how 806.10 working days and 803.53 work days are counted: federal (default) or weekdays.
	WorkingDays string `json:"working_days,omitempty"`
	// RollDeadlines moves calendar-day deadlines falling on a non-working day to the next working day.
	RollDeadlines bool `json:"roll_deadlines"`
	// ReassessmentClock says where the ED clocks start when a controlled risk is reassessed as uncontrolled:
	// reassessed (the reassessment's date, default) or first (the date learned, as the first determination).
	ReassessmentClock string `json:"reassessment_clock,omitempty"`
	// AcceptanceMatrix is the organization's risk acceptance matrix (the default of REGULATORY.md §2 when empty);
	// a device's own matrix overrides it.
	AcceptanceMatrix json.RawMessage `json:"acceptance_matrix,omitempty"`
}

// Pathway is a device's marketing pathway as FDA names it.
type Pathway string

// Pathways.
const (
	Pathway510k   Pathway = "510k"
	PathwayPMA    Pathway = "PMA"
	PathwayDeNovo Pathway = "De Novo"
	PathwayHDE    Pathway = "HDE"
	PathwayExempt Pathway = "exempt"
)

// Pathways lists the pathways.
var Pathways = []Pathway{Pathway510k, PathwayPMA, PathwayDeNovo, PathwayHDE, PathwayExempt}

func (p Pathway) Validate() error              { return OneOf("pathway", p, Pathways) }
func (p Pathway) MarshalText() ([]byte, error) { return marshalWord("pathway", p, Pathways) }
func (p *Pathway) UnmarshalText(b []byte) error {
	return unmarshalWord("pathway", p, b, Pathways)
}

// DeviceClasses lists the valid Device.Class values.
var DeviceClasses = []string{"I", "II", "III"}

// Severity of patient harm on the ISO 14971 scale (G2016 §VI.B).
const (
	HarmNegligible   = "negligible"
	HarmMinor        = "minor"
	HarmSerious      = "serious"
	HarmCritical     = "critical"
	HarmCatastrophic = "catastrophic"
)

// HarmSeverities lists the severities from least to most severe.
var HarmSeverities = []string{HarmNegligible, HarmMinor, HarmSerious, HarmCritical, HarmCatastrophic}

// ClinicalFunction is one function that makes up the device's safety and essential performance, with the
// severity of patient harm if it is lost or corrupted.
type ClinicalFunction struct {
	Name     string `json:"name"`
	Severity string `json:"severity"`
}

// Device is a marketed (or to-be-marketed) medical device model.
type Device struct {
	ID                int64              `json:"id"`
	OrgID             int64              `json:"org_id"`
	Name              string             `json:"name"`
	Model             string             `json:"model,omitempty"`
	Class             string             `json:"class"`
	Pathway           Pathway            `json:"pathway"`
	SubmissionNumber  string             `json:"submission_number,omitempty"` // K123456, P123456, DEN..., H...
	CyberDevice       bool               `json:"cyber_device"`                // FD&C Act 524B
	IntendedUse       string             `json:"intended_use,omitempty"`
	SafetyPerformance string             `json:"safety_performance,omitempty"`
	Functions         []ClinicalFunction `json:"functions"`
	UDIDI             string             `json:"udi_di,omitempty"`
	PMAAnniversary    *Date              `json:"pma_anniversary,omitempty"`
	// AcceptanceMatrix is the device's own risk acceptance matrix (G2016 §VI.C) as JSON, in the form
	// internal/risk reads ({"name", "version", "uncontrolled": {...}} or {"name", "version", "cells": {...}}); empty
	// means the program's default matrix. The store checks it on every write, and every assessment records the ID
	// (name and version) of the matrix it used.
	AcceptanceMatrix json.RawMessage `json:"acceptance_matrix,omitempty"`
	CreatedAt        time.Time       `json:"created_at"`
	UpdatedAt        time.Time       `json:"updated_at"`
}

// Version lifecycle states.
const (
	VersionInDevelopment = "in_development"
	VersionMarketed      = "marketed"
	VersionFielded       = "fielded" // no longer marketed but still in the field
	VersionEndOfSupport  = "end_of_support"
)

// VersionStatuses lists the valid DeviceVersion.Status values.
var VersionStatuses = []string{VersionInDevelopment, VersionMarketed, VersionFielded, VersionEndOfSupport}

// DeviceVersion is one released (or planned) software/firmware version of a device.
type DeviceVersion struct {
	ID           int64     `json:"id"`
	DeviceID     int64     `json:"device_id"`
	Version      string    `json:"version"`
	ReleaseDate  *Date     `json:"release_date,omitempty"`
	Status       string    `json:"status"`
	StatusDate   *Date     `json:"status_date,omitempty"` // when the current status began
	UnitsFielded int       `json:"units_fielded"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// Component support levels (PM2025 §V.A.4(b)).
const (
	SupportActive    = "actively_maintained"
	SupportNoLonger  = "no_longer_maintained"
	SupportAbandoned = "abandoned"
	SupportUnknown   = "unknown"
)

// SupportLevels lists the valid Component.Support values.
var SupportLevels = []string{SupportActive, SupportNoLonger, SupportAbandoned, SupportUnknown}

// Component is one third-party (or own) software or hardware part of a device version, usually from its SBOM.
type Component struct {
	ID           int64             `json:"id,omitempty"`
	VersionID    int64             `json:"version_id,omitempty"`
	Name         string            `json:"name"`
	Group        string            `json:"group,omitempty"` // CycloneDX group: Maven groupId, npm scope, Composer vendor
	Version      string            `json:"version"`
	Purl         string            `json:"purl,omitempty"`
	CPE          string            `json:"cpe,omitempty"`
	Supplier     string            `json:"supplier,omitempty"`
	Hashes       map[string]string `json:"hashes,omitempty"` // algorithm → hex digest
	Support      string            `json:"support"`
	EndOfSupport *Date             `json:"end_of_support,omitempty"`
	// SupportNote keeps the document's own words when they are not a date ("Until hardware support ends").
	SupportNote string `json:"support_note,omitempty"`
	Type        string `json:"type,omitempty"` // library, firmware, operating-system, device, ...
}

// FindingKey identifies a component within a version for its findings: the purl when there is one, else
// name@version (group/name@version, or the CPE of a component with no name), so that re-importing the same SBOM
// keeps the same findings (and their assessments).
func (c Component) FindingKey() string {
	if c.Purl != "" {
		return c.Purl
	}
	k := c.Name + "@" + c.Version
	if c.Group != "" {
		k = c.Group + "/" + k
	}
	if c.CPE != "" && c.Name == "" {
		k = c.CPE
	}
	return k
}

// Consignee is a customer site that received devices (the installed base, for 806 and customer notices).
type Consignee struct {
	ID      int64  `json:"id"`
	OrgID   int64  `json:"org_id"`
	Name    string `json:"name"`
	Contact string `json:"contact,omitempty"`
	Address string `json:"address,omitempty"`
	// Emails are the contacts' addresses customer notices are sent to.
	Emails    []string        `json:"emails"`
	Units     []ConsigneeUnit `json:"units"`
	CreatedAt time.Time       `json:"created_at"`
	UpdatedAt time.Time       `json:"updated_at"`
}

// ConsigneeUnit says how many units of one device version a consignee holds, and which lots or serials.
type ConsigneeUnit struct {
	VersionID int64    `json:"version_id"`
	Units     int      `json:"units"`
	Lots      []string `json:"lots,omitempty"` // lot or serial numbers
	// Shipped is the day these units were shipped to the consignee (their distribution date in an 806 report).
	Shipped *Date `json:"shipped,omitempty"`
}

// PortfolioService manages organizations, devices, versions, components and consignees. Every write appends one
// audit event in the same transaction. Methods return EINVALID (a field is wrong), ENOTFOUND, ECONFLICT (a
// duplicate), EFORBIDDEN (the actor's role may not write).
type PortfolioService interface {
	CreateOrg(ctx context.Context, o *Organization) error
	UpdateOrg(ctx context.Context, o *Organization, reason string) error
	Org(ctx context.Context, id int64) (*Organization, error)
	Orgs(ctx context.Context) ([]*Organization, error)

	CreateDevice(ctx context.Context, d *Device) error
	UpdateDevice(ctx context.Context, d *Device, reason string) error
	Device(ctx context.Context, id int64) (*Device, error)
	DeviceByName(ctx context.Context, name string) (*Device, error)
	Devices(ctx context.Context) ([]*Device, error)

	CreateVersion(ctx context.Context, v *DeviceVersion) error
	UpdateVersion(ctx context.Context, v *DeviceVersion, reason string) error
	Version(ctx context.Context, id int64) (*DeviceVersion, error)
	VersionByName(ctx context.Context, deviceID int64, version string) (*DeviceVersion, error)
	Versions(ctx context.Context, deviceID int64) ([]*DeviceVersion, error)

	// SetComponents replaces the components of a version (an SBOM import); the previous set stays in history.
	SetComponents(ctx context.Context, versionID int64, comps []Component, source string) error
	Components(ctx context.Context, versionID int64) ([]Component, error)

	CreateConsignee(ctx context.Context, c *Consignee) error
	UpdateConsignee(ctx context.Context, c *Consignee, reason string) error
	// DeleteConsignee removes a consignee and its units, with a reason (the audit trail keeps its last state);
	// ECONFLICT when other records (notices sent to it, deployments) still name it.
	DeleteConsignee(ctx context.Context, id int64, reason string) error
	Consignee(ctx context.Context, id int64) (*Consignee, error)
	Consignees(ctx context.Context) ([]*Consignee, error)
}

// Where is one device version containing a component.
type Where struct {
	DeviceID  int64     `json:"device_id"`
	Device    string    `json:"device"`
	VersionID int64     `json:"version_id"`
	Version   string    `json:"version"`
	Status    string    `json:"status"`
	Units     int       `json:"units_fielded"`
	Component Component `json:"component"`
}

// SBOMMeta describes an imported SBOM document.
type SBOMMeta struct {
	Source string // file name or URL
	Format string // cyclonedx-json 1.5, spdx-tagvalue 2.3, ...
	Digest string // sha256 of the document
}
