// Package e2e drives the admin dashboard in a real headless Chromium
// against a real moonbase server on 127.0.0.1, from go test. It holds
// only tests.
//
// The browser is Debian's chromium (scripts/test installs it when it is
// missing) and may reach 127.0.0.1 only: every other host name resolves
// to nothing, so a stray external URL fails the test instead of leaving
// the machine. When a step fails, a screenshot of the page is written to
// $MOONBASE_TEST_ARTIFACTS (default admin/e2e/artifacts). With
// MOONBASE_SCREENSHOTS=dir the tests also write the screenshots of the
// main screens docs/admin.md shows.
package e2e
