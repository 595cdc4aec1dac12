// Package examples holds Moonbase's example functions, each the answer to
// one of the scenarios users bring (README.md here lists them): a
// folder with function.yaml and main.lua, deployable as it is with
// `moonbase deploy`.
//
//	processData/            scenario 9: executeFunction('processData', {id = 123})
//	sendWelcomeEmail/       scenario 10: greet the signed-in user; also over plain HTTP
//	functions/              scenario 17: a project's functions folder, deployed whole
//	  trial-reminder/       (scenario 1: daily at 9 AM, email the ended, unpaid trials)
//	sessionCleanup/         scenario 2: hourly, delete expired sessions
//	weeklyReport/           scenario 3: Mondays at 8 AM, email the week's summary
//	monthlyDigest/          scenario 4: the first Monday of each month at 9 AM
//	welcomeEmail/           scenario 5: on user_registered, email "Welcome!"
//	activityLog/            scenario 6: on doc_created, record who created what
//	processOrder/           scenario 7: on order_placed, confirm, restock, email
//
// The tests (examples_test.go) start a real server on the embedded store,
// deploy the folders through the admin API exactly as `moonbase deploy`
// does, and check each effect; harness_test.go is the part every example's
// test shares.
package examples
