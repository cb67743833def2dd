package models

import (
	"encoding/json"
	"maps"
	"regexp"
	"strings"
)

// Detail is what a security log entry adds to its kind ("with a passkey",
// "3 left", "by an administrator, root"), kept as a code and its values so
// that the views put it into the reader's language when the log is shown:
// Django's lazy translations, for a row. It is stored as
// `␟code {"Name":"value"}` in the entry's detail (JSON keeps a Korean
// name as short as it is); details stored before codes are plain English,
// and are shown as they are. An admin log entry names its object the same
// way where the name is a sentence (a deleted article: its title and
// author).
type Detail struct {
	Code string
	Args map[string]string
}

// The names of the values a detail may carry that the views do more with
// than show.
const (
	DetailCount   = "Count"   // a number: chooses a plural form
	DetailUntil   = "Until"   // a time (RFC 3339): worded as a time of day
	DetailBrowser = "Browser" // with DetailSystem: worded as "Firefox on Linux"
	DetailSystem  = "System"
	// DetailTrusted marks a login made without its second step, from a
	// browser the user trusts.
	DetailTrusted = "Trusted"
)

// detailMark starts a detail kept as a code: the unit separator, a control
// character that no name a person gives can hold (usernames, titles and
// passkey names refuse them), so none is taken for a code.
const detailMark = "\x1f"

var detailCode = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// NewDetail is the detail code with values given as name, value pairs.
func NewDetail(code string, pairs ...string) Detail {
	d := Detail{Code: code}
	for i := 0; i+1 < len(pairs); i += 2 {
		d = d.With(pairs[i], pairs[i+1])
	}
	return d
}

// With is d with one more value.
func (d Detail) With(name, value string) Detail {
	args := maps.Clone(d.Args)
	if args == nil {
		args = map[string]string{}
	}
	args[name] = storableText(value, detailValueMaxChars)
	return Detail{Code: d.Code, Args: args}
}

// detailValueMaxChars bounds each value (a username, a passkey's name), so
// that a stored detail always fits the log's length and reads back whole.
const detailValueMaxChars = 150

// String is d as the log stores it; "" for no detail.
func (d Detail) String() string {
	if d.Code == "" {
		return ""
	}
	if len(d.Args) == 0 {
		return detailMark + d.Code
	}
	args, _ := json.Marshal(d.Args) // a map of strings always marshals
	return detailMark + d.Code + " " + string(args)
}

// ParseDetail reads a detail the log stored; ok is false for a plain-text
// one (from before codes), which is shown as it is.
func ParseDetail(stored string) (d Detail, ok bool) {
	rest, found := strings.CutPrefix(stored, detailMark)
	if !found {
		return Detail{}, false
	}
	code, args, hasArgs := strings.Cut(rest, " ")
	if !detailCode.MatchString(code) {
		return Detail{}, false
	}
	d.Code = code
	if hasArgs && json.Unmarshal([]byte(args), &d.Args) != nil {
		return Detail{}, false
	}
	return d, true
}
