//go:build !linux && !darwin

package httpserver

// raiseNoFile has no limit to read on this system; it reports a budget
// large enough for the defaults.
func raiseNoFile() (soft, hard int, raised bool, err error) {
	return 8192, 0, false, nil
}
