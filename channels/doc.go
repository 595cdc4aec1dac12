// Package channels is Moonbase's realtime channels: a WebSocket hub
// (gorilla/websocket, reached from fasthttp through bridge.go) speaking
// JSON frames, with per-channel rules, presence per user, history with
// per-channel offsets allocated in the store, recovery of what a client
// missed across a reconnect, limits per connection, and fan-out across
// server processes sharing a store (by polling it, or over NATS when
// channels.nats_url is set).
//
// The package never imports the server, the events or the Lua runtime:
// the server hands it a session lookup (Authenticator), the channel_join
// functions (JoinAuthorizer) and the chan_in emitter (MessageSink) in
// Deps, and routes GET /api/ws to Hub.Handle. docs/channels.md describes
// the protocol.
//
// Example:
//
//	hub, err := channels.New(cfg, channels.Deps{Store: store, Auth: auth, Sink: sink})
//	err = hub.Start(ctx)
//	// in a fasthttp or fiber handler: hub.Handle(requestCtx)
//	offset, err := hub.Publish(ctx, "room:lobby", map[string]any{"text": "hello"})
//	defer hub.Shutdown(shutdownCtx)
package channels
