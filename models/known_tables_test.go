package models

import (
	"context"
	"slices"
	"testing"

	"gatehouse/models/dbtest"
)

// TestKnownTables checks every place that names the database's tables
// against knownTables, the one list, on both engines: the tables the
// migrations create, their foreign keys (a parent comes before its
// children, in the order Copy fills them; a delete that cascades or sets
// null is in the parent's cascades, and nothing else is), and the triggers
// that tell the cache of writes (PostgreSQL's notifications, SQLite's
// cache_versions counts).
func TestKnownTables(t *testing.T) {
	t.Parallel()
	for _, engine := range dbtest.Engines {
		t.Run(engine.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			store := openTestStore(t, engine.URL(t))
			db := store.DB
			pg := db.Dialect().Name().String() == "pg"
			var names []string
			for _, known := range knownTables {
				names = append(names, known.name)
			}

			created, err := tableNames(ctx, db)
			if err != nil {
				t.Fatal(err)
			}
			slices.Sort(created)
			if listed := slices.Sorted(slices.Values(names)); !slices.Equal(created, listed) {
				t.Errorf("the migrations create %q; knownTables lists %q", created, listed)
			}

			var keys []struct {
				Child, Parent, OnDelete string
			}
			query := `SELECT m.name AS child, f."table" AS parent, f.on_delete FROM sqlite_master m
				JOIN pragma_foreign_key_list(m.name) f WHERE m.type = 'table'`
			if pg {
				query = `SELECT c.conrelid::regclass::text AS child, c.confrelid::regclass::text AS parent,
					CASE c.confdeltype WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' ELSE 'NO ACTION' END AS on_delete
					FROM pg_constraint c WHERE c.contype = 'f' AND c.connamespace = current_schema()::regnamespace`
			}
			if err := db.NewRaw(query).Scan(ctx, &keys); err != nil {
				t.Fatal(err)
			}
			if len(keys) == 0 {
				t.Fatal("no foreign keys found")
			}
			cascades := map[string]Tables{}
			for _, key := range keys {
				if key.Child == key.Parent {
					continue
				}
				if slices.Index(names, key.Parent) > slices.Index(names, key.Child) {
					t.Errorf("%s refers to %s, which knownTables lists after it: Copy fills parents first", key.Child, key.Parent)
				}
				if key.OnDelete == "CASCADE" || key.OnDelete == "SET NULL" {
					cascades[key.Parent] |= tableBit(key.Child)
				}
			}
			for _, known := range knownTables {
				if known.cascades != cascades[known.name] {
					t.Errorf("a delete from %s changes %b by its foreign keys; knownTables says %b", known.name, cascades[known.name], known.cascades)
				}
			}

			var triggered []string
			if pg {
				err = db.NewRaw(`SELECT DISTINCT c.relname FROM pg_trigger tg JOIN pg_class c ON c.oid = tg.tgrelid
					JOIN pg_proc p ON p.oid = tg.tgfoid JOIN pg_namespace n ON n.oid = c.relnamespace
					WHERE n.nspname = current_schema() AND p.proname = 'gatehouse_cache_notify'`).Scan(ctx, &triggered)
			} else {
				err = db.NewRaw("SELECT name FROM cache_versions").Scan(ctx, &triggered)
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, known := range knownTables {
				told := slices.Contains(triggered, known.name)
				if want := !known.derived && (!pg || !known.unannounced); told != want {
					t.Errorf("%s tells the cache of its writes: %v, want %v (a trigger migration misses it, or knownTables is wrong)", known.name, told, want)
				}
			}
			for _, name := range triggered {
				if tableBit(name) == 0 {
					t.Errorf("a trigger tells the cache of writes to %s, which knownTables does not list", name)
				}
			}
		})
	}
}
