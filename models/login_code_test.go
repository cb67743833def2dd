package models_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"gatehouse/models"
)

// TestLoginCode: a code works once, within its five minutes, in any letter
// case and with spaces or dashes; three wrong tries void it; a new code
// replaces the old one.
func TestLoginCode(t *testing.T) {
	onEngines(t, func(t *testing.T, testDB func(*testing.T) *bun.DB) {
		ctx := context.Background()
		db := testDB(t)
		u := createUser(t, db, "alice")
		now := time.Now()
		code, err := models.NewLoginCode(ctx, db, u.ID, now)
		if err != nil {
			t.Fatal(err)
		}
		if len(code) != 8 || strings.ContainsAny(code, "0O1IL") {
			t.Errorf("code %q", code)
		}
		wrong := func(typed string, at time.Time) {
			t.Helper()
			if err := models.UseLoginCode(ctx, db, u.ID, typed, at); !errors.Is(err, models.ErrLoginCodeWrong) {
				t.Fatalf("UseLoginCode(%q) = %v, want ErrLoginCodeWrong", typed, err)
			}
		}
		right := func(typed string, at time.Time) {
			t.Helper()
			if err := models.UseLoginCode(ctx, db, u.ID, typed, at); err != nil {
				t.Fatalf("UseLoginCode(%q) = %v, want it used", typed, err)
			}
		}
		wrong(code, now.Add(models.LoginCodeTimeout)) // expired: and gone
		wrong(code, now)

		code, _ = models.NewLoginCode(ctx, db, u.ID, now)
		wrong("AAAAAAAA", now)
		right(strings.ToLower(code[:4])+"-"+code[4:], now)
		wrong(code, now) // used up

		code, _ = models.NewLoginCode(ctx, db, u.ID, now)
		for range models.LoginCodeTries {
			wrong("AAAAAAAA", now)
		}
		wrong(code, now) // voided by the wrong tries

		old, _ := models.NewLoginCode(ctx, db, u.ID, now)
		code, _ = models.NewLoginCode(ctx, db, u.ID, now)
		if old != code {
			wrong(old, now)
		}
		right(code, now)
	})
}
