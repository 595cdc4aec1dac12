package engine

import (
	"fmt"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/pm"
)

// The library functions that can build a large string in one call are
// replaced by versions that work out the size first and refuse anything
// past Config.MaxStringBytes, because the VM only checks its context
// between instructions: a single string.rep("x", 1e10) would otherwise
// allocate ten gigabytes before any limit could act. Concatenation with ..
// grows a string by at most its operands per instruction, so a loop of it
// is left to the timeout and the memory watchdog.

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
// itself does, so "%999999999d" cannot allocate a gigabyte; the rest of the
// output is bounded by the arguments.
func (v *vm) strFormat(orig lua.LGFunction) lua.LGFunction {
	return func(L *lua.LState) int {
		f := L.CheckString(1)
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
		}
		return orig(L)
	}
}

// strGsub is string.gsub with the size of the result bounded: for a string
// replacement it is computed before anything is built; replacements from a
// function or table are counted as they are produced.
func (v *vm) strGsub(orig lua.LGFunction) lua.LGFunction {
	return func(L *lua.LState) int {
		str := L.CheckString(1)
		pat := L.CheckString(2)
		L.CheckTypes(3, lua.LTString, lua.LTNumber, lua.LTTable, lua.LTFunction)
		limit := L.OptInt(4, -1)
		capBytes := v.reg.cfg.MaxStringBytes
		switch repl := L.Get(3).(type) {
		case lua.LString, lua.LNumber:
			r := lua.LVAsString(repl)
			L.Replace(3, lua.LString(r))
			pcts := int64(strings.Count(r, "%"))
			quick := int64(len(str)) + (int64(len(str))+1)*(int64(len(r))+pcts*int64(len(str)))
			if quick > capBytes {
				if size, ok := gsubSize(str, pat, r, limit); ok && size > capBytes {
					return v.tooLong(L, "string.gsub", size)
				}
			}
		case *lua.LTable, *lua.LFunction:
			total := int64(len(str))
			counter := L.NewFunction(func(L *lua.LState) int {
				n := L.GetTop()
				var out lua.LValue
				if t, isTable := repl.(*lua.LTable); isTable {
					out = L.GetTable(t, L.Get(1))
				} else {
					L.Push(repl)
					for i := 1; i <= n; i++ {
						L.Push(L.Get(i))
					}
					L.Call(n, 1)
					out = L.Get(-1)
				}
				if s, isStr := out.(lua.LString); isStr {
					total += int64(len(s))
				} else if num, isNum := out.(lua.LNumber); isNum {
					total += int64(len(num.String()))
				}
				if total > capBytes {
					v.tooLong(L, "string.gsub", total)
				}
				L.Push(out)
				return 1
			})
			L.Replace(3, counter)
		}
		return orig(L)
	}
}

// gsubSize is the exact length of gsub(str, pat, repl, limit) for a string
// replacement, or false when the pattern is invalid (gsub itself then says
// so).
func gsubSize(str, pat, repl string, limit int) (int64, bool) {
	mds, err := pm.Find(pat, []byte(str), 0, limit)
	if err != nil {
		return 0, false
	}
	size := int64(len(str))
	for _, md := range mds {
		start, end := md.Capture(0), md.Capture(1)
		size -= int64(end - start)
		for i := 0; i < len(repl); i++ {
			if repl[i] != '%' || i+1 == len(repl) {
				size++
				continue
			}
			i++
			c := repl[i]
			if c < '0' || c > '9' {
				size += 2
				continue
			}
			idx := 2 * int(c-'0')
			if idx >= md.CaptureLength() && idx == 2 {
				idx = 0
			}
			if idx >= md.CaptureLength() {
				continue // gsub raises "invalid capture index"
			}
			if md.IsPosCapture(idx) {
				size += int64(len(strconv.Itoa(md.Capture(idx))))
			} else {
				size += int64(md.Capture(idx+1) - md.Capture(idx))
			}
		}
	}
	return size, true
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
