// Package atomicfile writes files atomically: a reader, or the file system
// after a crash, sees either the old content or the new (for [Create]: no
// file or the whole file), never a mix, and a failed write leaves the old
// file untouched and no temporary file behind.
package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// Write writes path through a temporary file in the same folder: created
// with mode perm before any byte is written (so a secret is never readable
// by others, even briefly), filled by write, synced, renamed over path, and
// the folder synced so the rename itself survives a crash. Errors name the
// step that failed.
func Write(path string, perm os.FileMode, write func(io.Writer) error) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("create a temporary file next to %s: %w", path, err)
	}
	tmp := f.Name()
	fail := func(err error) error {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Chmod(perm); err != nil {
		return fail(fmt.Errorf("chmod %s: %w", tmp, err))
	}
	if err := write(f); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(fmt.Errorf("sync %s: %w", tmp, err))
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("close %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("replace %s: %w", path, err)
	}
	SyncDir(dir)
	return nil
}

// Create writes a NEW file at path, atomically, and never replaces one:
// the content goes to a temporary file in the same folder (mode perm from
// its creation, synced), which is then hard-linked to path, an operation
// that fails if path exists, and the folder is synced. So a crash leaves no
// half-written file at path, and two writers racing for one path cannot
// both win. If path exists the error wraps [fs.ErrExist]. On a file system
// without hard links it falls back to creating path with O_EXCL and
// writing it in place (exclusive, but a crash may leave it partial).
// Secret files (keys, tokens) are created this way with perm 0600.
func Create(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("create a temporary file next to %s: %w", path, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := fill(f, tmp, data, perm); err != nil {
		return err
	}
	err = os.Link(tmp, path)
	switch {
	case err == nil:
		SyncDir(dir)
		return nil
	case errors.Is(err, fs.ErrExist):
		return fmt.Errorf("%s: %w", path, fs.ErrExist)
	case errors.Is(err, syscall.EPERM), errors.Is(err, syscall.ENOTSUP), errors.Is(err, syscall.EOPNOTSUPP), errors.Is(err, syscall.EXDEV):
		// No hard links here (FAT, some network and FUSE file systems).
		return createInPlace(path, data, perm)
	default:
		return fmt.Errorf("create %s: %w", path, err)
	}
}

// fill writes data to f (named tmp) with mode perm, syncs and closes it.
func fill(f *os.File, tmp string, data []byte, perm os.FileMode) error {
	err := f.Chmod(perm)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	return nil
}

// createInPlace is [Create] without a hard link: O_EXCL, write, sync, and
// the file removed again if any step fails.
func createInPlace(path string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	if err := fill(f, path, data, perm); err != nil {
		os.Remove(path)
		return err
	}
	SyncDir(filepath.Dir(path))
	return nil
}

// WriteFile is [Write] of a byte slice.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	return Write(path, perm, func(w io.Writer) error {
		if _, err := w.Write(data); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		return nil
	})
}

// SyncDir fsyncs a folder so that entries created, renamed or removed in it
// are durable. It is best effort: some file systems refuse to sync a folder.
func SyncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
