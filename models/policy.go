package models

import "fmt"

// TwoFactorPolicy says who must have a second factor (TOTP or a passkey)
// to use the site: GATEHOUSE_REQUIRE_2FA.
type TwoFactorPolicy string

const (
	TwoFactorOff   TwoFactorPolicy = "off"   // no one
	TwoFactorStaff TwoFactorPolicy = "staff" // staff, for the admin (the default)
	TwoFactorAll   TwoFactorPolicy = "all"   // everyone, for every page
)

// ParseTwoFactorPolicy reads a policy's name; "" is the default, staff.
func ParseTwoFactorPolicy(name string) (TwoFactorPolicy, error) {
	switch p := TwoFactorPolicy(name); p {
	case "":
		return TwoFactorStaff, nil
	case TwoFactorOff, TwoFactorStaff, TwoFactorAll:
		return p, nil
	}
	return "", fmt.Errorf("two-factor policy %q: give off, staff or all", name)
}

// AppliesTo reports whether u must have a second factor under p, unless a
// superuser excused them.
func (p TwoFactorPolicy) AppliesTo(u *User) bool {
	switch {
	case u == nil || u.TwoFactorExempt:
		return false
	case p == TwoFactorAll:
		return true
	case p == TwoFactorStaff || p == "":
		return u.IsStaff
	}
	return false
}
