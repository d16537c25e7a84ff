package machine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	corestore "cosmossdk.io/core/store"
	iavldb "github.com/cosmos/iavl/db"
	"github.com/syndtr/goleveldb/leveldb"
)

// ErrStore is returned (wrapped) by [App.CheckStore] when the state
// database failed: a read or write returned an error, or the probe write
// did not complete.
var ErrStore = errors.New("state database failure")

// DescriptorsPerDB is how many file descriptors a LevelDB database may hold
// besides its table files (lock, log, manifest, journal, current, a table
// being written by compaction).
const DescriptorsPerDB = 8

// storeProbeEvery bounds how often [App.CheckStore] writes its probe.
const storeProbeEvery = 5 * time.Second

// storeProbeKey is written and read back by the probe: in the latest
// index's "x!" namespace, outside the tree (it changes no app hash).
var storeProbeKey = []byte("x!probe")

// storeHealth is what [App.CheckStore] reports from.
type storeHealth struct {
	mu       sync.Mutex // guards the fields below
	failure  error      // the first storage failure seen; never cleared
	probeAt  time.Time  // when the last probe started
	probeErr error      // the last finished probe's result
	probing  chan struct{}
}

// noteStore records err as the state database's first failure. A closed
// database (shutdown) is not a failure.
func (a *App) noteStore(err error) {
	if err == nil || errors.Is(err, leveldb.ErrClosed) {
		return
	}
	h := &a.health
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.failure != nil {
		return
	}
	height, _ := a.LastCommit()
	h.failure = fmt.Errorf("%w: %v (first seen after height %d, %s)", ErrStore, err, height, time.Now().UTC().Format(time.RFC3339))
	if a.log == nil {
		return // still opening: New reports the error itself
	}
	a.log.Error("state database failure: the node's state cannot be trusted until an operator restores it", "err", err, "height", height)
}

// CheckStore reports whether the state database is sound. It returns the
// first storage failure any read, write or commit met since the App
// opened (kept until restart: a database that returned a corrupt block
// once cannot be trusted because a later check happens to pass), else the
// result of a probe that writes a marker outside the tree and reads it
// back, run at most every 5 seconds; a probe still running when ctx ends
// is reported as a stalled write (LevelDB holds writes back when
// compaction cannot keep up, and refuses them for good once compaction
// found a corrupt table). Errors wrap ErrStore. Safe for concurrent use.
func (a *App) CheckStore(ctx context.Context) error {
	h := &a.health
	h.mu.Lock()
	if h.failure != nil {
		defer h.mu.Unlock()
		return h.failure
	}
	if h.probing == nil && time.Since(h.probeAt) >= storeProbeEvery {
		done := make(chan struct{})
		h.probing, h.probeAt = done, time.Now()
		go func() {
			err := a.probeStore()
			h.mu.Lock()
			h.probeErr, h.probing = err, nil
			h.mu.Unlock()
			close(done)
		}()
	}
	done, started := h.probing, h.probeAt
	h.mu.Unlock()
	if done != nil {
		select {
		case <-done:
		case <-ctx.Done():
			return fmt.Errorf("%w: a write to the state database has not completed after %s", ErrStore, time.Since(started).Round(time.Millisecond))
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.failure != nil {
		return h.failure
	}
	return h.probeErr
}

// probeStore writes the probe key and reads it back.
func (a *App) probeStore() error {
	raw := a.db.RawDB()
	want := []byte(strconv.FormatInt(time.Now().UnixNano(), 10))
	if err := raw.Put(storeProbeKey, want, nil); err != nil {
		if errors.Is(err, leveldb.ErrClosed) {
			return nil
		}
		a.noteStore(err)
		return fmt.Errorf("%w: probe write: %v", ErrStore, err)
	}
	got, err := raw.Get(storeProbeKey, nil)
	if err != nil || !bytes.Equal(got, want) {
		if errors.Is(err, leveldb.ErrClosed) {
			return nil
		}
		if err == nil {
			err = errors.New("read back a different value")
		}
		a.noteStore(err)
		return fmt.Errorf("%w: probe read: %v", ErrStore, err)
	}
	return nil
}

// observedDB passes the IAVL trees' calls to the state database through and
// records any error it returns (IAVL reports a missing key as nil, nil, so
// every error is a storage failure).
type observedDB struct {
	iavldb.DB
	note func(error)
}

func (d observedDB) Get(k []byte) ([]byte, error) {
	v, err := d.DB.Get(k)
	if err != nil {
		d.note(err)
	}
	return v, err
}

func (d observedDB) Has(k []byte) (bool, error) {
	ok, err := d.DB.Has(k)
	if err != nil {
		d.note(err)
	}
	return ok, err
}

func (d observedDB) Iterator(start, end []byte) (corestore.Iterator, error) {
	it, err := d.DB.Iterator(start, end)
	if err != nil {
		d.note(err)
	}
	return it, err
}

func (d observedDB) ReverseIterator(start, end []byte) (corestore.Iterator, error) {
	it, err := d.DB.ReverseIterator(start, end)
	if err != nil {
		d.note(err)
	}
	return it, err
}
