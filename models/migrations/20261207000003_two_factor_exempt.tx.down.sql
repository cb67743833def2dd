ALTER TABLE users DROP COLUMN two_factor_exempt;
