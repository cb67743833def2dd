package password

import (
	_ "embed"
	"fmt"
	"regexp"
	"sort"
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

// commonPasswordLines holds where each line of commonPasswordsText starts.
// The file is sorted (byte order, all lower case), so a binary search over
// these offsets finds a password without copying the list onto the heap.
var commonPasswordLines = func() []uint32 {
	offsets := make([]uint32, 0, 50000)
	for start := 0; start < len(commonPasswordsText); {
		offsets = append(offsets, uint32(start))
		end := strings.IndexByte(commonPasswordsText[start:], '\n')
		if end < 0 {
			break
		}
		start += end + 1
	}
	return offsets
}()

// commonPassword returns line i of the common-password list.
func commonPassword(i int) string {
	line := commonPasswordsText[commonPasswordLines[i]:]
	if end := strings.IndexByte(line, '\n'); end >= 0 {
		line = line[:end]
	}
	return line
}

// isCommon reports whether password, in any letter case, is on the list.
func isCommon(password string) bool {
	password = strings.ToLower(strings.TrimSpace(password))
	i := sort.Search(len(commonPasswordLines), func(i int) bool { return commonPassword(i) >= password })
	return i < len(commonPasswordLines) && commonPassword(i) == password
}

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
	if isCommon(password) {
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
