package vigil

import "slices"

// Permissions a service checks before it acts. Roles map to permissions in one table, read by the services and by
// the web layer (to hide what a user cannot do), so the two cannot drift.
const (
	PermRead        = "read"
	PermPortfolio   = "portfolio.write" // devices, versions, SBOMs, consignees, organization
	PermImport      = "intel.import"    // feeds and advisories
	PermAssess      = "finding.assess"  // scoring, threat model, assessment
	PermEvent       = "finding.event"   // dated events on a finding (notice sent, fix distributed, ...)
	PermDetermine   = "finding.determine"
	PermReport      = "report.write"
	PermIntake      = "intake.write" // researcher cases
	PermUsers       = "users.write"
	PermAuditVerify = "audit.verify"
	PermSign        = "record.sign" // a Part 11 electronic signature on a record
)

var rolePerms = map[string][]string{
	RoleAdmin:      {PermRead, PermPortfolio, PermImport, PermAssess, PermEvent, PermDetermine, PermReport, PermIntake, PermUsers, PermAuditVerify, PermSign},
	RolePSIRT:      {PermRead, PermPortfolio, PermImport, PermAssess, PermEvent, PermIntake, PermAuditVerify, PermSign},
	RoleRegulatory: {PermRead, PermEvent, PermDetermine, PermReport, PermAuditVerify, PermSign},
	RoleViewer:     {PermRead},
}

// Can reports whether the actor holds perm. The system actor (CLI, scheduled jobs) holds every permission: whoever
// runs the command line already holds the database.
func (a Actor) Can(perm string) bool {
	if a.System {
		return true
	}
	return slices.Contains(rolePerms[a.Role], perm)
}

// Authorize returns EFORBIDDEN (or EUNAUTHORIZED without an actor) unless the context's actor holds perm.
func Authorize(ctx interface{ Value(any) any }, perm string) (Actor, error) {
	a, ok := ctx.Value(actorKey{}).(Actor)
	if !ok {
		return Actor{}, Errorf(EUNAUTHORIZED, "sign in first")
	}
	if !a.Can(perm) {
		return a, Errorf(EFORBIDDEN, "your role (%s) may not do this (%s)", a.Role, perm)
	}
	return a, nil
}
