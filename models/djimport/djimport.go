// Package djimport brings a Django site's people (auth_user, with
// django-allauth's verified addresses) and the lecture's articles
// (articles_article) into Gatehouse's database: gatehouse importdjango.
//
// Password hashes come across as they are: Gatehouse verifies Django's and
// upgrades them to argon2id at the first login, so nothing is hashed here.
// The whole import is one transaction: a failure, or -dry-run, leaves
// Gatehouse as it was. Each imported row keeps its Django id (django_id), so
// a second run matches what it brought and changes nothing.
package djimport

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"gatehouse/models"
	"gatehouse/models/password"
)

// DefaultUserTable is Django's user table; a custom AUTH_USER_MODEL with the
// same columns names its own.
const DefaultUserTable = "auth_user"

// batchSize is how many rows go in one INSERT: few statements, well under
// SQLite's limit of bound values.
const batchSize = 500

// Options say what to import and how.
type Options struct {
	UserTable string // DefaultUserTable when empty
	DryRun    bool   // do everything, then roll it back
	Update    bool   // overwrite accounts already here from Django's rows
	// Progress, if set, is told how many of total rows are done.
	Progress func(done, total int)
}

// Problem is a row not imported as it was, and why: a person by username,
// an article by title, with its Django id.
type Problem struct {
	Name     string
	DjangoID int64
	Reason   string
}

// Summary is what an import did (or, dry, would do).
type Summary struct {
	Users     int // rows read from the user table
	Imported  int // accounts created
	Updated   int // accounts overwritten (-update)
	Unchanged int // imported before, left as they are
	Skipped   []Problem
	// Unusable are imported with an unusable password: Django's own, or a
	// hash Gatehouse cannot verify. They log in after a password reset.
	Unusable []Problem
	// Unconfirmed had a verified address that another account verified
	// first: imported, with the address to confirm again.
	Unconfirmed []Problem

	Articles          int // rows read from articles_article
	ArticlesImported  int
	ArticlesUpdated   int
	ArticlesUnchanged int
	ArticlesSkipped   []Problem
}

// Run-time parts of the import's rows in Gatehouse: the models' rows plus
// the Django id they came from.
type importedUser struct {
	models.User `bun:",extend"`
	DjangoID    int64 `bun:"django_id,nullzero"`
}

type importedArticle struct {
	models.Article `bun:",extend"`
	DjangoID       int64 `bun:"django_id,nullzero"`
}

// existingUser is an account already in Gatehouse.
type existingUser struct {
	ID          int64  `bun:"id"`
	UsernameKey string `bun:"username_key"`
	DjangoID    int64  `bun:"django_id,nullzero"`
}

// Import reads the Django database at from and writes its people and
// articles into db, migrated already. Nothing is written on an error.
func Import(ctx context.Context, db *bun.DB, from string, opts Options) (*Summary, error) {
	table := opts.UserTable
	if table == "" {
		table = DefaultUserTable
	}
	if !identifier.MatchString(table) {
		return nil, fmt.Errorf("djimport: %q is not a table name", table)
	}
	src, err := openSource(ctx, from)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	if !src.hasTable(ctx, table) {
		return nil, fmt.Errorf("djimport: %w: it has no %s table", ErrNotDjango, table)
	}
	users, err := src.users(ctx, table)
	if err != nil {
		return nil, err
	}
	verified, err := src.verifiedAddresses(ctx)
	if err != nil {
		return nil, err
	}
	articles, err := src.articles(ctx)
	if err != nil {
		return nil, err
	}

	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("djimport: unable to begin: %w", err)
	}
	defer tx.Rollback()
	im := &importer{tx: tx, opts: opts, now: time.Now().UTC(), total: len(users) + len(articles),
		summary: &Summary{Users: len(users), Articles: len(articles)}}
	if err := im.users(ctx, users, verified); err != nil {
		return nil, err
	}
	if err := im.articles(ctx, articles); err != nil {
		return nil, err
	}
	s := im.summary
	if s.Imported+s.Updated+s.ArticlesImported+s.ArticlesUpdated > 0 {
		repr := models.NewDetail("django_import", "People", strconv.Itoa(s.Imported), "Articles", strconv.Itoa(s.ArticlesImported),
			"PeopleUpdated", strconv.Itoa(s.Updated), "ArticlesUpdated", strconv.Itoa(s.ArticlesUpdated))
		if err := models.RecordDjangoImport(ctx, tx, repr.String()); err != nil {
			return nil, err
		}
	}
	if opts.DryRun {
		return s, nil // rolled back by the deferred Rollback
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("djimport: unable to commit: %w", err)
	}
	return s, nil
}

