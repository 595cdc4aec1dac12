package mquery

import (
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/bson"
)

// maxArrayIndex bounds the numeric path components treated as array
// indexes. It also bounds how far an update may pad an array with nulls.
const maxArrayIndex = 1_000_000

// splitPath splits a dotted field path once, at compile time, so that
// matching never allocates.
func splitPath(p string) []string { return strings.Split(p, ".") }

// arrayIndex reads a path component as an array index. Like MongoDB it
// takes only canonical decimal numbers: "0" and "12", not "01" or "+1".
func arrayIndex(s string) (int, bool) {
	if s == "" || len(s) > 7 || (s[0] == '0' && len(s) > 1) {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	if n > maxArrayIndex {
		return 0, false
	}
	return n, true
}

// matchPath reports whether some value the path reaches in doc satisfies
// p, following MongoDB's rules:
//   - a missing field, or a scalar where the path wants a document, counts
//     as missing (p.matchMissing), which is how {a.b: null} matches {a: 1};
//   - an array in the middle of the path is crossed: a numeric component
//     indexes it, and every document element is searched with the rest of
//     the path (non-document elements reach nothing);
//   - an array at the end of the path is tested as a whole and, when the
//     predicate asks for it, element by element (one level only).
func matchPath(doc bson.M, parts []string, p pred) bool {
	v, ok := doc[parts[0]]
	if !ok {
		return p.matchMissing()
	}
	return matchAt(v, parts[1:], p)
}

func matchAt(v any, rest []string, p pred) bool {
	if len(rest) == 0 {
		if arr, ok := v.(bson.A); ok && p.traverseLeafArray() {
			for _, e := range arr {
				if p.matchValue(e) {
					return true
				}
			}
		}
		return p.matchValue(v)
	}
	switch t := v.(type) {
	case bson.M:
		return matchPath(t, rest, p)
	case bson.A:
		return matchArray(t, rest, p)
	}
	return p.matchMissing()
}

func matchArray(arr bson.A, rest []string, p pred) bool {
	if i, ok := arrayIndex(rest[0]); ok && i < len(arr) {
		if matchAt(arr[i], rest[1:], p) {
			return true
		}
	}
	for _, e := range arr {
		if d, ok := e.(bson.M); ok && matchPath(d, rest, p) {
			return true
		}
	}
	return false
}

// arrayAsDoc views an array as the document {"0": …, "1": …}, which is how
// MongoDB's $elemMatch treats an array element given a document query.
func arrayAsDoc(a bson.A) bson.M {
	d := make(bson.M, len(a))
	for i, e := range a {
		d[strconv.Itoa(i)] = e
	}
	return d
}
