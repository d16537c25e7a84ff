package wallet

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"runtime/debug"

	bolt "go.etcd.io/bbolt"
)

// bbolt's on-disk meta page, as bbolt v1.4 writes it: a 16-byte page
// header, then magic, version, page size, flags, the root bucket (root
// page id, sequence), the freelist page id, the high-water page id, the
// transaction id and an FNV-64a checksum of everything before it. Two
// copies sit in pages 0 and 1.
const (
	boltMagic       = 0xED0CDAED
	boltVersion     = 2
	boltPageHeader  = 16
	boltMetaSize    = 56 // magic … txid: what the checksum covers
	boltMinPageSize = 1024
)

type boltMeta struct {
	pageSize          uint32
	root, freelist, n uint64 // page ids; n: first page id past the file's data
	txid              uint64
}

// checkBoltFile refuses a wallet file bbolt would crash on rather than
// report: it reads both meta pages itself and requires at least one whose
// checksum holds and whose pages all lie inside the file. bbolt maps the
// file and follows those page ids blindly; a truncated file then faults in
// the mapping (SIGSEGV, "invalid freelist page") instead of returning an
// error. The file is only read.
func checkBoltFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	size := st.Size()
	var firstErr error
	for i := range 2 {
		m, err := readBoltMeta(f, i)
		if err == nil {
			end := int64(m.n) * int64(m.pageSize)
			switch {
			case end > size:
				err = fmt.Errorf("meta page %d says the file holds %d bytes, it has %d (truncated)", i, end, size)
			case m.root >= m.n || (m.freelist >= m.n && m.freelist != ^uint64(0)):
				err = fmt.Errorf("meta page %d points past the end of the data", i)
			default:
				return nil
			}
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return fmt.Errorf("%w: %s: %v", ErrCorrupt, path, firstErr)
}

func readBoltMeta(r io.ReaderAt, idx int) (*boltMeta, error) {
	// The page size is in the meta itself; page 1 sits one page in. Read
	// page 0's copy first to learn it (or try the usual sizes for page 1).
	var off int64
	if idx == 1 {
		m0, err := readBoltMeta(r, 0)
		ps := int64(os.Getpagesize())
		if err == nil {
			ps = int64(m0.pageSize)
		}
		off = ps
	}
	buf := make([]byte, boltPageHeader+boltMetaSize+8)
	if _, err := r.ReadAt(buf, off); err != nil {
		return nil, fmt.Errorf("meta page %d unreadable: %v", idx, err)
	}
	b := buf[boltPageHeader:]
	le := binary.LittleEndian
	if le.Uint32(b[0:]) != boltMagic || le.Uint32(b[4:]) != boltVersion {
		return nil, fmt.Errorf("meta page %d: not a bbolt file of version %d", idx, boltVersion)
	}
	h := fnv.New64a()
	h.Write(b[:boltMetaSize])
	if h.Sum64() != le.Uint64(b[boltMetaSize:]) {
		return nil, fmt.Errorf("meta page %d: checksum mismatch", idx)
	}
	m := &boltMeta{pageSize: le.Uint32(b[8:]), root: le.Uint64(b[16:]), freelist: le.Uint64(b[32:]), n: le.Uint64(b[40:]), txid: le.Uint64(b[48:])}
	if m.pageSize < boltMinPageSize || m.pageSize&(m.pageSize-1) != 0 {
		return nil, fmt.Errorf("meta page %d: page size %d", idx, m.pageSize)
	}
	return m, nil
}

// Check walks every page of the store (bbolt's own consistency check) and
// returns an error wrapping [ErrCorrupt] at the first problem. A fault in
// the file's mapping (damage bbolt follows into) is reported the same way
// instead of crashing the process.
func (s *BoltStore) Check() (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v", ErrCorrupt, r)
		}
	}()
	return s.db.View(func(tx *bolt.Tx) error {
		for e := range tx.Check() {
			return fmt.Errorf("%w: %v", ErrCorrupt, e)
		}
		return nil
	})
}
