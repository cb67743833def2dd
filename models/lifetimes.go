package models

import "time"

// How long the links mailed to users work.
const (
	// PasswordResetTimeout is Django's PASSWORD_RESET_TIMEOUT made safer:
	// one hour instead of three days.
	PasswordResetTimeout = time.Hour
	// EmailVerificationTimeout is how long a link confirming an address works.
	EmailVerificationTimeout = 24 * time.Hour
)

// How long the steps of a stronger login last.
const (
	// SecondStepTimeout is how long, after a right password, the second
	// factor may be given before the login starts over.
	SecondStepTimeout = 5 * time.Minute
	// RecentAuthentication is how long after the user last proved it was
	// them (a password or passkey entered) changes to their second factors
	// are allowed without asking again ("sudo mode").
	RecentAuthentication = 10 * time.Minute
	// PasskeyCeremonyTimeout is how long a passkey prompt may stay open:
	// its challenge is refused after that.
	PasskeyCeremonyTimeout = 5 * time.Minute
)
