package engine

import (
	"errors"
	"fmt"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/moonbase-dev/moonbase/db"
)

// MaxOnceKeyBytes caps a backend.once key.
const MaxOnceKeyBytes = 512

// once is backend.once(key): true the first time any function asks for
// key, false every time after. It is one insert into _dedupe with the key
// as _id ({_id: key, at, function}), so two runs racing for the same key
// cannot both win (never a read followed by a write). Keys are shared by
// all functions; prefix them ("stripe:" .. event.id) to keep them apart.
func (v *vm) once(L *lua.LState) int {
	const call = "backend.once"
	ru := v.cur(L)
	key := L.CheckString(1)
	if key == "" || len(key) > MaxOnceKeyBytes {
		v.raise(L, call, fmt.Errorf("the key must be 1 to %d bytes", MaxOnceKeyBytes))
	}
	defer ru.wait()()
	_, err := v.reg.store.C(db.Dedupe).InsertOne(ru.ctx, map[string]any{
		"_id": key, "at": time.Now().UTC().Truncate(time.Millisecond), "function": ru.fn.Name,
	})
	switch {
	case err == nil:
		L.Push(lua.LTrue)
	case errors.Is(err, db.ErrDuplicateKey):
		L.Push(lua.LFalse)
	default:
		v.raise(L, call, err)
	}
	return 1
}

// env is backend.env(name): the secret's value (set through the admin API
// or `moonbase secrets`), or nil when there is none. Values are cached for
// a few seconds.
func (v *vm) env(L *lua.LState) int {
	const call = "backend.env"
	ru := v.cur(L)
	name := L.CheckString(1)
	defer ru.wait()()
	val, ok, err := v.reg.Secret(ru.ctx, name)
	if err != nil {
		v.raise(L, call, err)
	}
	if !ok {
		L.Push(lua.LNil)
		return 1
	}
	L.Push(lua.LString(val))
	return 1
}
