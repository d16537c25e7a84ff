package machine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/medid/medid/registry/ledger"
)

// Moving a running chain from ledger.LayoutEveryVersion to
// ledger.LayoutRecordsOnce (docs/design/0021, "Moving a chain to layout
// 2"). A governance proposal carried by the network's quorum writes the
// move (ledger.KeyLayoutMove); at the start of block Height every
// validator's state machine makes the same writes (moveLayout): it deletes
// didv/<did>/<n> for each DID's current version n (in layout 1 the same
// bytes as did/<did>; superseded versions are under didv/ with
// nextVersionId in both layouts, so nothing else differs), writes
// state/layout = 2, removes the move, and runs the block's transactions in
// layout 2. The node-local latest-DID index is turned into leaf pointers
// block by block beside the move (switchIndex, indexswitch.go).

// stateLayoutOf reads the layout a state says (absent: layout 1).
func stateLayoutOf(r reader) (ledger.StateLayout, error) {
	v, err := r.Get([]byte(ledger.KeyStateLayout))
	if err != nil {
		return 0, fmt.Errorf("%w: read the state layout: %v", ledger.ErrInternal, err)
	}
	if v == nil {
		return ledger.LayoutEveryVersion, nil
	}
	n, err := strconv.Atoi(string(v))
	if err != nil || !ledger.StateLayout(n).Valid() {
		return 0, fmt.Errorf("%w: the state's layout is %.16q", ledger.ErrInternal, v)
	}
	return ledger.StateLayout(n), nil
}

// layoutMoveOf reads the scheduled move (nil: none).
func layoutMoveOf(r reader) (*ledger.LayoutMove, error) {
	v, err := r.Get([]byte(ledger.KeyLayoutMove))
	if err != nil {
		return nil, fmt.Errorf("%w: read the scheduled layout move: %v", ledger.ErrInternal, err)
	}
	if v == nil {
		return nil, nil
	}
	var m ledger.LayoutMove
	if err := json.Unmarshal(v, &m); err != nil {
		return nil, fmt.Errorf("%w: decode the scheduled layout move: %v", ledger.ErrInternal, err)
	}
	return &m, nil
}

// layoutWrites checks a layout.schedule or layout.cancel proposal against
// state r in the block env (when it is proposed, and again at each
// approval, so in the block that carries it) and returns its writes.
func layoutWrites(r reader, rec *ledger.ProposalRecord, env *execEnv) ([]write, error) {
	mv := rec.Layout
	if mv == nil || mv.Layout != ledger.LayoutRecordsOnce {
		return nil, fmt.Errorf("%w: %s needs layout %d and a height", ledger.ErrMalformed, rec.Action, ledger.LayoutRecordsOnce)
	}
	l, err := stateLayoutOf(r)
	if err != nil {
		return nil, err
	}
	cur, err := layoutMoveOf(r)
	if err != nil {
		return nil, err
	}
	if rec.Action == ledger.ActionLayoutCancel {
		if cur == nil {
			return nil, fmt.Errorf("%w: no move of the state layout is scheduled", ledger.ErrNotFound)
		}
		if cur.Cursor != "" || cur.Height <= env.height {
			return nil, fmt.Errorf("%w: the move to layout %d is under way since height %d (%d DIDs moved): it cannot be cancelled", ledger.ErrInvalid, cur.Layout, cur.Height, cur.Moved)
		}
		if cur.Height != mv.Height {
			return nil, fmt.Errorf("%w: the move scheduled is at height %d (proposal %s), not %d", ledger.ErrInvalid, cur.Height, cur.Proposal, mv.Height)
		}
		if err := staleCancel(rec, "move", cur.Scheduled, cur.Proposal); err != nil {
			return nil, err
		}
		return []write{{[]byte(ledger.KeyLayoutMove), nil}}, nil
	}
	if l == ledger.LayoutRecordsOnce {
		return nil, fmt.Errorf("%w: the chain's state is in layout %d already", ledger.ErrInvalid, l)
	}
	if cur != nil && cur.Cursor != "" {
		return nil, fmt.Errorf("%w: the move to layout %d is under way since height %d", ledger.ErrExists, cur.Layout, cur.Height)
	}
	if cur != nil {
		return nil, fmt.Errorf("%w: a move to layout %d is scheduled at height %d (proposal %s): cancel it first (layout.cancel)", ledger.ErrExists, cur.Layout, cur.Height, cur.Proposal)
	}
	if err := scheduleLead(env, mv.Height); err != nil {
		return nil, err
	}
	b, err := marshal(ledger.LayoutMove{Layout: mv.Layout, Height: mv.Height, Proposal: rec.ID, Scheduled: env.height})
	if err != nil {
		return nil, err
	}
	return []write{{[]byte(ledger.KeyLayoutMove), b}}, nil
}

// layoutMoveChunk is the default of Config.LayoutMoveBatch,
// ledger.LayoutMoveChunk; a variable so this package's tests can spread a
// move over the blocks of a small chain (read when an App opens).
var layoutMoveChunk = ledger.LayoutMoveChunk

