package verify

import (
	"io/fs"
	"os"
)

var errNotExist = fs.ErrNotExist

func writeFile(path, s string) error { return os.WriteFile(path, []byte(s), 0o600) }
