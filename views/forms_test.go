package views

import (
	"testing"

	"gatehouse/models"
	"gatehouse/models/password"
)

func TestSetPasswordErrorsBesideTheNewPassword(t *testing.T) {
	user := password.User{Username: "alice"}
	common := NewSetPasswordForm(nil)
	common.NewPassword1, common.NewPassword2 = "qwertyuiop", "qwertyuiop"
	if common.Validate(user) || len(common.Errors("new_password1")) == 0 || len(common.Errors("new_password2")) != 0 {
		t.Errorf("a common password: %v, want its error beside new_password1 only", common.FieldErrors)
	}
	mismatch := NewSetPasswordForm(nil)
	mismatch.NewPassword1, mismatch.NewPassword2 = "a brand new passphrase", "another passphrase"
	if mismatch.Validate(user) || len(mismatch.Errors("new_password1")) != 0 || len(mismatch.Errors("new_password2")) != 1 {
		t.Errorf("a mismatch: %v, want it beside new_password2 only", mismatch.FieldErrors)
	}
}

func TestNamesRefuseMisleadingCharacters(t *testing.T) {
	for _, tt := range []struct {
		name string
		ok   bool
	}{
		{"Zoë", true},
		{"José María", true},
		{"李", true},
		{"Ann\u202eeve", false}, // right-to-left override: the rest reads backwards
		{"Ann\u2066x", false},   // isolate
		{"Ann\x00", false},
		{"Ann\nLee", false},
	} {
		f := NewProfileForm(&models.User{})
		f.FirstName = tt.name
		if ok := f.Validate(); ok != tt.ok || (!ok && len(f.Errors("first_name")) != 1) {
			t.Errorf("first name %q: valid %v (%v), want %v", tt.name, ok, f.FieldErrors, tt.ok)
		}
		a := NewAdminUserForm(&models.User{}, true)
		a.LastName = tt.name
		if ok := a.Validate(); ok != tt.ok {
			t.Errorf("admin, last name %q: valid %v, want %v", tt.name, ok, tt.ok)
		}
	}
}

func TestEmailNeedsADottedDomain(t *testing.T) {
	for email, want := range map[string]bool{
		"a@example.com": true, "a@localhost": true, "a.b+c@mail.example.co.kr": true,
		"a@b": false, "a@b.": false, "a@.b": false, "a@b..c": false, "a@": false, "Alice <a@example.com>": false,
	} {
		if got := validEmail(email); got != want {
			t.Errorf("validEmail(%q) = %v, want %v", email, got, want)
		}
	}
}
