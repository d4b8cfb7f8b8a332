package web

import (
	"context"
	"io/fs"
	"net/http"
	"net/url"

	"github.com/go-chi/chi/v5"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/cases"
	"github.com/vigil-dev/vigil/internal/regulatory"
	"github.com/vigil-dev/vigil/internal/report"
	"github.com/vigil-dev/vigil/internal/service/isao"
	"github.com/vigil-dev/vigil/internal/service/portfolio"
	"github.com/vigil-dev/vigil/internal/service/regdocs"
)

// route is one entry of the route table. The table is the single description of the HTTP surface: the router is
// built from it, the OpenAPI document is generated from its API entries, and the tests walk it. Perm is the
// permission the service behind the route checks (the web layer does not enforce it: services do, and the role
// test proves they do); it is also what hides a button from a role that cannot use it.
type route struct {
	Method  string
	Pattern string
	Public  bool   // reachable without signing in
	Perm    string // the permission the service checks; every signed-in user holds vigil.PermRead
	Self    bool   // a user may also do this to themself (their password, their tokens)
	API     bool
	// Session marks an API route the service refuses to a bearer token (creating tokens): the OpenAPI document
	// offers only the session cookie for it.
	Session bool
	Summary string
	Query   []param
	// Example is a valid request: a JSON body for the API, url.Values for a form. The OpenAPI document shows it
	// and the role test sends it, so that a handler missing its authorization would succeed and be caught.
	Example any
	// Upload marks a multipart file upload (field "file").
	Upload bool
	// Download is the media type of a file answer (an evidence package): the OpenAPI document gives it as binary.
	Download string
	In       any // the request body type, for the OpenAPI schema
	Resp     any // the response body type, for the OpenAPI schema
	Status   int // the success status (200 when zero)
	h        handler
	raw      http.Handler
}

// param is a query parameter.
type param struct {
	Name, Type, Doc string
}

