package db

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// ErrInvalidText: JSON text that is not valid UTF-8, or escapes half of a
// UTF-16 surrogate pair (a lone "\ud800"). Go's decoder would turn either
// into U+FFFD, storing something other than what the client sent, which
// it could then neither find nor write back. A *TextError matches it and
// ErrInvalidDocument.
var ErrInvalidText = errors.New("invalid JSON text")

// TextError says where JSON text stops being valid Unicode.
type TextError struct {
	Offset int // byte offset in the text
	Msg    string
}

func (e *TextError) Error() string { return fmt.Sprintf("JSON text at byte %d: %s", e.Offset, e.Msg) }

// Is makes errors.Is(err, ErrInvalidText) and errors.Is(err,
// ErrInvalidDocument) hold.
func (e *TextError) Is(target error) bool {
	return target == ErrInvalidText || target == ErrInvalidDocument
}

// CheckJSONText refuses JSON text with invalid UTF-8 or a "\u" escape of a
// lone surrogate. It does not check the rest of JSON's syntax.
func CheckJSONText(b []byte) error {
	for i := 0; i < len(b); {
		c := b[i]
		switch {
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size <= 1 {
				return &TextError{Offset: i, Msg: "not valid UTF-8"}
			}
			i += size
		case c == '\\' && i+1 < len(b):
			if b[i+1] != 'u' {
				i += 2 // \" \\ \n …: never the start of another escape
				continue
			}
			r, ok := hex4(b, i+2)
			switch {
			case !ok:
				i += 2 // malformed; the decoder says so
			case r >= 0xDC00 && r <= 0xDFFF:
				return &TextError{Offset: i, Msg: fmt.Sprintf(`\u%04x is the second half of a UTF-16 surrogate pair without its first half`, r)}
			case r >= 0xD800 && r <= 0xDBFF:
				var low rune
				ok := i+12 <= len(b) && b[i+6] == '\\' && b[i+7] == 'u'
				if ok {
					low, ok = hex4(b, i+8)
				}
				if !ok || low < 0xDC00 || low > 0xDFFF {
					return &TextError{Offset: i, Msg: fmt.Sprintf(`\u%04x is the first half of a UTF-16 surrogate pair without its second half`, r)}
				}
				i += 12
			default:
				i += 6
			}
		default:
			i++
		}
	}
	return nil
}

// hex4 reads the four hex digits at b[i:].
func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}
