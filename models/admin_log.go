package models

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// AdminLogEntry is one action taken in the staff admin, as Django's LogEntry
// records it: who, when, which object, and for an edit what changed. There is
// no function to change or delete an entry.
type AdminLogEntry struct {
	bun.BaseModel `bun:"table:admin_log,alias:l"`

	ID         int64     `bun:"id,pk,autoincrement"`
	ActorID    int64     `bun:"actor_id,nullzero"` // 0 (NULL) once the actor's account is deleted
	Actor      string    `bun:"actor,notnull"`     // the actor's username when they acted
	Action     string    `bun:"action,notnull"`
	ObjectType string    `bun:"object_type,notnull"`
	ObjectID   int64     `bun:"object_id,notnull"`
	ObjectRepr string    `bun:"object_repr,notnull"`
	ChangesRaw string    `bun:"changes,notnull"` // JSON of []FieldChange
	CreatedAt  time.Time `bun:"created_at,notnull"`
}

// FieldChange is one field an admin action changed. A secret field (the
// password) is recorded by name only: From and To stay empty.
type FieldChange struct {
	Field string `json:"field"`
	From  string `json:"from,omitempty"`
	To    string `json:"to,omitempty"`
}

// Objects an admin action is about.
const (
	ObjectUser    = "user"
	ObjectArticle = "article"
)

// Admin actions.
const (
	ActionChange       = "change"
	ActionActivate     = "activate"
	ActionDeactivate   = "deactivate"
	ActionSetPassword  = "set_password"
	ActionSendReset    = "send_reset"
	ActionEndSessions  = "end_sessions"
	ActionTwoFactorOff = "two_factor_off"
	ActionDelete       = "delete"
	ActionImport       = "import"
	ActionDisconnect   = "disconnect"
	FieldPassword      = "password"
	adminReprMaxLength = 200
)

// AdminActions are the actions' names, in the order a filter offers them.
// The views put them into words (admin.action.<name>).
var AdminActions = []string{
	ActionChange, ActionActivate, ActionDeactivate, ActionSetPassword, ActionSendReset,
	ActionEndSessions, ActionTwoFactorOff, ActionDelete, ActionImport, ActionDisconnect,
}

// Changes are the fields the action changed, in the order recorded.
func (e AdminLogEntry) Changes() []FieldChange {
	var changes []FieldChange
	if e.ChangesRaw != "" {
		_ = json.Unmarshal([]byte(e.ChangesRaw), &changes) // written by recordAdminAction only
	}
	return changes
}

// Actor names who acts in the admin, for its log.
type Actor struct {
	ID       int64
	Username string
}

// recordAdminAction adds an entry to the admin log. The password's value
// never enters it, whatever the caller passed.
func recordAdminAction(ctx context.Context, db bun.IDB, actor Actor, action, objectType string, objectID int64, repr string, changes []FieldChange) error {
	for i := range changes {
		if changes[i].Field == FieldPassword {
			changes[i].From, changes[i].To = "", ""
		}
	}
	raw := ""
	if len(changes) > 0 {
		encoded, err := json.Marshal(changes)
		if err != nil {
			return fmt.Errorf("models: unable to encode admin changes: %w", err)
		}
		raw = string(encoded)
	}
	e := &AdminLogEntry{
		ActorID: actor.ID, Actor: actor.Username, Action: action,
		ObjectType: objectType, ObjectID: objectID, ObjectRepr: storableText(repr, adminReprMaxLength),
		ChangesRaw: raw, CreatedAt: time.Now().UTC(),
	}
	if _, err := db.NewInsert().Model(e).Exec(ctx); err != nil {
		return fmt.Errorf("models: unable to record admin action %s on %s #%d: %w", action, objectType, objectID, err)
	}
	return nil
}

// ImportActor is who the admin log says acted for an import from the command line.
const ImportActor = "gatehouse importdjango"

// RecordDjangoImport adds an import's entry to the admin log: one for the
// whole import, about no one user (object id 0), repr saying what came.
func RecordDjangoImport(ctx context.Context, db bun.IDB, repr string) error {
	return recordAdminAction(ctx, db, Actor{Username: ImportActor}, ActionImport, ObjectUser, 0, repr, nil)
}

// AdminLogFilter narrows the admin log; a zero field matches any.
type AdminLogFilter struct {
	ActorID    int64
	Action     string
	ObjectType string
	ObjectID   int64
}

func (f AdminLogFilter) apply(q *bun.SelectQuery) *bun.SelectQuery {
	if f.ActorID != 0 {
		q = q.Where("l.actor_id = ?", f.ActorID)
	}
	if f.Action != "" {
		q = q.Where("l.action = ?", f.Action)
	}
	if f.ObjectType != "" {
		q = q.Where("l.object_type = ?", f.ObjectType).Where("l.object_id = ?", f.ObjectID)
	}
	return q
}

// AdminLog returns up to limit entries that match filter, newest first,
// skipping offset.
func AdminLog(ctx context.Context, db bun.IDB, filter AdminLogFilter, offset, limit int64) ([]AdminLogEntry, error) {
	var entries []AdminLogEntry
	err := filter.apply(db.NewSelect().Model(&entries)).
		OrderExpr("l.created_at DESC, l.id DESC").Offset(offset).Limit(limit).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("models: unable to list the admin log: %w", err)
	}
	return entries, nil
}

// CountAdminLog counts the entries that match filter.
func CountAdminLog(ctx context.Context, db bun.IDB, filter AdminLogFilter) (int64, error) {
	n, err := filter.apply(db.NewSelect().Model((*AdminLogEntry)(nil))).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("models: unable to count the admin log: %w", err)
	}
	return int64(n), nil
}

// AdminLogActors lists who has acted in the admin and still has an
// account, by username: the choices of the log's actor filter.
func AdminLogActors(ctx context.Context, db bun.IDB) ([]Actor, error) {
	var actors []Actor
	err := db.NewSelect().Model((*User)(nil)).Column("u.id", "u.username").
		Where("u.id IN (?)", db.NewSelect().Model((*AdminLogEntry)(nil)).Column("actor_id").Where("actor_id IS NOT NULL")).
		OrderExpr("u.username_key").Scan(ctx, &actors)
	if err != nil {
		return nil, fmt.Errorf("models: unable to list admin log actors: %w", err)
	}
	return actors, nil
}
