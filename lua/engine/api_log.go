package engine

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/moonbase-dev/moonbase/lua/functions"
	lua "github.com/yuin/gopher-lua"
)

// print and backend.log.* write lines into the run's output, which its
// execution record keeps (and Result.Logs returns). Tables are written as
// JSON when they convert, other values as tostring does. A run keeps at
// most Config.MaxLogBytes; past that one line says the output was cut and
// the rest is dropped.

// print replaces Lua's print: arguments separated by tabs.
func (v *vm) print(L *lua.LState) int { return v.logLine(L, "print", "\t") }

func (v *vm) logInfo(L *lua.LState) int  { return v.logLine(L, "info", " ") }
func (v *vm) logWarn(L *lua.LState) int  { return v.logLine(L, "warn", " ") }
func (v *vm) logError(L *lua.LState) int { return v.logLine(L, "error", " ") }

func (v *vm) logLine(L *lua.LState, level, sep string) int {
	ru := v.cur(L)
	if ru.logFull {
		return 0
	}
	var b strings.Builder
	for i := 1; i <= L.GetTop(); i++ {
		if i > 1 {
			b.WriteString(sep)
		}
		b.WriteString(v.logText(L, L.Get(i), ru.reg.cfg.MaxLogBytes))
		if int64(b.Len()) > ru.reg.cfg.MaxLogBytes {
			break
		}
	}
	ru.addLog(level, b.String())
	return 0
}

// logText writes one value for the output.
func (v *vm) logText(L *lua.LState, lv lua.LValue, limit int64) string {
	if t, ok := lv.(*lua.LTable); ok {
		if mt, _ := L.GetMetaField(t, "__tostring").(*lua.LFunction); mt == nil {
			if val, err := v.toGo(t, limit, "the value"); err == nil {
				if b, err := jsonText(val, false); err == nil {
					return string(b)
				}
			}
		}
	}
	return L.ToStringMeta(lv).String()
}

// addLog appends a line within the run's output budget.
func (ru *run) addLog(level, msg string) {
	// The store keeps only UTF-8; a line may print any bytes.
	msg = strings.ToValidUTF8(msg, "\uFFFD")
	limit := ru.reg.cfg.MaxLogBytes
	cost := int64(len(msg) + len(level) + 32)
	if ru.logBytes+cost > limit {
		room := limit - ru.logBytes - int64(len(level)) - 32
		if room > 0 {
			cut := int(room)
			for cut > 0 && !utf8.RuneStart(msg[cut]) {
				cut--
			}
			ru.logs = append(ru.logs, functions.LogLine{At: time.Now().UTC(), Level: level, Message: msg[:cut]})
		}
		ru.logs = append(ru.logs, functions.LogLine{At: time.Now().UTC(), Level: "warn", Message: "output cut: a run keeps at most " + byteSize(limit)})
		ru.logFull = true
		return
	}
	ru.logBytes += cost
	ru.logs = append(ru.logs, functions.LogLine{At: time.Now().UTC(), Level: level, Message: msg})
}
