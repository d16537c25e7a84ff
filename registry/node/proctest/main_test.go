package proctest

import (
	"os"
	"testing"
)

// TestMain removes the registryd the tests built (Binary) when they are
// done: one a run, ~80 MB, which was left in the temporary folder before.
func TestMain(m *testing.M) {
	code := m.Run()
	RemoveBuilt()
	os.Exit(code)
}
