package engine

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// Dates are userdata holding a time.Time in UTC, with a metatable that
// gives them comparison (== < <=), arithmetic in seconds (d + 60,
// d - 3600, d2 - d1 → seconds), tostring (RFC 3339 with milliseconds) and
// the methods below. They convert to BSON dates, which keep milliseconds.

// isoLayout is how a date prints: RFC 3339 in UTC with milliseconds.
const isoLayout = "2006-01-02T15:04:05.000Z07:00"

// newDate wraps t as a Lua date.
func (v *vm) newDate(t time.Time) *lua.LUserData {
	return &lua.LUserData{Value: t.UTC(), Metatable: v.dateMT}
}

// dateArg reads argument n as a date, or raises.
func (v *vm) dateArg(L *lua.LState, n int) time.Time {
	ud, ok := L.Get(n).(*lua.LUserData)
	if !ok || ud.Metatable != v.dateMT {
		L.ArgError(n, "date expected, got "+typeName(L.Get(n)))
	}
	return ud.Value.(time.Time)
}

func (v *vm) asDate(lv lua.LValue) (time.Time, bool) {
	ud, ok := lv.(*lua.LUserData)
	if !ok || ud.Metatable != v.dateMT {
		return time.Time{}, false
	}
	return ud.Value.(time.Time), true
}

func (v *vm) newDateMeta() *lua.LTable {
	L := v.L
	mt := v.typeMeta("date")
	methods := L.CreateTable(0, 7)
	L.SetFuncs(methods, map[string]lua.LGFunction{
		"add":     v.dateAdd,
		"format":  v.dateFormat,
		"unix":    func(L *lua.LState) int { L.Push(lua.LNumber(v.dateArg(L, 1).Unix())); return 1 },
		"unixMs":  func(L *lua.LState) int { L.Push(lua.LNumber(v.dateArg(L, 1).UnixMilli())); return 1 },
		"iso":     func(L *lua.LState) int { L.Push(lua.LString(v.dateArg(L, 1).Format(isoLayout))); return 1 },
		"parts":   v.dateParts,
		"compare": v.dateCompare,
	})
	mt.RawSetString("__index", methods)
	L.SetFuncs(mt, map[string]lua.LGFunction{
		"__tostring": func(L *lua.LState) int { L.Push(lua.LString(v.dateArg(L, 1).Format(isoLayout))); return 1 },
		"__eq":       func(L *lua.LState) int { L.Push(lua.LBool(v.dateArg(L, 1).Equal(v.dateArg(L, 2)))); return 1 },
		"__lt":       func(L *lua.LState) int { L.Push(lua.LBool(v.dateArg(L, 1).Before(v.dateArg(L, 2)))); return 1 },
		"__le":       func(L *lua.LState) int { L.Push(lua.LBool(!v.dateArg(L, 1).After(v.dateArg(L, 2)))); return 1 },
		"__add":      v.dateAddOp,
		"__sub":      v.dateSubOp,
		"__concat": func(L *lua.LState) int {
			str := func(lv lua.LValue) string {
				if t, ok := v.asDate(lv); ok {
					return t.Format(isoLayout)
				}
				return lua.LVAsString(lv)
			}
			L.Push(lua.LString(str(L.Get(1)) + str(L.Get(2))))
			return 1
		},
	})
	return mt
}

// seconds turns a number of seconds into a Duration, refusing what no
// date could be moved by.
func seconds(L *lua.LState, f float64) time.Duration {
	if math.IsNaN(f) || math.Abs(f) > 9e9 {
		L.RaiseError("cannot move a date by %v seconds", f)
	}
	return time.Duration(f * float64(time.Second))
}

