package engine

import (
	"fmt"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// The library functions that can build a large string in one call are
// replaced by versions that work out the size first and refuse anything
// past Config.MaxStringBytes, because the VM only checks its context
// between instructions: a single string.rep("x", 1e10) would otherwise
// allocate ten gigabytes before any limit could act. Concatenation with ..
// is checked too (see concat.go).

// tooLong is the error for a string over the cap.
func (v *vm) tooLong(L *lua.LState, fn string, size int64) int {
	L.RaiseError("%s: the result would be %s, more than the limit of %s", fn, byteSize(size), byteSize(v.reg.cfg.MaxStringBytes))
	return 0
}

// strRep is string.rep(s, n [, sep]) with the size checked first.
func (v *vm) strRep(L *lua.LState) int {
	s := L.CheckString(1)
	n := L.CheckNumber(2)
	sep := L.OptString(3, "")
	if n < 1 {
		L.Push(lua.LString(""))
		return 1
	}
	// Work in float64 so that a huge n cannot overflow the product.
	size := float64(len(s))*float64(n) + float64(len(sep))*(float64(n)-1)
	if size > float64(v.reg.cfg.MaxStringBytes) {
		if size > 1<<62 {
			size = 1 << 62
		}
		return v.tooLong(L, "string.rep", int64(size))
	}
	v.built(L, int64(size))
	count := int(n)
	if sep == "" {
		L.Push(lua.LString(strings.Repeat(s, count)))
		return 1
	}
	var b strings.Builder
	b.Grow(int(size))
	for i := 0; i < count; i++ {
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(s)
	}
	L.Push(lua.LString(b.String()))
	return 1
}

// strFormat refuses widths and precisions of more than two digits, as Lua
// itself does, so "%999999999d" cannot allocate a gigabyte, and a result
// that would pass Config.MaxStringBytes (many %s of a long string, say),
// counted before anything is built.
func (v *vm) strFormat(orig lua.LGFunction) lua.LGFunction {
	return func(L *lua.LState) int {
		f := L.CheckString(1)
		size, arg := int64(len(f)), 2
		for i := 0; i < len(f); i++ {
			if f[i] != '%' {
				continue
			}
			i++
			if i < len(f) && f[i] == '%' {
				continue
			}
			for i < len(f) && strings.IndexByte("-+ #0", f[i]) >= 0 {
				i++
			}
			digits := 0
			for i < len(f) && f[i] >= '0' && f[i] <= '9' {
				i++
				digits++
			}
			if i < len(f) && f[i] == '.' {
				i++
				prec := 0
				for i < len(f) && f[i] >= '0' && f[i] <= '9' {
					i++
					prec++
				}
				digits = max(digits, prec)
			}
			if digits > 2 {
				L.RaiseError("string.format: invalid format (width or precision too long)")
			}
			// A conversion writes at most 99 characters of padding, and a
			// string (twice over for %q, which escapes) or a number.
			size += 100
			if i < len(f) && (f[i] == 's' || f[i] == 'q') {
				n := int64(len(lua.LVAsString(L.Get(arg))))
				if f[i] == 'q' {
					n = 2*n + 2
				}
				size += n
			}
			arg++
		}
		if size > v.reg.cfg.MaxStringBytes {
			return v.tooLong(L, "string.format", size)
		}
		v.built(L, size)
		return orig(L)
	}
}

// The pattern functions are Moonbase's own (pattern.go): gopher-lua's
// matcher runs a whole find or gsub as one call that nothing can
// interrupt, and a pattern as common as the trim idiom "^%s*(.-)%s*$" takes
// time quadratic in its subject. Ours checks the run's context as it goes.

// newMatcher is a matcher of pat over src whose step budget raises the
// run's stop (a timeout, a canceled caller, the memory limit) as a Lua
// error, which ends the run like any instruction would, and makes a long
// run take turns with the others (see turns.go).
func (v *vm) newMatcher(L *lua.LState, src, pat string) *matcher {
	m := &matcher{src: src, pat: pat}
	if ctx := L.Context(); ctx != nil {
		done, ru := ctx.Done(), v.run
		m.check = func() {
			select {
			case <-done:
				L.RaiseError("%s", ctx.Err().Error())
			default:
			}
			if ru != nil {
				ru.take(L)
			}
		}
	}
	return m
}

// raisePatternErrors turns a malformed pattern, found by the matcher, into
// a Lua error of the calling function; it is deferred by each of them.
func raisePatternErrors(L *lua.LState) {
	if r := recover(); r != nil {
		if pe, ok := r.(*patternError); ok {
			L.RaiseError("%s", pe.msg)
		}
		panic(r)
	}
}

// pushCaptures pushes the values of a match of src[s:e] and says how many.
func pushCaptures(L *lua.LState, m *matcher, s, e int, wholeIfNone bool) int {
	n := m.captureCount(wholeIfNone)
	for i := 0; i < n; i++ {
		L.Push(captureLValue(m, i, s, e))
	}
	return n
}

func captureLValue(m *matcher, i, s, e int) lua.LValue {
	str, pos, isPos := m.captureValue(i, s, e)
	if isPos {
		return lua.LNumber(pos)
	}
	return lua.LString(str)
}

// startOf is where find and match begin: init as Lua counts it (from 1, or
// from the end when negative), clamped to the subject.
func startOf(init, n int) int {
	if init < 0 {
		init = n + init + 1
	}
	init--
	return max(0, min(init, n))
}

// strFind is string.find(s, pattern [, init [, plain]]).
func (v *vm) strFind(L *lua.LState) int { return v.findAux(L, true) }

// strMatch is string.match(s, pattern [, init]).
func (v *vm) strMatch(L *lua.LState) int { return v.findAux(L, false) }

func (v *vm) findAux(L *lua.LState, find bool) int {
	src := L.CheckString(1)
	pat := L.CheckString(2)
	init := startOf(L.OptInt(3, 1), len(src))
	if find && (lua.LVAsBool(L.Get(4)) || !hasSpecials(pat)) {
		if i := strings.Index(src[init:], pat); i >= 0 {
			L.Push(lua.LNumber(init + i + 1))
			L.Push(lua.LNumber(init + i + len(pat)))
			return 2
		}
		L.Push(lua.LNil)
		return 1
	}
	defer raisePatternErrors(L)
	m := v.newMatcher(L, src, pat)
	p, anchor := 0, strings.HasPrefix(pat, "^")
	if anchor {
		p = 1
	}
	for s := init; ; s++ {
		m.reset()
		if e := m.match(s, p); e >= 0 {
			if find {
				L.Push(lua.LNumber(s + 1))
				L.Push(lua.LNumber(e))
				return 2 + pushCaptures(L, m, s, e, false)
			}
			return pushCaptures(L, m, s, e, true)
		}
		if anchor || s >= len(src) {
			break
		}
	}
	L.Push(lua.LNil)
	return 1
}

// strGmatch is string.gmatch(s, pattern): an iterator that finds the next
// match each time it is called, so a loop that stops early costs only
// what it read. As in Lua 5.1, ^ is not an anchor here.
func (v *vm) strGmatch(L *lua.LState) int {
	src := L.CheckString(1)
	pat := L.CheckString(2)
	pos := 0
	L.Push(L.NewFunction(func(L *lua.LState) int {
		defer raisePatternErrors(L)
		m := v.newMatcher(L, src, pat)
		for s := pos; s <= len(src); s++ {
			m.reset()
			if e := m.match(s, 0); e >= 0 {
				pos = e
				if e == s {
					pos++ // an empty match: move on by one
				}
				return pushCaptures(L, m, s, e, true)
			}
		}
		pos = len(src) + 1
		return 0
	}))
	return 1
}

// strGsub is string.gsub(s, pattern, repl [, n]) with the size of the
// result bounded by Config.MaxStringBytes. Past the cap, a string
// replacement is only counted, so the error gives the size the result
// would have had; a table or function replacement ends the call at once.
func (v *vm) strGsub(L *lua.LState) int {
	src := L.CheckString(1)
	pat := L.CheckString(2)
	L.CheckTypes(3, lua.LTString, lua.LTNumber, lua.LTTable, lua.LTFunction)
	repl := L.Get(3)
	maxN := L.OptInt(4, len(src)+1)
	capBytes := v.reg.cfg.MaxStringBytes
	var b strings.Builder
	var size int64
	add := func(s string) {
		size += int64(len(s))
		if size <= capBytes {
			b.WriteString(s)
		}
	}
	replStr, isStr := "", false
	if repl.Type() == lua.LTString || repl.Type() == lua.LTNumber {
		replStr, isStr = lua.LVAsString(repl), true
	}

	defer raisePatternErrors(L)
	m := v.newMatcher(L, src, pat)
	p, anchor := 0, strings.HasPrefix(pat, "^")
	if anchor {
		p = 1
	}
	n, s, last := 0, 0, 0
	for n < maxN {
		m.reset()
		e := m.match(s, p)
		if e >= 0 {
			n++
			add(src[last:s])
			last = e
			if isStr {
				v.addReplacement(m, replStr, s, e, add)
			} else {
				add(v.replacementValue(L, m, repl, s, e))
				if size > capBytes {
					return v.tooLong(L, "string.gsub", size)
				}
			}
		}
		if e > s {
			s = e
		} else if s < len(src) {
			s++
		} else {
			break
		}
		if anchor {
			break
		}
	}
	add(src[last:])
	if size > capBytes {
		return v.tooLong(L, "string.gsub", size)
	}
	L.Push(lua.LString(b.String()))
	L.Push(lua.LNumber(n))
	return 2
}

// addReplacement adds a string replacement for the match src[s:e]: %0 is
// the whole match, %1–%9 its captures, %% a percent sign (and, as in Lua
// 5.1, % before any other character that character).
func (v *vm) addReplacement(m *matcher, repl string, s, e int, add func(string)) {
	for i := 0; i < len(repl); i++ {
		j := strings.IndexByte(repl[i:], '%')
		if j < 0 {
			add(repl[i:])
			return
		}
		add(repl[i : i+j])
		i += j + 1
		if i == len(repl) {
			m.fail("invalid use of '%%' in replacement string")
		}
		switch c := repl[i]; {
		case c == '0':
			add(m.src[s:e])
		case c >= '1' && c <= '9':
			str, pos, isPos := m.captureValue(int(c-'1'), s, e)
			if isPos {
				str = strconv.Itoa(pos)
			}
			add(str)
		default:
			add(repl[i : i+1])
		}
	}
}

// replacementValue is what a table or function replacement gives for the
// match src[s:e]: the match itself when it gives false or nil.
func (v *vm) replacementValue(L *lua.LState, m *matcher, repl lua.LValue, s, e int) string {
	var out lua.LValue
	switch r := repl.(type) {
	case *lua.LTable:
		out = L.GetTable(r, captureLValue(m, 0, s, e))
	default:
		L.Push(r)
		n := pushCaptures(L, m, s, e, true)
		L.Call(n, 1)
		out = L.Get(-1)
		L.Pop(1)
	}
	switch o := out.(type) {
	case lua.LString:
		return string(o)
	case lua.LNumber:
		return o.String()
	}
	if !lua.LVAsBool(out) {
		return m.src[s:e]
	}
	L.RaiseError("invalid replacement value (a %s)", out.Type().String())
	return ""
}

// tableConcat is table.concat(t [, sep [, i [, j]]]) with the size summed
// before the string is built.
func (v *vm) tableConcat(L *lua.LState) int {
	t := L.CheckTable(1)
	sep := L.OptString(2, "")
	i := L.OptInt(3, 1)
	j := L.OptInt(4, t.Len())
	if i > j {
		L.Push(lua.LString(""))
		return 1
	}
	size := int64(len(sep)) * int64(j-i)
	parts := make([]string, 0, min(j-i+1, 1<<16))
	for k := i; k <= j; k++ {
		var s string
		switch e := t.RawGetInt(k).(type) {
		case lua.LString:
			s = string(e)
		case lua.LNumber:
			s = e.String()
		default:
			L.RaiseError("table.concat: invalid value (%s) at index %d in table for concat", e.Type().String(), k)
		}
		size += int64(len(s))
		if size > v.reg.cfg.MaxStringBytes {
			return v.tooLong(L, "table.concat", size)
		}
		parts = append(parts, s)
	}
	v.built(L, size)
	L.Push(lua.LString(strings.Join(parts, sep)))
	return 1
}

// byteSize writes n bytes for a person: "16 MiB", "1.5 KiB", "12 bytes".
func byteSize(n int64) string {
	switch {
	case n >= 1<<30:
		return trimZero(fmt.Sprintf("%.1f", float64(n)/(1<<30))) + " GiB"
	case n >= 1<<20:
		return trimZero(fmt.Sprintf("%.1f", float64(n)/(1<<20))) + " MiB"
	case n >= 1<<10:
		return trimZero(fmt.Sprintf("%.1f", float64(n)/(1<<10))) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

func trimZero(s string) string { return strings.TrimSuffix(s, ".0") }
