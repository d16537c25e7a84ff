package ledger

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
)

// StateLayout says which keys hold a DID's versions. A chain's layout is
// chosen in its genesis (app_state "stateLayout") and never changes: it
// decides what is written, so the app hash of every block. Readers need not
// know it: [DIDVersionProof] accepts the proofs of both.
type StateLayout int

const (
	// LayoutEveryVersion is the layout of chains whose genesis names none
	// (every chain started before issue 18): didv/<did>/<n> holds every
	// version, the current one included, so each current record is stored
	// twice (at did/<did> too).
	LayoutEveryVersion StateLayout = 1
	// LayoutRecordsOnce stores each record once: did/<did> holds the
	// current version and didv/<did>/<n> only the versions it superseded
	// (written when it is superseded, with nextVersionId set). A chain in
	// this layout has [KeyStateLayout] in its state.
	LayoutRecordsOnce StateLayout = 2
	// CurrentLayout is the layout new genesis documents name: each record
	// once. Its latest-DID index points at each record's tree leaf and the
	// leaves read through it are cached by node key, so an existing DID
	// resolves at layout 1's cost without a second copy on disk (661
	// against 1,397 bytes per DID at 1,000,000 DIDs; docs/design/0021,
	// "State layout"; BENCHMARKS.md, issue 18 "Seventh pass"). Chains
	// whose genesis names no layout stay in LayoutEveryVersion.
	CurrentLayout = LayoutRecordsOnce
)

// KeyStateLayout holds the chain's layout ("2") in chains of
// [LayoutRecordsOnce]; chains of [LayoutEveryVersion] do not have it (their
// app hashes are those of before the layout existed).
const KeyStateLayout = "state/layout"

// Valid reports whether l is a layout this software knows.
func (l StateLayout) Valid() bool { return l == LayoutEveryVersion || l == LayoutRecordsOnce }

// DIDVersionProof decides what a proven state entry (key, value: nil when
// proven absent) shows about version n of DID id, in either layout. The
// registry proves version n by:
//   - didv/<id>/<n> holding it (a superseded version; in LayoutEveryVersion
//     any version), or
//   - did/<id>: the current record, which is version n (returned), or an
//     older version or absent (an error wrapping [ErrNotFound]: versions are
//     numbered 1, 2, … with no gap, so a DID whose current version is below
//     n, or that does not exist, has no version n).
//
// Anything else wraps [ErrProof]: a proof of another key or DID, a record
// whose versionId is not the one its key says, a current record newer than
// n (version n must then be proven by its own key), and a proof that
// didv/<id>/<n> is absent (in LayoutRecordsOnce the current version is not
// there, so that absence shows nothing). value is untrusted bytes until the
// caller has verified the proof; DIDVersionProof only decides what they
// say.
func DIDVersionProof(id string, n int64, key, value []byte) (*DIDRecord, error) {
	if n < 1 {
		return nil, fmt.Errorf("%w: versionId %d", ErrNotFound, n)
	}
	cur := bytes.Equal(key, DIDKey(id))
	if !cur && !bytes.Equal(key, DIDVersionKey(id, n)) {
		return nil, fmt.Errorf("%w: proof is for key %.160q, not for version %d of %s", ErrProof, key, n, id)
	}
	if value == nil {
		if cur {
			return nil, fmt.Errorf("%w: %s (proven absent)", ErrNotFound, id)
		}
		return nil, fmt.Errorf("%w: a proof that %s is absent does not show that version %d of %s does not exist (the current record does)", ErrProof, key, n, id)
	}
	var rec DIDRecord
	if err := json.Unmarshal(value, &rec); err != nil {
		return nil, fmt.Errorf("%w: proven DID record: %v", ErrProof, err)
	}
	if rec.DID != id {
		return nil, fmt.Errorf("%w: proven record is for %.160q, not %s", ErrProof, rec.DID, id)
	}
	m, err := strconv.ParseInt(rec.Metadata.VersionID, 10, 64)
	if err != nil || m < 1 || strconv.FormatInt(m, 10) != rec.Metadata.VersionID {
		return nil, fmt.Errorf("%w: proven record has versionId %.32q", ErrProof, rec.Metadata.VersionID)
	}
	switch {
	case m == n:
		return &rec, nil
	case !cur:
		return nil, fmt.Errorf("%w: %s holds version %d", ErrProof, key, m)
	case m < n:
		return nil, fmt.Errorf("%w: version %d of %s (the current version is %d)", ErrNotFound, n, id, m)
	default:
		return nil, fmt.Errorf("%w: the current record of %s is version %d; version %d must be proven by its own key", ErrProof, id, m, n)
	}
}

