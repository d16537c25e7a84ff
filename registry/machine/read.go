package machine

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/medid/medid/registry/ledger"
)

// ResolveDID returns a version of a DID's record from the latest committed
// state. It returns an error wrapping [ErrNotFound] for an unknown DID or
// version (or a time before the DID existed), and for a deactivated DID (or
// a deactivation version) the record together with an error wrapping
// [ErrDeactivated].
func (a *App) ResolveDID(did string, opts ledger.ResolveOptions) (*ledger.DIDRecord, error) {
	if !ledger.ValidKeyPart(did) {
		return nil, fmt.Errorf("%w: DID %.128q", ledger.ErrNotFound, did)
	}
	if opts.VersionID != "" && opts.VersionTime != nil {
		return nil, fmt.Errorf("%w: versionId and versionTime are exclusive", ledger.ErrInvalid)
	}
	// One committed version for every read below (the current record
	// and the superseded versions of the same height).
	st, _ := a.committedState()
	var rec *ledger.DIDRecord
	var err error
	switch {
	case opts.VersionID != "":
		n, perr := strconv.ParseInt(opts.VersionID, 10, 64)
		if perr != nil || n < 1 || strconv.FormatInt(n, 10) != opts.VersionID {
			return nil, fmt.Errorf("%w: versionId %.32q of %s", ledger.ErrNotFound, opts.VersionID, did)
		}
		rec, err = didVersion(st, did, n)
	case opts.VersionTime != nil:
		rec, err = didAtTime(st, did, *opts.VersionTime)
	default:
		rec, err = getJSON[ledger.DIDRecord](st, ledger.DIDKey(did))
	}
	if err != nil {
		return nil, fmt.Errorf("%w: DID %s", err, did)
	}
	if rec.Metadata.Deactivated {
		return rec, fmt.Errorf("%w: %s", ledger.ErrDeactivated, did)
	}
	return rec, nil
}

// versionReader reads one committed version of the state.
type versionReader interface {
	reader
	IterateRange(start, end []byte, ascending bool, fn func(k, v []byte) bool) bool
}

// didVersion returns version n of a DID's record, in either state layout
// (ledger.StateLayout): the current record if it is version n, else the
// superseded version under didv/ (for n below the current version; a
// version above it does not exist).
func didVersion(st reader, did string, n int64) (*ledger.DIDRecord, error) {
	cur, err := getJSON[ledger.DIDRecord](st, ledger.DIDKey(did))
	if err != nil {
		return nil, err
	}
	m, err := strconv.ParseInt(cur.Metadata.VersionID, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("%w: stored versionId %q", ledger.ErrInternal, cur.Metadata.VersionID)
	}
	switch {
	case n == m:
		return cur, nil
	case n > m:
		return nil, fmt.Errorf("%w: version %d (the current version is %d)", ledger.ErrNotFound, n, m)
	}
	rec, err := getJSON[ledger.DIDRecord](st, ledger.DIDVersionKey(did, n))
	if errors.Is(err, ledger.ErrNotFound) {
		// Every version below the current one is stored in both layouts.
		return nil, fmt.Errorf("%w: version %d of %s is missing from the state", ledger.ErrInternal, n, did)
	}
	return rec, err
}

// didAtTime returns the version of a DID's record that was current at
// time at, in either state layout: the current record if it started at or
// before at, else the newest superseded version that did.
func didAtTime(st versionReader, did string, at time.Time) (*ledger.DIDRecord, error) {
	cur, err := getJSON[ledger.DIDRecord](st, ledger.DIDKey(did))
	if err != nil {
		return nil, err
	}
	if !cur.VersionTime().After(at) {
		return cur, nil
	}
	start := []byte(ledger.PrefixDIDVersion + did + "/")
	end := append(append([]byte(nil), start[:len(start)-1]...), '/'+1)
	var found *ledger.DIDRecord
	var derr error
	st.IterateRange(start, end, true, func(_, value []byte) bool {
		var r ledger.DIDRecord
		if err := json.Unmarshal(value, &r); err != nil {
			derr = fmt.Errorf("%w: decode DID version: %v", ledger.ErrInternal, err)
			return true
		}
		if r.VersionTime().After(at) {
			return true
		}
		found = &r
		return false
	})
	if derr != nil {
		return nil, derr
	}
	if found == nil {
		return nil, fmt.Errorf("%w: no version at %s", ledger.ErrNotFound, at.UTC().Format(time.RFC3339))
	}
	return found, nil
}

