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
