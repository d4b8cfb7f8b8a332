package cli

// `vigil version` holds both device versions and `version compare` (package version order), as DESIGN.md's
// command line names them.
func init() { versionCompare = versionCompareCmd }