// dateAddOp is d + seconds and seconds + d.
func (v *vm) dateAddOp(L *lua.LState) int {
	a, b := L.Get(1), L.Get(2)
	if t, ok := v.asDate(a); ok {
		n, isNum := b.(lua.LNumber)
		if !isNum {
			L.RaiseError("a date can only be added to a number of seconds, not a %s", typeName(b))
		}
		L.Push(v.newDate(t.Add(seconds(L, float64(n)))))
		return 1
	}
	t, _ := v.asDate(b)
	n, isNum := a.(lua.LNumber)
	if !isNum {
		L.RaiseError("a date can only be added to a number of seconds, not a %s", typeName(a))
	}
	L.Push(v.newDate(t.Add(seconds(L, float64(n)))))
	return 1
}

// dateSubOp is d - seconds → date and d1 - d2 → seconds.
func (v *vm) dateSubOp(L *lua.LState) int {
	t, ok := v.asDate(L.Get(1))
	if !ok {
		L.RaiseError("cannot subtract a date from a %s", typeName(L.Get(1)))
	}
	switch b := L.Get(2).(type) {
	case lua.LNumber:
		L.Push(v.newDate(t.Add(-seconds(L, float64(b)))))
	default:
		u, isDate := v.asDate(b)
		if !isDate {
			L.RaiseError("cannot subtract a %s from a date", typeName(b))
		}
		L.Push(lua.LNumber(t.Sub(u).Seconds()))
	}
	return 1
}

// dateAdd is d:add(seconds) or d:add{years, months, days, hours, minutes,
// seconds, ms}: calendar fields move by the calendar (in UTC).
func (v *vm) dateAdd(L *lua.LState) int {
	t := v.dateArg(L, 1)
	switch a := L.Get(2).(type) {
	case lua.LNumber:
		L.Push(v.newDate(t.Add(seconds(L, float64(a)))))
		return 1
	case *lua.LTable:
		num := func(k string) int {
			switch x := a.RawGetString(k).(type) {
			case lua.LNumber:
				if float64(x) != math.Trunc(float64(x)) || math.Abs(float64(x)) > 1e7 {
					L.RaiseError("date:add: %s must be a whole number, got %v", k, x)
				}
				return int(x)
			case *lua.LNilType:
				return 0
			default:
				L.RaiseError("date:add: %s must be a number, got %s", k, typeName(x))
			}
			return 0
		}
		a.ForEach(func(k, _ lua.LValue) {
			switch lua.LVAsString(k) {
			case "years", "months", "days", "hours", "minutes", "seconds", "ms":
			default:
				L.RaiseError("date:add: unknown field %q (use years, months, days, hours, minutes, seconds, ms)", lua.LVAsString(k))
			}
		})
		t = t.AddDate(num("years"), num("months"), num("days"))
		t = t.Add(time.Duration(num("hours"))*time.Hour + time.Duration(num("minutes"))*time.Minute +
			time.Duration(num("seconds"))*time.Second + time.Duration(num("ms"))*time.Millisecond)
		L.Push(v.newDate(t))
		return 1
	}
	L.ArgError(2, "number of seconds or {days = …, hours = …} expected")
	return 0
}

// dateFormat is d:format([layout [, timezone]]): a strftime pattern when
// layout has a "%" ("%Y-%m-%d %H:%M"), else a Go layout ("2006-01-02").
func (v *vm) dateFormat(L *lua.LState) int {
	t := v.dateArg(L, 1)
	layout := L.OptString(2, isoLayout)
	if tz := L.OptString(3, ""); tz != "" {
		t = t.In(v.location(L, tz))
	}
	if len(layout) > 256 {
		L.ArgError(2, "layout longer than 256 bytes")
	}
	if strings.Contains(layout, "%") {
		s, err := strftime(t, layout)
		if err != nil {
			L.RaiseError("date:format: %s", err.Error())
		}
		L.Push(lua.LString(s))
		return 1
	}
	L.Push(lua.LString(t.Format(layout)))
	return 1
}

