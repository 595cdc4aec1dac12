package engine

import (
	"errors"

	lua "github.com/yuin/gopher-lua"
)

// publish is backend.publish(channel, data): sends data (any value) to
// the members of a realtime channel, as the server (no user, no channel
// rules, no chan_in event), and returns the message's offset. The
// message is stored before this returns, so members who reconnect with
// since get it too.
func (v *vm) publish(L *lua.LState) int {
	const call = "backend.publish"
	ru := v.cur(L)
	channel := L.CheckString(1)
	if L.GetTop() < 2 {
		L.ArgError(2, "data expected")
	}
	if v.reg.deps.ChannelPublish == nil {
		v.raise(L, call, errors.New("channels are not set up on this server"))
	}
	data, err := v.toGo(L.Get(2), maxDataBytes, "the data")
	if err != nil {
		v.raise(L, call, err)
	}
	defer ru.wait()()
	offset, err := v.reg.deps.ChannelPublish(ru.ctx, channel, data)
	if err != nil {
		v.raise(L, call, err)
	}
	L.Push(lua.LNumber(offset))
	return 1
}

// channelMembers is backend.channels.members(channel): the users present
// on a realtime channel across every server process, each {id, name},
// ordered by id.
func (v *vm) channelMembers(L *lua.LState) int {
	const call = "backend.channels.members"
	ru := v.cur(L)
	channel := L.CheckString(1)
	if v.reg.deps.ChannelMembers == nil {
		v.raise(L, call, errors.New("channels are not set up on this server"))
	}
	members, err := func() ([]map[string]any, error) {
		defer ru.wait()()
		return v.reg.deps.ChannelMembers(ru.ctx, channel)
	}()
	if err != nil {
		v.raise(L, call, err)
	}
	list := make([]any, len(members))
	for i, m := range members {
		list[i] = m
	}
	v.push(L, call, list)
	return 1
}
