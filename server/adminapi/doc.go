// Package adminapi holds the bodies of the admin API's function routes
// (/api/admin/functions, /api/admin/deploy) that the server answers with
// and the command line decodes, so the two cannot drift apart. It holds
// types (and the conversions the server needs): the server fills them, the
// cli package reads them. Of Moonbase it imports only lua/functions, the
// storage of functions, so the command line links neither the server nor
// the Lua runtime. docs/admin-api.md describes every route.
//
//	var ans adminapi.FunctionAnswer
//	json.Unmarshal(body, &ans) // GET /api/admin/functions/hello
//	fmt.Println(ans.Function.Version)
package adminapi
