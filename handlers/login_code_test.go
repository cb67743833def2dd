package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"gatehouse/handlers"
	"gatehouse/models"
	"gatehouse/models/dbtest"
	"gatehouse/models/throttle"
	"gatehouse/views"
)

// loginCodeIn reads the code out of a sign-in code mail: subject and text.
var loginCodeIn = regexp.MustCompile(`^([A-Z2-9]{8}) is your Gatehouse sign-in code$`)

// askLoginCode asks for a sign-in code for email and lands on the page
// that takes it.
func askLoginCode(t *testing.T, c *client, email string) {
	t.Helper()
	res := c.postForm(views.PathLoginCode, views.PathLoginCode, url.Values{"email": {email}})
	wantRedirect(t, res, c.htmx, views.PathLoginCodeEnter)
}

// mailedLoginCode waits for the next sign-in code mailed to email.
func mailedLoginCode(t *testing.T, box *mtMailbox, email string) string {
	t.Helper()
	m := box.nextWhere("with a sign-in code to "+email, func(m mtMail) bool {
		return strings.EqualFold(m.to, email) && loginCodeIn.MatchString(m.subject)
	})
	code := loginCodeIn.FindStringSubmatch(m.subject)[1]
	if !strings.Contains(m.text, "\n"+code+"\n") || !strings.Contains(m.html, code) {
		t.Errorf("the code is not in the mail's parts:\n%s", m.text)
	}
	return code
}

func enterLoginCode(c *client, code string) *response {
	return c.postForm(views.PathLoginCodeEnter, views.PathLoginCodeEnter, url.Values{"code": {code}})
}

// TestLoginCode: the whole way, on both engines: the login page offers it,
// a code is mailed to the confirmed address, a wrong code is refused and
// counted, the right one logs in (as typed: lower case, a dash) and is used
// up; the security log says how.
func TestLoginCode(t *testing.T) {
	for _, engine := range dbtest.Engines {
		t.Run(engine.Name, func(t *testing.T) {
			t.Parallel()
			app := newTestAppOn(t, handlers.Config{}, engine.URL(t))
			box := mtFolder(t, app.mailDir)
			mtVerifiedUser(t, app, "alice", "alice@example.com")
			c := app.client()
			if link := c.get(views.PathLogin).text(t, `[data-testid="login-code-link"]`); link != "Email me a sign-in code" {
				t.Errorf("login page's link: %q", link)
			}
			askLoginCode(t, c, "Alice@Example.com")
			enter := c.get(views.PathLoginCodeEnter)
			wantStatus(t, enter, http.StatusOK)
			if got := enter.text(t, `[data-testid="login-code-enter"]`); !strings.Contains(got, "Alice@Example.com") || !strings.Contains(got, "5 minutes") {
				t.Errorf("enter page: %q", got)
			}
			code := mailedLoginCode(t, box, "alice@example.com")

			res := enterLoginCode(c, "AAAA2222")
			wantStatus(t, res, http.StatusUnprocessableEntity)
			if !strings.Contains(string(res.body), "That code is not right") {
				t.Errorf("wrong code: %s", res.body)
			}
			wantRedirect(t, enterLoginCode(c, strings.ToLower(code[:4])+"-"+code[4:]), false, views.PathArticles)
			if got := c.loggedInAs(); got != "alice" {
				t.Fatalf("logged in as %q", got)
			}
			var detail string
			if err := app.db.NewRaw("SELECT detail FROM security_events WHERE kind = ? ORDER BY id DESC LIMIT 1", models.EventLogin).Scan(context.Background(), &detail); err != nil {
				t.Fatal(err)
			}
			if detail != models.NewDetail("login_mail_code").String() {
				t.Errorf("security log: %q", detail)
			}
			// Used up: another browser cannot log in with it.
			other := app.client()
			askLoginCode(t, other, "alice@example.com")
			wantStatus(t, enterLoginCode(other, code), http.StatusUnprocessableEntity)
		})
	}
}

