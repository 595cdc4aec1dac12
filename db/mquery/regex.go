package mquery

import (
	"regexp"
	"strings"

	"github.com/moonbase-dev/moonbase/db"
)

// compileRegex compiles a MongoDB (PCRE) regular expression with Go's RE2
// engine. The options are MongoDB's i, m, s and x. Where the two dialects
// differ in ways a pattern can be rewritten for, it is: RE2 has no x, so
// extended mode drops unescaped whitespace and # comments here; PCRE's $
// (without m) and \Z also match before a final newline. PCRE-only syntax
// (lookaround, backreferences) is refused rather than misread.
func compileRegex(pattern, options string) (*regexp.Regexp, error) {
	if strings.IndexByte(pattern, 0) >= 0 {
		return nil, &db.QueryError{Op: "$regex", Msg: "regular expression cannot contain a null byte"}
	}
	var flags strings.Builder
	extended, multiline := false, false
	for _, o := range options {
		switch o {
		case 'i', 'm', 's':
			if !strings.ContainsRune(flags.String(), o) {
				flags.WriteRune(o)
			}
			multiline = multiline || o == 'm'
		case 'x':
			extended = true
		default:
			return nil, &db.QueryError{Op: "$options", Msg: "invalid regular expression option " + quote(string(o)) + " (use i, m, s or x)"}
		}
	}
	pattern = rewritePattern(pattern, extended, multiline)
	if flags.Len() > 0 {
		pattern = "(?" + flags.String() + ")" + pattern
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, &db.QueryError{Op: "$regex", Msg: "invalid regular expression: " + strings.TrimPrefix(err.Error(), "error parsing regexp: ")}
	}
	return re, nil
}

// pcreEnd is what PCRE's $ (without m) and \Z match: the end, or a final
// newline. Matching only asks whether there is a match, so consuming the
// newline is harmless.
const pcreEnd = `(?:\n?\z)`

// rewritePattern turns PCRE syntax RE2 lacks into RE2 syntax, leaving
// escapes, \Q…\E quotes and character classes alone.
func rewritePattern(p string, extended, multiline bool) string {
	var b strings.Builder
	inClass := false
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\\' && i+1 < len(p):
			switch {
			case p[i+1] == 'Q' && !inClass:
				end := strings.Index(p[i+2:], `\E`)
				if end < 0 {
					b.WriteString(p[i:])
					return b.String()
				}
				b.WriteString(p[i : i+2+end+2])
				i += 2 + end + 1
			case p[i+1] == 'Z' && !inClass:
				b.WriteString(pcreEnd)
				i++
			default:
				b.WriteByte(c)
				b.WriteByte(p[i+1])
				i++
			}
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
		case extended && (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'):
		case extended && c == '#':
			for i+1 < len(p) && p[i+1] != '\n' {
				i++
			}
		case c == '$' && !multiline:
			b.WriteString(pcreEnd)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// quote wraps s in double quotes for error messages.
func quote(s string) string { return `"` + s + `"` }