// importer is one import under way, in its transaction.
type importer struct {
	tx      bun.Tx
	opts    Options
	now     time.Time
	summary *Summary
	done    int
	total   int
	// userIDs maps a Django user id to the Gatehouse account it became.
	userIDs map[int64]int64
}

func (im *importer) progress(n int) {
	im.done += n
	if im.opts.Progress != nil {
		im.opts.Progress(im.done, im.total)
	}
}

// users imports the user rows: new accounts in batches, others matched by
// username (in any letter case, as Gatehouse compares them).
func (im *importer) users(ctx context.Context, users []djangoUser, verified map[int64]string) error {
	var existing []existingUser
	if err := im.tx.NewSelect().Table("users").Column("id", "username_key", "django_id").Scan(ctx, &existing); err != nil {
		return fmt.Errorf("djimport: unable to read users: %w", err)
	}
	byKey := make(map[string]existingUser, len(existing))
	for _, e := range existing {
		byKey[e.UsernameKey] = e
	}
	// Verified addresses are unique (in any letter case): who holds each.
	var holders []struct {
		ID    int64  `bun:"id"`
		Email string `bun:"email"`
	}
	if err := im.tx.NewSelect().Table("users").Column("id", "email").Where("email_verified").Scan(ctx, &holders); err != nil {
		return fmt.Errorf("djimport: unable to read users: %w", err)
	}
	verifiedBy := make(map[string]int64, len(holders))
	for _, h := range holders {
		verifiedBy[models.EmailKey(h.Email)] = h.ID
	}

	im.userIDs = make(map[int64]int64, len(users))
	s := im.summary
	seen := map[string]string{} // username key → the Django username that took it
	var batch []*importedUser
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if _, err := im.tx.NewInsert().Model(&batch).Returning("id").Exec(ctx); err != nil {
			return fmt.Errorf("djimport: unable to insert users: %w", err)
		}
		for _, u := range batch {
			im.userIDs[u.DjangoID] = u.ID
		}
		if err := im.recordImported(ctx, batch); err != nil {
			return err
		}
		s.Imported += len(batch)
		im.progress(len(batch))
		batch = batch[:0]
		return nil
	}
	for _, d := range users {
		u, problem := im.account(d)
		if problem != "" {
			s.Skipped = append(s.Skipped, Problem{d.Username, d.ID, problem})
			im.progress(1)
			continue
		}
		if first, ok := seen[u.UsernameKey]; ok {
			s.Skipped = append(s.Skipped, Problem{d.Username, d.ID, fmt.Sprintf("the same username as %q in another letter case", first)})
			im.progress(1)
			continue
		}
		seen[u.UsernameKey] = d.Username
		here, exists := byKey[u.UsernameKey]
		if exists && !im.opts.Update {
			if here.DjangoID != 0 {
				s.Unchanged++
				im.userIDs[d.ID] = here.ID
			} else {
				s.Skipped = append(s.Skipped, Problem{d.Username, d.ID, "already an account here, not from Django (-update gives it to the Django person, ending its sessions and removing its other ways in)"})
			}
			im.progress(1)
			continue
		}
		if address, ok := verified[d.ID]; ok && u.Email != "" && models.EmailKey(address) == models.EmailKey(u.Email) {
			key := models.EmailKey(u.Email) // as the index of confirmed addresses compares them
			if holder, taken := verifiedBy[key]; taken && !(exists && holder == here.ID) {
				s.Unconfirmed = append(s.Unconfirmed, Problem{d.Username, d.ID, "verified address " + u.Email + " is another account's already"})
			} else {
				u.EmailVerified = true
				verifiedBy[key] = -d.ID // taken by this import; no account has a negative id
			}
		}
		if u.Password != d.Password {
			s.Unusable = append(s.Unusable, Problem{d.Username, d.ID, "a password hash Gatehouse cannot verify: imported unusable, password reset works"})
		} else if strings.HasPrefix(u.Password, "!") {
			s.Unusable = append(s.Unusable, Problem{d.Username, d.ID, "no usable password in Django: password reset works"})
		}
		if exists { // -update
			u.ID = here.ID
			if here.DjangoID == 0 {
				// The account passes to the Django person: whoever made it
				// here keeps no way in (sessions, providers, passkeys, TOTP).
				if err := models.ForgetWaysIn(ctx, im.tx, here.ID); err != nil {
					return err
				}
			}
			if err := im.update(ctx, u); err != nil {
				return err
			}
			im.userIDs[d.ID] = here.ID
			s.Updated++
			im.progress(1)
			continue
		}
		if batch = append(batch, u); len(batch) == batchSize {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// account is the Gatehouse account for a Django user row, or why there is none.
func (im *importer) account(d djangoUser) (*importedUser, string) {
	username := models.NormalizeUsername(d.Username)
	if username == "" {
		return nil, "an empty username"
	}
	switch models.UsernameProblem(username) {
	case models.UsernameTooLong:
		return nil, fmt.Sprintf("a username longer than %d characters", models.UsernameMaxLength)
	case models.UsernameInvalid:
		return nil, "a username with characters other than letters, digits and @.+-_"
	}
	hash := d.Password
	if !password.Verifiable(hash) && !strings.HasPrefix(hash, "!") {
		hash = "!" // unusable: never a hash of an algorithm Gatehouse does not check
	}
	u := &importedUser{DjangoID: d.ID, User: models.User{
		Username: username, UsernameKey: models.UsernameKey(username), Password: hash,
		Email: strings.TrimSpace(d.Email), FirstName: d.FirstName, LastName: d.LastName,
		IsActive: d.IsActive, IsStaff: d.IsStaff, IsSuperuser: d.IsSuperuser,
		DateJoined: d.DateJoined.UTC(), NotifyNewDevice: true,
	}}
	if d.LastLogin.Valid {
		u.LastLogin = d.LastLogin.Time.UTC()
	}
	return u, ""
}

// update overwrites an account with its Django row (-update).
func (im *importer) update(ctx context.Context, u *importedUser) error {
	_, err := im.tx.NewUpdate().Model(u).WherePK().
		Column("username", "username_key", "password", "email", "email_verified", "first_name", "last_name",
			"is_active", "is_staff", "is_superuser", "date_joined", "last_login", "django_id").Exec(ctx)
	if err != nil {
		return fmt.Errorf("djimport: unable to update user %q: %w", u.Username, err)
	}
	return im.recordImported(ctx, []*importedUser{u})
}

// recordImported puts "account imported from Django" in each user's security log.
func (im *importer) recordImported(ctx context.Context, users []*importedUser) error {
	events := make([]models.SecurityEvent, len(users))
	for i, u := range users {
		events[i] = models.SecurityEvent{UserID: u.ID, Username: u.Username, Kind: models.EventImported, CreatedAt: im.now}
	}
	if _, err := im.tx.NewInsert().Model(&events).Exec(ctx); err != nil {
		return fmt.Errorf("djimport: unable to record the imports: %w", err)
	}
	return nil
}

// articles imports the lecture's articles whose authors came across; one
// without an author is skipped, since every Gatehouse article has one.
func (im *importer) articles(ctx context.Context, articles []djangoArticle) error {
	var imported []int64
	if err := im.tx.NewSelect().Table("articles").Column("django_id").Where("django_id IS NOT NULL").Scan(ctx, &imported); err != nil {
		return fmt.Errorf("djimport: unable to read articles: %w", err)
	}
	here := make(map[int64]bool, len(imported))
	for _, id := range imported {
		here[id] = true
	}
	s := im.summary
	var batch []*importedArticle
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if _, err := im.tx.NewInsert().Model(&batch).Exec(ctx); err != nil {
			return fmt.Errorf("djimport: unable to insert articles: %w", err)
		}
		s.ArticlesImported += len(batch)
		im.progress(len(batch))
		batch = batch[:0]
		return nil
	}
	for _, d := range articles {
		authorID, ok := im.userIDs[d.AuthorID.Int64]
		switch {
		case !d.AuthorID.Valid:
			s.ArticlesSkipped = append(s.ArticlesSkipped, Problem{d.Title, d.ID, "no author"})
		case !ok:
			s.ArticlesSkipped = append(s.ArticlesSkipped, Problem{d.Title, d.ID, "its author was not imported"})
		case strings.TrimSpace(d.Title) == "" || strings.ContainsFunc(d.Title, models.MisleadingRune):
			s.ArticlesSkipped = append(s.ArticlesSkipped, Problem{d.Title, d.ID, "an empty title, or one with control or direction characters"})
		default:
			a := &importedArticle{DjangoID: d.ID, Article: models.Article{
				Title: d.Title, Content: d.Content, AuthorID: authorID,
				CreatedAt: d.CreatedAt.UTC(), UpdatedAt: d.UpdatedAt.UTC(),
			}}
			switch {
			case !here[d.ID]:
				if batch = append(batch, a); len(batch) == batchSize {
					if err := flush(); err != nil {
						return err
					}
				}
				continue
			case im.opts.Update:
				_, err := im.tx.NewUpdate().Model(a).Where("django_id = ?", d.ID).
					Column("title", "content", "author_id", "created_at", "updated_at").Exec(ctx)
				if err != nil {
					return fmt.Errorf("djimport: unable to update article #%d: %w", d.ID, err)
				}
				s.ArticlesUpdated++
			default:
				s.ArticlesUnchanged++
			}
		}
		im.progress(1)
	}
	return flush()
}
