package handlers

import (
	"bytes"
	"slices"
	"strings"
	"unicode/utf8"

	"gatehouse/views"

	"github.com/gofiber/fiber/v2"
)

// contentSecurityPolicy allows scripts and styles from this site only: no
// inline code, no framing; forms lead to this site, or to the login pages
// of the providers at formOrigins (their buttons' forms are redirected
// there, and browsers hold redirects to form-action).
func contentSecurityPolicy(formOrigins []string) string {
	return "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
		"object-src 'none'; base-uri 'self'; form-action " + strings.Join(append([]string{"'self'"}, formOrigins...), " ") + "; frame-ancestors 'none'"
}

// securityHeaders sets the headers every response carries; over HTTPS, HSTS
// too, so the browser never tries plain HTTP again.
func (h *handler) securityHeaders(c *fiber.Ctx) error {
	if h.cookieSecure {
		c.Set(fiber.HeaderStrictTransportSecurity, "max-age=31536000; includeSubDomains")
	}
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderXFrameOptions, "DENY")
	c.Set(fiber.HeaderReferrerPolicy, "same-origin")
	c.Set(fiber.HeaderContentSecurityPolicy, h.contentSecurityPolicy)
	c.Set("Cross-Origin-Opener-Policy", "same-origin")
	// Pages differ for htmx (a fragment) and browsers (the whole page).
	c.Vary("HX-Request")
	return c.Next()
}

// noStore keeps pages that show or take credentials out of every cache.
func noStore(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Next()
}

// appendSlash redirects a path without its trailing slash to the slashed
// route when one exists, as Django's APPEND_SLASH does.
func (h *handler) appendSlash(c *fiber.Ctx) error {
	path := c.Path()
	if strings.HasSuffix(path, "/") || !h.routeTable.allows("", path+"/") {
		return c.Next()
	}
	target := path + "/"
	if query := c.Request().URI().QueryString(); len(query) > 0 {
		target += "?" + string(query)
	}
	status := fiber.StatusMovedPermanently
	if c.Method() != fiber.MethodGet && c.Method() != fiber.MethodHead {
		status = fiber.StatusPermanentRedirect // keeps the method and body
	}
	return c.Redirect(target, status)
}

// routeTable lists each route pattern with the methods it has handlers for.
type routeTable struct {
	patterns []string
	methods  map[string][]string
}

// newRouteTable reads the routes registered on app so far.
func newRouteTable(app *fiber.App) routeTable {
	table := routeTable{methods: map[string][]string{}}
	for _, route := range app.GetRoutes(true) {
		if _, seen := table.methods[route.Path]; !seen {
			table.patterns = append(table.patterns, route.Path)
		}
		table.methods[route.Path] = append(table.methods[route.Path], route.Method)
	}
	return table
}

// allows reports whether a route for method ("" for any) matches path.
func (t routeTable) allows(method, path string) bool {
	for _, pattern := range t.patterns {
		if matchesPattern(pattern, path) && (method == "" || slices.Contains(t.methods[pattern], method)) {
			return true
		}
	}
	return false
}

// matchesPattern compares path with a route pattern segment by segment; a
// :param segment matches any non-empty segment.
func matchesPattern(pattern, path string) bool {
	want, got := strings.Split(pattern, "/"), strings.Split(path, "/")
	if len(want) != len(got) {
		return false
	}
	for i := range want {
		if strings.HasPrefix(want[i], ":") {
			if got[i] == "" {
				return false
			}
		} else if want[i] != got[i] {
			return false
		}
	}
	return true
}

// checkForm refuses, before any handler sees them, a POST whose body is not
// a form (415: every POST here is a form, and a JSON body must not pass as
// an empty one), and query strings and forms that are not valid UTF-8 or
// hold NUL characters (400).
func checkForm(c *fiber.Ctx) error {
	if c.Method() == fiber.MethodPost && len(c.Body()) > 0 && !isForm(c) {
		return &clientError{fiber.StatusUnsupportedMediaType, views.Msg("error.forms_only")}
	}
	valid := true
	check := func(key, value []byte) {
		if !utf8.Valid(key) || !utf8.Valid(value) || bytes.IndexByte(value, 0) >= 0 {
			valid = false
		}
	}
	c.Request().URI().QueryArgs().VisitAll(check)
	if c.Method() == fiber.MethodPost {
		if isMultipart(c) {
			form, err := c.MultipartForm()
			if err != nil {
				return &clientError{fiber.StatusBadRequest, views.Msg("error.form_unreadable")}
			}
			for key, values := range form.Value {
				for _, value := range values {
					check([]byte(key), []byte(value))
				}
			}
		} else {
			c.Request().PostArgs().VisitAll(check)
		}
	}
	if !valid {
		return &clientError{fiber.StatusBadRequest, views.Msg("error.invalid_utf8")}
	}
	return c.Next()
}