// Accreditations returns an issuer's accreditation record with its full
// history from the latest committed state, or an error wrapping
// [ErrNotFound] if the DID was never accredited.
func (a *App) Accreditations(did string) (*ledger.IssuerRecord, error) {
	if !ledger.ValidKeyPart(did) {
		return nil, fmt.Errorf("%w: issuer %.128q", ledger.ErrNotFound, did)
	}
	view, _ := a.view()
	rec, err := getJSON[ledger.IssuerRecord](view, ledger.IssuerKey(did))
	if err != nil {
		return nil, fmt.Errorf("%w: issuer %s", err, did)
	}
	return rec, nil
}

// AccreditedAt reports whether issuer did was accredited for credType at
// time at (see [Accreditation.ActiveAt]), by the latest committed state. An
// issuer that was never accredited yields false and no error; errors report
// storage failures only.
func (a *App) AccreditedAt(did, credType string, at time.Time) (bool, error) {
	rec, err := a.Accreditations(did)
	if err != nil {
		if isNotFound(err) {
			return false, nil
		}
		return false, err
	}
	return rec.AccreditedAt(credType, at), nil
}

// StatusList returns version version of status list id (0 = the latest) from
// the latest committed state, or an error wrapping [ErrNotFound].
func (a *App) StatusList(id string, version int64) (*ledger.StatusListRecord, error) {
	if !ledger.ValidKeyPart(id) || version < 0 {
		return nil, fmt.Errorf("%w: status list %.128q version %d", ledger.ErrNotFound, id, version)
	}
	view, _ := a.view()
	k := ledger.StatusListKey(id)
	if version > 0 {
		k = ledger.StatusListVersionKey(id, version)
	}
	rec, err := getJSON[ledger.StatusListRecord](view, k)
	if err != nil {
		return nil, fmt.Errorf("%w: status list %s version %d", err, id, version)
	}
	return rec, nil
}

// Governance returns the governance DIDs from genesis, sorted.
func (a *App) Governance() ([]string, error) {
	view, _ := a.view()
	start := []byte(ledger.PrefixGovernance)
	end := []byte("gov0") // '/'+1 == '0'
	var out []string
	view.IterateRange(start, end, true, func(k, _ []byte) bool {
		out = append(out, string(k[len(start):]))
		return false
	})
	return out, nil
}

// getJSON reads and decodes the value at k, or returns ErrNotFound.
func getJSON[T any](r interface{ Get([]byte) ([]byte, error) }, k []byte) (*T, error) {
	v, err := r.Get(k)
	if err != nil {
		return nil, fmt.Errorf("%w: read %s: %v", ledger.ErrInternal, k, err)
	}
	if v == nil {
		return nil, ledger.ErrNotFound
	}
	var out T
	if err := json.Unmarshal(v, &out); err != nil {
		return nil, fmt.Errorf("%w: decode %s: %v", ledger.ErrInternal, k, err)
	}
	return &out, nil
}

// marshal encodes a state record. encoding/json writes struct fields in
// declaration order and sorts map keys, so the bytes are deterministic.
func marshal(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("%w: encode record: %v", ledger.ErrInternal, err)
	}
	return b, nil
}

// Scan calls fn with every key under prefix and its value, in key order, in
// the latest committed state, until fn returns a non-nil error (which Scan
// returns). It is for audits of what the ledger holds (e.g. that no consent
// or audit record names a patient); the slices are only valid during the
// call. Safe for concurrent use.
func (a *App) Scan(prefix string, fn func(key, value []byte) error) error {
	view, _ := a.view()
	start := []byte(prefix)
	var end []byte
	if prefix != "" {
		end = append([]byte(prefix[:len(prefix)-1]), prefix[len(prefix)-1]+1)
	}
	var ferr error
	view.IterateRange(start, end, true, func(k, v []byte) bool {
		ferr = fn(k, v)
		return ferr != nil
	})
	return ferr
}
