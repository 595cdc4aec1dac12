package mquery

import (
	"regexp"
	"strings"

	"github.com/moonbase-dev/moonbase/db"
)

// compileRegex compiles a MongoDB regular expression with Go's RE2 engine.
// The options are MongoDB's i, m, s and x; RE2 has no x, so extended mode
// is applied here by dropping unescaped whitespace and # comments outside
// character classes. PCRE-only syntax (lookaround, backreferences) is
// refused rather than silently matching something else.
func compileRegex(pattern, options string) (*regexp.Regexp, error) {
	if strings.IndexByte(pattern, 0) >= 0 {
		return nil, &db.QueryError{Op: "$regex", Msg: "regular expression cannot contain a null byte"}
	}
	var flags strings.Builder
	extended := false
	for _, o := range options {
		switch o {
		case 'i', 'm', 's':
			if !strings.ContainsRune(flags.String(), o) {
				flags.WriteRune(o)
			}
		case 'x':
			extended = true
		default:
			return nil, &db.QueryError{Op: "$options", Msg: "invalid regular expression option " + quote(string(o)) + " (use i, m, s or x)"}
		}
	}
	if extended {
		pattern = stripExtended(pattern)
	}
	if flags.Len() > 0 {
		pattern = "(?" + flags.String() + ")" + pattern
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, &db.QueryError{Op: "$regex", Msg: "invalid regular expression: " + strings.TrimPrefix(err.Error(), "error parsing regexp: ")}
	}
	return re, nil
}

// stripExtended removes what PCRE's extended mode ignores.
func stripExtended(p string) string {
	var b strings.Builder
	inClass := false
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\\' && i+1 < len(p):
			b.WriteByte(c)
			b.WriteByte(p[i+1])
			i++
		case inClass:
			if c == ']' {
				inClass = false
			}
			b.WriteByte(c)
		case c == '[':
			inClass = true
			b.WriteByte(c)
			// A ']' first in a class is a literal, not its end.
			if i+1 < len(p) && p[i+1] == '^' {
				b.WriteByte('^')
				i++
			}
			if i+1 < len(p) && p[i+1] == ']' {
				b.WriteByte(']')
				i++
			}
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
		case c == '#':
			for i+1 < len(p) && p[i+1] != '\n' {
				i++
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// quote wraps s in double quotes for error messages.
func quote(s string) string { return `"` + s + `"` }
