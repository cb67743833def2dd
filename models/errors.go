package models

import "errors"

var (
	// ErrNotFound is returned when no row matches.
	ErrNotFound = errors.New("models: not found")
	// ErrDuplicateUsername is returned when the username, compared case-insensitively, is taken.
	ErrDuplicateUsername = errors.New("models: " + UsernameDuplicate)
	// ErrEmailTaken is returned when another account has verified the address.
	ErrEmailTaken = errors.New("models: email address verified by another account")
	// ErrLinkUsed is returned when a reset link's password changed while it
	// was being used: another use of the link came first.
	ErrLinkUsed = errors.New("models: reset link already used")
)
