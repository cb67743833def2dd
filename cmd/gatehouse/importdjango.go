package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"gatehouse/models/djimport"
)

// importDjango brings a Django site's people and articles into the
// database of s (migrated first), then prints what it did to out; progress
// goes to progress, as a bar on a terminal and as lines otherwise.
func importDjango(flags *flag.FlagSet, args []string, s *settings, out, progress io.Writer) error {
	from := flags.String("from", "", "the Django database: sqlite:/path/to/db.sqlite3 or a postgres:// URL")
	dryRun := flags.Bool("dry-run", false, "say what the import would do, and write nothing")
	update := flags.Bool("update", false, "overwrite accounts already here (not from an earlier import) with their Django rows")
	userTable := flags.String("user-table", djimport.DefaultUserTable, "the table of a custom AUTH_USER_MODEL with auth_user's columns")
	if err := parseNoArgs(flags, args); err != nil {
		return err
	}
	if *from == "" {
		return errors.New("usage: gatehouse importdjango -from sqlite:/path/to/db.sqlite3 (or postgres://…) [-db …] [-dry-run] [-update]")
	}
	ctx := context.Background()
	store, err := s.open(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	summary, err := djimport.Import(ctx, store.DB, *from, djimport.Options{
		UserTable: *userTable, DryRun: *dryRun, Update: *update, Progress: newProgress(progress),
	})
	if err != nil {
		return fmt.Errorf("%w; nothing was imported", err)
	}
	printSummary(out, summary, *dryRun)
	return nil
}

// newProgress reports progress as a bar redrawn in place on a terminal, and
// as a line at each tenth otherwise (a log keeps every line).
func newProgress(w io.Writer) func(done, total int) {
	f, isFile := w.(*os.File)
	onTerminal := isFile && term.IsTerminal(int(f.Fd()))
	last := -1
	return func(done, total int) {
		if total == 0 {
			return
		}
		percent := done * 100 / total
		if onTerminal {
			if percent != last {
				const width = 30
				filled := percent * width / 100
				fmt.Fprintf(w, "\r[%s%s] %3d%% %d/%d", strings.Repeat("#", filled), strings.Repeat(" ", width-filled), percent, done, total)
				if done == total {
					fmt.Fprintln(w)
				}
			}
		} else if tenth := percent / 10; tenth != last/10 || last < 0 {
			fmt.Fprintf(w, "imported %d of %d rows (%d%%)\n", done, total, percent)
		}
		last = percent
	}
}

// printSummary writes what the import did, or would do, with every row it
// did not take as it was and why.
func printSummary(w io.Writer, s *djimport.Summary, dryRun bool) {
	if dryRun {
		fmt.Fprintln(w, "Dry run: nothing was written. The import would do this:")
	}
	fmt.Fprintf(w, "People: %d read, %d imported, %d updated, %d imported before and left as they are, %d skipped\n",
		s.Users, s.Imported, s.Updated, s.Unchanged, len(s.Skipped))
	list(w, "Skipped", s.Skipped)
	list(w, "Imported without a usable password", s.Unusable)
	list(w, "Imported with the address to confirm again", s.Unconfirmed)
	fmt.Fprintf(w, "Articles: %d read, %d imported, %d updated, %d imported before and left as they are, %d skipped\n",
		s.Articles, s.ArticlesImported, s.ArticlesUpdated, s.ArticlesUnchanged, len(s.ArticlesSkipped))
	list(w, "Skipped articles", s.ArticlesSkipped)
	if s.Imported+s.Updated > 0 && !dryRun {
		fmt.Fprintln(w, "Sessions are not imported: people log in again, with their Django password.")
	}
}

func list(w io.Writer, heading string, problems []djimport.Problem) {
	if len(problems) == 0 {
		return
	}
	fmt.Fprintf(w, "  %s:\n", heading)
	for _, p := range problems {
		fmt.Fprintf(w, "    %q (#%d): %s\n", p.Name, p.DjangoID, p.Reason)
	}
}
