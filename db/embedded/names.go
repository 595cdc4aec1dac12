package embedded

import (
	"fmt"
	"strings"

	"github.com/moonbase-dev/moonbase/db"
)

// SQLite folds the case of ASCII letters in identifiers, MongoDB does not:
// "Orders" and "orders" are two collections. escapeName therefore writes an
// upper-case letter as "_" and its lower-case form and "_" as "__", which
// keeps names readable ("_users" is table "c___users") and distinct. The
// mapping is a pure function of the name, so no process ever needs a cache
// of table names that another process could make stale.
func escapeName(name string) string {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '_':
			b.WriteString("__")
		case c >= 'A' && c <= 'Z':
			b.WriteByte('_')
			b.WriteByte(c + 'a' - 'A')
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// unescapeName reverses escapeName.
func unescapeName(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '_' && i+1 < len(s) {
			i++
			if s[i] == '_' {
				b.WriteByte('_')
			} else {
				b.WriteByte(s[i] - 'a' + 'A')
			}
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// quote quotes an SQL identifier.
func quote(ident string) string {
	return `"` + strings.ReplaceAll(ident, `"`, `""`) + `"`
}

// literal quotes an SQL string literal.
func literal(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// tableName is the quoted table of a collection.
func tableName(coll string) string { return quote("c_" + escapeName(coll)) }

// indexSQLName is the quoted SQLite name of a collection's index. Index
// names are global in SQLite, so they carry the collection; a collection
// name has no ".", so the first one separates the two.
func indexSQLName(coll, index string) string {
	return quote("i_" + escapeName(coll) + "." + escapeName(index))
}

// defaultIndexName is the name MongoDB gives an index by default: each field
// followed by its direction, joined by "_" ("owner_1_created_-1").
func defaultIndexName(keys []db.IndexKey) string {
	parts := make([]string, 0, 2*len(keys))
	for _, k := range keys {
		dir := "1"
		if k.Desc {
			dir = "-1"
		}
		parts = append(parts, k.Field, dir)
	}
	return strings.Join(parts, "_")
}

// checkPath refuses a field path with an empty part or a part starting
// with "$" (positional operators are not supported).
func checkPath(op, path string) error {
	for _, seg := range strings.Split(path, ".") {
		if seg == "" {
			return &db.QueryError{Op: op, Msg: fmt.Sprintf("field path %q has an empty part", path)}
		}
		if strings.HasPrefix(seg, "$") {
			return &db.QueryError{Op: op, Msg: fmt.Sprintf("field path %q: positional and $-prefixed parts are not supported", path)}
		}
		if strings.ContainsRune(seg, 0) {
			return &db.QueryError{Op: op, Msg: fmt.Sprintf("field path %q holds a NUL byte", path)}
		}
	}
	return nil
}
