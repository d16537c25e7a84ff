package wallet

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// BoltStore is the on-disk [Store]: one bbolt file. Every write is a bbolt
// read-write transaction, committed with fsync before it returns, so an
// acknowledged write survives a crash and a torn write is never visible
// (bbolt's copy-on-write pages and double meta page).
type BoltStore struct {
	db *bolt.DB
}

// ErrInUse is returned when another process holds the wallet file open.
var ErrInUse = errors.New("wallet is open in another process")

// OpenBoltStore opens the bbolt file at path. With create false a missing
// file is reported as [ErrNoWallet] rather than created. A file that is not
// a valid bbolt database is reported as [ErrCorrupt]; the file is not
// modified in that case.
func OpenBoltStore(path string, create bool) (*BoltStore, error) {
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist) && !create:
		return nil, fmt.Errorf("%w: %s", ErrNoWallet, path)
	case err == nil && st.Size() == 0:
		// bbolt would silently initialise an empty file; an existing wallet
		// file is never empty, so this is damage, not a new wallet.
		return nil, fmt.Errorf("%w: %s is empty", ErrCorrupt, path)
	case err != nil && !errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("open wallet store: %w", err)
	}
	if err == nil {
		if err := checkBoltFile(path); err != nil {
			return nil, err
		}
	}
	db, err := openBolt(path)
	switch {
	case errors.Is(err, berrors.ErrTimeout):
		return nil, fmt.Errorf("%w: %s (close the other medid or wallet app)", ErrInUse, path)
	case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrChecksum), errors.Is(err, berrors.ErrVersionMismatch):
		return nil, fmt.Errorf("%w: %s: %v", ErrCorrupt, path, err)
	case err != nil:
		// bbolt reports other kinds of damage with ad-hoc errors.
		return nil, fmt.Errorf("%w: open %s: %v", ErrCorrupt, path, err)
	}
	return &BoltStore{db: db}, nil
}

// openBolt opens the file with bbolt, turning a fault in the mapping of a
// damaged file (bbolt follows page ids without bounds checks) into
// ErrCorrupt instead of a crash.
func openBolt(path string) (db *bolt.DB, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			if db != nil {
				_ = db.Close()
			}
			db, err = nil, fmt.Errorf("%w: open %s: %v", ErrCorrupt, path, r)
		}
	}()
	return bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second})
}

// Get implements [Store].
func (s *BoltStore) Get(bucket string, id []byte) ([]byte, error) {
	var out []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucket))
		if b == nil {
			return fmt.Errorf("%w: record in %s", ErrNotFound, bucket)
		}
		v := b.Get(id)
		if v == nil {
			return fmt.Errorf("%w: record in %s", ErrNotFound, bucket)
		}
		out = bytes.Clone(v) // v is only valid inside the transaction
		return nil
	})
	return out, s.mapErr(err)
}

// Put implements [Store].
func (s *BoltStore) Put(bucket string, id, value []byte) error {
	return s.Batch([]Op{{Bucket: bucket, ID: id, Value: value}})
}

// Delete implements [Store].
func (s *BoltStore) Delete(bucket string, id []byte) error {
	return s.Batch([]Op{{Bucket: bucket, ID: id, Delete: true}})
}

// Batch implements [Store] with one read-write transaction.
func (s *BoltStore) Batch(ops []Op) error {
	for _, op := range ops {
		if err := validOp(op.Bucket, op.ID); err != nil {
			return err
		}
	}
	return s.mapErr(s.db.Update(func(tx *bolt.Tx) error {
		for _, op := range ops {
			if op.Delete {
				if b := tx.Bucket([]byte(op.Bucket)); b != nil {
					if err := b.Delete(op.ID); err != nil {
						return err
					}
				}
				continue
			}
			b, err := tx.CreateBucketIfNotExists([]byte(op.Bucket))
			if err != nil {
				return err
			}
			// bbolt keeps a reference to value until commit; clone so the
			// caller may reuse its buffer.
			if err := b.Put(bytes.Clone(op.ID), bytes.Clone(op.Value)); err != nil {
				return err
			}
		}
		return nil
	}))
}

// List implements [Store].
func (s *BoltStore) List(bucket string, fn func(id, value []byte) error) error {
	return s.mapErr(s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucket))
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			return fn(bytes.Clone(k), bytes.Clone(v))
		})
	}))
}

// Close implements [Store].
func (s *BoltStore) Close() error { return s.db.Close() }

// Size returns the size in bytes of the database file.
func (s *BoltStore) Size() (int64, error) {
	st, err := os.Stat(s.db.Path())
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}

func (s *BoltStore) mapErr(err error) error {
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return ErrClosed
	}
	return err
}
