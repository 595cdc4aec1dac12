package engine

import (
	"fmt"
)

// Moonbase's own matcher for Lua patterns, behind string.find, match,
// gmatch and gsub. It follows the Lua 5.1 reference manual (§5.4.1):
// character classes (%a %c %d %g %l %p %s %u %w %x %z and their upper-case
// complements, sets [...] and [^...] with ranges), the quantifiers * + -
// and ?, anchors ^ and $, captures and position captures, back-references
// %1–%9, %bxy and the frontier %f[set]. It backtracks, as Lua's does, so a
// pattern can take time quadratic (or worse) in its subject; what it adds
// is a step budget: every stepsBetweenChecks steps it looks at the run's
// context and stops the match as soon as the run has been stopped (its
// timeout, its caller gone, the memory limit), so no pattern can hold a
// run past its timeout.

// patternMaxCaptures is how many captures a pattern may have, as in Lua.
const patternMaxCaptures = 32

// patternMaxDepth bounds the matcher's recursion (one level per capture and
// per quantified item being tried), as Lua 5.2 and later do.
const patternMaxDepth = 200

// stepsBetweenChecks is how many matcher steps pass between two looks at
// the run's context: a few microseconds of work.
const stepsBetweenChecks = 1 << 12

const (
	capUnfinished = -1
	capPosition   = -2
)

// patternError is a malformed pattern or replacement; the string functions
// raise it as a Lua error.
type patternError struct{ msg string }

func (e *patternError) Error() string { return e.msg }

// matcher matches one pattern against one subject. check is called every
// stepsBetweenChecks steps and panics (raises a Lua error) to stop the
// match.
type matcher struct {
	src, pat string
	level    int
	capture  [patternMaxCaptures]struct{ init, len int }
	steps    int
	depth    int
	check    func()
}

func (m *matcher) fail(format string, args ...any) {
	panic(&patternError{fmt.Sprintf(format, args...)})
}

func (m *matcher) step() {
	m.steps++
	if m.steps%stepsBetweenChecks == 0 && m.check != nil {
		m.check()
	}
}

// reset prepares a new attempt at a new position.
func (m *matcher) reset() {
	m.level = 0
	m.depth = 0
}

// classEnd is the index just past the single-character class at p.
func (m *matcher) classEnd(p int) int {
	c := m.pat[p]
	p++
	switch c {
	case '%':
		if p >= len(m.pat) {
			m.fail("malformed pattern (ends with '%%')")
		}
		return p + 1
	case '[':
		if p < len(m.pat) && m.pat[p] == '^' {
			p++
		}
		// The first character of a set is taken as it is, so []] and
		// [^]] hold a ']'.
		for {
			if p >= len(m.pat) {
				m.fail("malformed pattern (missing ']')")
			}
			c := m.pat[p]
			p++
			if c == '%' && p < len(m.pat) {
				p++
			}
			if p < len(m.pat) && m.pat[p] == ']' {
				return p + 1
			}
			if p >= len(m.pat) {
				m.fail("malformed pattern (missing ']')")
			}
		}
	}
	return p
}

// matchClass reports whether c is in the class %cl.
func matchClass(c, cl byte) bool {
	var res bool
	lower := cl | 0x20
	switch lower {
	case 'a':
		res = isAlpha(c)
	case 'c':
		res = c < 32 || c == 127
	case 'd':
		res = c >= '0' && c <= '9'
	case 'g':
		res = c > 32 && c < 127
	case 'l':
		res = c >= 'a' && c <= 'z'
	case 'p':
		res = isPunct(c)
	case 's':
		res = c == ' ' || (c >= '\t' && c <= '\r')
	case 'u':
		res = c >= 'A' && c <= 'Z'
	case 'w':
		res = isAlpha(c) || (c >= '0' && c <= '9')
	case 'x':
		res = (c >= '0' && c <= '9') || (c|0x20 >= 'a' && c|0x20 <= 'f')
	case 'z':
		res = c == 0
	default:
		return cl == c
	}
	if cl >= 'A' && cl <= 'Z' {
		return !res
	}
	return res
}

