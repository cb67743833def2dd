package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"gatehouse/models"
)

// copyDB copies every table of one database into another, typically a
// SQLite file into a new PostgreSQL database. Both are migrated first. A
// target that holds any row is refused unless -force, which replaces it.
func copyDB(flags *flag.FlagSet, args []string) error {
	from := flags.String("from", "", "database to copy: a SQLite file (sqlite:path) or a postgres:// URL")
	to := flags.String("to", "", "database to fill: a postgres:// URL (or a SQLite file)")
	force := flags.Bool("force", false, "replace whatever the target holds")
	if err := parseNoArgs(flags, args); err != nil {
		return err
	}
	if *from == "" || *to == "" {
		return errors.New("usage: gatehouse copydb -from sqlite:./data/gatehouse.db -to postgres://user@host/db [-force]")
	}
	ctx := context.Background()
	source, err := models.Open(ctx, *from)
	if err != nil {
		return fmt.Errorf("source: %w", err)
	}
	defer source.Close()
	target, err := models.Open(ctx, *to)
	if err != nil {
		return fmt.Errorf("target: %w", err)
	}
	defer target.Close()
	counts, err := models.Copy(ctx, source.DB, target.DB, *force)
	if errors.Is(err, models.ErrNotEmpty) {
		return fmt.Errorf("%w (use -force to replace its contents)", err)
	}
	if err != nil {
		return err
	}
	for _, c := range counts {
		fmt.Printf("%-18s %d rows\n", c.Table, c.Rows)
	}
	fmt.Printf("copied %s to %s\n", redactURL(*from), redactURL(*to))
	return nil
}
