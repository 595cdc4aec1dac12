// Package engine runs Moonbase's server-side functions: Lua source
// (gopher-lua, imported here as lua) compiled once per saved version and
// run from a pool of sandboxed states, with limits on time, call depth,
// string building, returned values, logs and memory, and the `backend`
// module every function sees as a global.
//
// The Registry is the front door. It embeds the storage of functions
// (lua/functions: definitions, versions, execution records, secrets),
// supplies the compile check every save passes so a syntax error is
// refused before anything changes, caches what it compiled, runs functions
// by name, and records every run through the store's batching writer.
//
// Example:
//
//	reg, err := engine.NewRegistry(engine.Config{}, engine.Deps{Store: store})
//	if err != nil { … }
//	if err := reg.Start(ctx); err != nil { … }
//	defer reg.Shutdown(context.Background())
//	_, err = reg.Save(ctx, functions.Definition{
//		Name:     "hello",
//		Source:   `function handle(input, ctx) return {message = "hello " .. input.name} end`,
//		Triggers: []functions.Trigger{{Invoke: true}},
//	})
//	res, err := reg.Run(ctx, "hello", map[string]any{"name": "Ada"}, engine.RunOptions{Trigger: functions.TriggerInvoke})
//	// res.Value is bson.M{"message": "hello Ada"}
//
// The whole Lua surface is the table in api.go and is documented, call by
// call, in docs/lua-api.md.
package engine
