package views

// codeMaxLength bounds a typed code: a recovery code with spaces fits.
const codeMaxLength = 32

// WrongSecondFactor is the one message for a wrong, old or used code.
func WrongSecondFactor() Text { return Msg("two_factor.code_wrong") }

// RecoveryCodesLeft says how many recovery codes are left after one was used.
func RecoveryCodesLeft(n int) Text {
	if n == 0 {
		return Msg("flash.last_recovery_code")
	}
	return MsgN("flash.recovery_codes_left", n)
}

// SecondStepForm takes the second factor after a right password: an
// authenticator code or a recovery code.
type SecondStepForm struct {
	Form
	Code     string
	Trust    bool // skip the second step in this browser for 30 days
	Passkeys bool // the user has passkeys, and may use one instead
	// Codes: the user has an authenticator app (and so recovery codes); a
	// user whose only second factor is a passkey is not asked for a code.
	Codes    bool
	Recovery bool // a recovery code is to be typed: letters, not the phone's digits
}

// NewSecondStepForm returns an empty second-step form.
func NewSecondStepForm() SecondStepForm {
	return SecondStepForm{Form: newForm(field{"code", "field.authentication_code"})}
}

// Validate checks a code was entered, of a length a code can have.
func (f *SecondStepForm) Validate() bool {
	f.checkCode("code", f.Code)
	return f.Valid()
}

// checkCode checks a code was entered, of a length a code can have.
func (f *Form) checkCode(field, code string) {
	if f.checkRequired(field, code) {
		f.checkMaxLength(field, code, codeMaxLength)
	}
}

// ConfirmForm asks for the password again before a sensitive change.
type ConfirmForm struct {
	Form
	Password string
	Next     string
	Passkeys bool // the user has passkeys, and may confirm with one instead
	Problem  Text // why a passkey did not confirm
	// NoPassword is an account without a usable password (made through
	// another site): it confirms with Providers, the sites it logs in with.
	NoPassword bool
	Providers  []SocialProvider
}

// NewConfirmForm returns an empty confirmation form.
func NewConfirmForm() ConfirmForm {
	return ConfirmForm{Form: newForm(field{"password", "field.your_password"})}
}

// Validate checks the password is there.
func (f *ConfirmForm) Validate() bool {
	f.checkRequired("password", f.Password)
	return f.Valid()
}

// TOTPSetup is what the setup page shows of the secret being set up.
type TOTPSetup struct {
	URL    string // the otpauth:// URL, to open in an authenticator app on this phone
	Secret string // base32, grouped for reading
	QRCode string // a data: URL of a PNG of the otpauth:// URL
}

// TOTPSetupForm takes the first code of a new authenticator.
type TOTPSetupForm struct {
	Form
	Code  string
	Setup TOTPSetup
}

// NewTOTPSetupForm returns an empty setup form for setup.
func NewTOTPSetupForm(setup TOTPSetup) TOTPSetupForm {
	return TOTPSetupForm{Form: newForm(field{"code", "field.code_from_app"}), Setup: setup}
}

// Validate checks a code was entered.
func (f *TOTPSetupForm) Validate() bool {
	if f.checkRequired("code", f.Code) {
		f.checkMaxLength("code", f.Code, codeMaxLength)
	}
	return f.Valid()
}

// TwoFactorDisableForm turns two-factor off with a current code or the password.
type TwoFactorDisableForm struct {
	Form
	Code     string
	Password string
}

// NewTwoFactorDisableForm returns an empty form.
func NewTwoFactorDisableForm() TwoFactorDisableForm {
	return TwoFactorDisableForm{Form: newForm(field{"code", "field.authentication_code"}, field{"password", "field.or_your_password"})}
}

// Validate checks one of the two was entered.
func (f *TwoFactorDisableForm) Validate() bool {
	if f.Code == "" && f.Password == "" {
		f.AddError("code", Msg("two_factor.code_or_password"))
	}
	f.checkMaxLength("code", f.Code, codeMaxLength)
	return f.Valid()
}

// TwoFactorStatus is what the two-factor settings page shows.
type TwoFactorStatus struct {
	Enabled       bool
	RecoveryCodes int
}

// GroupSecret splits a base32 secret in groups of four, for reading aloud.
func GroupSecret(secret string) string {
	var out []byte
	for i := 0; i < len(secret); i++ {
		if i > 0 && i%4 == 0 {
			out = append(out, ' ')
		}
		out = append(out, secret[i])
	}
	return string(out)
}

// LoginCodeRequestForm asks for the address of an account to mail a
// sign-in code to, as the password reset form does.
type LoginCodeRequestForm struct {
	PasswordResetForm
	Next string
}

// NewLoginCodeRequestForm returns the request form, on the way to next.
func NewLoginCodeRequestForm(next string) LoginCodeRequestForm {
	return LoginCodeRequestForm{PasswordResetForm: NewPasswordResetForm(), Next: next}
}

// LoginCodeForm takes the sign-in code that was mailed.
type LoginCodeForm struct {
	Form
	Code string
}

// NewLoginCodeForm returns an empty code form.
func NewLoginCodeForm() LoginCodeForm {
	return LoginCodeForm{Form: newForm(field{"code", "field.sign_in_code"})}
}

// Validate checks a code was entered, of a length a code can have.
func (f *LoginCodeForm) Validate() bool {
	f.checkCode("code", f.Code)
	return f.Valid()
}

// LoginCodeWrong is the one answer to a code that logs no one in.
func LoginCodeWrong() Text { return Msg("login_code.wrong") }

// SocialSignupForm asks a person a provider vouched for to choose a username.
type SocialSignupForm struct {
	Form
	Username string
	Provider string // the provider's label
	Token    string // the one-time value that ties a post to this form
}

// NewSocialSignupForm returns an empty username form for a person from provider.
func NewSocialSignupForm(provider string) SocialSignupForm {
	return SocialSignupForm{Form: newForm(field{"username", "field.username"}), Provider: provider}
}

// Validate checks the username as signup does (Django's rules).
func (f *SocialSignupForm) Validate() bool {
	f.checkUsername("username", f.Username)
	return f.Valid()
}
