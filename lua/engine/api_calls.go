package engine

import (
	"errors"
	"fmt"
	"strings"

	"github.com/moonbase-dev/moonbase/lua/functions"
	lua "github.com/yuin/gopher-lua"
)

// publishEvent is backend.publishEvent(name, data?): records a custom event
// through the server's emit point (functions subscribed to it run from the
// queue, not inside this run) and returns its id.
func (v *vm) publishEvent(L *lua.LState) int {
	const call = "backend.publishEvent"
	ru := v.cur(L)
	name := L.CheckString(1)
	if v.reg.deps.Publish == nil {
		v.raise(L, call, errors.New("events are not set up on this server"))
	}
	data := map[string]any{}
	if L.Get(2) != lua.LNil {
		doc, err := v.toDoc(L.CheckTable(2), maxDataBytes, "the event data")
		if err != nil {
			v.raise(L, call, err)
		}
		data = doc
	}
	defer ru.wait()()
	id, err := v.reg.deps.Publish(ru.ctx, name, data)
	if err != nil {
		v.raise(L, call, err)
	}
	L.Push(lua.LString(id))
	return 1
}

// executeFunction is backend.executeFunction(name, data?): runs another
// function now, on its own state, with this run's user and rights (a
// caller's run calls it as that caller, an event's as the system), and
// returns what it returned and the status it chose (nil when it chose
// none). Its error is raised here. Calls nest at most Config.MaxCallDepth deep. The called
// function needs no invoke trigger; its ctx.trigger is "function".
func (v *vm) executeFunction(L *lua.LState) int {
	const call = "backend.executeFunction"
	ru := v.cur(L)
	name := L.CheckString(1)
	if ru.depth+1 > v.reg.cfg.MaxCallDepth {
		v.raise(L, call, fmt.Errorf("calls nest more than %d deep (do two functions call each other in a loop?)", v.reg.cfg.MaxCallDepth))
	}
	var input any = map[string]any{}
	if L.Get(2) != lua.LNil {
		in, err := v.toGo(L.Get(2), maxDataBytes, "the data")
		if err != nil {
			v.raise(L, call, err)
		}
		input = in
	}
	done := ru.wait()
	res, err := v.reg.runNamed(ru.ctx, name, input, RunOptions{Trigger: functions.TriggerFunction, User: ru.user, Rights: ru.rights(), Event: ru.opts.Event, ID: ru.opts.ID, At: ru.opts.At, Attempt: ru.opts.Attempt, ChainDepth: ru.opts.ChainDepth}, ru.depth+1)
	done()
	if err != nil {
		msg := err.Error()
		if errors.Is(err, functions.ErrFunctionNotFound) {
			msg = fmt.Sprintf("no function named %q", name)
		}
		v.raise(L, call, errors.New(msg))
	}
	v.push(L, call, res.Value)
	if res.Status == 0 {
		L.Push(lua.LNil)
	} else {
		L.Push(lua.LNumber(res.Status))
	}
	return 2
}

// recipients reads sendEmail's first argument: an address or a list of
// addresses.
func (v *vm) recipients(L *lua.LState, call string) []string {
	const want = `an email address or a list of them, such as {"a@example.com", "b@example.com"}`
	one := func(val lua.LValue) string {
		s, ok := val.(lua.LString)
		addr := strings.TrimSpace(string(s))
		if !ok || !strings.Contains(addr, "@") {
			if ok {
				v.raise(L, call, fmt.Errorf("%q is not an email address; to is %s", addr, want))
			}
			L.ArgError(1, "to must be "+want+", got "+typeName(val)+" inside it")
		}
		return addr
	}
	switch a := L.Get(1).(type) {
	case lua.LString:
		return []string{one(a)}
	case *lua.LTable:
		n := a.Len()
		if n == 0 {
			L.ArgError(1, "to is an empty list; it must be "+want)
		}
		if n > maxEmailRecipients {
			v.raise(L, call, fmt.Errorf("to lists %d addresses, more than %d; send several emails", n, maxEmailRecipients))
		}
		out := make([]string, 0, n)
		for i := 1; i <= n; i++ {
			out = append(out, one(a.RawGetInt(i)))
		}
		return out
	}
	L.ArgError(1, "to must be "+want+", got "+typeName(L.Get(1)))
	return nil
}

// maxEmailRecipients bounds the list backend.sendEmail takes as to.
const maxEmailRecipients = 50

// sendEmail is backend.sendEmail(to, subject[, text | {text, html, from,
// reply_to}]): hands the message to the server's mailer (queued and retried
// there) and returns its id. to is an address or a list of them; without a
// body the subject is the text, as in seed code's
// backend.sendEmail(user.email, "Your trial is ending").
func (v *vm) sendEmail(L *lua.LState) int {
	const call = "backend.sendEmail"
	ru := v.cur(L)
	to := v.recipients(L, call)
	subject, ok := L.Get(2).(lua.LString)
	if !ok {
		L.ArgError(2, "subject expected: a string, got "+typeName(L.Get(2)))
	}
	if v.reg.deps.SendEmail == nil {
		v.raise(L, call, errors.New("email is not set up on this server"))
	}
	body := map[string]any{}
	switch b := L.Get(3).(type) {
	case *lua.LNilType:
		body["text"] = string(subject)
	case lua.LString:
		body["text"] = string(b)
	case *lua.LTable:
		doc, err := v.toDoc(b, maxDataBytes, "the message")
		if err != nil {
			v.raise(L, call, err)
		}
		for k, val := range doc {
			switch k {
			case "text", "html", "from", "reply_to":
				if _, ok := val.(string); !ok {
					v.raise(L, call, fmt.Errorf("%s must be a string", k))
				}
				body[k] = val
			default:
				v.raise(L, call, fmt.Errorf("unknown field %q (use text, html, from, reply_to)", k))
			}
		}
	default:
		L.ArgError(3, "text, {text, html, from, reply_to} or nothing (the subject is then the text) expected, got "+typeName(b))
	}
	defer ru.wait()()
	id, err := v.reg.deps.SendEmail(ru.ctx, to, string(subject), body)
	if err != nil {
		v.raise(L, call, err)
	}
	L.Push(lua.LString(id))
	return 1
}
