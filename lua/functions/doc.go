// Package functions stores Moonbase's server-side functions: their
// definitions in _functions (with every saved version in
// _function_versions), the records of their runs in _executions (written
// in batches, a pack of runs per document), and the secrets they read in
// _secrets. It knows nothing of Lua: the runtime (lua/engine) supplies the
// compile check a save must pass, and is told of every save and delete so
// its cache of compiled functions follows at once.
//
// Example:
//
//	fns, err := functions.NewStore(functions.Config{}, functions.Deps{Store: store, Compile: check})
//	if err != nil { … }
//	if err := fns.Start(ctx); err != nil { … }
//	defer fns.Close(context.Background())
//	fn, err := fns.Save(ctx, functions.Definition{
//		Name:     "hello",
//		Source:   `function handle(input, ctx) return {message = "hello " .. input.name} end`,
//		Triggers: []functions.Trigger{{Invoke: true}},
//	})
//	// fn.Version is 1; saving the same definition again changes nothing.
package functions
