package models

import "errors"

var (
	// ErrNotFound is returned when no row matches.
	ErrNotFound = errors.New("models: not found")
	// ErrDuplicateUsername is returned when the username, compared case-insensitively, is taken.
	ErrDuplicateUsername = errors.New("models: " + UsernameDuplicate)
	// ErrEmailTaken is returned when another account has verified the address.
	ErrEmailTaken = errors.New("models: email address verified by another account")
)
