package models

import "strings"

// statementKind is what classify makes of a statement.
type statementKind int

const (
	statementRead  statementKind = iota // changes nothing
	statementWrite                      // changes its tables
	statementBegin                      // begins a transaction
	statementEnd                        // commits or rolls back a transaction
)

// mayWrite reports whether a statement may change data.
func mayWrite(query string) bool {
	kind, _ := classify(query)
	return kind != statementRead
}

// classify tells what a statement does and, for a write, which tables it
// may change. Only one SELECT, bare or after a WITH clause whose common table
// expressions hold no INSERT, UPDATE or DELETE, cannot write. A write is one
// INSERT, REPLACE, UPDATE or DELETE whose table the scan reads; anything else
// (several statements, DDL, PRAGMA, what the scan is unsure of) changes
// every table: a wrong guess that way costs cache misses, the other way a
// stale page.
func classify(query string) (statementKind, Tables) {
	sc := sqlScanner{text: query}
	token := sc.next()
	switch {
	case token.isKeyword("BEGIN"):
		return sc.single(statementBegin, 0)
	case token.isKeyword("COMMIT", "END"):
		return sc.single(statementEnd, 0)
	case token.isKeyword("ROLLBACK"):
		// ROLLBACK [TRANSACTION] TO [SAVEPOINT] name ends no transaction.
		for token = sc.next(); token.isKeyword("TRANSACTION", "WORK"); token = sc.next() {
		}
		if token.isKeyword("TO") {
			return statementWrite, 0
		}
		return statementEnd, 0
	case token.isKeyword("SAVEPOINT", "RELEASE"):
		// Within a transaction, they commit nothing.
		return statementWrite, 0
	case token.isKeyword("WITH"):
		// The statement is what its first keyword outside the common table
		// expressions' parentheses says. REPLACE may also name a table
		// expression; taken for the statement, it errs toward a write.
		depth := 0
		for token = sc.next(); depth > 0 || !token.isKeyword("SELECT", "VALUES", "INSERT", "REPLACE", "UPDATE", "DELETE"); token = sc.next() {
			switch token.kind {
			case tokenOpen:
				depth++
			case tokenClose:
				depth--
			case tokenEnd, tokenSemicolon, tokenBad:
				return statementWrite, AllTables
			case tokenWord:
				// PostgreSQL allows data-modifying common table expressions.
				if token.isKeyword("INSERT", "UPDATE", "DELETE") {
					return statementWrite, AllTables
				}
			}
		}
	}
	var tables Tables
	switch {
	case token.isKeyword("SELECT"):
		return sc.single(statementRead, 0)
	case token.isKeyword("INSERT", "REPLACE", "UPDATE", "DELETE"):
		tables = sc.writtenTable(token)
	default:
		return statementWrite, AllTables
	}
	if tables == AllTables {
		return statementWrite, AllTables
	}
	return sc.single(statementWrite, tables)
}

// single returns kind and tables if only empty statements follow, and a
// write to every table otherwise: the driver runs every statement in the text.
func (sc *sqlScanner) single(kind statementKind, tables Tables) (statementKind, Tables) {
	token := sc.next()
	for ; token.kind != tokenSemicolon; token = sc.next() {
		switch token.kind {
		case tokenEnd:
			return kind, tables
		case tokenBad:
			return statementWrite, AllTables
		}
	}
	for token.kind == tokenSemicolon {
		token = sc.next()
	}
	if token.kind != tokenEnd {
		return statementWrite, AllTables
	}
	return kind, tables
}

// writtenTable reads the table of INSERT [OR …] INTO t, REPLACE INTO t,
// UPDATE [OR …] t or DELETE FROM t, verb being the statement's first keyword,
// and returns it (with what it cascades to), or every table.
func (sc *sqlScanner) writtenTable(verb sqlToken) Tables {
	token := sc.next()
	if verb.isKeyword("INSERT", "UPDATE") && token.isKeyword("OR") {
		sc.next() // ROLLBACK, ABORT, REPLACE, FAIL or IGNORE
		token = sc.next()
	}
	switch {
	case verb.isKeyword("INSERT", "REPLACE"):
		if !token.isKeyword("INTO") {
			return AllTables
		}
		token = sc.next()
	case verb.isKeyword("DELETE"):
		if !token.isKeyword("FROM") {
			return AllTables
		}
		token = sc.next()
	}
	if token.isKeyword("ONLY") { // PostgreSQL's UPDATE ONLY t, DELETE FROM ONLY t
		token = sc.next()
	}
	name, ok := token.name()
	if !ok {
		return AllTables
	}
	// A schema-qualified name: the table is the last part.
	rest := *sc
	if dot := rest.next(); dot.kind == tokenOther && dot.text == "." {
		if name, ok = rest.next().name(); !ok {
			return AllTables
		}
		*sc = rest
	}
	return tableNamed(name)
}

