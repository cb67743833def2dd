DROP TABLE throttle_failures;
