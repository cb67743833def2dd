// Package useragent names the browser and system behind a User-Agent header.
package useragent

import "strings"

// browsers are tried in order: Edge, Opera, Samsung Internet and Chromium
// also send Chrome's token, and every browser built on WebKit sends Safari's.
var browsers = []struct{ token, name string }{
	{"Edg/", "Edge"},
	{"EdgA/", "Edge"},
	{"EdgiOS/", "Edge"},
	{"OPR/", "Opera"},
	{"SamsungBrowser/", "Samsung Internet"},
	{"HeadlessChrome/", "Headless Chrome"},
	{"Firefox/", "Firefox"},
	{"FxiOS/", "Firefox"},
	{"Chromium/", "Chromium"},
	{"Chrome/", "Chrome"},
	{"CriOS/", "Chrome"},
}

// systems are tried in order: Android sends Linux's token, and iPhones and
// iPads send "like Mac OS X".
var systems = []struct{ token, name string }{
	{"Windows NT", "Windows"},
	{"Android", "Android"},
	{"iPhone", "iPhone"},
	{"iPad", "iPad"},
	{"CrOS", "ChromeOS"},
	{"Mac OS X", "macOS"},
	{"Linux", "Linux"},
}

// Agent is what a User-Agent header names: a browser and a system, each
// "" when unknown. They are product names, the same in every language; the
// views put them into words ("Firefox on Linux").
type Agent struct {
	Browser string
	System  string
}

// Parse names the browser and system of a User-Agent header. It returns
// only names of its own, never the header's text.
func Parse(ua string) Agent {
	if strings.HasPrefix(ua, "curl/") {
		return Agent{Browser: "curl"}
	}
	return Agent{Browser: browserName(ua), System: systemName(ua)}
}

func browserName(ua string) string {
	for _, b := range browsers {
		if strings.Contains(ua, b.token) {
			return b.name
		}
	}
	// Apps embedding WebKit send Safari's engine tokens but not Version/.
	if strings.Contains(ua, "Safari/") && strings.Contains(ua, "Version/") {
		return "Safari"
	}
	return ""
}

func systemName(ua string) string {
	for _, s := range systems {
		if strings.Contains(ua, s.token) {
			return s.name
		}
	}
	return ""
}
