// Package adminapi holds the bodies of the admin API's function routes
// (/api/admin/functions, /api/admin/deploy) that the server answers with
// and the command line decodes, so the two cannot drift apart. It holds
// types only: the server fills them, the cli package reads them, and it
// imports nothing above the lua package, so the command line can use it
// without the server. docs/admin-api.md describes every route.
//
//	var ans adminapi.FunctionAnswer
//	json.Unmarshal(body, &ans) // GET /api/admin/functions/hello
//	fmt.Println(ans.Function.Version)
package adminapi
