package views

import (
	"testing"

	"gatehouse/models/password"
)

func TestSetPasswordErrorsBesideTheNewPassword(t *testing.T) {
	user := password.User{Username: "alice"}
	common := NewSetPasswordForm()
	common.NewPassword1, common.NewPassword2 = "qwertyuiop", "qwertyuiop"
	if common.Validate(user) || len(common.Errors("new_password1")) == 0 || len(common.Errors("new_password2")) != 0 {
		t.Errorf("a common password: %v, want its error beside new_password1 only", common.FieldErrors)
	}
	mismatch := NewSetPasswordForm()
	mismatch.NewPassword1, mismatch.NewPassword2 = "a brand new passphrase", "another passphrase"
	if mismatch.Validate(user) || len(mismatch.Errors("new_password1")) != 0 || len(mismatch.Errors("new_password2")) != 1 {
		t.Errorf("a mismatch: %v, want it beside new_password2 only", mismatch.FieldErrors)
	}
}
