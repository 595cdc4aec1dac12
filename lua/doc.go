// Package lua runs Moonbase's server-side functions: Lua source (gopher-lua)
// compiled once per saved version and run from a pool of sandboxed states,
// with limits on time, call depth, string building, returned values, logs
// and memory, and the `backend` module every function sees as a global.
//
// The Registry is the front door. It stores functions in _functions (with
// their history in _function_versions), compiles on save so a syntax error
// is refused before anything changes, runs them by name, and records every
// run in _executions through a batching writer.
//
// Example:
//
//	reg, err := lua.NewRegistry(lua.Config{}, lua.Deps{Store: store})
//	if err != nil { … }
//	if err := reg.Start(ctx); err != nil { … }
//	defer reg.Shutdown(context.Background())
//	_, err = reg.Save(ctx, lua.Definition{
//		Name:     "hello",
//		Source:   `function handle(input, ctx) return {message = "hello " .. input.name} end`,
//		Triggers: []lua.Trigger{{Invoke: true}},
//	})
//	res, err := reg.Run(ctx, "hello", map[string]any{"name": "Ada"}, lua.RunOptions{Trigger: lua.TriggerInvoke})
//	// res.Value is bson.M{"message": "hello Ada"}
//
// The whole Lua surface is the table in api.go and is documented, call by
// call, in docs/lua-api.md.
package lua
