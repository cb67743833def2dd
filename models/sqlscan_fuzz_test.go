package models

import "testing"

// FuzzClassify: the cache's SQL classifier never panics, answers the same
// twice, and a statement list that starts with a write is never taken for a
// read, whatever follows it (an unclosed quote, a comment, another
// statement). Seeds: testdata/fuzz/FuzzClassify.
func FuzzClassify(f *testing.F) {
	f.Fuzz(func(t *testing.T, query string) {
		kind, tables := classify(query)
		if again, againTables := classify(query); again != kind || againTables != tables {
			t.Fatalf("classify(%q) answered %v %v, then %v %v", query, kind, tables, again, againTables)
		}
		if kind == statementRead && tables != 0 {
			t.Fatalf("classify(%q): a read that changes tables %v", query, tables)
		}
		written := "DELETE FROM users WHERE id = 1; " + query
		if kind, tables := classify(written); kind != statementWrite || tables&TableUsers == 0 {
			t.Fatalf("classify(%q) = %v %v: the DELETE from users is missed", written, kind, tables)
		}
	})
}