// Moving a running chain from LayoutEveryVersion to LayoutRecordsOnce
// (docs/design/0021, "Moving a chain to layout 2"). A governance proposal
// (action [ActionLayoutSchedule], carried by the network's quorum) writes
// the move at [KeyLayoutMove]; at the start of block Height every
// validator's state machine deletes each DID's current-version copy
// didv/<did>/<n>, writes [KeyStateLayout] = 2 and removes KeyLayoutMove. A
// proposal of [ActionLayoutCancel] carried before Height removes it.
const (
	// KeyLayoutMove holds the scheduled [LayoutMove] until its block (absent
	// when none is scheduled, so chains that never schedule one keep their
	// app hashes).
	KeyLayoutMove = "state/move"
	// MinLayoutMoveLead is how many blocks after the block that carries a
	// schedule its height must be, at least ([MinScheduleLead], as for a
	// protocol upgrade): the time every operator has to see it (`medid
	// network layout status`), check the node's disk and, if the network
	// changes its mind, carry a cancel.
	MinLayoutMoveLead = MinScheduleLead
	// LayoutMoveChunk is how many DIDs the move takes per block: the move
	// starts at the start of block Height and goes on at the start of each
	// block after it, in DID order, until every DID is moved. One block of
	// a million DIDs took nearly 4 minutes and 7 GB of memory on the
	// measuring machine (BENCHMARKS.md, issue 18 "Layout move"); a chunk
	// of this size takes a few seconds and a bounded amount of memory,
	// and each chunk's block changes the app hash, so CometBFT makes the
	// next block at once: the move needs no transactions to go on.
	LayoutMoveChunk = 25_000
)

// LayoutMove is a scheduled move of the state layout (the value of
// [KeyLayoutMove], and the layout member of a proposal of
// ActionLayoutSchedule or ActionLayoutCancel).
type LayoutMove struct {
	// Layout is the layout moved to (only LayoutRecordsOnce).
	Layout StateLayout `json:"layout"`
	// Height is the block at whose start the state moves.
	Height int64 `json:"height"`
	// Proposal is the proposal that scheduled it (in KeyLayoutMove only),
	// Scheduled the block that carried it.
	Proposal  string `json:"proposal,omitempty"`
	Scheduled int64  `json:"scheduled,omitempty"`
	// Cursor is the last DID moved while the move is under way (in
	// KeyLayoutMove only, from block Height until the block that moves the
	// last DID, which removes KeyLayoutMove): the DIDs up to it (in key
	// order) are stored as in LayoutRecordsOnce and written by its rules,
	// the others as in LayoutEveryVersion. Reads need not know it: both
	// layouts read alike (see [DIDVersionProof]).
	Cursor string `json:"cursor,omitempty"`
	// Moved counts the DIDs moved so far (in KeyLayoutMove only).
	Moved int64 `json:"moved,omitempty"`
}

// LayoutOf is the layout the records of DID id follow in a state of
// layout l while move m (nil: none) is under way.
func LayoutOf(l StateLayout, m *LayoutMove, id string) StateLayout {
	if l == LayoutEveryVersion && m != nil && m.Cursor != "" && id <= m.Cursor {
		return m.Layout
	}
	return l
}
