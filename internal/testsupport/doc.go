// Package testsupport holds the helpers that the tests of several packages
// share: polling until a condition holds, a buffer that goroutines may
// write while a test reads it, and a real SMTP server that records what it
// is sent. Only tests import it; the binary never does.
package testsupport
