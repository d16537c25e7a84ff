package wallet

import (
	"bytes"
	"fmt"
	"slices"
	"sync"
)

// MemStore is an in-memory [Store] for tests and for staging. Nothing
// survives the process. The zero value is not usable: call [NewMemStore].
type MemStore struct {
	mu      sync.RWMutex
	buckets map[string]map[string][]byte // guarded by mu; nil after Close
}

// NewMemStore returns an empty in-memory store.
func NewMemStore() *MemStore {
	return &MemStore{buckets: map[string]map[string][]byte{}}
}

// Get implements [Store].
func (m *MemStore) Get(bucket string, id []byte) ([]byte, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.buckets == nil {
		return nil, ErrClosed
	}
	v, ok := m.buckets[bucket][string(id)]
	if !ok {
		return nil, fmt.Errorf("%w: record in %s", ErrNotFound, bucket)
	}
	return bytes.Clone(v), nil
}

// Put implements [Store].
func (m *MemStore) Put(bucket string, id, value []byte) error {
	return m.Batch([]Op{{Bucket: bucket, ID: id, Value: value}})
}

// Delete implements [Store].
func (m *MemStore) Delete(bucket string, id []byte) error {
	return m.Batch([]Op{{Bucket: bucket, ID: id, Delete: true}})
}

// Batch implements [Store]: ops are validated first, then applied under one
// lock, so either all apply or none does.
func (m *MemStore) Batch(ops []Op) error {
	for _, op := range ops {
		if err := validOp(op.Bucket, op.ID); err != nil {
			return err
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.buckets == nil {
		return ErrClosed
	}
	for _, op := range ops {
		b := m.buckets[op.Bucket]
		if op.Delete {
			delete(b, string(op.ID))
			continue
		}
		if b == nil {
			b = map[string][]byte{}
			m.buckets[op.Bucket] = b
		}
		b[string(op.ID)] = bytes.Clone(op.Value)
	}
	return nil
}

// List implements [Store].
func (m *MemStore) List(bucket string, fn func(id, value []byte) error) error {
	m.mu.RLock()
	if m.buckets == nil {
		m.mu.RUnlock()
		return ErrClosed
	}
	b := m.buckets[bucket]
	ids := make([]string, 0, len(b))
	for id := range b {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	vals := make([][]byte, len(ids))
	for i, id := range ids {
		vals[i] = bytes.Clone(b[id])
	}
	m.mu.RUnlock()
	for i, id := range ids {
		if err := fn([]byte(id), vals[i]); err != nil {
			return err
		}
	}
	return nil
}

// Close implements [Store].
func (m *MemStore) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.buckets = nil
	return nil
}
