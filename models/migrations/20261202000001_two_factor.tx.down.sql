DROP TABLE recovery_codes;

--bun:split

DROP TABLE two_factor;
