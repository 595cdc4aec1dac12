// Package examples holds Moonbase's example functions, each the answer to
// one of the scenarios users bring (EXAMPLES.md in the design notes): a
// folder with function.yaml and main.lua, deployable as it is with
// `moonbase deploy`.
//
//	processData/            scenario 9: executeFunction('processData', {id = 123})
//	sendWelcomeEmail/       scenario 10: greet the signed-in user; also over plain HTTP
//	functions/              scenario 17: a project's functions folder, deployed whole
//	  trial-reminder/       (scenario 1: daily at 9 AM, email the ended, unpaid trials)
//
// The tests (examples_test.go) start a real server on the embedded store,
// deploy the folders through the admin API exactly as `moonbase deploy`
// does, and check each effect; harness_test.go is the part every example's
// test shares.
package examples