// name returns the name a word or a double-quoted or backquoted token
// spells, folding an unquoted word to lower case as both engines do.
func (t sqlToken) name() (string, bool) {
	switch {
	case t.kind == tokenWord:
		return strings.ToLower(t.text), true
	case t.kind == tokenOther && len(t.text) >= 2 && (t.text[0] == '"' || t.text[0] == '`'):
		q := t.text[:1]
		return strings.ReplaceAll(t.text[1:len(t.text)-1], q+q, q), true
	case t.kind == tokenOther && len(t.text) >= 2 && t.text[0] == '[':
		return t.text[1 : len(t.text)-1], true
	}
	return "", false
}

// sqlScanner splits SQL text into tokens, just finely enough for mayWrite.
type sqlScanner struct {
	text string
	pos  int
}

type sqlToken struct {
	kind tokenKind
	text string
}

type tokenKind int

const (
	tokenEnd       tokenKind = iota
	tokenWord                // a keyword or a bare name
	tokenOpen                // (
	tokenClose               // )
	tokenSemicolon           // ;
	tokenOther               // a literal, a quoted name or an operator
	tokenBad                 // an unterminated literal or quoted name
)

// isKeyword reports whether the token is one of keywords, given in upper
// case. Only ASCII letters fold: SQLite reads "ſelect" as a name, not SELECT.
func (t sqlToken) isKeyword(keywords ...string) bool {
	if t.kind != tokenWord {
		return false
	}
	for _, keyword := range keywords {
		if len(t.text) == len(keyword) && asciiUpperEqual(t.text, keyword) {
			return true
		}
	}
	return false
}

func asciiUpperEqual(text, upper string) bool {
	for i := range len(text) {
		c := text[i]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		if c != upper[i] {
			return false
		}
	}
	return true
}

// next returns the token after whitespace and comments.
func (sc *sqlScanner) next() sqlToken {
	sc.skipSpace()
	if sc.pos == len(sc.text) {
		return sqlToken{kind: tokenEnd}
	}
	start := sc.pos
	c := sc.text[sc.pos]
	sc.pos++
	kind := tokenOther
	switch {
	case c == '(':
		kind = tokenOpen
	case c == ')':
		kind = tokenClose
	case c == ';':
		kind = tokenSemicolon
	case c == '\'' || c == '"' || c == '`':
		if !sc.skipQuoted(c, true) {
			kind = tokenBad
		}
	case c == '[':
		if !sc.skipQuoted(']', false) {
			kind = tokenBad
		}
	case isWordByte(c):
		for sc.pos < len(sc.text) && isWordByte(sc.text[sc.pos]) {
			sc.pos++
		}
		kind = tokenWord
	}
	return sqlToken{kind: kind, text: sc.text[start:sc.pos]}
}

// skipQuoted moves past the closing quote; doubled, a quote stands for itself.
func (sc *sqlScanner) skipQuoted(closing byte, doubles bool) bool {
	for {
		i := strings.IndexByte(sc.text[sc.pos:], closing)
		if i < 0 {
			sc.pos = len(sc.text)
			return false
		}
		sc.pos += i + 1
		if !doubles || sc.pos == len(sc.text) || sc.text[sc.pos] != closing {
			return true
		}
		sc.pos++
	}
}

func (sc *sqlScanner) skipSpace() {
	for sc.pos < len(sc.text) {
		rest := sc.text[sc.pos:]
		switch {
		case strings.IndexByte(" \t\n\v\f\r", rest[0]) >= 0:
			sc.pos++
		case strings.HasPrefix(rest, "--"):
			if i := strings.IndexByte(rest, '\n'); i >= 0 {
				sc.pos += i + 1
			} else {
				sc.pos = len(sc.text)
			}
		case strings.HasPrefix(rest, "/*"):
			// SQLite ends an unclosed comment at the end of the text.
			if i := strings.Index(rest[2:], "*/"); i >= 0 {
				sc.pos += 2 + i + 2
			} else {
				sc.pos = len(sc.text)
			}
		default:
			return
		}
	}
}

func isWordByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '$' || c >= 0x80
}
