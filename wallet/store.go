package wallet

import (
	"errors"
	"fmt"
)

// Store is the byte-level storage under a wallet: named buckets of records
// keyed by opaque ids. The wallet encrypts every value (and derives every id
// from a keyed hash) before it reaches a Store, so a Store never sees
// plaintext and need not be trusted with it.
//
// Implementations MUST be safe for concurrent use, MUST return [ErrNotFound]
// (possibly wrapped) from Get for a missing record, and MUST make a Put,
// Delete or Batch durable before returning nil: an acknowledged write survives
// a crash. Values passed in and returned are owned by the caller.
type Store interface {
	// Get returns the value stored under id in bucket, or ErrNotFound.
	Get(bucket string, id []byte) ([]byte, error)
	// Put stores value under id in bucket, replacing any previous value.
	Put(bucket string, id, value []byte) error
	// Delete removes id from bucket. Deleting a missing record is not an error.
	Delete(bucket string, id []byte) error
	// List calls fn for every record of bucket in ascending id order. fn
	// MUST NOT call back into the Store. A non-nil error from fn stops the
	// walk and is returned.
	List(bucket string, fn func(id, value []byte) error) error
	// Batch applies ops all together or not at all.
	Batch(ops []Op) error
	// Close releases the store. Further calls fail.
	Close() error
}

// Op is one write of a [Store.Batch]: a Put of Value, or a Delete when
// Delete is set.
type Op struct {
	Bucket string
	ID     []byte
	Value  []byte
	Delete bool
}

// ErrClosed is returned by a Store used after Close.
var ErrClosed = errors.New("wallet store is closed")

func validOp(bucket string, id []byte) error {
	if bucket == "" {
		return fmt.Errorf("wallet store: empty bucket name")
	}
	if len(id) == 0 {
		return fmt.Errorf("wallet store: empty record id")
	}
	return nil
}