// dateParts is d:parts([timezone]) → {year, month, day, hour, min, sec,
// ms, wday (1 = Sunday, as os.date), yday}.
func (v *vm) dateParts(L *lua.LState) int {
	t := v.dateArg(L, 1)
	if tz := L.OptString(2, ""); tz != "" {
		t = t.In(v.location(L, tz))
	}
	p := L.CreateTable(0, 9)
	for k, n := range map[string]int{
		"year": t.Year(), "month": int(t.Month()), "day": t.Day(), "hour": t.Hour(), "min": t.Minute(),
		"sec": t.Second(), "ms": t.Nanosecond() / 1e6, "wday": int(t.Weekday()) + 1, "yday": t.YearDay(),
	} {
		p.RawSetString(k, lua.LNumber(n))
	}
	L.Push(p)
	return 1
}

// dateCompare is d:compare(other) → -1, 0 or 1.
func (v *vm) dateCompare(L *lua.LState) int {
	L.Push(lua.LNumber(v.dateArg(L, 1).Compare(v.dateArg(L, 2))))
	return 1
}

// location loads an IANA time zone or raises.
func (v *vm) location(L *lua.LState, name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		L.RaiseError("unknown time zone %q (use an IANA name such as Europe/Paris or UTC)", name)
	}
	return loc
}

// dateLayouts are the strings backend.date reads, tried in order.
func dateLayouts() []string {
	return []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999", "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"}
}

// parseDate reads s in one of dateLayouts; a string without a zone is in
// loc.
func parseDate(s string, loc *time.Location) (time.Time, error) {
	for _, layout := range dateLayouts() {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("cannot read %q as a date (use RFC 3339 such as 2024-05-01T09:00:00Z, or 2024-05-01)", s)
}

// strftime formats t with C strftime's common conversions.
func strftime(t time.Time, f string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(f); i++ {
		if f[i] != '%' {
			b.WriteByte(f[i])
			continue
		}
		i++
		if i == len(f) {
			return "", fmt.Errorf("format ends with a lone %%")
		}
		switch f[i] {
		case 'Y':
			b.WriteString(strconv.Itoa(t.Year()))
		case 'y':
			b.WriteString(t.Format("06"))
		case 'm':
			b.WriteString(t.Format("01"))
		case 'd':
			b.WriteString(t.Format("02"))
		case 'e':
			b.WriteString(t.Format("_2"))
		case 'H':
			b.WriteString(t.Format("15"))
		case 'I':
			b.WriteString(t.Format("03"))
		case 'M':
			b.WriteString(t.Format("04"))
		case 'S':
			b.WriteString(t.Format("05"))
		case 'L':
			b.WriteString(t.Format(".000")[1:])
		case 'p':
			b.WriteString(t.Format("PM"))
		case 'a':
			b.WriteString(t.Format("Mon"))
		case 'A':
			b.WriteString(t.Format("Monday"))
		case 'b', 'h':
			b.WriteString(t.Format("Jan"))
		case 'B':
			b.WriteString(t.Format("January"))
		case 'j':
			fmt.Fprintf(&b, "%03d", t.YearDay())
		case 'u':
			wd := int(t.Weekday())
			if wd == 0 {
				wd = 7
			}
			b.WriteString(strconv.Itoa(wd))
		case 'w':
			b.WriteString(strconv.Itoa(int(t.Weekday())))
		case 'Z':
			b.WriteString(t.Format("MST"))
		case 'z':
			b.WriteString(t.Format("-0700"))
		case 'F':
			b.WriteString(t.Format("2006-01-02"))
		case 'T':
			b.WriteString(t.Format("15:04:05"))
		case 'R':
			b.WriteString(t.Format("15:04"))
		case 'D':
			b.WriteString(t.Format("01/02/06"))
		case 's':
			b.WriteString(strconv.FormatInt(t.Unix(), 10))
		case '%':
			b.WriteByte('%')
		default:
			return "", fmt.Errorf("unknown conversion %%%c", f[i])
		}
	}
	return b.String(), nil
}
