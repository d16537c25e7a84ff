package light

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync"

	"github.com/medid/medid/internal/atomicfile"
)

// MemStore is a [Store] in memory. The zero value is empty and ready; it is
// safe for concurrent use.
type MemStore struct {
	mu sync.Mutex // guards lb
	lb *LightBlock
}

// Load returns the stored block, nil if none.
func (m *MemStore) Load() (*LightBlock, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lb, nil
}

// Save replaces the stored block.
func (m *MemStore) Save(lb *LightBlock) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lb = lb
	return nil
}

// FileStore is a [Store] in one JSON file, replaced atomically:
//
//	{"chainId": "…", "height": 42, "hash": "<hex>",
//	 "signedHeader": "<base64 protobuf>", "validatorSet": "<base64 protobuf>"}
//
// The height and hash are there for people (and for [TrustedAt]); Load
// trusts only the protobuf parts, and refuses a file whose height or hash
// disagree with them. Not safe for concurrent use by several processes.
type FileStore struct {
	Path    string
	ChainID string
}

type storedBlock struct {
	ChainID      string `json:"chainId"`
	Height       int64  `json:"height"`
	Hash         string `json:"hash"`
	SignedHeader []byte `json:"signedHeader"`
	ValidatorSet []byte `json:"validatorSet"`
}

// maxStoreFile bounds the file Load reads (a set of a few hundred
// validators is well under it).
const maxStoreFile = 4 << 20

// Load reads the file; a missing file is no block and no error.
func (f FileStore) Load() (*LightBlock, error) {
	file, err := os.Open(f.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer file.Close()
	data, err := io.ReadAll(io.LimitReader(file, maxStoreFile+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxStoreFile {
		return nil, fmt.Errorf("%s: larger than %d bytes", f.Path, maxStoreFile)
	}
	var s storedBlock
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("%s: %w", f.Path, err)
	}
	lb, err := DecodeLightBlock(s.SignedHeader, s.ValidatorSet, f.ChainID)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Path, err)
	}
	if lb.Height() != s.Height || fmt.Sprintf("%X", lb.hash) != s.Hash {
		return nil, fmt.Errorf("%s: height %d and hash %s do not match the stored header (%d, %X)", f.Path, s.Height, s.Hash, lb.Height(), lb.hash)
	}
	return lb, nil
}

// Save writes lb (mode 0644: nothing in it is secret).
func (f FileStore) Save(lb *LightBlock) error {
	sh, vs, err := lb.Encode()
	if err != nil {
		return err
	}
	data, err := json.MarshalIndent(storedBlock{ChainID: lb.Header.ChainID, Height: lb.Height(),
		Hash: fmt.Sprintf("%X", lb.hash), SignedHeader: sh, ValidatorSet: vs}, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(f.Path, append(data, '\n'), 0o644)
}