var (
	pageQuery  = []param{{"format", "string", "csv or json to export the whole list instead of the page"}}
	findingQ   = []param{{"device", "integer", "device id"}, {"version", "integer", "device version id"}, {"state", "string", "open, could_not_evaluate, needs_review, resolved, closed, or all (repeatable; default open, could_not_evaluate and needs_review)"}, {"vuln", "string", "vulnerability id or alias"}, {"q", "string", "text in the component or vulnerability"}, {"risk", "string", "controlled, uncontrolled or unassessed"}, {"since", "string", "first seen on or after this date (YYYY-MM-DD)"}, {"after", "integer", "cursor: the page of findings older than this id"}, {"before", "integer", "cursor: the page of findings newer than this id"}, {"limit", "integer", "rows per page (at most 500)"}}
	caseQ      = []param{{"state", "string", "open, needs_review, closed, or all (repeatable; default open and needs_review)"}, {"device", "integer", "device id"}, {"vuln", "string", "the case's vulnerability id or any alias"}, {"kev", "boolean", "only KEV-listed vulnerabilities"}, {"uncontrolled", "boolean", "only uncontrolled (or provisional) determinations"}, {"owner", "string", "only the cases this user owns (- for those nobody owns)"}, {"sort", "string", "id, state, device, vulnerability, owner, versions, cvss, epss, kev, severity, determination or next (default: next clock)"}, {"desc", "boolean", "reverse the order"}, {"offset", "integer", "rows to skip"}, {"limit", "integer", "rows per page (at most 500)"}}
	deadlineQ  = []param{{"overdue", "boolean", "only overdue clocks"}, {"within", "integer", "only clocks due within this many days"}, {"device", "integer", "device id"}, {"as_of", "string", "compute the clocks as of this date (YYYY-MM-DD; default today)"}}
	auditQ     = []param{{"actor", "string", "user:NAME, token:NAME or system:JOB"}, {"action", "string", "action, or a prefix ending in *"}, {"object_type", "string", ""}, {"object_id", "string", ""}, {"since", "string", "YYYY-MM-DD"}, {"until", "string", "YYYY-MM-DD (exclusive), or an RFC 3339 time"}, {"limit", "integer", "at most 1000"}}
	shrinkQ    = []param{{"allow_shrink", "boolean", "import an SBOM that has no components or drops more than half the current SBOM's (refused otherwise: EINVALID with the diff counts, nothing changed)"}}
	vulnQ      = []param{{"kev", "boolean", "only KEV-listed"}, {"min_epss", "number", "EPSS at least"}, {"ecosystem", "string", ""}, {"q", "string", "text"}, {"limit", "integer", ""}}
	periodQ    = []param{{"period", "integer", "the year the reporting period ends in (the PMA period for a PMA device, else the calendar year; default this year)"}}
	docQ       = []param{{"format", "string", "md, html, pdf or json"}, {"period", "integer", "pma: the year the reporting period ends in"}}
	asOfQ      = []param{{"as_of", "string", "determine as of this date (YYYY-MM-DD; default today)"}}
	exampleDev = map[string]any{"name": "Infusio IP-4", "model": "IP-4", "class": "II", "pathway": "510k", "cyber_device": true, "functions": []map[string]string{{"name": "dose delivery", "severity": "catastrophic"}}}
	exampleVer = map[string]any{"version": "4.0.0", "status": "marketed", "units_fielded": 10}
	exampleEvt = map[string]any{"type": "customer_notified", "date": "2025-06-02", "note": "Customer notice CN-2025-014", "elements": []string{"a", "b", "c", "d"}, "signature": exampleSig}
	exampleAss = map[string]any{"cvss": "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "functions": []string{"dose delivery"}, "rationale": "Reachable from the hospital network without authentication.", "signature": exampleSig}
	// exampleSig is the Part 11 signature an act's request carries (the role walk signs as each role).
	exampleSig    = map[string]any{"meaning": "approval", "signer": "SIGNER", "password": "PASSWORD"}
	exampleReport = map[string]any{"product": "Infusio IP-3", "version": "3.2.1", "title": "Unauthenticated dose change over REST",
		"description": "POST /api/dose accepts a new rate without a session.", "impact": "Over-infusion.", "steps": "curl -X POST http://pump/api/dose -d rate=999",
		"reporter_email": "rae@lab.example", "disclosure": "coordinated", "attachments": []map[string]any{{"name": "poc.txt", "content_type": "text/plain", "data": "Y3VybCAtWCBQT1NUIC4uLgo="}}}
	exampleReportForm = url.Values{"product": {"Infusio IP-3"}, "title": {"Unauthenticated dose change"}, "description": {"POST /api/dose accepts a new rate."}}
	exampleComplaint  = map[string]any{"source": "complaint", "product": "Infusio IP-3", "title": "Pump rebooted during a network scan", "description": "Complaint CMP-88.", "reference": "CMP-88"}
	exampleUser       = map[string]any{"name": "newuser", "role": "viewer", "password": "correct horse battery staple"}
)

// table lists every route.
func (s *Server) table() []route {
	static, _ := fs.Sub(staticFS, "static")
	form := func(kv ...string) url.Values {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Add(kv[i], kv[i+1])
		}
		return v
	}
	return []route{
		// Public.
		{Method: "GET", Pattern: "/static/*", Public: true, Summary: "static files", raw: http.StripPrefix("/static/", cacheStatic(http.FileServer(http.FS(static))))},
		{Method: "GET", Pattern: "/healthz", Public: true, Summary: "the database's real state: a read and a write probe (503 when either fails, with the reason)", h: s.healthz},
		{Method: "GET", Pattern: "/readyz", Public: true, Summary: "whether the server can serve now: start-up done, the database reads and writes (503 with the reason otherwise)", h: s.readyz},
		{Method: "GET", Pattern: "/login", Public: true, Summary: "sign-in page", h: s.loginPage},
		{Method: "POST", Pattern: "/login", Public: true, Summary: "sign in", h: s.loginSubmit},
		{Method: "POST", Pattern: "/logout", Public: true, Summary: "sign out", h: s.logout},
		{Method: "GET", Pattern: "/sign/step-up", Perm: vigil.PermSign, Summary: "get a one-time signing code after a fresh sign-in at the OpenID Connect provider, for the command line (vigil sign --code) or the API (\"code\"): the code is shown with its expiry",
			h: s.stepUpPage},
		{Method: "POST", Pattern: "/sign/step-up", Perm: vigil.PermSign, Summary: "sign in again at the OpenID Connect provider (prompt=login, max_age=0) for a one-time signing code of one kind of record (stepup_kind), then back to stepup_next with the code filled into its signing form (404 without single sign-on)",
			Example: form("stepup_kind", "assessment", "stepup_next", "/cases/1#sign"), h: s.stepUpStart},
		{Method: "GET", Pattern: "/login/sso", Public: true, Summary: "sign in through the organization's OpenID Connect provider (404 when none is configured)", h: s.ssoStart},
		{Method: "GET", Pattern: "/login/sso/callback", Public: true, Summary: "where the OpenID Connect provider sends the browser back", h: s.ssoCallback},
		{Method: "GET", Pattern: "/api/openapi.json", Public: true, Summary: "this API's OpenAPI 3.1 document", h: s.openapi},
		{Method: "GET", Pattern: "/report", Public: true, Summary: "the public report page: report a vulnerability without an account", h: s.reportPage},
		{Method: "POST", Pattern: "/report", Public: true, Summary: "file a report (rate-limited per address and overall; CSRF by double-submit cookie)", Example: exampleReportForm, h: s.reportSubmit},
		{Method: "GET", Pattern: "/report/follow/{token}", Public: true, Summary: "a reporter's view of their report through its secret follow-up link", h: s.followPage},
		{Method: "POST", Pattern: "/report/follow/{token}", Public: true, Summary: "a reporter's message through the follow-up link", Example: form("message", "More detail."), h: s.followReply},
		{Method: "GET", Pattern: "/.well-known/security.txt", Public: true, Summary: "RFC 9116 security.txt from the published CVD policy (404 until it has a contact and an expiry)", h: s.securityTxt},
		{Method: "GET", Pattern: "/.well-known/csaf/*", Public: true, Summary: "the CSAF 2.0 provider: provider-metadata.json, TLP folders with index.txt, changes.csv, ROLIE feed, documents with .sha256/.sha512 (TLP:WHITE public, others to signed-in users)", h: s.csafProvider},
		{Method: "GET", Pattern: "/security/policy", Public: true, Summary: "the coordinated vulnerability disclosure policy page", h: s.policyPage},

		// Screens.
		{Method: "GET", Pattern: "/", Perm: vigil.PermRead, Summary: "dashboard", h: s.dashboardPage},
		{Method: "GET", Pattern: "/devices", Perm: vigil.PermRead, Query: pageQuery, Summary: "devices", h: s.devicesPage},
		{Method: "POST", Pattern: "/devices", Perm: vigil.PermPortfolio, Summary: "create a device", Example: form("name", "Infusio IP-5", "class", "II", "pathway", "510k", "functions", "dose delivery: catastrophic"), h: s.deviceCreateForm},
		{Method: "GET", Pattern: "/devices/{id}", Perm: vigil.PermRead, Summary: "a device with its versions", h: s.devicePage},
		{Method: "POST", Pattern: "/devices/{id}/versions", Perm: vigil.PermPortfolio, Summary: "add a version", Example: form("version", "9.9.9", "status", "marketed", "units_fielded", "5"), h: s.versionCreateForm},
		{Method: "GET", Pattern: "/devices/{id}/edit", Perm: vigil.PermRead, Summary: "the device's edit form (read-only for a role that cannot change the portfolio)", h: s.deviceEditPage},
		{Method: "POST", Pattern: "/devices/{id}/edit", Perm: vigil.PermPortfolio, Summary: "change a device's fields (with a reason)",
			Example: form("name", "Infusio IP-3", "class", "II", "pathway", "510k", "functions", "dose delivery: catastrophic\nevent log (PHI): negligible", "cyber_device", "1", "reason", "Model number corrected."), h: s.deviceEditForm},
		{Method: "GET", Pattern: "/devices/{id}/threats", Perm: vigil.PermRead, Summary: "a device's threat model: assets, threats, controls, with the forms that add them", h: s.threatsPage},
		{Method: "POST", Pattern: "/devices/{id}/threats", Perm: vigil.PermAssess, Summary: "add an asset, a threat or a control (kind) to a device's threat model",
			Example: form("kind", "threat", "title", "Dose change over the service interface", "category", "tampering", "functions", "dose delivery", "entry_points", "Wi-Fi"), h: s.threatAddForm},
		{Method: "GET", Pattern: "/devices/{id}/threats/{ref}", Perm: vigil.PermRead, Summary: "an asset, threat or control of a device's threat model, with its edit form", h: s.threatItemPage},
		{Method: "POST", Pattern: "/devices/{id}/threats/{ref}", Perm: vigil.PermAssess, Summary: "change an asset, threat or control of a device's threat model (with a reason)",
			Example: form("name", "Network segmentation (IFU §7.2)", "control_kind", "compensating", "reference", "IFU §7.2", "threats", "T-1", "reason", "IFU revised."), h: s.threatItemForm},
		{Method: "GET", Pattern: "/versions/{id}/edit", Perm: vigil.PermRead, Summary: "the version's edit form: status (marketed, fielded, ...), dates, units", h: s.versionEditPage},
		{Method: "POST", Pattern: "/versions/{id}/edit", Perm: vigil.PermPortfolio, Summary: "change a version's status, dates or units fielded (with a reason)",
			Example: form("status", "fielded", "status_date", "2025-05-01", "units_fielded", "120", "reason", "No longer marketed."), h: s.versionEditForm},
		{Method: "GET", Pattern: "/versions/{id}", Perm: vigil.PermRead, Query: pageQuery, Summary: "a device version: components, SBOM, findings", h: s.versionPage},
		{Method: "GET", Pattern: "/versions/{id}/diff", Perm: vigil.PermRead, Query: []param{{"with", "integer", "the other version id"}}, Summary: "SBOM diff between two versions", h: s.diffPage},
		{Method: "POST", Pattern: "/versions/{id}/sbom", Perm: vigil.PermPortfolio, Upload: true, Summary: "upload an SBOM", h: s.sbomUploadForm},
		{Method: "GET", Pattern: "/consignees", Perm: vigil.PermRead, Summary: "the installed base: consignees and the units they hold", h: s.consigneesPage},
		{Method: "POST", Pattern: "/consignees", Perm: vigil.PermPortfolio, Summary: "add a consignee", Example: form("name", "Mercy General", "contact", "biomed@mercy.example", "address", "1 Main St"), h: s.consigneeCreateForm},
		{Method: "GET", Pattern: "/consignees/{id}", Perm: vigil.PermRead, Summary: "a consignee: contact, address, units and lots per device version", h: s.consigneePage},
		{Method: "POST", Pattern: "/consignees/{id}", Perm: vigil.PermPortfolio, Summary: "change a consignee's fields and units (with a reason)",
			Example: form("name", "St. Fixture Hospital", "contact", "biomed@fixture.example", "reason", "New biomed contact."), h: s.consigneeUpdateForm},
		{Method: "POST", Pattern: "/consignees/{id}/delete", Perm: vigil.PermPortfolio, Summary: "delete a consignee and its units (reason required)", Example: form("reason", "Site closed."), h: s.consigneeDeleteForm},
		{Method: "GET", Pattern: "/cases", Perm: vigil.PermRead, Query: append(caseQ, pageQuery...), Summary: "the case queue: one vulnerability on one device a row, with its next clock", h: s.casesPage},
		{Method: "POST", Pattern: "/cases/bulk", Perm: vigil.PermAssess, Summary: "close or assess the cases ticked on the queue, with one reason (each case audited on its own)",
			Example: form("action", "state", "state", "needs_review", "reason", "Supplier advisory withdrawn; re-check.", "case", "1", "case", "2"), h: s.casesBulk},
		{Method: "GET", Pattern: "/cases/{id}/documents/{kind}", Perm: vigil.PermRead, Query: docQ, Summary: "a regulatory document of a case (806, 806-amendment, 806.20, premarket) from live data; its generation is audited", h: s.caseDocument},
		{Method: "GET", Pattern: "/cases/{id}/evidence.zip", Perm: vigil.PermAuditVerify, Summary: "the case's evidence package (documents, decision records, signatures, notices as sent, ISAO shares, the audit-trail segment, a signed checkpoint and manifest): verify it offline with vigil audit verify --package", Download: "application/zip", h: s.caseEvidence},
		{Method: "GET", Pattern: "/devices/{id}/evidence.zip", Perm: vigil.PermAuditVerify, Query: periodQ, Summary: "the device's evidence package for a reporting period: its documents, every case of the period, the ISAO shares and §IX evidence, the audit-trail segment, signed", Download: "application/zip", h: s.deviceEvidence},
		{Method: "POST", Pattern: "/settings/documents", Perm: vigil.PermReport, Summary: "replace the regulatory documents' settings of the organization (JSON: address, responsible person, plan text, the 524B critical rule), with a reason",
			Example: form("settings", `{"critical_rule": {"severities": ["critical", "catastrophic"], "kev": true, "min_cvss": 9}}`, "reason", "SOP-PSIRT-12 rev B."), h: s.documentSettingsForm},
		{Method: "POST", Pattern: "/devices/{id}/document-settings", Perm: vigil.PermReport, Summary: "replace a device line's own regulatory documents' settings (JSON: common name, listing number, last authorization, PMA-approved version...), with a reason",
			Example: form("settings", `{"pma_approved_version": "3.1.0", "listing_number": "D123456"}`, "reason", "P150012/S038 approved 3.1.0."), h: s.deviceDocumentSettingsForm},
		{Method: "GET", Pattern: "/devices/{id}/documents/{kind}", Perm: vigil.PermRead, Query: docQ, Summary: "a regulatory document of a device (524b, cmp, pma with period) from live data; its generation is audited", h: s.deviceDocument},
		{Method: "POST", Pattern: "/cases/filters", Perm: vigil.PermRead, Summary: "save the case queue's filter under a name (yours alone; the same name replaces it)",
			Example: form("name", "KEV on the pump", "query", "kev=1&state=all"), h: s.filterSaveForm},
		{Method: "POST", Pattern: "/cases/filters/{id}/delete", Perm: vigil.PermRead, Summary: "delete one of your saved filters", Example: form(), h: s.filterDeleteForm},
		{Method: "GET", Pattern: "/cases/{id}", Perm: vigil.PermRead, Query: asOfQ, Summary: "a case: versions, timeline (corrections struck through), determination, clocks", h: s.casePage},
		{Method: "POST", Pattern: "/cases/{id}/assess", Perm: vigil.PermAssess, Summary: "assess a case (dated)",
			Example: form("cvss", "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "function", "dose delivery", "date", "2025-06-02", "rationale", "Reachable without authentication.",
				"meaning", "authorship", "signer", "SIGNER", "password", "PASSWORD"),
			h: s.caseForm("assess", "#determination", "assessed", "The assessment was not recorded: ", s.caseAssess)},
		{Method: "POST", Pattern: "/cases/{id}/events", Perm: vigil.PermEvent, Summary: "record a dated event of a case",
			Example: form("type", "interim_controls", "date", "2025-06-02", "note", "Segmentation guide SG-7"), h: s.caseForm("event", "#clocks", "event", "The event was not recorded: ", s.caseEvent)},
		{Method: "POST", Pattern: "/cases/{id}/retract", Perm: vigil.PermAssess, Summary: "retract a record of a case (A<id> or E<id>) with a reason",
			Example: form("record", "E1", "reason", "Entered on the wrong case."), h: s.caseForm("retract", "#timeline", "retracted", "The record was not retracted: ", s.caseRetract)},
		{Method: "POST", Pattern: "/cases/{id}/learned", Perm: vigil.PermAssess, Summary: "correct a case's D0 with a reason and evidence",
			Example: form("date", "2025-06-01", "reason", "The researcher's e-mail came a day earlier.", "evidence", "Mail MSG-88"), h: s.caseForm("learned", "#timeline", "learned", "D0 was not corrected: ", s.caseLearned)},
		{Method: "POST", Pattern: "/cases/{id}/merge", Perm: vigil.PermAssess, Summary: "merge this case into another of its device (a duplicate)",
			Example: form("into", "1", "reason", "The same vulnerability under two ids."), h: s.caseForm("merge", "", "merged", "The case was not merged: ", s.caseMerge)},
		{Method: "POST", Pattern: "/cases/{id}/state", Perm: vigil.PermAssess, Summary: "close, reopen or mark a case for review, with a reason; closing is signed (21 CFR Part 11: meaning, your user name and password typed again) unless the organization switched that off",
			Example: form("state", "closed", "reason", "Fix distributed to every fielded unit.", "meaning", "approval", "signer", "SIGNER", "password", "PASSWORD"), h: s.caseForm("state", "", "case-state", "The state was not changed: ", s.caseState)},
		{Method: "POST", Pattern: "/cases/{id}/sign", Perm: vigil.PermSign, Summary: "sign the case's determination (21 CFR Part 11): the meaning, your user name and password typed again",
			Example: form("meaning", "approval", "signer", "SIGNER", "password", "PASSWORD"), h: s.caseForm("sign", "#timeline", "signed", "The signature was not made: ", s.caseSign)},
		{Method: "POST", Pattern: "/cases/{id}/part806/file", Perm: vigil.PermReport, Summary: "mark the case's 21 CFR 806.10 report filed (its number is assigned; part806_filed is recorded on the case), or with amendment=1 an 806.10(d) amendment; signed (21 CFR Part 11) unless the organization switched that off",
			Example: form("date", "2025-06-02", "reason", "Sent to the district office.", "meaning", "approval", "signer", "SIGNER", "password", "PASSWORD"), h: s.caseForm("file806", "#regulatory-records", "filed", "The report was not marked filed: ", s.caseFile806)},
		{Method: "POST", Pattern: "/cases/{id}/part806/sign-off", Perm: vigil.PermReport, Summary: "sign off the case's 806.20 record as it stands, signed electronically (21 CFR Part 11): your user name and password typed again",
			Example: form("meaning", "approval", "signer", "SIGNER", "password", "PASSWORD", "reason", "Reviewed the justification."), h: s.caseForm("signoff", "#regulatory-records", "signed-off", "The 806.20 record was not signed off: ", s.caseSignOff)},
		{Method: "POST", Pattern: "/cases/{id}/premarket", Perm: vigil.PermReport, Summary: "record the case's premarket-submission decision (PMA supplement, 30-day notice, 510(k) or none) with its basis, signed (21 CFR Part 11) unless the organization switched that off",
			Example: form("decision", "none", "basis", "Software patch within the cleared design; no change to intended use.", "reason", "RA review", "meaning", "approval", "signer", "SIGNER", "password", "PASSWORD"), h: s.caseForm("premarket", "#regulatory-records", "decided", "The premarket decision was not recorded: ", s.casePremarket)},
		{Method: "POST", Pattern: "/cases/{id}/owner", Perm: vigil.PermAssess, Summary: "give a case to the user who works it (empty for nobody), with a reason",
			Example: form("owner", "psirt", "reason", "On call this week."), h: s.caseForm("owner", "", "owner", "The owner was not changed: ", s.caseOwner)},
		{Method: "POST", Pattern: "/cases/{id}/vex", Perm: vigil.PermAssess, Summary: "record the VEX status of a version on the case (or of all it affects)",
			Example: form("version", "all", "status", "not_affected", "justification", "vulnerable_code_not_in_execute_path", "statement", "JNDI lookups are disabled.", "reason", "Code review CR-88."),
			h:       s.caseForm("vex", "#versions", "vex", "The VEX status was not recorded: ", s.caseVEX)},
		{Method: "POST", Pattern: "/cases/{id}/disclosure", Perm: vigil.PermIntake, Summary: "record the case's disclosure coordination (embargo, partners, CVE request and assignment, publication, credit line) with a reason",
			Example: form("embargo", "2025-09-01", "partner", "cisa", "partner", "reporter", "credit", "Rae Searcher", "reason", "Agreed with the reporter."),
			h:       s.caseForm("disclosure", "#disclosure", "disclosure", "The disclosure coordination was not recorded: ", s.caseDisclosure)},
		{Method: "POST", Pattern: "/cases/{id}/split", Perm: vigil.PermAssess, Summary: "take the findings ticked out into a new case under another vulnerability id (D0 kept)",
			Example: form("finding", "1", "vuln", "CVE-2021-45046", "reason", "The GHSA named two CVEs."), h: s.caseSplit},
		{Method: "GET", Pattern: "/findings", Perm: vigil.PermRead, Query: append(findingQ, pageQuery...), Summary: "findings", h: s.findingsPage},
		{Method: "GET", Pattern: "/findings/{id}", Perm: vigil.PermRead, Query: asOfQ, Summary: "a finding: assessment, determination, clocks, timeline", h: s.findingPage},
		{Method: "POST", Pattern: "/findings/{id}/assess", Perm: vigil.PermAssess, Summary: "record an assessment",
			Example: form("cvss", "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "function", "dose delivery", "rationale", "Reachable without authentication."), h: s.assessForm},
		{Method: "POST", Pattern: "/findings/{id}/events", Perm: vigil.PermEvent, Summary: "record an event",
			Example: form("type", "customer_notified", "date", "2025-06-02", "note", "Notice CN-1", "element", "a", "element", "b", "element", "c", "element", "d",
				"meaning", "approval", "signer", "SIGNER", "password", "PASSWORD"), h: s.eventForm},
		{Method: "POST", Pattern: "/findings/{id}/state", Perm: vigil.PermAssess, Summary: "close or reopen a finding", Example: form("state", "closed", "reason", "Fixed in 3.2.2, verified in the field."), h: s.stateForm},
		{Method: "GET", Pattern: "/vulns", Perm: vigil.PermRead, Query: append(vulnQ, pageQuery...), Summary: "vulnerabilities", h: s.vulnsPage},
		{Method: "GET", Pattern: "/vulns/{id}", Perm: vigil.PermRead, Summary: "a vulnerability: every source side by side and where it hits", h: s.vulnPage},
		{Method: "GET", Pattern: "/deadlines", Perm: vigil.PermRead, Query: append(deadlineQ, pageQuery...), Summary: "regulatory clocks calendar", h: s.deadlinesPage},
		{Method: "POST", Pattern: "/dashboard/seen", Perm: vigil.PermRead, Summary: "mark what is new as seen (the dashboard's \"new since\" starts again)", Example: form(), h: s.seenForm},
		{Method: "GET", Pattern: "/vex", Perm: vigil.PermRead, Query: []param{{"state", "string", "proposed (default), accepted, rejected or all"}}, Summary: "supplier VEX proposals and the upload form", h: s.vexPage},
		{Method: "POST", Pattern: "/vex", Perm: vigil.PermAssess, Upload: true, Summary: "import a supplier VEX document (CycloneDX VEX, OpenVEX, CSAF VEX)", h: s.vexUploadForm},
		{Method: "POST", Pattern: "/vex/proposals/{id}", Perm: vigil.PermAssess, Summary: "accept or reject a proposed VEX status (with a reason)", Example: form("decision", "accept", "reason", "Supplier analysis reviewed."), h: s.vexDecideForm},
		{Method: "GET", Pattern: "/sources", Perm: vigil.PermRead, Query: pageQuery, Summary: "feed sources", h: s.sourcesPage},
		{Method: "POST", Pattern: "/sources", Perm: vigil.PermImport, Summary: "configure a feed: source, URL (its host becomes allow-listed), schedule, enabled",
			Example: form("name", "osv-maven", "source", "osv", "url", "https://osv-vulnerabilities.storage.googleapis.com/Maven/all.zip", "every", "24h", "enabled", "1"), h: s.feedSaveForm},
		{Method: "POST", Pattern: "/sources/imports", Perm: vigil.PermImport, Upload: true, Summary: "import a feed file (OSV, NVD, KEV, EPSS, CSAF, STIX; .zip and .gz accepted) and re-match the portfolio", h: s.feedUploadForm},
		{Method: "GET", Pattern: "/sources/{feed}", Perm: vigil.PermRead, Summary: "a feed's configuration form", h: s.feedPage},
		{Method: "POST", Pattern: "/sources/rematch", Perm: vigil.PermImport, Summary: "re-match every device version against the intelligence store now (after an upgrade changed matching rules); fields device and version (ids) narrow it as the API's do", Example: form(), h: s.rematchForm},
		{Method: "POST", Pattern: "/sources/{feed}/sync", Perm: vigil.PermImport, Summary: "sync a feed now (recorded like a scheduled sync) and re-match the portfolio", Example: form(), h: s.feedSyncForm},
		{Method: "GET", Pattern: "/audit", Perm: vigil.PermRead, Query: append(auditQ, pageQuery...), Summary: "audit trail", h: s.auditPage},
		{Method: "POST", Pattern: "/audit/verify", Perm: vigil.PermAuditVerify, Summary: "verify the audit chain", Example: form(), h: s.auditVerifyForm},
		{Method: "GET", Pattern: "/users", Perm: vigil.PermUsers, Query: pageQuery, Summary: "users (admin)", h: s.usersPage},
		{Method: "POST", Pattern: "/users", Perm: vigil.PermUsers, Summary: "create a user", Example: form("name", "formuser", "role", "viewer", "password", "correct horse battery staple"), h: s.userCreateForm},
		{Method: "POST", Pattern: "/users/{name}/password", Perm: vigil.PermUsers, Self: true, Summary: "set a password", Example: form("password", "another long passphrase"), h: s.passwordForm},
		{Method: "POST", Pattern: "/users/{name}/tokens", Perm: vigil.PermUsers, Self: true, Summary: "create an API token", Example: form("token_name", "ci"), h: s.tokenForm},
		{Method: "POST", Pattern: "/users/{name}/role", Perm: vigil.PermUsers, Summary: "change a user's role (with a reason)", Example: form("role", "psirt", "reason", "Joined the PSIRT."), h: s.roleForm},
		{Method: "POST", Pattern: "/users/{name}/disabled", Perm: vigil.PermUsers, Summary: "disable or re-enable a user (with a reason)", Example: form("disabled", "true", "reason", "Left the company."), h: s.disabledForm},
		{Method: "POST", Pattern: "/users/{name}/tokens/{id}/revoke", Perm: vigil.PermUsers, Self: true, Summary: "revoke an API token (with a reason)", Example: form("reason", "Rotated."), h: s.tokenRevokeForm},
		{Method: "GET", Pattern: "/settings", Perm: vigil.PermRead, Summary: "the organization's settings: time zone, CVD promise, regulatory policy", h: s.settingsPage},
		{Method: "POST", Pattern: "/settings", Perm: vigil.PermPortfolio, Summary: "change the organization's settings (reason required when the policy changes)",
			Example: form("time_zone", "America/Chicago", "cvd_ack_days", "5", "working_days", "weekdays", "roll_deadlines", "false", "reassessment_clock", "first", "reason", "QMS-POL-12 rev C."), h: s.settingsForm},
		{Method: "POST", Pattern: "/settings/signing", Perm: vigil.PermUsers, Summary: "switch the Part 11 signature requirement of one act (determination, notice_release, part806_filing, part806_20, premarket, fix_validation, case_closure) off or on again, with a reason (audited, stated in the evidence packages)",
			Example: form("act", "premarket", "required", "true", "reason", "SOP-RA-4 rev C: every premarket decision is signed."), h: s.signingForm},
		{Method: "GET", Pattern: "/settings/notifications", Perm: vigil.PermRead, Summary: "notifications: the SMTP server in use, the rules, the outbox with each message's state and the server's answer", h: s.notifyPage},
		{Method: "POST", Pattern: "/settings/notifications", Perm: vigil.PermPortfolio, Summary: "add a notification rule (a webhook's signing secret is shown once)",
			Example: form("channel", "email", "target", "psirt@acme.example", "events", "kev_hit", "events", "clock_overdue"), h: s.notifyRuleForm},
		{Method: "POST", Pattern: "/settings/notifications/{id}/test", Perm: vigil.PermPortfolio, Summary: "send one test message through a rule's channel now (logged in the outbox)", Example: form(), h: s.notifyRuleTestForm},
		{Method: "POST", Pattern: "/settings/notifications/{id}/remove", Perm: vigil.PermPortfolio, Summary: "remove a notification rule (reason required)", Example: form("reason", "The team moved to the digest."), h: s.notifyRuleRemoveForm},
		{Method: "POST", Pattern: "/settings/isaos", Perm: vigil.PermPortfolio, Summary: "replace the organization's ISAO memberships and their G2016 §IX evidence (with a reason)",
			Example: form("isao_name", "Health-ISAC", "isao_since", "2020-01-01", "isao_c1", "a", "isao_c2", "b", "isao_c3", "c", "isao_c4", "d", "reason", "Participant agreement renewed."), h: s.isaosForm},
		{Method: "GET", Pattern: "/isao", Perm: vigil.PermRead, Summary: "ISAO participation (G2016 §IX): memberships and their evidence, what will cost criterion 4, the latest shares", h: s.isaoPage},
		{Method: "POST", Pattern: "/isao/memberships", Perm: vigil.PermPortfolio, Summary: "create or change an ISAO membership (the fields sent; a device line's own with device; the TAXII password sealed)",
			Example: form("name", "MDISS", "since", "2024-01-01", "until", "2027-12-31", "tlp", "amber", "contact", "members@mdiss.example", "reason", "Joined MDISS."), h: s.membershipForm},
		{Method: "GET", Pattern: "/isao/memberships/{id}", Perm: vigil.PermRead, Summary: "an ISAO membership: its §IX items with their documents, the upload and edit forms", h: s.membershipPage},
		{Method: "POST", Pattern: "/isao/memberships/{id}/documents", Perm: vigil.PermPortfolio, Upload: true, Summary: "attach a document (file, up to 16 MiB, kept with its SHA-256) or a note as evidence of a §IX item, with its date",
			h: s.documentUploadForm},
		{Method: "GET", Pattern: "/isao/memberships/{id}/evidence", Perm: vigil.PermRead, Query: evidenceQuery, Summary: "the §IX evidence of a membership over a period (format=json or csv to export it)", h: s.evidencePage},
		{Method: "GET", Pattern: "/isao/documents/{id}", Perm: vigil.PermRead, Summary: "download an ISAO evidence document (never shown inline)", h: s.documentDownload},
		{Method: "GET", Pattern: "/isao/shares", Perm: vigil.PermRead, Query: []param{{"case", "integer", "only this case"}}, Summary: "the sharing log, with the form that shares a customer notice", h: s.sharesPage},
		{Method: "POST", Pattern: "/isao/shares/notice", Perm: vigil.PermEvent, Summary: "share a sent customer notice with an ISAO (over TAXII, or export: the bundle is the answer)",
			Example: form("notice", "NOTICE", "isao", "Health-ISAC", "export", "1"), h: s.shareNoticeForm},
		{Method: "POST", Pattern: "/isao/shares/status", Perm: vigil.PermEvent, Summary: "ask the TAXII servers again about the shares still pending", Example: form(), h: s.sharesStatusForm},
		{Method: "GET", Pattern: "/isao/signals", Perm: vigil.PermRead, Query: []param{{"case", "integer", "only the signals touching this case"}}, Summary: "intelligence received from ISAOs, with the cases each touches and the assessments citing it", h: s.signalsPage},
		{Method: "POST", Pattern: "/isao/signals/import", Perm: vigil.PermImport, Upload: true, Summary: "take in a STIX 2.1 file an ISAO sent (field isao: its membership): signals linked to the cases they touch", h: s.signalsImportForm},
		{Method: "POST", Pattern: "/isao/memberships/{id}/poll", Perm: vigil.PermImport, Summary: "poll the membership's TAXII collection now", Example: form(), h: s.pollForm},
		{Method: "POST", Pattern: "/isao/signals/{id}/cite", Perm: vigil.PermAssess, Summary: "record that an assessment considered the signal (§IX item 4)", Example: form("assessment", "A1", "reason", "The bulletin raised the exploitability."), h: s.citeForm},
		{Method: "POST", Pattern: "/cases/{id}/isao-share", Perm: vigil.PermEvent, Summary: "share the case with an ISAO (over TAXII, or export: the bundle is the answer); records isao_shared",
			Example: form("isao", "Health-ISAC", "export", "1"), h: s.caseShareForm},
		{Method: "GET", Pattern: "/account", Perm: vigil.PermRead, Summary: "your account: password and API tokens", h: s.accountPage},
		{Method: "GET", Pattern: "/intake", Perm: vigil.PermRead, Query: []param{{"source", "string", "only this source"}}, Summary: "the report inbox: awaiting acknowledgement (with the clock), in progress, closed", h: s.inboxPage},
		{Method: "GET", Pattern: "/intake/{id}", Perm: vigil.PermRead, Summary: "a report: details, attachments, the thread with the reporter, the workflow's next steps", h: s.intakeReportPage},
		{Method: "GET", Pattern: "/intake/{id}/attachments/{aid}", Perm: vigil.PermRead, Summary: "download an attachment (never shown inline)", h: s.attachmentDownload},
		{Method: "POST", Pattern: "/intake/{id}/ack", Perm: vigil.PermIntake, Summary: "acknowledge a report (the message goes to the reporter)", Example: form("message", "Thank you; we are reproducing it."), h: s.ackForm()},
		{Method: "POST", Pattern: "/intake/{id}/triage", Perm: vigil.PermIntake, Summary: "triage a report into findings or cases", Example: form("findings", "1", "message", "Confirmed."), h: s.triageForm()},
		{Method: "POST", Pattern: "/intake/{id}/advance", Perm: vigil.PermIntake, Summary: "move a report on to remediation, then disclosure", Example: form("to", "remediation", "message", "A fix is in validation."), h: s.advanceForm()},
		{Method: "POST", Pattern: "/intake/{id}/message", Perm: vigil.PermIntake, Summary: "send the reporter a message", Example: form("message", "Which firmware build did you test?"), h: s.messageForm()},
		{Method: "POST", Pattern: "/intake/{id}/close", Perm: vigil.PermIntake, Summary: "close a report with a resolution and a reason the reporter reads", Example: form("resolution", "duplicate", "reason", "Same as VR-1."), h: s.closeForm()},
		{Method: "POST", Pattern: "/intake/{id}/link", Perm: vigil.PermIntake, Summary: "revoke the reporter's follow-up link, or replace it (the new one is shown once)", Example: form("action", "new", "reason", "The reporter lost the link."), h: s.linkForm},
		{Method: "GET", Pattern: "/ui/cvss", Perm: vigil.PermRead, Query: []param{{"vector", "string", "a CVSS vector"}}, Summary: "CVSS calculator result (fragment)", h: s.cvssFragment},

		// API.
		{API: true, Method: "GET", Pattern: "/api/v1/me", Perm: vigil.PermRead, Summary: "who you are and what you may do", Resp: me{}, h: s.apiMe},
		{API: true, Method: "GET", Pattern: "/api/v1/dashboard", Perm: vigil.PermRead, Summary: "the dashboard's data", Resp: Overview{}, h: s.apiDashboard},
		{API: true, Method: "GET", Pattern: "/api/v1/org", Perm: vigil.PermRead, Summary: "the organization, with its regulatory policy", Resp: &vigil.Organization{}, h: s.apiOrg},
		{API: true, Method: "PATCH", Pattern: "/api/v1/org", Perm: vigil.PermPortfolio, Summary: "change the organization's fields and regulatory policy (only the keys given; reason required when the policy changes)",
			Example: map[string]any{"policy": map[string]any{"working_days": "weekdays", "roll_deadlines": false, "reassessment_clock": "first"}, "reason": "QMS-POL-12 rev C."}, In: orgIn{}, Resp: &vigil.Organization{}, h: s.apiOrgUpdate},
		{API: true, Method: "GET", Pattern: "/api/v1/devices", Perm: vigil.PermRead, Summary: "list devices", Resp: []*vigil.Device{}, h: s.apiDevices},
		{API: true, Method: "POST", Pattern: "/api/v1/devices", Perm: vigil.PermPortfolio, Summary: "create a device", Example: exampleDev, In: vigil.Device{}, Resp: &vigil.Device{}, Status: 201, h: s.apiDeviceCreate},
		{API: true, Method: "GET", Pattern: "/api/v1/devices/{id}", Perm: vigil.PermRead, Summary: "a device", Resp: &vigil.Device{}, h: s.apiDevice},
		{API: true, Method: "GET", Pattern: "/api/v1/devices/{id}/documents/{kind}", Perm: vigil.PermRead, Query: docQ, Summary: "a regulatory document of a device (524b, cmp, pma with period): JSON by default, or md, html, pdf; its generation is audited", Resp: &report.Document{}, h: s.apiDeviceDocument},
		{API: true, Method: "GET", Pattern: "/api/v1/cases/{id}/documents/{kind}", Perm: vigil.PermRead, Query: docQ, Summary: "a regulatory document of a case (806, 806-amendment, 806.20, premarket): JSON by default, or md, html, pdf; its generation is audited", Resp: &report.Document{}, h: s.apiCaseDocument},
		{API: true, Method: "GET", Pattern: "/api/v1/devices/{id}/versions", Perm: vigil.PermRead, Summary: "a device's versions", Resp: []*vigil.DeviceVersion{}, h: s.apiVersions},
		{API: true, Method: "POST", Pattern: "/api/v1/devices/{id}/versions", Perm: vigil.PermPortfolio, Summary: "add a version", Example: exampleVer, In: vigil.DeviceVersion{}, Resp: &vigil.DeviceVersion{}, Status: 201, h: s.apiVersionCreate},
		{API: true, Method: "GET", Pattern: "/api/v1/versions/{id}", Perm: vigil.PermRead, Summary: "a device version", Resp: &vigil.DeviceVersion{}, h: s.apiVersion},
		{API: true, Method: "GET", Pattern: "/api/v1/versions/{id}/components", Perm: vigil.PermRead, Summary: "a version's current components (support level, end of support)", Resp: []vigil.Component{}, h: s.apiComponents},
		{API: true, Method: "POST", Pattern: "/api/v1/versions/{id}/sbom", Perm: vigil.PermPortfolio, Upload: true, Query: shrinkQ, Summary: "upload an SBOM (CycloneDX or SPDX; raw body or multipart field \"file\"; .gz and .zip accepted)", Resp: &portfolio.SBOMResult{}, Status: 201, h: s.apiSBOMUpload},
		{API: true, Method: "GET", Pattern: "/api/v1/versions/{id}/diff", Perm: vigil.PermRead, Query: []param{{"with", "integer", "the other version id (required)"}}, Summary: "SBOM diff from version {id} to version with", Resp: versionDiff{}, h: s.apiDiff},
		{API: true, Method: "GET", Pattern: "/api/v1/cases", Perm: vigil.PermRead, Query: caseQ, Summary: "the case queue (`vigil case list`): one vulnerability on one device a row, with its next clock", Resp: &CaseQueue{}, h: s.apiCases},
		{API: true, Method: "POST", Pattern: "/api/v1/cases", Perm: vigil.PermAssess, Summary: "open a case not from matching (a report, an advisory about the device), learned on D0",
			Example: map[string]any{"device_id": 1, "vulnerability": "VR-2025-API", "provisional": true, "learned": "2025-06-01", "how": "report", "reason": "Researcher report VR-9"}, In: caseOpenIn{}, Resp: cases.Out{}, Status: 201, h: s.apiCaseOpen},
		{API: true, Method: "GET", Pattern: "/api/v1/cases/{id}", Perm: vigil.PermRead, Query: asOfQ, Summary: "a case as `vigil case show --format json` prints it: versions and their VEX status, records, the determination (DETERMINATION.md) and the open clocks", Resp: cases.Out{}, h: s.apiCase},
		{API: true, Method: "POST", Pattern: "/api/v1/cases/{id}/assessments", Perm: vigil.PermAssess, Summary: "assess (or re-assess) a case, dated the day it was done, with the assessor's Part 11 signature (signature: meaning, signer, password) unless the organization switched that off", Example: exampleAss, In: cases.AssessInput{}, Resp: &vigil.Assessment{}, Status: 201, h: apiCaseWrite(s, 201, s.apiCaseAssess)},
		{API: true, Method: "POST", Pattern: "/api/v1/cases/{id}/events", Perm: vigil.PermEvent, Summary: "record a dated regulatory event of a case; an event that is a signed act (customer_notified, part806_filed, a validated fix_distributed) carries its Part 11 signature (signature) unless the organization switched that act off", Example: exampleEvt, In: eventIn{}, Resp: &vigil.CaseEvent{}, Status: 201, h: s.apiCaseEvent},
		{API: true, Method: "POST", Pattern: "/api/v1/cases/{id}/retractions", Perm: vigil.PermAssess, Summary: "withdraw a record of the case (A<id> or E<id>) with a reason, or supersede it with the corrected record entered for it; both stay on the timeline",
			Example: map[string]any{"record": "E1", "reason": "Entered on the wrong case."}, In: retractIn{}, Resp: &vigil.Retraction{}, Status: 201, h: apiCaseWrite(s, 201, s.apiCaseRetract)},
		{API: true, Method: "POST", Pattern: "/api/v1/cases/{id}/learned", Perm: vigil.PermAssess, Summary: "correct the case's D0 with a reason and evidence (the clocks move with it)",
			Example: map[string]any{"date": "2025-06-01", "reason": "The researcher's e-mail came a day earlier.", "evidence": "Mail MSG-88"}, In: learnedIn{}, Resp: cases.Out{}, h: apiCaseWrite(s, 200, s.apiCaseLearned)},
		{API: true, Method: "POST", Pattern: "/api/v1/cases/{id}/state", Perm: vigil.PermAssess, Summary: "close, reopen or mark a case for review, with a reason (a closed case keeps its unmet obligations); closing carries a Part 11 signature (signature) unless the organization switched that off",
			Example: map[string]any{"state": "needs_review", "reason": "Supplier advisory withdrawn; re-check."}, In: caseStateIn{}, Resp: cases.Out{}, h: apiCaseWrite(s, 200, s.apiCaseState)},
		{API: true, Method: "POST", Pattern: "/api/v1/cases/{id}/owner", Perm: vigil.PermAssess, Summary: "give the case to the user who works it (\"\" for nobody), with a reason",
			Example: map[string]any{"owner": "psirt", "reason": "On call this week."}, In: ownerIn{}, Resp: cases.Out{}, h: apiCaseWrite(s, 200, s.apiCaseOwner)},
		{API: true, Method: "POST", Pattern: "/api/v1/cases/{id}/vex", Perm: vigil.PermAssess, Summary: "record the VEX status of a version on the case (or of every version it affects): not_affected with a justification (OpenVEX/CSAF or CycloneDX words) or an impact statement",
			Example: map[string]any{"all": true, "status": "not_affected", "justification": "vulnerable_code_not_in_execute_path", "impact_statement": "The JNDI lookup is disabled in every build.", "reason": "Code review CR-88"}, In: caseVEXIn{}, Resp: cases.Out{}, h: apiCaseWrite(s, 200, s.apiCaseVEX)},
		{API: true, Method: "POST", Pattern: "/api/v1/cases/{id}/disclosure", Perm: vigil.PermIntake, Summary: "record the case's disclosure coordination as it now stands (ISO/IEC 29147: embargo, partners, CVE requested from / assigned by / id, publication, advisory, credit line), with a reason; the reporters of its reports read it",
			Example: map[string]any{"embargo": "2025-09-01", "partners": []string{"cisa", "reporter"}, "cve_requested_from": "CISA", "credit": "Rae Searcher", "reason": "Agreed with the reporter."}, In: disclosureIn{}, Resp: cases.Out{}, h: apiCaseWrite(s, 200, s.apiCaseDisclosure)},
		{API: true, Method: "GET", Pattern: "/api/v1/cases/{id}/evidence", Perm: vigil.PermAuditVerify, Summary: "the case's evidence package, a zip verifiable offline (vigil audit verify --package)", Download: "application/zip", h: s.caseEvidence},
		{API: true, Method: "GET", Pattern: "/api/v1/devices/{id}/evidence", Perm: vigil.PermAuditVerify, Query: periodQ, Summary: "the device's evidence package for a reporting period, a zip verifiable offline (vigil audit verify --package)", Download: "application/zip", h: s.deviceEvidence},
		{API: true, Method: "GET", Pattern: "/api/v1/signing-policy", Perm: vigil.PermRead, Summary: "the acts that need a Part 11 signature (`vigil signing-policy`): each act, required or not, who changed it last, when and why",
			Resp: []vigil.SignatureRequirement{}, h: s.apiSigning},
		{API: true, Method: "POST", Pattern: "/api/v1/signing-policy", Perm: vigil.PermUsers, Summary: "switch the signature requirement of one act off or on again, with a reason (audited, stated in the evidence packages); the answer is every act's requirement",
			Example: map[string]any{"act": "premarket", "required": true, "reason": "SOP-RA-4 rev C: every premarket decision is signed."}, In: signingIn{}, Resp: []vigil.SignatureRequirement{}, h: s.apiSigning},
		{API: true, Method: "GET", Pattern: "/api/v1/document-settings", Perm: vigil.PermRead, Query: []param{{"device", "integer", "a device line: its settings in force (the organization's with its own over them)"}}, Summary: "the regulatory documents' settings (`vigil report settings`)", Resp: regdocs.Settings{}, h: s.apiDocumentSettings},
		{API: true, Method: "PUT", Pattern: "/api/v1/document-settings", Perm: vigil.PermReport, Summary: "replace the regulatory documents' settings of the organization, or of a device line (device_id), with a reason; the answer is the settings in force",
			Example: map[string]any{"settings": map[string]any{"critical_rule": map[string]any{"severities": []string{"critical", "catastrophic"}, "kev": true}}, "reason": "SOP-PSIRT-12 rev B."}, In: documentSettingsIn{}, Resp: regdocs.Settings{}, h: s.apiSetDocumentSettings},
		{API: true, Method: "GET", Pattern: "/api/v1/cases/{id}/regulatory", Perm: vigil.PermRead, Summary: "where the case stands with its regulatory records: the documents that apply, the 806 report as filed and its amendments (and the lots an amendment would add), the 806.20 sign-off, the premarket decision",
			Resp: &regdocs.CaseRecords{}, h: s.apiCaseRecords},
		{API: true, Method: "POST", Pattern: "/api/v1/cases/{id}/part806/filings", Perm: vigil.PermReport, Summary: "mark the case's 21 CFR 806.10 report filed (its number is assigned from the establishment registration number and the year's sequence; part806_filed is recorded on the case), or with amendment an 806.10(d) amendment",
			Example: map[string]any{"date": "2025-06-02", "reason": "Sent to the district office.", "signature": exampleSig}, In: filingIn{}, Resp: &vigil.RegRecord{}, Status: 201, h: apiCaseWrite(s, 201, s.apiFile806)},
		{API: true, Method: "POST", Pattern: "/api/v1/cases/{id}/part806/sign-offs", Perm: vigil.PermReport, Summary: "sign off the case's 806.20 record as it stands, with the signer's Part 11 signature (signature) unless the organization switched that off",
			Example: map[string]any{"reason": "Reviewed the justification.", "signature": exampleSig}, In: signOffIn{}, Resp: &regdocs.SignOff{}, Status: 201, h: apiCaseWrite(s, 201, s.apiSignOff)},
		{API: true, Method: "POST", Pattern: "/api/v1/cases/{id}/premarket", Perm: vigil.PermReport, Summary: "record the case's premarket-submission decision with its basis (a later one supersedes; both stay), with the decider's Part 11 signature (signature) unless the organization switched that off",
			Example: map[string]any{"decision": "none", "basis": "Software patch within the cleared design; no change to intended use.", "reason": "RA review", "signature": exampleSig}, In: premarketIn{}, Resp: &regdocs.PremarketDecision{}, Status: 201, h: apiCaseWrite(s, 201, s.apiPremarket)},
		{API: true, Method: "POST", Pattern: "/api/v1/cases/{id}/merge", Perm: vigil.PermAssess, Summary: "merge this case into another of its device (a duplicate); the answer is the case it was merged into",
			Example: map[string]any{"into": 1, "reason": "The same vulnerability under two ids."}, In: mergeIn{}, Resp: cases.Out{}, h: apiCaseWrite(s, 200, s.apiCaseMerge)},
		{API: true, Method: "POST", Pattern: "/api/v1/cases/{id}/split", Perm: vigil.PermAssess, Summary: "take findings out into a new case under another vulnerability id, or open the case on another device (device_id); D0 kept; the answer is the new case",
			Example: map[string]any{"findings": []int64{1}, "vulnerability": "CVE-2022-22963", "reason": "The GHSA named two CVEs."}, In: vigil.SplitInput{}, Resp: cases.Out{}, Status: 201, h: apiCaseWrite(s, 201, s.apiCaseSplit)},
		{API: true, Method: "GET", Pattern: "/api/v1/findings", Perm: vigil.PermRead, Query: findingQ, Summary: "a page of findings, newest first", Resp: &FindingPage{}, h: s.apiFindings},
		{API: true, Method: "GET", Pattern: "/api/v1/findings/{id}", Perm: vigil.PermRead, Query: asOfQ, Summary: "a finding with its assessments, events and live determination", Resp: &cases.View{}, h: s.apiFinding},
		{API: true, Method: "GET", Pattern: "/api/v1/findings/{id}/determination", Perm: vigil.PermRead, Query: asOfQ, Summary: "a finding's live determination and open clocks", Resp: determinationOut{}, h: s.apiDetermination},
		{API: true, Method: "GET", Pattern: "/api/v1/findings/{id}/assessments", Perm: vigil.PermRead, Summary: "a finding's assessments, oldest first", Resp: []*vigil.Assessment{}, h: s.apiAssessments},
		{API: true, Method: "POST", Pattern: "/api/v1/findings/{id}/assessments", Perm: vigil.PermAssess, Summary: "assess a finding (CVSS vector or rubric answers, functions reached, controls)", Example: exampleAss, In: cases.AssessInput{}, Resp: &vigil.Assessment{}, Status: 201, h: s.apiAssess},
		{API: true, Method: "GET", Pattern: "/api/v1/findings/{id}/events", Perm: vigil.PermRead, Summary: "a finding's events", Resp: []*vigil.CaseEvent{}, h: s.apiEvents},
		{API: true, Method: "POST", Pattern: "/api/v1/findings/{id}/events", Perm: vigil.PermEvent, Summary: "record a dated regulatory event (signed as on /api/v1/cases/{id}/events)", Example: exampleEvt, In: eventIn{}, Resp: &vigil.CaseEvent{}, Status: 201, h: s.apiEvent},
		{API: true, Method: "POST", Pattern: "/api/v1/findings/{id}/state", Perm: vigil.PermAssess, Summary: "close or reopen a finding", Example: map[string]string{"state": "closed", "reason": "Fixed in 3.2.2 and verified."}, In: stateIn{}, Resp: &vigil.Finding{}, h: s.apiState},
		{API: true, Method: "POST", Pattern: "/api/v1/determine", Perm: vigil.PermRead, Summary: "the Determination API: facts in, determination out",
			Example: map[string]any{"as_of": "2025-07-01", "device": map[string]any{"class": "II", "pathway": "510k"}, "vulnerability": map[string]any{"id": "CVE-2025-0001", "learned": "2025-06-02", "exploitability": "high", "severity": "critical"}, "events": []any{}},
			In:      regulatory.Facts{}, Resp: determinationDoc{}, h: s.apiDetermine},
		{API: true, Method: "GET", Pattern: "/api/v1/deadlines", Perm: vigil.PermRead, Query: deadlineQ, Summary: "every open regulatory clock, soonest first", Resp: []cases.Deadline{}, h: s.apiDeadlines},
		{API: true, Method: "GET", Pattern: "/api/v1/vulns", Perm: vigil.PermRead, Query: vulnQ, Summary: "search vulnerabilities", Resp: []*vigil.Vulnerability{}, h: s.apiVulns},
		{API: true, Method: "GET", Pattern: "/api/v1/vulns/{id}", Perm: vigil.PermRead, Summary: "a vulnerability by any alias, with the device versions it affects", Resp: vulnOut{}, h: s.apiVuln},
		{API: true, Method: "GET", Pattern: "/api/v1/sources", Perm: vigil.PermRead, Summary: "feed sources and their last sync", Resp: []Source{}, h: s.apiSources},
		{API: true, Method: "GET", Pattern: "/api/v1/isao/memberships", Perm: vigil.PermRead, Summary: "ISAO memberships (the organization's and each device line's own) with their §IX documents (no contents)", Resp: []vigil.ISAOMembership{}, h: s.apiMemberships},
		{API: true, Method: "POST", Pattern: "/api/v1/isao/memberships", Perm: vigil.PermPortfolio, Summary: "create or change a membership (`vigil isao set`): the keys given; password sealed with the server's secret key (\"\" removes it)",
			Example: exampleMembership, In: membershipIn{}, Resp: &vigil.ISAOMembership{}, h: s.apiMembershipSet},
		{API: true, Method: "GET", Pattern: "/api/v1/isao/memberships/{id}", Perm: vigil.PermRead, Summary: "one membership with its documents", Resp: &vigil.ISAOMembership{}, h: s.apiMembership},
		{API: true, Method: "POST", Pattern: "/api/v1/isao/memberships/{id}/documents", Perm: vigil.PermPortfolio, Summary: "attach a document (content base64, up to 16 MiB) as evidence of a §IX item; its SHA-256 is returned",
			Example: exampleDocument, In: documentIn{}, Resp: &vigil.ISAODocument{}, Status: 201, h: s.apiDocumentAdd},
		{API: true, Method: "GET", Pattern: "/api/v1/isao/memberships/{id}/evidence", Perm: vigil.PermRead, Query: evidenceQuery, Summary: "the §IX evidence of a membership over a period (`vigil isao evidence`): JSON, or CSV with format=csv", Resp: &isao.ParticipationEvidence{}, h: s.apiEvidence},
		{API: true, Method: "GET", Pattern: "/api/v1/isao/documents/{id}", Perm: vigil.PermRead, Summary: "an evidence document with its content (base64)", Resp: documentOut{}, h: s.apiDocument},
		{API: true, Method: "GET", Pattern: "/api/v1/isao/alerts", Perm: vigil.PermRead, Summary: "what will cost criterion 4: lapsing memberships, §IX items without evidence, expiring documents, shares refused or pending", Resp: []isao.Alert{}, h: s.apiISAOAlerts},
		{API: true, Method: "GET", Pattern: "/api/v1/isao/shares", Perm: vigil.PermRead, Query: isaoQuery, Summary: "the sharing log, newest first", Resp: []*vigil.ISAOShare{}, h: s.apiShares},
		{API: true, Method: "POST", Pattern: "/api/v1/isao/shares/status", Perm: vigil.PermEvent, Summary: "ask the TAXII servers again about the shares still pending; the answer is those shares as they now stand",
			Example: map[string]any{}, In: struct{}{}, Resp: []*vigil.ISAOShare{}, h: s.apiSharesStatus},
		{API: true, Method: "GET", Pattern: "/api/v1/isao/signals", Perm: vigil.PermRead, Query: isaoQuery, Summary: "intelligence received from ISAOs, newest first, with the cases each touches and the assessments citing it", Resp: []*vigil.ISAOSignal{}, h: s.apiSignals},
		{API: true, Method: "POST", Pattern: "/api/v1/isao/signals", Perm: vigil.PermImport, Upload: true, Query: []param{{"isao", "string", "the membership it came from"}},
			Summary: "take in a STIX 2.1 bundle an ISAO sent (raw body or multipart field \"file\"): indicators, vulnerabilities, notes and reports become signals linked to the cases they touch", Resp: &isao.Intake{}, Status: 201, h: s.apiSignalsImport},
		{API: true, Method: "POST", Pattern: "/api/v1/isao/memberships/{id}/poll", Perm: vigil.PermImport, Query: []param{{"after", "string", "only objects the server added after this TAXII timestamp (default: everything)"}},
			Summary: "poll the membership's TAXII 2.1 collection now (added_after paging); the answer says what came in and the next cursor", Example: map[string]any{}, In: struct{}{}, Resp: &isao.Intake{}, h: s.apiPoll},
		{API: true, Method: "POST", Pattern: "/api/v1/isao/citations", Perm: vigil.PermAssess, Summary: "record that an assessment considered these signals (§IX item 4); the answer is the signals",
			Example: exampleCite, In: citeIn{}, Resp: []*vigil.ISAOSignal{}, Status: 201, h: s.apiCite},
		{API: true, Method: "POST", Pattern: "/api/v1/cases/{id}/isao-share", Perm: vigil.PermEvent, Summary: "share the case with an ISAO as a STIX 2.1 bundle, over TAXII or exported (the bundle is in the answer); logs it and records isao_shared",
			Example: exampleShare, In: shareIn{}, Resp: &isao.ShareResult{}, Status: 201, h: s.apiCaseShare},
		{API: true, Method: "POST", Pattern: "/api/v1/notices/{id}/isao-share", Perm: vigil.PermEvent, Summary: "share a sent customer notice with an ISAO: one bundle with its cases and its text; logs it and records isao_shared on each case",
			Example: exampleShare, In: shareIn{}, Resp: &isao.ShareResult{}, Status: 201, h: s.apiNoticeShare},
		{API: true, Method: "POST", Pattern: "/api/v1/vex", Perm: vigil.PermAssess, Upload: true, Query: []param{{"version", "integer", "only findings of this device version (default: the whole portfolio)"}}, Summary: "import a supplier VEX document (CycloneDX VEX, OpenVEX, CSAF VEX; raw body or multipart field \"file\") as proposed statuses on the open findings it matches", Resp: &vigil.VEXImport{}, Status: 201, h: s.apiVEXImport},
		{API: true, Method: "GET", Pattern: "/api/v1/notify/rules", Perm: vigil.PermRead, Summary: "notification rules (webhook secrets are never returned)", Resp: []*vigil.NotifyRule{}, h: s.apiNotifyRules},
		{API: true, Method: "POST", Pattern: "/api/v1/notify/rules", Perm: vigil.PermPortfolio, Summary: "add a notification rule (the organization's, or a webhook: PermPortfolio); a webhook's signing secret is returned this once",
			Example: map[string]any{"channel": "email", "target": "psirt@acme.example", "events": []string{"kev_hit", "clock_overdue"}}, In: ruleIn{}, Resp: ruleOut{}, Status: 201, h: s.apiNotifyRuleAdd},
		{API: true, Method: "DELETE", Pattern: "/api/v1/notify/rules/{id}", Perm: vigil.PermPortfolio, Summary: "remove a notification rule (reason required)", Example: map[string]string{"reason": "The team moved to the digest."}, In: ruleRemoveIn{}, Resp: ruleRemoveOut{}, h: s.apiNotifyRuleRemove},
		{API: true, Method: "POST", Pattern: "/api/v1/notify/rules/{id}/test", Perm: vigil.PermPortfolio, Summary: "send one test message through a rule's channel now: the message as delivered and its delivery log (503 naming the answer when the channel did not accept it)", Example: map[string]any{}, Resp: ruleTestOut{}, h: s.apiNotifyRuleTest},
		{API: true, Method: "GET", Pattern: "/api/v1/outbox", Perm: vigil.PermRead, Query: []param{{"about", "string", "only messages about this (case:7, notice:12, report:VR-3)"}, {"state", "string", "only these states: queued, retrying, accepted, failed (repeatable)"}}, Summary: "the outbox: every e-mail and webhook, newest first, with its state and the server's last answer", Resp: []*vigil.Mail{}, h: s.apiOutbox},
		{API: true, Method: "GET", Pattern: "/api/v1/vex/proposals", Perm: vigil.PermRead, Query: []param{{"state", "string", "proposed (default), accepted, rejected or all"}, {"finding", "integer", "only proposals on this finding"}}, Summary: "supplier VEX proposals", Resp: []*vigil.VEXProposal{}, h: s.apiVEXProposals},
		{API: true, Method: "POST", Pattern: "/api/v1/vex/proposals/{id}", Perm: vigil.PermAssess, Summary: "accept or reject a proposed VEX status (accepting not_affected or fixed closes the finding)", Example: map[string]any{"accept": true, "reason": "Supplier analysis reviewed."}, In: vexDecisionIn{}, Resp: &vigil.VEXProposal{}, h: s.apiVEXDecide},
		{API: true, Method: "POST", Pattern: "/api/v1/rematch", Perm: vigil.PermImport,
			Query:   []param{{"device", "integer", "re-match only this device's versions"}, {"version", "integer", "re-match only this version (of device, when both are given)"}},
			Summary: "re-match device versions against the intelligence store and sync their findings (every version by default)", Resp: portfolio.RematchResult{}, h: s.apiRematch},
		{API: true, Method: "POST", Pattern: "/api/v1/imports", Perm: vigil.PermImport, Upload: true, Query: []param{{"source", "string", "auto (default), nvd, osv, kev, epss, csaf or stix"}}, Summary: "import a feed file", Resp: map[string]any{}, Status: 201, h: s.apiImport},
		{API: true, Method: "GET", Pattern: "/api/v1/audit", Perm: vigil.PermRead, Query: auditQ, Summary: "audit events, newest first", Resp: []*vigil.AuditEvent{}, h: s.apiAudit},
		{API: true, Method: "POST", Pattern: "/api/v1/signatures", Perm: vigil.PermSign, Summary: "sign a record (21 CFR Part 11): kind, record id, meaning, and your user name and password typed again, or instead of the password a one-time signing code (\"code\") from a fresh sign-in at the organization's provider (/sign/step-up)",
			Example: map[string]any{"kind": "assessment", "record_id": 1, "meaning": "approval", "signer": "SIGNER", "password": "PASSWORD"}, In: vigil.SignRequest{}, Resp: &vigil.Signature{}, Status: 201, h: s.apiSign},
		{API: true, Method: "GET", Pattern: "/api/v1/signatures", Perm: vigil.PermRead, Query: []param{{"kind", "string", "the kind of record: assessment, case_event, ..."}, {"id", "integer", "a record id (repeatable)"}},
			Summary: "the signatures of records, each with broken=true when its record changed after signing", Resp: []*vigil.Signature{}, h: s.apiSignatures},
		{API: true, Method: "POST", Pattern: "/api/v1/audit/verify", Perm: vigil.PermAuditVerify, Summary: "recompute the audit hash chain and reconcile the audited records with it", Example: map[string]any{}, In: struct{}{}, Resp: vigil.AuditReport{}, h: s.apiAuditVerify},
		{API: true, Method: "GET", Pattern: "/api/v1/users", Perm: vigil.PermUsers, Summary: "list users", Resp: []*vigil.User{}, h: s.apiUsers},
		{API: true, Method: "POST", Pattern: "/api/v1/users", Perm: vigil.PermUsers, Summary: "create a user", Example: exampleUser, In: userIn{}, Resp: &vigil.User{}, Status: 201, h: s.apiUserCreate},
		{API: true, Method: "PUT", Pattern: "/api/v1/users/{name}/password", Perm: vigil.PermUsers, Self: true, Summary: "set a user's password (admin, or yourself)", Example: map[string]string{"password": "a new long passphrase"}, In: passwordIn{}, Resp: map[string]string{}, h: s.apiPassword},
		{API: true, Method: "POST", Pattern: "/api/v1/users/{name}/tokens", Perm: vigil.PermUsers, Self: true, Session: true, Summary: "create an API token (admin, or yourself, signed in: a token cannot create tokens); it expires in 90 days unless expires is given, at most a year away; the secret is shown once", Example: map[string]string{"name": "ci"}, In: tokenIn{}, Resp: tokenOut{}, Status: 201, h: s.apiToken},
		{API: true, Method: "PUT", Pattern: "/api/v1/users/{name}/role", Perm: vigil.PermUsers, Summary: "change a user's role, effective on their next request (admin; reason required)", Example: map[string]string{"role": "psirt", "reason": "Joined the PSIRT."}, In: roleIn{}, Resp: &vigil.User{}, h: s.apiUserRole},
		{API: true, Method: "PUT", Pattern: "/api/v1/users/{name}/disabled", Perm: vigil.PermUsers, Summary: "disable (ending their sessions and refusing their tokens) or re-enable a user (admin; reason required)", Example: map[string]any{"disabled": true, "reason": "Left the company."}, In: disabledIn{}, Resp: &vigil.User{}, h: s.apiUserDisabled},
		{API: true, Method: "GET", Pattern: "/api/v1/users/{name}/tokens", Perm: vigil.PermUsers, Self: true, Summary: "a user's API tokens that are not revoked, never their secrets (admin, or yourself)", Resp: []*vigil.Token{}, h: s.apiTokens},
		{API: true, Method: "DELETE", Pattern: "/api/v1/users/{name}/tokens/{id}", Perm: vigil.PermUsers, Self: true, Query: []param{{"reason", "string", "why (instead of a body)"}}, Summary: "revoke an API token at once (admin, or yourself); the reason in the body or ?reason=", Example: map[string]string{"reason": "Rotated."}, In: revokeIn{}, Resp: revokeOut{}, h: s.apiTokenRevoke},
		{API: true, Method: "POST", Pattern: "/api/v1/intake", Public: true, Summary: "file a researcher's report without an account (JSON; attachments base64; rate-limited); the answer holds the secret follow-up token, shown once", Example: exampleReport, In: vigil.ReportInput{}, Resp: reportOut{}, Status: 201, h: s.apiReportSubmit},
		{API: true, Method: "POST", Pattern: "/api/v1/intake/follow", Public: true, Summary: "a reporter's view of their report, by its follow-up token", Example: followIn{Token: "the token"}, In: followIn{}, Resp: vigil.ReporterView{}, h: s.apiFollow},
		{API: true, Method: "POST", Pattern: "/api/v1/intake/reply", Public: true, Summary: "a reporter's message, by the follow-up token", Example: replyIn{Token: "the token", Message: "More detail."}, In: replyIn{}, Resp: vigil.ReporterView{}, Status: 201, h: s.apiReply},
		{API: true, Method: "GET", Pattern: "/api/v1/intake/reports", Perm: vigil.PermRead, Query: []param{{"status", "string", "only these statuses (repeatable)"}, {"source", "string", "only this source"}}, Summary: "the report inbox and the open acknowledgement clocks", Resp: reportsOut{}, h: s.apiReports},
		{API: true, Method: "POST", Pattern: "/api/v1/intake/reports", Perm: vigil.PermIntake, Summary: "file a report from another source: complaint, service, isao, cisa or internal", Example: exampleComplaint, In: vigil.ReportInput{}, Resp: reportDetail{}, Status: 201, h: s.apiReportAdd},
		{API: true, Method: "GET", Pattern: "/api/v1/intake/reports/{id}", Perm: vigil.PermRead, Summary: "a report with its thread", Resp: reportDetail{}, h: s.apiReport},
		{API: true, Method: "POST", Pattern: "/api/v1/intake/reports/{id}/ack", Perm: vigil.PermIntake, Summary: "acknowledge a received report (message required: the reporter reads it)", Example: stepIn{Message: "Thank you; we are reproducing it."}, In: stepIn{}, Resp: reportDetail{}, h: s.apiStep(func(ctx context.Context, svc vigil.IntakeService, id int64, in stepIn) error {
			return svc.Acknowledge(ctx, id, in.Message)
		})},
		{API: true, Method: "POST", Pattern: "/api/v1/intake/reports/{id}/triage", Perm: vigil.PermIntake, Summary: "triage an acknowledged report into findings or cases", Example: stepIn{Links: []vigil.ReportLink{{Kind: vigil.LinkFinding, ID: 1}}, Message: "Confirmed."}, In: stepIn{}, Resp: reportDetail{}, h: s.apiStep(func(ctx context.Context, svc vigil.IntakeService, id int64, in stepIn) error {
			return svc.Triage(ctx, id, in.Links, in.Message)
		})},
		{API: true, Method: "POST", Pattern: "/api/v1/intake/reports/{id}/advance", Perm: vigil.PermIntake, Summary: "move a report on to remediation, then disclosure", Example: stepIn{To: vigil.ReportRemediation, Message: "A fix is in validation."}, In: stepIn{}, Resp: reportDetail{}, h: s.apiStep(func(ctx context.Context, svc vigil.IntakeService, id int64, in stepIn) error {
			return svc.Advance(ctx, id, in.To, in.Message)
		})},
		{API: true, Method: "POST", Pattern: "/api/v1/intake/reports/{id}/messages", Perm: vigil.PermIntake, Summary: "send the reporter a message", Example: stepIn{Message: "Which firmware build did you test?"}, In: stepIn{}, Resp: reportDetail{}, h: s.apiStep(func(ctx context.Context, svc vigil.IntakeService, id int64, in stepIn) error {
			return svc.Message(ctx, id, in.Message)
		})},
		{API: true, Method: "POST", Pattern: "/api/v1/intake/reports/{id}/close", Perm: vigil.PermIntake, Summary: "close a report with a resolution and the reason the reporter reads", Example: stepIn{Resolution: vigil.ResolutionDuplicate, Reason: "Same as VR-1."}, In: stepIn{}, Resp: reportDetail{}, h: s.apiStep(func(ctx context.Context, svc vigil.IntakeService, id int64, in stepIn) error {
			return svc.Close(ctx, id, in.Resolution, in.Reason)
		})},
		{API: true, Method: "GET", Pattern: "/api/v1/cvss", Perm: vigil.PermRead, Query: []param{{"vector", "string", "a CVSS v2, v3.x or v4.0 vector (required)"}}, Summary: "score a CVSS vector", Resp: cvssOut{}, h: s.apiCVSS},
		{API: true, Method: "GET", Pattern: "/api/v1/rubric", Perm: vigil.PermRead, Summary: "the medical-device CVSS rubric questionnaire", Resp: rubricOut{}, h: s.apiRubric},
	}
}

func (s *Server) buildRouter() chi.Router {
	r := chi.NewRouter()
	r.Use(s.recoverer, s.securityHeaders, s.checkURL, s.authenticate)
	s.uploadRoutes = chi.NewRouter()
	for _, rt := range s.routes {
		if rt.Upload {
			s.uploadRoutes.Method(rt.Method, rt.Pattern, http.NotFoundHandler())
		}
		var h http.Handler = rt.raw
		if h == nil {
			h = s.h(rt.h)
		}
		switch {
		case rt.Public:
		case rt.API:
			h = s.requireUser(h)
		default:
			h = s.requireSession(h)
		}
		r.Method(rt.Method, rt.Pattern, h)
	}
	r.NotFound(s.h(func(w http.ResponseWriter, r *http.Request) error {
		return vigil.Errorf(vigil.ENOTFOUND, "no such page")
	}))
	r.MethodNotAllowed(s.h(func(w http.ResponseWriter, r *http.Request) error {
		return errMethod
	}))
	return r
}

// RouteInfo describes one route of the table, for tests and documentation.
type RouteInfo struct {
	Method, Pattern, Perm, Summary     string
	Public, Self, API, Upload, Session bool
	Download                           string // the media type of a file answer; "" for JSON
	// Example is a valid request (a JSON-encodable body for the API, url.Values for a form), or nil.
	Example any
}

// Routes lists every route the server registers.
func (s *Server) Routes() []RouteInfo {
	out := make([]RouteInfo, len(s.routes))
	for i, r := range s.routes {
		out[i] = RouteInfo{Method: r.Method, Pattern: r.Pattern, Perm: r.Perm, Summary: r.Summary, Public: r.Public, Self: r.Self, API: r.API,
			Upload: r.Upload, Session: r.Session, Download: r.Download, Example: r.Example}
	}
	return out
}

// can reports whether the request's actor holds perm: the web layer uses it only to hide what a role cannot use.
func can(r *http.Request, perm string) bool {
	a, ok := vigil.ActorFrom(r.Context())
	return ok && a.Can(perm)
}
