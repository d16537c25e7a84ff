package machine

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/cosmos/iavl"
)

// ResolveOptions selects a version of a DID document. At most one field may
// be set; the zero value selects the current version.
type ResolveOptions struct {
	// VersionID selects the version with this versionId ("1", "2", …).
	VersionID string
	// VersionTime selects the version that was current at this time: the
	// last version whose update (or creation) block time is not after it.
	VersionTime *time.Time
}

// ResolveDID returns a version of a DID's record from the latest committed
// state. It returns an error wrapping [ErrNotFound] for an unknown DID or
// version (or a time before the DID existed), and for a deactivated DID (or
// a deactivation version) the record together with an error wrapping
// [ErrDeactivated].
func (a *App) ResolveDID(did string, opts ResolveOptions) (*DIDRecord, error) {
	if !validKeyPart(did) {
		return nil, fmt.Errorf("%w: DID %.128q", ErrNotFound, did)
	}
	if opts.VersionID != "" && opts.VersionTime != nil {
		return nil, fmt.Errorf("%w: versionId and versionTime are exclusive", ErrInvalid)
	}
	view, _ := a.view()
	var rec *DIDRecord
	var err error
	switch {
	case opts.VersionID != "":
		n, perr := strconv.ParseInt(opts.VersionID, 10, 64)
		if perr != nil || n < 1 || strconv.FormatInt(n, 10) != opts.VersionID {
			return nil, fmt.Errorf("%w: versionId %.32q of %s", ErrNotFound, opts.VersionID, did)
		}
		rec, err = getJSON[DIDRecord](view, DIDVersionKey(did, n))
	case opts.VersionTime != nil:
		rec, err = didAtTime(view, did, *opts.VersionTime)
	default:
		cur, _ := a.committedState()
		rec, err = getJSON[DIDRecord](cur, DIDKey(did))
	}
	if err != nil {
		return nil, fmt.Errorf("%w: DID %s", err, did)
	}
	if rec.Metadata.Deactivated {
		return rec, fmt.Errorf("%w: %s", ErrDeactivated, did)
	}
	return rec, nil
}

// versionTime is when a DID version became current.
func (r *DIDRecord) versionTime() time.Time {
	if r.Metadata.Updated != nil {
		return *r.Metadata.Updated
	}
	if r.Metadata.Created != nil {
		return *r.Metadata.Created
	}
	return time.Time{}
}

func didAtTime(view *iavl.ImmutableTree, did string, at time.Time) (*DIDRecord, error) {
	start := []byte(PrefixDIDVersion + did + "/")
	end := append(append([]byte(nil), start[:len(start)-1]...), '/'+1)
	var found *DIDRecord
	var derr error
	view.IterateRange(start, end, true, func(_, value []byte) bool {
		var r DIDRecord
		if err := json.Unmarshal(value, &r); err != nil {
			derr = fmt.Errorf("%w: decode DID version: %v", ErrInternal, err)
			return true
		}
		if r.versionTime().After(at) {
			return true
		}
		found = &r
		return false
	})
	if derr != nil {
		return nil, derr
	}
	if found == nil {
		return nil, fmt.Errorf("%w: no version at %s", ErrNotFound, at.UTC().Format(time.RFC3339))
	}
	return found, nil
}

// Accreditations returns an issuer's accreditation record with its full
// history from the latest committed state, or an error wrapping
// [ErrNotFound] if the DID was never accredited.
func (a *App) Accreditations(did string) (*IssuerRecord, error) {
	if !validKeyPart(did) {
		return nil, fmt.Errorf("%w: issuer %.128q", ErrNotFound, did)
	}
	view, _ := a.view()
	rec, err := getJSON[IssuerRecord](view, IssuerKey(did))
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
func (a *App) StatusList(id string, version int64) (*StatusListRecord, error) {
	if !validKeyPart(id) || version < 0 {
		return nil, fmt.Errorf("%w: status list %.128q version %d", ErrNotFound, id, version)
	}
	view, _ := a.view()
	k := StatusListKey(id)
	if version > 0 {
		k = StatusListVersionKey(id, version)
	}
	rec, err := getJSON[StatusListRecord](view, k)
	if err != nil {
		return nil, fmt.Errorf("%w: status list %s version %d", err, id, version)
	}
	return rec, nil
}

// Governance returns the governance DIDs from genesis, sorted.
func (a *App) Governance() ([]string, error) {
	view, _ := a.view()
	start := []byte(PrefixGovernance)
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
		return nil, fmt.Errorf("%w: read %s: %v", ErrInternal, k, err)
	}
	if v == nil {
		return nil, ErrNotFound
	}
	var out T
	if err := json.Unmarshal(v, &out); err != nil {
		return nil, fmt.Errorf("%w: decode %s: %v", ErrInternal, k, err)
	}
	return &out, nil
}

// marshal encodes a state record. encoding/json writes struct fields in
// declaration order and sorts map keys, so the bytes are deterministic.
func marshal(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("%w: encode record: %v", ErrInternal, err)
	}
	return b, nil
}