// moveLayout goes on with the scheduled move if it is due at the start of
// block height, in the working tree (which is still the state of
// height-1): it moves the next Config.LayoutMoveBatch DIDs after the cursor (the
// first ones at block Height), in key order, and records the cursor, or,
// once the last DID is moved, writes state/layout, removes the move and
// records for Commit that the latest index must switch. Every validator
// makes the same writes in the same order, so the same app hash.
func (a *App) moveLayout(height int64) error {
	mv, err := layoutMoveOf(a.tree)
	if err != nil || mv == nil || mv.Height > height {
		return err
	}
	if mv.Height < height && mv.Cursor == "" {
		// It cannot be: block Height moves at least one DID or ends the
		// move.
		return fmt.Errorf("%w: the layout move scheduled at height %d was not started (block %d)", ledger.ErrInternal, mv.Height, height)
	}
	if a.layout != ledger.LayoutEveryVersion || mv.Layout != ledger.LayoutRecordsOnce {
		return fmt.Errorf("%w: a move from layout %d to %d", ledger.ErrInternal, a.layout, mv.Layout)
	}
	started := time.Now()
	view, h := a.view()
	if h != height-1 {
		return fmt.Errorf("%w: the layout move of block %d on a state at height %d", ledger.ErrInternal, height, h)
	}
	from := didStart
	if mv.Cursor != "" {
		// The key after the cursor's.
		from = append(ledger.DIDKey(mv.Cursor), 0)
	}
	var n int
	var last string
	var merr error
	done := !view.IterateRange(from, didEnd, true, func(k, v []byte) bool {
		if n == a.cfg.LayoutMoveBatch {
			return true // more to move in the next block
		}
		var rec struct {
			DID      string `json:"did"`
			Metadata struct {
				VersionID string `json:"versionId"`
			} `json:"metadata"`
		}
		if err := json.Unmarshal(v, &rec); err != nil {
			merr = fmt.Errorf("%w: decode %s: %v", ledger.ErrInternal, k, err)
			return true
		}
		ver, err := strconv.ParseInt(rec.Metadata.VersionID, 10, 64)
		if err != nil || ver < 1 || !bytes.Equal(k, ledger.DIDKey(rec.DID)) {
			merr = fmt.Errorf("%w: %s holds DID %.128q version %.32q", ledger.ErrInternal, k, rec.DID, rec.Metadata.VersionID)
			return true
		}
		old, removed, err := a.tree.Remove(ledger.DIDVersionKey(rec.DID, ver))
		if err != nil {
			merr = err
			return true
		}
		// Layout 1 keeps the current version under didv/ byte for byte;
		// anything else would lose a version: stop rather than do that.
		if !removed || !bytes.Equal(old, v) {
			merr = fmt.Errorf("%w: didv/ of %s version %d is not the current record (present: %v)", ledger.ErrInternal, rec.DID, ver, removed)
			return true
		}
		n++
		last = rec.DID
		return false
	})
	if merr != nil {
		return fmt.Errorf("move the state to layout %d at height %d: %w", mv.Layout, height, merr)
	}
	next := *mv
	next.Moved += int64(n)
	if !done {
		next.Cursor = last
		b, err := marshal(next)
		if err != nil {
			return err
		}
		if _, err := a.tree.Set([]byte(ledger.KeyLayoutMove), b); err != nil {
			return err
		}
		a.move = &next
		a.log.Info("moving the state layout", "height", height, "layout", int(mv.Layout), "proposal", mv.Proposal,
			"dids", n, "moved", next.Moved, "took", time.Since(started).Round(time.Millisecond).String())
		return nil
	}
	if _, err := a.tree.Set([]byte(ledger.KeyStateLayout), []byte(strconv.Itoa(int(mv.Layout)))); err != nil {
		return err
	}
	if _, _, err := a.tree.Remove([]byte(ledger.KeyLayoutMove)); err != nil {
		return err
	}
	a.layout, a.move = mv.Layout, nil
	a.log.Info("moved the state layout", "height", height, "layout", int(mv.Layout), "proposal", mv.Proposal,
		"dids", n, "moved", next.Moved, "since", mv.Height, "took", time.Since(started).Round(time.Millisecond).String())
	return nil
}

// switchIndexStep, if set (tests), is called in the Commit of each block
// whose index still converts copies (see indexswitch.go): after the tree
// saved the version and before the index batch, and after that batch. An
// error stops the Commit there, as a crash would.
var switchIndexStep func() error

// switchIndex indexes the block saved as version while the latest index
// still holds copies of layout 1 (indexswitch.go): the block's writes as
// leaf pointers, and the next copies, up to the DIDs the move has passed
// (all of them once it has ended), converted, at most twice the move's
// batch per block.
func (a *App) switchIndex(version int64) error {
	if switchIndexStep != nil {
		if err := switchIndexStep(); err != nil {
			return err
		}
	}
	started := time.Now()
	var through []byte
	if a.move != nil {
		through = ledger.DIDKey(a.move.Cursor)
	}
	n, err := a.idx.writeMoving(version, a.pendingIdx, through, 2*a.cfg.LayoutMoveBatch)
	if err != nil {
		return err
	}
	took := time.Since(started).Round(time.Millisecond).String()
	if a.idx.copiesLeft.Load() {
		a.log.Info("converting the DID index to leaf pointers", "height", version, "converted", n, "took", took)
	} else {
		a.log.Info("the DID index points at the tree's leaves", "height", version, "converted", n, "took", took)
	}
	if switchIndexStep != nil {
		return switchIndexStep()
	}
	return nil
}

// LayoutMove returns the committed state's layout and the move scheduled
// (nil: none).
func (a *App) LayoutMove() (ledger.StateLayout, *ledger.LayoutMove, error) {
	view, _ := a.view()
	l, err := stateLayoutOf(view)
	if err != nil {
		return 0, nil, err
	}
	mv, err := layoutMoveOf(view)
	return l, mv, err
}
