package password

import (
	_ "embed"
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

// Problem is what one of the validators finds wrong with a password: a
// code for the views to put into words (Django's messages), and for
// TooShort the least length.
type Problem struct {
	Code string
	Min  int // MinLength, for TooShort
}

// Codes of the validators' problems. A password too similar to a user
// attribute has one code for each, so that each language words it whole.
const (
	TooSimilarUsername  = "password.too_similar.username"
	TooSimilarFirstName = "password.too_similar.first_name"
	TooSimilarLastName  = "password.too_similar.last_name"
	TooSimilarEmail     = "password.too_similar.email"
	TooShort            = "password.too_short"
	TooCommon           = "password.too_common"
	EntirelyNumeric     = "password.entirely_numeric"
)

// Validate runs Django's four default validators and returns what they
// find: similarity to the user, minimum length, common passwords, all digits.
func Validate(password string, user User) []Problem {
	var problems []Problem
	if code := similarAttribute(password, user); code != "" {
		problems = append(problems, Problem{Code: code})
	}
	if utf8.RuneCountInString(password) < MinLength {
		problems = append(problems, Problem{Code: TooShort, Min: MinLength})
	}
	if isCommon(password) {
		problems = append(problems, Problem{Code: TooCommon})
	}
	if password != "" && strings.IndexFunc(password, func(r rune) bool { return !unicode.IsDigit(r) }) < 0 {
		problems = append(problems, Problem{Code: EntirelyNumeric})
	}
	return problems
}

var nonWord = regexp.MustCompile(`[^\p{L}\p{N}_]+`)

// similarAttribute is the code of the first user attribute the password
// resembles, as Django's UserAttributeSimilarityValidator judges it, or "".
func similarAttribute(password string, user User) string {
	password = strings.ToLower(password)
	attributes := []struct{ code, value string }{
		{TooSimilarUsername, user.Username},
		{TooSimilarFirstName, user.FirstName},
		{TooSimilarLastName, user.LastName},
		{TooSimilarEmail, user.Email},
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
				return attribute.code
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
