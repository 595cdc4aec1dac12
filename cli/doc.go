// Package cli is Moonbase's command line: `moonbase serve` and the client
// commands that drive a running server through its admin API (functions,
// deploy, jobs, schedules, secrets, webhooks).
//
// The package does not import the server. Its caller hands it the function
// that runs one, and the client commands speak HTTP to whichever server
// --url (or MOONBASE_URL) names:
//
//	root := cli.New(cli.Config{Version: "1.0.0"}, cli.Deps{Serve: serveFile, Getenv: os.Getenv})
//	os.Exit(cli.Execute(context.Background(), root, os.Stderr))
//
// Every client command goes through one path (exchange in api.go): resolve
// the server and token, send one request, then print the answer as it came
// with --json or as lines and tables for a reader. A new group of commands
// is one constructor added to clientGroups in root.go; the bodies it sends
// and decodes belong in server/adminapi, beside the server's.
package cli
