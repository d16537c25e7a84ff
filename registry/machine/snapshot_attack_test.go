package machine

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"strings"
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"
)

// forgedNode is one record of the snapshot node stream (the format
// exportTree writes).
type forgedNode struct {
	height int8
	key    string
	value  []byte // nil for an inner node
}

func forgedStream(t testing.TB, nodes []forgedNode) []byte {
	t.Helper()
	var raw bytes.Buffer
	for _, n := range nodes {
		raw.WriteByte(byte(n.height))
		raw.Write(binary.AppendUvarint(nil, 1)) // version
		raw.Write(binary.AppendUvarint(nil, uint64(len(n.key))))
		raw.WriteString(n.key)
		if n.value == nil {
			raw.WriteByte(0)
		} else {
			raw.Write(binary.AppendUvarint(nil, uint64(len(n.value))+1))
			raw.Write(n.value)
		}
	}
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	if _, err := zw.Write(raw.Bytes()); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return z.Bytes()
}

// TestSnapshotStreamForgedByPeer is the attack of a peer serving state sync
// with a snapshot it made up. Its metadata and chunk hashes are its own, so
// they agree with its chunks; only the app hash at the end shows the state
// is not the network's. Before that check, the node stream must not make
// the joining node hold more than an honest stream could: IAVL's importer
// keeps every node whose parent has not come yet in memory, and a stream of
// leaves alone (4 MiB values of zeros compress a thousandfold) made it keep
// them all, so one small chunk could take a joining node's memory.
func TestSnapshotStreamForgedByPeer(t *testing.T) {
	leaves := func(n, size int) []forgedNode {
		var out []forgedNode
		for i := range n {
			out = append(out, forgedNode{0, strings.Repeat("k", 8) + string(rune('a'+i%26)) + string(rune('a'+i/26%26)) + string(rune('a'+i/676%26)), make([]byte, size)})
		}
		return out
	}
	for _, tc := range []struct {
		name  string
		nodes []forgedNode
		want  string // "" = accepted by the stream reader
	}{
		{"one leaf (a state of one key)", leaves(1, 10), ""},
		{"two leaves and their parent", append(leaves(2, 10), forgedNode{1, "kkkkkkkkbaa", nil}), ""},
		{"leaves alone, never a parent", leaves(2000, 4<<10), "pending"},
		{"an inner node without two subtrees before it", append(leaves(1, 10), forgedNode{1, "kkkkkkkkaaa", nil}), "without its two subtrees"},
		{"an inner node not above its children", append(leaves(2, 10), forgedNode{1, "x", nil}, forgedNode{1, "y", nil}), "without its two subtrees"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dst, err := New(Config{Dir: t.TempDir(), SnapshotInterval: -1, Logger: testLogger(t)})
			if err != nil {
				t.Fatal(err)
			}
			defer dst.Close()
			imp, err := dst.tree.Import(5)
			if err != nil {
				t.Fatal(err)
			}
			defer imp.Close()
			stream := forgedStream(t, tc.nodes)
			err = importStream(bytes.NewReader(stream), imp, nil)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused a well-formed stream: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want a refusal saying %q", err, tc.want)
			}
		})
	}

	// Through the ABCI calls, as CometBFT's state sync makes them: the forged
	// snapshot is refused and leaves nothing behind.
	stream := forgedStream(t, leaves(5000, 64<<10))
	var chunks [][]byte
	for len(stream) > 0 {
		n := min(len(stream), SnapshotChunkSize)
		chunks, stream = append(chunks, stream[:n]), stream[n:]
	}
	var hashes [][]byte
	for _, c := range chunks {
		s := sha256.Sum256(c)
		hashes = append(hashes, s[:])
	}
	meta, _ := json.Marshal(snapshotMeta{Format: SnapshotFormat, Height: 5, Nodes: 5000, Chunks: hashes})
	snap := &abci.Snapshot{Height: 5, Format: SnapshotFormat, Chunks: uint32(len(chunks)), Hash: snapshotHash(hashes), Metadata: meta}
	dst, err := New(Config{Dir: t.TempDir(), SnapshotInterval: -1, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	ctx := context.Background()
	trusted := bytes.Repeat([]byte{7}, sha256.Size) // what the light client verified
	if o, err := dst.OfferSnapshot(ctx, &abci.RequestOfferSnapshot{Snapshot: snap, AppHash: trusted}); err != nil || o.Result != abci.ResponseOfferSnapshot_ACCEPT {
		t.Fatalf("offer: %v %v", o, err)
	}
	var last abci.ResponseApplySnapshotChunk_Result
	for i, c := range chunks {
		r, err := dst.ApplySnapshotChunk(ctx, &abci.RequestApplySnapshotChunk{Index: uint32(i), Chunk: c, Sender: "forger"})
		if err != nil {
			t.Fatal(err)
		}
		if last = r.Result; last != abci.ResponseApplySnapshotChunk_ACCEPT {
			break
		}
	}
	if last != abci.ResponseApplySnapshotChunk_REJECT_SNAPSHOT {
		t.Fatalf("a forged snapshot: %v, want REJECT_SNAPSHOT", last)
	}
	if h, _ := dst.LastCommit(); h != 0 {
		t.Fatalf("a refused snapshot left state at height %d", h)
	}

	// A chunk larger than any this software writes, even one that matches
	// the hash its sender announced, is not fed to the import.
	big := make([]byte, SnapshotChunkSize+1)
	s := sha256.Sum256(big)
	meta, _ = json.Marshal(snapshotMeta{Format: SnapshotFormat, Height: 5, Nodes: 1, Chunks: [][]byte{s[:]}})
	snap = &abci.Snapshot{Height: 5, Format: SnapshotFormat, Chunks: 1, Hash: snapshotHash([][]byte{s[:]}), Metadata: meta}
	if o, err := dst.OfferSnapshot(ctx, &abci.RequestOfferSnapshot{Snapshot: snap, AppHash: trusted}); err != nil || o.Result != abci.ResponseOfferSnapshot_ACCEPT {
		t.Fatalf("offer: %v %v", o, err)
	}
	r, err := dst.ApplySnapshotChunk(ctx, &abci.RequestApplySnapshotChunk{Index: 0, Chunk: big, Sender: "forger"})
	if err != nil || r.Result != abci.ResponseApplySnapshotChunk_REJECT_SNAPSHOT || len(r.RejectSenders) != 1 || r.RejectSenders[0] != "forger" {
		t.Fatalf("an oversized chunk: %+v %v, want REJECT_SNAPSHOT rejecting its sender", r, err)
	}
}

// FuzzStreamShape: whatever heights a peer sends, no more than
// maxPendingNodes nodes are ever held waiting for a parent; and the
// post-order walk of any tree (built from the input: each byte splits a
// range of leaves) is accepted, ending with the root alone.
func FuzzStreamShape(f *testing.F) {
	f.Add([]byte{0, 0, 1})
	f.Add([]byte{0, 0, 0, 0, 0})
	f.Add([]byte{3, 7, 1, 200, 9, 9, 9})
	f.Fuzz(func(t *testing.T, data []byte) {
		var s streamShape
		for _, b := range data {
			if s.add(int8(b%8)) != nil {
				break
			}
			if len(s.pending) > maxPendingNodes {
				t.Fatalf("%d nodes pending", len(s.pending))
			}
		}
		// A tree of up to 4096 leaves, split where the input says; its
		// stream is accepted when its height fits the stream's int8, as
		// every IAVL tree's does (an AVL tree of 2^64 leaves is < 93 high).
		leaves := 1 + len(data)*16
		var heights []int
		i := 0
		var walk func(n int) int
		walk = func(n int) int {
			if n == 1 {
				heights = append(heights, 0)
				return 0
			}
			split := n / 2
			if i < len(data) {
				split = 1 + int(data[i])%(n-1)
				i++
			}
			l, r := walk(split), walk(n-split)
			h := max(l, r) + 1
			heights = append(heights, h)
			return h
		}
		root := walk(min(leaves, 4096))
		if root > 127 {
			return
		}
		var tree streamShape
		for _, h := range heights {
			if err := tree.add(int8(h)); err != nil {
				t.Fatalf("refused the post-order walk of a tree %d high: %v", root, err)
			}
			if len(tree.pending) > root+1 {
				t.Fatalf("%d nodes pending in a tree %d high", len(tree.pending), root)
			}
		}
		if len(tree.pending) != 1 || int(tree.pending[0]) != root {
			t.Fatalf("after a whole tree: %v, want its root %d", tree.pending, root)
		}
	})
}
