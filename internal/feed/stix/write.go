package stix

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// Writing: a case shared with an ISAO becomes a STIX 2.1 bundle. Every object's id is a UUIDv5 of what it stands
// for (the manufacturer, the case's vulnerability, a control, a notice), so sharing a case again yields the same
// ids with a later modified time: the ISAO's store updates the objects rather than collecting duplicates. The
// types are this package's own structs rather than the library's: the library generates random ids and leaves
// the timestamps' precision to encoding/json, and both must be exactly as the specification and the OASIS
// schemas say.

// Namespace is Vigil's UUIDv5 namespace for the ids of the objects it writes.
var Namespace = [16]byte{0x6b, 0x1d, 0x2f, 0x3e, 0x9a, 0x44, 0x4c, 0x1e, 0x8f, 0x52, 0x0b, 0x7a, 0x63, 0xd1, 0x90, 0x5c}

// ID returns the deterministic STIX id of an object of type typ named by name (a UUIDv5 in Namespace).
func ID(typ, name string) string {
	h := sha1.New()
	h.Write(Namespace[:])
	h.Write([]byte(typ + "\x00" + name))
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("%s--%x-%x-%x-%x-%x", typ, u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

// Timestamp formats t as STIX does: UTC, milliseconds, Z.
func Timestamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// The TLP 2.0 marking definitions (OASIS cti-stix-common-objects, extension-definition-specifications/tlp-2.0):
// predefined objects every STIX consumer knows by id.
const tlp2Extension = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"

var tlpMarkings = map[string]string{
	"clear":        "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
	"green":        "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
	"amber":        "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
	"amber+strict": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
	"red":          "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}

// Known lists the ids a bundle may reference without carrying the object: the TLP 2.0 extension definition.
var Known = map[string]bool{tlp2Extension: true}

// Object is one STIX object as written. Only the properties Vigil writes are here; empty ones are left out.
type Object struct {
	Type               string              `json:"type"`
	SpecVersion        string              `json:"spec_version"`
	ID                 string              `json:"id"`
	Created            string              `json:"created"`
	Modified           string              `json:"modified,omitempty"`
	CreatedByRef       string              `json:"created_by_ref,omitempty"`
	Name               string              `json:"name,omitempty"`
	Description        string              `json:"description,omitempty"`
	IdentityClass      string              `json:"identity_class,omitempty"`
	Sectors            []string            `json:"sectors,omitempty"`
	ContactInformation string              `json:"contact_information,omitempty"`
	ReportTypes        []string            `json:"report_types,omitempty"`
	Published          string              `json:"published,omitempty"`
	Abstract           string              `json:"abstract,omitempty"`
	Content            string              `json:"content,omitempty"`
	Authors            []string            `json:"authors,omitempty"`
	RelationshipType   string              `json:"relationship_type,omitempty"`
	SourceRef          string              `json:"source_ref,omitempty"`
	TargetRef          string              `json:"target_ref,omitempty"`
	ObjectRefs         []string            `json:"object_refs,omitempty"`
	ExternalReferences []ExternalReference `json:"external_references,omitempty"`
	ObjectMarkingRefs  []string            `json:"object_marking_refs,omitempty"`
	Extensions         map[string]any      `json:"extensions,omitempty"`
	Labels             []string            `json:"labels,omitempty"`
}

// ExternalReference is a STIX external reference (a CVE: source_name "cve", external_id the CVE id).
type ExternalReference struct {
	SourceName  string `json:"source_name"`
	Description string `json:"description,omitempty"`
	URL         string `json:"url,omitempty"`
	ExternalID  string `json:"external_id,omitempty"`
}

// OutBundle is a bundle as written.
type OutBundle struct {
	Type    string   `json:"type"`
	ID      string   `json:"id"`
	Objects []Object `json:"objects"`
}

// CaseShare is what a case share carries: the manufacturer, the sharing level, the vulnerability as assessed on
// one device, the compensating controls and the fix, and the customer communications. Created is when the case
// was opened; Modified is its latest record's time (so a share of an unchanged case is the same bundle).
type CaseShare struct {
	Manufacturer      string
	ManufacturerSince time.Time
	Contact           string
	TLP               string
	CaseID            int64
	Vulnerability     string   // the case's canonical id
	CVEs              []string // every CVE id the case is known by
	OtherIDs          []string // its other ids (GHSA, vendor)
	CWEs              []string
	Summary           string // what the vulnerability is
	Device            string
	Versions          []string // the affected versions
	Assessment        string   // the determination in words (risk, exploitability, severity)
	Controls          []string // compensating controls and mitigations in place
	Fix               string   // the fix or remediation plan in words ("" when none yet)
	FixedIn           []string // versions that fix it
	Communications    []Communication
	Created, Modified time.Time
	References        []ExternalReference
}

// Communication is one customer communication: its reference, its date and its words.
type Communication struct {
	Ref  string
	Date time.Time
	Text string
}

// CaseBundle builds the bundle of a case share: the manufacturer's identity, the TLP marking, the vulnerability
// with its CVE references, a course of action per compensating control and one for the fix (each "mitigates" the
// vulnerability), a report per customer communication, and the case's report that ties them together. The bundle id is
// derived from its content, so the same share is the same bundle.
func CaseBundle(in CaseShare) (*OutBundle, error) {
	mark, ok := tlpMarkings[in.TLP]
	if !ok {
		return nil, fmt.Errorf("tlp: %q is not a TLP 2.0 level", in.TLP)
	}
	if in.Manufacturer == "" || in.Vulnerability == "" {
		return nil, fmt.Errorf("a share needs the manufacturer and the vulnerability")
	}
	if in.Modified.Before(in.Created) {
		in.Modified = in.Created
	}
	created, modified := Timestamp(in.Created), Timestamp(in.Modified)
	key := fmt.Sprintf("%s/case/%d", in.Manufacturer, in.CaseID)
	ident := Object{Type: "identity", SpecVersion: "2.1", ID: ID("identity", in.Manufacturer), Created: Timestamp(in.ManufacturerSince),
		Modified: Timestamp(in.ManufacturerSince), Name: in.Manufacturer, IdentityClass: "organization", Sectors: []string{"healthcare"},
		ContactInformation: in.Contact}
	marking := Object{Type: "marking-definition", SpecVersion: "2.1", ID: mark, Created: "2022-10-01T00:00:00.000Z", Name: "TLP:" + strings.ToUpper(in.TLP),
		Extensions: map[string]any{tlp2Extension: map[string]string{"extension_type": "property-extension", "tlp_2_0": in.TLP}}}
	sdo := func(typ, name string) Object {
		return Object{Type: typ, SpecVersion: "2.1", ID: ID(typ, key+"/"+name), Created: created, Modified: modified, CreatedByRef: ident.ID,
			ObjectMarkingRefs: []string{mark}}
	}
	vuln := sdo("vulnerability", "vulnerability")
	vuln.Name = in.Vulnerability
	desc := in.Summary
	if in.Device != "" {
		desc = strings.TrimSpace(desc + fmt.Sprintf("\n\nAffects %s %s.", in.Device, versionList(in.Versions)))
	}
	vuln.Description = desc
	for _, c := range in.CVEs {
		vuln.ExternalReferences = append(vuln.ExternalReferences, ExternalReference{SourceName: "cve", ExternalID: c,
			URL: "https://www.cve.org/CVERecord?id=" + c})
	}
	for _, c := range in.CWEs {
		vuln.ExternalReferences = append(vuln.ExternalReferences, ExternalReference{SourceName: "cwe", ExternalID: c})
	}
	for _, o := range in.OtherIDs {
		vuln.ExternalReferences = append(vuln.ExternalReferences, ExternalReference{SourceName: "vigil", ExternalID: o, Description: "another id of the vulnerability"})
	}
	vuln.ExternalReferences = append(vuln.ExternalReferences, in.References...)
	objs := []Object{ident, marking, vuln}
	refs := []string{vuln.ID}
	mitigates := func(coa Object) {
		rel := sdo("relationship", "mitigates/"+coa.ID)
		rel.RelationshipType, rel.SourceRef, rel.TargetRef = "mitigates", coa.ID, vuln.ID
		objs = append(objs, coa, rel)
		refs = append(refs, coa.ID, rel.ID)
	}
	for _, c := range in.Controls {
		coa := sdo("course-of-action", "control/"+c)
		coa.Name, coa.Description = clipName("Compensating control: "+c), c
		coa.Labels = []string{"compensating-control"}
		mitigates(coa)
	}
	if in.Fix != "" || len(in.FixedIn) > 0 {
		coa := sdo("course-of-action", "fix")
		coa.Name = "Fix"
		if len(in.FixedIn) > 0 {
			coa.Name = "Fix: update " + in.Device + " to " + strings.Join(in.FixedIn, " or ")
		}
		coa.Name = clipName(coa.Name)
		coa.Description = strings.TrimSpace(in.Fix)
		coa.Labels = []string{"fix"}
		mitigates(coa)
	}
	// Each customer communication is a report of its own (the OASIS bundle schema admits no note: a note matches
	// both of its catch-all branches), referenced by the case's report.
	for _, c := range in.Communications {
		r := sdo("report", "communication/"+c.Ref)
		r.Name = clipName("Customer communication " + c.Ref)
		r.Description = c.Text
		r.Published = Timestamp(c.Date)
		r.ReportTypes = []string{"vulnerability"}
		r.Labels = []string{"customer-communication"}
		r.ObjectRefs = []string{vuln.ID}
		objs = append(objs, r)
		refs = append(refs, r.ID)
	}
	rep := sdo("report", "report")
	rep.Name = clipName(fmt.Sprintf("%s: %s in %s", in.Manufacturer, in.Vulnerability, in.Device))
	rep.Published = modified
	rep.ReportTypes = []string{"vulnerability"}
	rep.Description = strings.TrimSpace(in.Assessment)
	rep.ObjectRefs = append(refs, ident.ID)
	objs = append(objs, rep)
	b := &OutBundle{Type: "bundle", Objects: objs}
	raw, err := json.Marshal(objs)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(raw)
	b.ID = ID("bundle", fmt.Sprintf("%x", sum))
	return b, nil
}

// NoticeBundle builds the bundle of a customer notice shared with an ISAO: each case the notice covers as
// CaseBundle writes it, and the notice itself as a report (the customer communication, report_types
// "vulnerability", labelled customer-communication) that references every case's vulnerability and report. The
// objects the cases have in common (the manufacturer, the marking) appear once. The notice's report is created on
// the day it was sent and modified with the latest of the cases, so sharing it again updates it.
func NoticeBundle(notice Communication, shares []CaseShare) (*OutBundle, error) {
	if len(shares) == 0 {
		return nil, fmt.Errorf("a notice share needs the cases the notice covers")
	}
	var objs []Object
	seen := map[string]bool{}
	var refs []string
	modified := notice.Date
	for _, in := range shares {
		if in.TLP != shares[0].TLP || in.Manufacturer != shares[0].Manufacturer {
			return nil, fmt.Errorf("case %d: every case of a notice is shared by one manufacturer under one TLP level", in.CaseID)
		}
		b, err := CaseBundle(in)
		if err != nil {
			return nil, fmt.Errorf("case %d: %w", in.CaseID, err)
		}
		for _, o := range b.Objects {
			if seen[o.ID] {
				continue
			}
			seen[o.ID] = true
			objs = append(objs, o)
			if o.Type == "vulnerability" || (o.Type == "report" && !slices.Contains(o.Labels, "customer-communication")) {
				refs = append(refs, o.ID)
			}
		}
		if in.Modified.After(modified) {
			modified = in.Modified
		}
	}
	ident, mark := objs[0], objs[1] // CaseBundle writes the identity, then the marking, first
	r := Object{Type: "report", SpecVersion: "2.1", ID: ID("report", shares[0].Manufacturer+"/notice/"+notice.Ref), Created: Timestamp(notice.Date),
		Modified: Timestamp(modified), CreatedByRef: ident.ID, ObjectMarkingRefs: []string{mark.ID}, Name: clipName("Customer communication " + notice.Ref),
		Description: notice.Text, Published: Timestamp(notice.Date), ReportTypes: []string{"vulnerability"}, Labels: []string{"customer-communication"},
		ObjectRefs: refs}
	objs = append(objs, r)
	raw, err := json.Marshal(objs)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(raw)
	return &OutBundle{Type: "bundle", ID: ID("bundle", fmt.Sprintf("%x", sum)), Objects: objs}, nil
}

func versionList(vs []string) string {
	switch len(vs) {
	case 0:
		return ""
	case 1:
		return "version " + vs[0]
	}
	return "versions " + strings.Join(vs, ", ")
}

func clipName(s string) string {
	if len(s) <= 250 {
		return s
	}
	cut := 250
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + "…"
}

// Check applies STIX 2.1's rules that the JSON schemas cannot express to a bundle's objects: each id's prefix is
// its type and its suffix a UUID, ids are unique, modified is not before created, and every reference
// (created_by_ref, object_marking_refs, source_ref/target_ref, object_refs, extension keys) resolves to an object in
// the bundle or one of known. It returns every violation, each naming the object.
func Check(raw []byte, known map[string]bool) []error {
	var b struct {
		Objects []map[string]any `json:"objects"`
	}
	if err := json.Unmarshal(raw, &b); err != nil {
		return []error{fmt.Errorf("bundle: %v", err)}
	}
	var errs []error
	ids := map[string]bool{}
	for i, o := range b.Objects {
		typ, _ := o["type"].(string)
		id, _ := o["id"].(string)
		if !strings.HasPrefix(id, typ+"--") || !isUUID(strings.TrimPrefix(id, typ+"--")) {
			errs = append(errs, fmt.Errorf("objects[%d]: id %q is not %s--<uuid>", i, id, typ))
		}
		if ids[id] {
			errs = append(errs, fmt.Errorf("objects[%d]: id %s appears twice", i, id))
		}
		ids[id] = true
	}
	resolves := func(ref string) bool { return ids[ref] || known[ref] }
	for i, o := range b.Objects {
		id, _ := o["id"].(string)
		c, _ := o["created"].(string)
		m, _ := o["modified"].(string)
		if c != "" && m != "" {
			ct, err1 := time.Parse(time.RFC3339Nano, c)
			mt, err2 := time.Parse(time.RFC3339Nano, m)
			if err1 != nil || err2 != nil {
				errs = append(errs, fmt.Errorf("objects[%d] %s: created/modified do not read as timestamps", i, id))
			} else if mt.Before(ct) {
				errs = append(errs, fmt.Errorf("objects[%d] %s: modified %s is before created %s", i, id, m, c))
			}
		}
		var refs []string
		for _, k := range []string{"created_by_ref", "source_ref", "target_ref", "sighting_of_ref"} {
			if s, ok := o[k].(string); ok {
				refs = append(refs, s)
			}
		}
		for _, k := range []string{"object_marking_refs", "object_refs", "where_sighted_refs"} {
			if list, ok := o[k].([]any); ok {
				for _, r := range list {
					if s, ok := r.(string); ok {
						refs = append(refs, s)
					}
				}
			}
		}
		if ext, ok := o["extensions"].(map[string]any); ok {
			keys := make([]string, 0, len(ext))
			for k := range ext {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				if strings.HasPrefix(k, "extension-definition--") {
					refs = append(refs, k)
				}
			}
		}
		for _, r := range refs {
			if !resolves(r) {
				errs = append(errs, fmt.Errorf("objects[%d] %s: reference %s resolves to no object in the bundle", i, id, r))
			}
		}
	}
	return errs
}

func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, r := range s {
		switch i {
		case 8, 13, 18, 23:
			if r != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
				return false
			}
		}
	}
	return true
}
