package accounts

import (
	"strings"
	"testing"

	"github.com/vigil-dev/vigil"
)

func TestParseRoleMappings(t *testing.T) {
	tests := []struct {
		in      string
		want    []RoleMapping
		wantErr string
	}{
		{"vigil-admins=admin, psirt = psirt,", []RoleMapping{{"vigil-admins", "admin"}, {"psirt", "psirt"}}, ""},
		{"", nil, "map at least one"},
		{"admins", nil, `"admins" is not VALUE=ROLE`},
		{"=admin", nil, `"=admin" is not VALUE=ROLE`},
		{"ops=root", nil, "oidc-roles: ops"},
	}
	for _, tt := range tests {
		got, err := ParseRoleMappings(tt.in)
		if tt.wantErr != "" {
			if vigil.ErrorCode(err) != vigil.EINVALID || !strings.Contains(vigil.ErrorMessage(err), tt.wantErr) {
				t.Errorf("ParseRoleMappings(%q) = %v, want EINVALID saying %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || len(got) != len(tt.want) || got[0] != tt.want[0] || got[1] != tt.want[1] {
			t.Errorf("ParseRoleMappings(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

// TestRoleFromClaim: the first mapping whose value the claim holds wins (mappings list the most privileged first),
// whether the claim is a string or a list, at a dotted path or not; no match is no role.
func TestRoleFromClaim(t *testing.T) {
	s := &SSO{cfg: SSOConfig{Roles: []RoleMapping{{"vigil-admins", "admin"}, {"vigil-psirt", "psirt"}, {"staff", "viewer"}}}}
	claims := map[string]any{
		"groups":       []any{"staff", "vigil-psirt"},
		"single":       "vigil-admins",
		"none":         []any{"finance", 7},
		"realm_access": map[string]any{"roles": []any{"vigil-admins", "staff"}},
	}
	for _, tt := range []struct{ path, want string }{
		{"groups", "psirt"}, {"single", "admin"}, {"none", ""}, {"realm_access.roles", "admin"}, {"realm_access.missing", ""},
		{"single.deeper", ""}, {"absent", ""},
	} {
		if got := s.role(claim(claims, tt.path)); got != tt.want {
			t.Errorf("role from %s = %q, want %q", tt.path, got, tt.want)
		}
	}
}
