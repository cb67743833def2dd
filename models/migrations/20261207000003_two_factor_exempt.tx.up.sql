-- A user a superuser excused from GATEHOUSE_REQUIRE_2FA: they may log in
-- with a password alone even where the policy asks more.
ALTER TABLE users ADD COLUMN two_factor_exempt BOOLEAN NOT NULL DEFAULT FALSE;
