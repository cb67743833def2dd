package password

import (
	_ "embed"
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MinLength is the fewest characters a password may have.
const MinLength = 8

// maxSimilarity is Django's threshold for a password too close to a user attribute.
const maxSimilarity = 0.7

// User holds the attributes a new password must not resemble.
type User struct {
	Username, Email, FirstName, LastName string
}

//go:embed common-passwords.txt
var commonPasswordsText string

// commonPasswords is the embedded list of 49,233 passwords seen most in leaks.
var commonPasswords = func() map[string]struct{} {
	set := make(map[string]struct{}, 50000)
	for line := range strings.Lines(commonPasswordsText) {
		set[strings.ToLower(strings.TrimSpace(line))] = struct{}{}
	}
	return set
}()

// Validate runs Django's four default validators and returns their messages:
// similarity to the user, minimum length, common passwords, all digits.
func Validate(password string, user User) []string {
	var problems []string
	if attribute := similarAttribute(password, user); attribute != "" {
		problems = append(problems, fmt.Sprintf("The password is too similar to the %s.", attribute))
	}
	if utf8.RuneCountInString(password) < MinLength {
		problems = append(problems, fmt.Sprintf("This password is too short. It must contain at least %d characters.", MinLength))
	}
	if _, common := commonPasswords[strings.ToLower(strings.TrimSpace(password))]; common {
		problems = append(problems, "This password is too common.")
	}
	if password != "" && strings.IndexFunc(password, func(r rune) bool { return !unicode.IsDigit(r) }) < 0 {
		problems = append(problems, "This password is entirely numeric.")
	}
	return problems
}

var nonWord = regexp.MustCompile(`[^\p{L}\p{N}_]+`)

// similarAttribute names the first user attribute the password resembles, as
// Django's UserAttributeSimilarityValidator judges it, or returns "".
func similarAttribute(password string, user User) string {
	password = strings.ToLower(password)
	attributes := []struct{ name, value string }{
		{"username", user.Username},
		{"first name", user.FirstName},
		{"last name", user.LastName},
		{"email address", user.Email},
	}
	for _, attribute := range attributes {
		if attribute.value == "" {
			continue
		}
		value := strings.ToLower(attribute.value)
		for _, part := range append(nonWord.Split(value, -1), value) {
			if tooLongToCompare(password, part) {
				continue
			}
			if quickRatio(password, part) >= maxSimilarity {
				return attribute.name
			}
		}
	}
	return ""
}

// tooLongToCompare is Django's exceeds_maximum_length_ratio: a password ten
// times longer than a short value cannot be similar to it.
func tooLongToCompare(password, value string) bool {
	passwordLen, valueLen := utf8.RuneCountInString(password), utf8.RuneCountInString(value)
	return passwordLen >= 10*valueLen && float64(valueLen) < maxSimilarity/2*float64(passwordLen)
}

// quickRatio is Python's difflib.SequenceMatcher(a, b).quick_ratio(): twice
// the size of the multiset intersection of characters over the total length.
func quickRatio(a, b string) float64 {
	length := utf8.RuneCountInString(a) + utf8.RuneCountInString(b)
	if length == 0 {
		return 1
	}
	available := make(map[rune]int)
	for _, r := range b {
		available[r]++
	}
	matches := 0
	for _, r := range a {
		if available[r] > 0 {
			matches++
		}
		available[r]--
	}
	return 2 * float64(matches) / float64(length)
}
