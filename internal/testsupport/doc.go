// Package testsupport holds the helpers that the tests of several packages
// share: polling until a condition holds, and a buffer that goroutines may
// write while a test reads it. Only tests import it; the binary never does.
package testsupport
