package views

import (
	"net/url"
	"strconv"
	"strings"
)

// Paths of the site's pages: links in views and redirects in handlers use these.
const (
	PathArticles      = "/articles/"
	PathArticleCreate = "/articles/create/"
	PathLogin         = "/accounts/login/"
	PathLogout        = "/accounts/logout/"
	PathSignup        = "/accounts/signup/"
	PathProfile       = "/accounts/update/"
	PathPassword      = "/accounts/password/"
	PathPasswordSet   = "/accounts/password/set/"
	PathAccountDelete = "/accounts/delete/"
	PathSetLanguage   = "/i18n/setlang/"
	// The accounts at other sites that log the user in.
	PathSocial           = "/accounts/social/"
	PathSocialDisconnect = "/accounts/social/disconnect/"
	// A person a provider vouched for chooses a username.
	PathSocialSignup = "/accounts/social/signup/"
	// Sign-in codes by mail: ask for one, then type it.
	PathLoginCode      = "/accounts/login/code/"
	PathLoginCodeEnter = "/accounts/login/code/enter/"
)

// ArticlePath is an article's detail page.
func ArticlePath(id int64) string { return PathArticles + strconv.FormatInt(id, 10) + "/" }

// ArticleUpdatePath is the page for editing an article.
func ArticleUpdatePath(id int64) string { return ArticlePath(id) + "update/" }

// ArticleDeletePath is the action that deletes an article.
func ArticleDeletePath(id int64) string { return ArticlePath(id) + "delete/" }

// LoginPath is the login page, returning to next (a local path) afterwards.
func LoginPath(next string) string { return withNext(PathLogin, next) }

// withNext is path with a next parameter, if next is not "".
func withNext(path, next string) string {
	if next == "" {
		return path
	}
	return path + "?next=" + url.QueryEscape(next)
}

// Paths of the account security pages.
const (
	PathSessions = "/accounts/sessions/"
	// PathTrustedBrowsers stops trusting browsers that skip the second step.
	PathTrustedBrowsers = "/accounts/sessions/trusted/"
	PathActivity        = "/accounts/activity/"
	// PathConfirm asks for the password again before a sensitive change.
	PathConfirm = "/accounts/confirm/"
)

// Paths of two-factor authentication.
const (
	PathLoginSecondStep  = "/accounts/login/2fa/"
	PathTwoFactor        = "/accounts/2fa/"
	PathTwoFactorSetup   = "/accounts/2fa/setup/"
	PathTwoFactorDisable = "/accounts/2fa/disable/"
	PathRecoveryCodes    = "/accounts/2fa/recovery-codes/"
)

// Paths of passkeys: the settings page and each ceremony's two steps (the
// first answers the options for the browser as JSON).
const (
	PathPasskeys               = "/accounts/passkeys/"
	PathPasskeysBegin          = "/accounts/passkeys/begin/"
	PathPasskeyRemove          = "/accounts/passkeys/remove/"
	PathLoginPasskey           = "/accounts/login/passkey/"
	PathLoginPasskeyBegin      = "/accounts/login/passkey/begin/"
	PathSecondStepPasskey      = "/accounts/login/2fa/passkey/"
	PathSecondStepPasskeyBegin = "/accounts/login/2fa/passkey/begin/"
	PathConfirmPasskey         = "/accounts/confirm/passkey/"
	PathConfirmPasskeyBegin    = "/accounts/confirm/passkey/begin/"
)

// ConfirmPath is the password confirmation page, returning to next afterwards.
func ConfirmPath(next string) string { return withNext(PathConfirm, next) }

// Paths of account recovery and email verification.
const (
	PathPasswordReset     = "/accounts/password_reset/"
	PathPasswordResetDone = "/accounts/password_reset/done/"
	PathResetComplete     = "/accounts/reset/done/"
	PathEmailResend       = "/accounts/email/resend/"
	// ResetSetPassword stands in the reset link's token segment once the
	// token has moved out of the URL, as in Django's PasswordResetConfirmView.
	ResetSetPassword = "set-password"
)

// The prefixes of the links that carry a user's uidb64 and then a token.
const (
	resetLinks       = "/accounts/reset/"
	emailVerifyLinks = "/accounts/email/verify/"
)

// ResetPath is a password reset link: the user's uidb64 and a token.
func ResetPath(uidb64, token string) string {
	return resetLinks + uidb64 + "/" + token + "/"
}

// EmailVerifyPath is an email verification link.
func EmailVerifyPath(uidb64, token string) string {
	return emailVerifyLinks + uidb64 + "/" + token + "/"
}

// Redacted stands in a token that RedactTokens took out.
const Redacted = "[redacted]"

// RedactTokens is path for a log line: the token of a reset or confirmation
// link, which would let whoever reads the log use it, is replaced by
// Redacted.
func RedactTokens(path string) string {
	for _, prefix := range []string{resetLinks, emailVerifyLinks} {
		rest, ok := strings.CutPrefix(path, prefix)
		if !ok {
			continue
		}
		segments := strings.SplitN(rest, "/", 3)
		if len(segments) < 2 || segments[1] == "" || segments[1] == ResetSetPassword {
			return path
		}
		segments[1] = Redacted
		return prefix + strings.Join(segments, "/")
	}
	return path
}

// SocialLoginPath starts a login with the provider of this name.
func SocialLoginPath(provider string) string { return "/accounts/social/" + provider + "/login/" }

// SocialConfirmPath is where a logged-in user confirms it is them with a
// provider their account is connected to.
func SocialConfirmPath(provider string) string { return "/accounts/social/" + provider + "/confirm/" }

// SocialCallbackPath is where the provider of this name sends the browser back.
func SocialCallbackPath(provider string) string { return "/accounts/social/" + provider + "/callback/" }

// SocialConnectPath connects the provider of this name to the logged-in account.
func SocialConnectPath(provider string) string { return "/accounts/social/" + provider + "/connect/" }
