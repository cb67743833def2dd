package handlers

import (
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/recover"

	"gatehouse/views"
)

// routes adds the middleware chain and every route. Login-only and
// anonymous-only checks, and no-store caching, are per route.
func (h *handler) routes(app *fiber.App, accessLog bool) {
	app.Use(recover.New())
	if accessLog {
		app.Use(h.accessLog)
	}
	app.Use(h.deadline)
	app.Use(h.securityHeaders, h.appendSlash, checkForm)

	// Served before the session and CSRF middleware: they need neither.
	app.Get("/healthz", h.healthz)
	app.Get("/assets/:name", h.asset)

	app.Use(h.loadUser, h.chooseLanguage, h.csrfProtect, h.enrolmentRequired)

	app.Get("/", h.home)
	app.Get(views.PathArticles, h.articleIndex)
	app.Get(views.PathArticleCreate, h.loginRequired, h.articleCreatePage)
	app.Post(views.PathArticleCreate, h.loginRequired, h.articleCreateSubmit)
	app.Get("/articles/:id/", h.articleDetail)
	app.Get("/articles/:id/update/", h.loginRequired, h.articleUpdatePage)
	app.Post("/articles/:id/update/", h.loginRequired, h.articleUpdateSubmit)
	app.Get("/articles/:id/delete/", h.loginRequired, h.articleDeletePage)
	app.Post("/articles/:id/delete/", h.loginRequiredThen(articlePage), h.articleDelete)

	app.Get(views.PathLogin, noStore, h.anonymousOnly, h.loginPage)
	app.Post(views.PathLogin, noStore, h.anonymousOnly, h.loginSubmit)
	app.Get(views.PathLoginSecondStep, noStore, h.anonymousOnly, h.secondStepPage)
	app.Post(views.PathLoginSecondStep, noStore, h.anonymousOnly, h.secondStepSubmit)
	app.Post(views.PathSecondStepPasskeyBegin, noStore, h.passkeysAvailable, h.anonymousOnly, h.secondStepPasskeyBegin)
	app.Post(views.PathSecondStepPasskey, noStore, h.passkeysAvailable, h.anonymousOnly, h.secondStepPasskeySubmit)
	app.Post(views.PathLoginPasskeyBegin, noStore, h.passkeysAvailable, h.anonymousOnly, h.passkeyLoginBegin)
	app.Post(views.PathLoginPasskey, noStore, h.passkeysAvailable, h.anonymousOnly, h.passkeyLoginSubmit)
	app.Get(views.PathLoginCode, noStore, h.loginCodesOffered, h.anonymousOnly, h.loginCodePage)
	app.Post(views.PathLoginCode, noStore, h.loginCodesOffered, h.anonymousOnly, h.loginCodeSubmit)
	app.Get(views.PathLoginCodeEnter, noStore, h.loginCodesOffered, h.anonymousOnly, h.loginCodeEnterPage)
	app.Post(views.PathLoginCodeEnter, noStore, h.loginCodesOffered, h.anonymousOnly, h.loginCodeEnterSubmit)
	app.Post("/accounts/social/:provider/login/", noStore, h.anonymousOnly, h.socialLogin)
	app.Get("/accounts/social/:provider/callback/", noStore, h.socialCallback)
	app.Get(views.PathSocial, noStore, h.loginRequired, h.socialSettingsPage)
	app.Post(views.PathSocialDisconnect, noStore, h.loginRequiredThen(fixedPage(views.PathSocial)), h.recentAuthRequired(views.PathSocial), h.socialDisconnect)
	app.Post("/accounts/social/:provider/connect/", noStore, h.loginRequiredThen(fixedPage(views.PathSocial)), h.recentAuthRequired(views.PathSocial), h.socialConnect)
	app.Post("/accounts/social/:provider/confirm/", noStore, h.loginRequiredThen(fixedPage(views.PathTwoFactor)), h.socialConfirm)
	app.Post(views.PathSocialSignup, noStore, h.anonymousOnly, h.socialSignupSubmit)
	app.Post(views.PathTrustedBrowsers, noStore, h.loginRequired, h.stopTrusting)
	app.Get(views.PathLogout, noStore, h.logoutPage)
	app.Post(views.PathLogout, h.logout)
	app.Get(views.PathSignup, noStore, h.anonymousOnly, h.signupPage)
	app.Post(views.PathSignup, noStore, h.anonymousOnly, h.signupSubmit)
	app.Get(views.PathProfile, noStore, h.loginRequired, h.profilePage)
	app.Post(views.PathProfile, noStore, h.loginRequired, h.profileSubmit)
	app.Get(views.PathPassword, noStore, h.loginRequired, h.passwordPage)
	app.Post(views.PathPassword, noStore, h.loginRequired, h.passwordSubmit)
	app.Get(views.PathPasswordSet, noStore, h.loginRequired, h.recentAuthRequired(""), h.passwordSetPage)
	app.Post(views.PathPasswordSet, noStore, h.loginRequired, h.recentAuthRequired(views.PathPasswordSet), h.passwordSetSubmit)
	app.Get(views.PathPasswordReset, noStore, h.passwordResetPage)
	app.Post(views.PathPasswordReset, noStore, h.passwordResetSubmit)
	app.Get(views.PathPasswordResetDone, h.passwordResetDone)
	app.Get("/accounts/reset/:uidb64/:token/", noStore, h.resetLink)
	app.Post("/accounts/reset/:uidb64/"+views.ResetSetPassword+"/", noStore, h.resetSubmit)
	app.Get(views.PathResetComplete, h.resetComplete)
	app.Get("/accounts/email/verify/:uidb64/:token/", noStore, h.emailVerifyPage)
	app.Post("/accounts/email/verify/:uidb64/:token/", noStore, h.emailVerifySubmit)
	app.Post(views.PathEmailResend, noStore, h.loginRequiredThen(fixedPage(views.PathProfile)), h.emailResend)
	app.Get(views.PathSessions, noStore, h.loginRequired, h.sessionsPage)
	app.Post(views.PathSessions, noStore, h.loginRequired, h.sessionsSubmit)
	app.Get(views.PathActivity, noStore, h.loginRequired, h.activityPage)
	app.Get(views.PathConfirm, noStore, h.loginRequired, h.confirmPage)
	app.Post(views.PathConfirm, noStore, h.loginRequiredThen(fixedPage(views.PathTwoFactor)), h.confirmSubmit)
	app.Post(views.PathConfirmPasskeyBegin, noStore, h.passkeysAvailable, h.loginRequiredThen(fixedPage(views.PathTwoFactor)), h.confirmPasskeyBegin)
	app.Post(views.PathConfirmPasskey, noStore, h.passkeysAvailable, h.loginRequiredThen(fixedPage(views.PathTwoFactor)), h.confirmPasskeySubmit)
	app.Get(views.PathTwoFactor, noStore, h.loginRequired, h.twoFactorPage)
	app.Get(views.PathTwoFactorSetup, noStore, h.loginRequired, h.recentAuthRequired(""), h.twoFactorSetupPage)
	app.Post(views.PathTwoFactorSetup, noStore, h.loginRequired, h.recentAuthRequired(views.PathTwoFactorSetup), h.twoFactorSetupSubmit)
	app.Get(views.PathRecoveryCodes, noStore, h.loginRequired, h.recoveryCodesPage)
	app.Post(views.PathRecoveryCodes, noStore, h.loginRequiredThen(fixedPage(views.PathTwoFactor)), h.recentAuthRequired(views.PathTwoFactor), h.recoveryCodesSubmit)
	app.Get(views.PathTwoFactorDisable, noStore, h.loginRequired, h.recentAuthRequired(""), h.twoFactorDisablePage)
	app.Post(views.PathTwoFactorDisable, noStore, h.loginRequired, h.recentAuthRequired(views.PathTwoFactorDisable), h.twoFactorDisableSubmit)
	app.Get(views.PathPasskeys, noStore, h.loginRequired, h.passkeysPage)
	app.Post(views.PathPasskeys, noStore, h.passkeysAvailable, h.loginRequired, h.recentAuthRequired(views.PathPasskeys), h.passkeyRegisterSubmit)
	app.Post(views.PathPasskeysBegin, noStore, h.passkeysAvailable, h.loginRequiredThen(fixedPage(views.PathPasskeys)), h.recentAuthRequired(views.PathPasskeys), h.passkeyRegisterBegin)
	app.Post(views.PathPasskeyRemove, noStore, h.loginRequiredThen(fixedPage(views.PathPasskeys)), h.recentAuthRequired(views.PathPasskeys), h.passkeyRemove)
	app.Post(views.PathSetLanguage, h.setLanguage)
	app.Get(views.PathAccountDelete, noStore, h.loginRequired, h.accountDeletePage)
	app.Post(views.PathAccountDelete, noStore, h.loginRequiredThen(fixedPage(views.PathArticles)), h.accountDelete)

	// The staff admin: staff only, never cached; its own login redirect;
	// actions in sudo mode.
	admin := app.Group(views.PathAdmin, noStore, h.staffOnly, h.adminRecentAuth)
	admin.Get("/", h.adminDashboard)
	admin.Get("/users/", h.adminUsers)
	admin.Post("/users/", h.adminUsersSubmit)
	user := admin.Group("/users/:id")
	user.Get("/", h.adminUserPage)
	user.Post("/", h.adminUserSubmit)
	user.Post("/active/", h.adminUserActive)
	user.Post("/password/", h.adminUserPassword)
	user.Post("/reset/", h.adminUserReset)
	user.Post("/sessions/", h.adminUserSessions)
	user.Post("/"+views.AdminUserTwoFactor, h.adminUserTwoFactor)
	user.Post("/"+views.AdminUserSocial, h.adminUserDisconnect)
	user.Get("/delete/", h.adminUserDeletePage)
	user.Post("/delete/", h.adminUserDelete)
	admin.Get("/articles/", h.adminArticles)
	article := admin.Group("/articles/:id")
	article.Get("/", h.adminArticlePage)
	article.Get("/delete/", h.adminArticleDeletePage)
	article.Post("/delete/", h.adminArticleDelete)
	admin.Get("/log/", h.adminLog)

	// Fiber answers a method a path has no route for with 405 and Allow;
	// appendSlash and the CSRF check need to know the same.
	h.routeTable = newRouteTable(app)
}