func isAlpha(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

func isPunct(c byte) bool {
	return c > 32 && c < 127 && !isAlpha(c) && !(c >= '0' && c <= '9')
}

// matchSet reports whether c is in the set pat[p:ec], where pat[p] is '['
// and pat[ec] its closing ']'.
func (m *matcher) matchSet(c byte, p, ec int) bool {
	in := true
	if m.pat[p+1] == '^' {
		in = false
		p++
	}
	for p++; p < ec; p++ {
		switch {
		case m.pat[p] == '%' && p+1 < ec:
			p++
			if matchClass(c, m.pat[p]) {
				return in
			}
		case p+2 < ec && m.pat[p+1] == '-':
			if m.pat[p] <= c && c <= m.pat[p+2] {
				return in
			}
			p += 2
		case m.pat[p] == c:
			return in
		}
	}
	return !in
}

// single reports whether the subject's byte at s matches the class at
// pat[p:ep].
func (m *matcher) single(s, p, ep int) bool {
	m.step()
	if s >= len(m.src) {
		return false
	}
	c := m.src[s]
	switch m.pat[p] {
	case '.':
		return true
	case '%':
		return matchClass(c, m.pat[p+1])
	case '[':
		return m.matchSet(c, p, ep-1)
	}
	return m.pat[p] == c
}

// match matches pat[p:] at src[s:] and returns the end of the match, or -1.
func (m *matcher) match(s, p int) int {
	m.depth++
	if m.depth > patternMaxDepth {
		m.fail("pattern too complex")
	}
	res := m.doMatch(s, p)
	m.depth--
	return res
}

func (m *matcher) doMatch(s, p int) int {
	for {
		m.step()
		if p == len(m.pat) {
			return s
		}
		switch m.pat[p] {
		case '(':
			if p+1 < len(m.pat) && m.pat[p+1] == ')' {
				return m.startCapture(s, p+2, capPosition)
			}
			return m.startCapture(s, p+1, capUnfinished)
		case ')':
			return m.endCapture(s, p+1)
		case '$':
			if p+1 == len(m.pat) {
				if s == len(m.src) {
					return s
				}
				return -1
			}
		case '%':
			if p+1 < len(m.pat) {
				switch c := m.pat[p+1]; {
				case c == 'b':
					s = m.matchBalance(s, p+2)
					if s < 0 {
						return -1
					}
					p += 4
					continue
				case c == 'f':
					p += 2
					if p >= len(m.pat) || m.pat[p] != '[' {
						m.fail("missing '[' after '%%f' in pattern")
					}
					ep := m.classEnd(p)
					var prev, cur byte
					if s > 0 {
						prev = m.src[s-1]
					}
					if s < len(m.src) {
						cur = m.src[s]
					}
					if m.matchSet(prev, p, ep-1) || !m.matchSet(cur, p, ep-1) {
						return -1
					}
					p = ep
					continue
				case c >= '0' && c <= '9':
					s = m.matchCapture(s, c)
					if s < 0 {
						return -1
					}
					p += 2
					continue
				}
			}
		}
		ep := m.classEnd(p)
		if ep < len(m.pat) {
			switch m.pat[ep] {
			case '?':
				if m.single(s, p, ep) {
					if res := m.match(s+1, ep+1); res >= 0 {
						return res
					}
				}
				p = ep + 1
				continue
			case '*':
				return m.maxExpand(s, p, ep)
			case '+':
				if !m.single(s, p, ep) {
					return -1
				}
				return m.maxExpand(s+1, p, ep)
			case '-':
				return m.minExpand(s, p, ep)
			}
		}
		if !m.single(s, p, ep) {
			return -1
		}
		s++
		p = ep
	}
}

// maxExpand matches as many of the class as it can, then gives them back
// one at a time until the rest of the pattern matches.
func (m *matcher) maxExpand(s, p, ep int) int {
	i := 0
	for m.single(s+i, p, ep) {
		i++
	}
	for ; i >= 0; i-- {
		if res := m.match(s+i, ep+1); res >= 0 {
			return res
		}
	}
	return -1
}

// minExpand matches as few of the class as lets the rest match.
func (m *matcher) minExpand(s, p, ep int) int {
	for {
		if res := m.match(s, ep+1); res >= 0 {
			return res
		}
		if !m.single(s, p, ep) {
			return -1
		}
		s++
	}
}

func (m *matcher) startCapture(s, p, what int) int {
	if m.level >= patternMaxCaptures {
		m.fail("too many captures")
	}
	m.capture[m.level].init, m.capture[m.level].len = s, what
	m.level++
	res := m.match(s, p)
	if res < 0 {
		m.level--
	}
	return res
}

func (m *matcher) endCapture(s, p int) int {
	l := -1
	for i := m.level - 1; i >= 0; i-- {
		if m.capture[i].len == capUnfinished {
			l = i
			break
		}
	}
	if l < 0 {
		m.fail("invalid pattern capture")
	}
	m.capture[l].len = s - m.capture[l].init
	res := m.match(s, p)
	if res < 0 {
		m.capture[l].len = capUnfinished
	}
	return res
}

// matchCapture matches the back-reference %c at s.
func (m *matcher) matchCapture(s int, c byte) int {
	l := int(c - '1')
	if l < 0 || l >= m.level || m.capture[l].len == capUnfinished {
		m.fail("invalid capture index %%%d", l+1)
	}
	n := m.capture[l].len
	if n == capPosition {
		return -1 // as in Lua: a position is not text to match
	}
	init := m.capture[l].init
	m.steps += n
	if len(m.src)-s >= n && m.src[init:init+n] == m.src[s:s+n] {
		return s + n
	}
	return -1
}

// matchBalance matches %bxy (x and y at pat[p], pat[p+1]) at s.
func (m *matcher) matchBalance(s, p int) int {
	if p+1 >= len(m.pat) {
		m.fail("malformed pattern (missing arguments to '%%b')")
	}
	if s >= len(m.src) || m.src[s] != m.pat[p] {
		return -1
	}
	open, close := m.pat[p], m.pat[p+1]
	depth := 1
	for s++; s < len(m.src); s++ {
		m.step()
		switch m.src[s] {
		case close:
			depth--
			if depth == 0 {
				return s + 1
			}
		case open:
			depth++
		}
	}
	return -1
}

// captureValue is capture i of a match of src[s:e]: a string, or a 1-based
// position (int) for a position capture. Capture 0 of a pattern without
// captures is the whole match.
func (m *matcher) captureValue(i, s, e int) (str string, pos int, isPos bool) {
	if i >= m.level {
		if i != 0 {
			m.fail("invalid capture index %%%d", i+1)
		}
		return m.src[s:e], 0, false
	}
	c := m.capture[i]
	switch c.len {
	case capUnfinished:
		m.fail("unfinished capture")
	case capPosition:
		return "", c.init + 1, true
	}
	return m.src[c.init : c.init+c.len], 0, false
}

// captureCount is how many values a match gives: its captures, or the
// whole match when there are none (and wholeIfNone).
func (m *matcher) captureCount(wholeIfNone bool) int {
	if m.level == 0 && wholeIfNone {
		return 1
	}
	return m.level
}

// hasSpecials reports whether a pattern uses any of the characters that
// make it more than a plain string.
func hasSpecials(pat string) bool {
	for i := 0; i < len(pat); i++ {
		switch pat[i] {
		case '^', '$', '*', '+', '?', '.', '(', ')', '[', ']', '%', '-':
			return true
		}
	}
	return false
}
