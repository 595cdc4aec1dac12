// Package adminapi holds the request and answer bodies of the admin API
// routes the command line calls (functions, deploy, secrets, jobs,
// schedules, webhooks): the server answers with them and the command line
// decodes them, so the two cannot drift apart. The webhook bodies mirror
// the JSON of the webhooks package's types, which the command line may not
// import: the server converts to them and answers with them, and a server
// test fails when the webhooks package has a field they lack. It holds
// types (and the conversions the server needs): the server fills them, the
// cli package reads them. Of Moonbase it imports only lua/functions (the
// storage of functions) and events (jobs and schedules as the queue keeps
// them), so the command line links neither the server nor the Lua
// runtime. docs/admin-api.md describes every route.
//
//	var ans adminapi.FunctionAnswer
//	json.Unmarshal(body, &ans) // GET /api/admin/functions/hello
//	fmt.Println(ans.Function.Version)
package adminapi