// TestLoginCodeLimits: three wrong tries void a code; a code expires after
// five minutes; an unknown address gets the same pages and answers and no
// mail.
func TestLoginCodeLimits(t *testing.T) {
	t.Parallel()
	app, clock := newClockedApp(t)
	box := mtFolder(t, app.mailDir)
	mtVerifiedUser(t, app, "alice", "alice@example.com")

	c := app.client()
	askLoginCode(t, c, "alice@example.com")
	code := mailedLoginCode(t, box, "alice@example.com")
	for range models.LoginCodeTries {
		wantStatus(t, enterLoginCode(c, "AAAA2222"), http.StatusUnprocessableEntity)
	}
	wantStatus(t, enterLoginCode(c, code), http.StatusUnprocessableEntity)

	askLoginCode(t, c, "alice@example.com")
	code = mailedLoginCode(t, box, "alice@example.com")
	clock.advance(models.LoginCodeTimeout)
	wantStatus(t, enterLoginCode(c, code), http.StatusUnprocessableEntity)

	stranger := app.client()
	askLoginCode(t, stranger, "nobody@example.com")
	res := enterLoginCode(stranger, code)
	wantStatus(t, res, http.StatusUnprocessableEntity)
	if !strings.Contains(string(res.body), "That code is not right") {
		t.Errorf("unknown address: %s", res.body)
	}
	if got := stranger.loggedInAs(); got != "" {
		t.Errorf("logged in as %q", got)
	}
	app.app.Shutdown() // waits for the mail work the requests set off
	var toStranger int
	if err := app.db.NewRaw("SELECT count(*) FROM mail_outbox WHERE lower(recipient) = 'nobody@example.com'").Scan(context.Background(), &toStranger); err != nil {
		t.Fatal(err)
	}
	if toStranger != 0 {
		t.Errorf("%d mails to an unknown address", toStranger)
	}
}

// TestLoginCodeThenSecondStep: a code counts as the password only: an
// account with two-factor is asked for its second factor next.
func TestLoginCodeThenSecondStep(t *testing.T) {
	t.Parallel()
	app, clock := newClockedApp(t)
	box := mtFolder(t, app.mailDir)
	mtVerifiedUser(t, app, "alice", "alice@example.com")
	owner := app.client()
	owner.loginAs("alice", mtPassword)
	enableTwoFactor(t, owner, clock)

	c := app.client()
	askLoginCode(t, c, "alice@example.com")
	wantRedirect(t, enterLoginCode(c, mailedLoginCode(t, box, "alice@example.com")), false, views.PathLoginSecondStep)
	if got := c.loggedInAs(); got != "" {
		t.Errorf("logged in as %q before the second step", got)
	}
}

// TestLoginCodeOff: GATEHOUSE_LOGIN_BY_CODE=off takes the pages and the link away.
func TestLoginCodeOff(t *testing.T) {
	t.Parallel()
	app := newTestAppWith(t, handlers.Config{LoginCodesOff: true})
	c := app.client()
	if n := c.get(views.PathLogin).doc(t).Find(`[data-testid="login-code-link"]`).Length(); n != 0 {
		t.Error("the login page offers sign-in codes")
	}
	wantStatus(t, c.get(views.PathLoginCode), http.StatusNotFound)
	wantStatus(t, c.postForm(views.PathLogin, views.PathLoginCode, url.Values{"email": {"a@example.com"}}), http.StatusNotFound)
}

// TestLoginCodeGuessesThrottled: wrong codes from one address, whatever the
// addresses they are for, are refused past the login's limit per address.
func TestLoginCodeGuessesThrottled(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	c := app.client()
	askLoginCode(t, c, "nobody@example.com")
	for range throttle.LoginPerAddress.Limit {
		wantStatus(t, enterLoginCode(c, "AAAA2222"), http.StatusUnprocessableEntity)
	}
	res := enterLoginCode(c, "AAAA2222")
	wantStatus(t, res, http.StatusTooManyRequests)
	if res.Header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
}
