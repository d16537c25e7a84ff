package machine

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/tx"
)

// directoryWrite applies directory.add, directory.update,
// directory.suspend and directory.remove. signingKey already required a
// governance signature: no DID can write its own entry. On a network
// whose policy asks a quorum for directory writes, one signature is not
// enough (see oneKeyMayWrite): the change is proposed and approved.
func (a *App) directoryWrite(r reader, t *tx.Tx, env *execEnv) ([]write, *receipt, error) {
	if err := a.oneKeyMayWrite(r, t.Payload.Type); err != nil {
		return nil, nil, err
	}
	return a.directoryChange(r, &t.Payload, "", env)
}

// directoryChange checks the directory write p (p.DID the governance DID
// that signed or proposed it) against state r and returns its writes.
// proposal is the proposal whose quorum carries it ("" for a write by one
// signature), kept in the version's history.
func (a *App) directoryChange(r reader, p *tx.Payload, proposal string, env *execEnv) ([]write, *receipt, error) {
	if err := checkOrgDID(r, p.Org); err != nil {
		return nil, nil, err
	}
	rec, err := getJSON[ledger.DirectoryRecord](r, ledger.DirectoryKey(p.Org))
	switch {
	case errors.Is(err, ledger.ErrNotFound):
		rec = nil
	case err != nil:
		return nil, nil, err
	}
	var cur *ledger.DirectoryVersion
	if rec != nil {
		cur = rec.Current()
	}
	next := ledger.DirectoryVersion{By: p.DID, Proposal: proposal, Recorded: env.time, Height: env.height, Status: ledger.DirectoryActive}
	switch {
	case p.Type == tx.DirectoryAdd:
		if rec != nil {
			return nil, nil, fmt.Errorf("%w: %s is in the directory (version %d, %s): change it with directory.update", ledger.ErrExists, p.Org, cur.Version, cur.Status)
		}
		rec = &ledger.DirectoryRecord{DID: p.Org}
		next.Version = 1
	case rec == nil:
		return nil, nil, fmt.Errorf("%w: %s is not in the directory (add it with directory.add)", ledger.ErrNotFound, p.Org)
	case cur.Status == ledger.DirectoryRemoved:
		return nil, nil, fmt.Errorf("%w: %s was removed from the directory at height %d: removal is final", ledger.ErrInvalid, p.Org, cur.Height)
	case p.Version != cur.Version+1:
		return nil, nil, fmt.Errorf("%w: version %d, but the entry of %s is at version %d: the change must be version %d", ledger.ErrStaleVersion, p.Version, p.Org, cur.Version, cur.Version+1)
	case len(rec.Versions) >= ledger.MaxDirectoryVersions:
		return nil, nil, fmt.Errorf("%w: the entry of %s has %d versions, the most one entry keeps", ledger.ErrInvalid, p.Org, len(rec.Versions))
	default:
		next.Version = p.Version
	}
	switch p.Type {
	case tx.DirectoryAdd, tx.DirectoryUpdate:
		next.Entry = *p.Entry
	case tx.DirectorySuspend:
		if cur.Status == ledger.DirectorySuspended {
			return nil, nil, fmt.Errorf("%w: %s is suspended since height %d", ledger.ErrExists, p.Org, cur.Height)
		}
		next.Entry, next.Status, next.Reason = cur.Entry, ledger.DirectorySuspended, p.Reason
	case tx.DirectoryRemove:
		next.Entry, next.Status, next.Reason = cur.Entry, ledger.DirectoryRemoved, p.Reason
	}
	var writes []write
	nw, err := a.nameWrites(r, p.Org, cur, &next)
	if err != nil {
		return nil, nil, err
	}
	writes = append(writes, nw...)
	aw, err := aliasWrites(r, p.Org, cur, &next)
	if err != nil {
		return nil, nil, err
	}
	writes = append(writes, aw...)
	rc := &receipt{Type: p.Type, DID: p.DID, Org: p.Org, Version: next.Version}
	if env.checkOnly {
		return nil, rc, nil
	}
	rec.Versions = append(rec.Versions, next)
	v, err := marshal(rec)
	if err != nil {
		return nil, nil, err
	}
	return append(writes, write{ledger.DirectoryKey(p.Org), v}), rc, nil
}

// checkOrgDID accepts an organisation DID that is a registered, active
// did:medid or a valid did:key (checkIssuer's rule).
func checkOrgDID(r reader, org string) error {
	if err := checkIssuer(r, org); err != nil {
		return fmt.Errorf("organisation: %w", err)
	}
	return nil
}

// holdsNames returns the skeletons of a version's names (none for a
// removed entry: its names are free again).
func holdsNames(v *ledger.DirectoryVersion) []string {
	if v == nil || v.Status == ledger.DirectoryRemoved {
		return nil
	}
	out := []string{tx.NameSkeleton(v.Entry.DisplayName)}
	if sk := tx.NameSkeleton(v.Entry.LegalName); sk != out[0] {
		out = append(out, sk)
	}
	return out
}

// nameWrites enforces the duplicate and confusable rule for next and
// returns the writes that move org between name holder lists: a name
// whose skeleton another organisation holds is refused unless next lists
// that organisation in DistinctFrom (governance checked they differ).
func (a *App) nameWrites(r reader, org string, cur, next *ledger.DirectoryVersion) ([]write, error) {
	old, now := holdsNames(cur), holdsNames(next)
	var writes []write
	for _, sk := range now {
		names, err := getJSON[ledger.DirectoryNames](r, ledger.DirectoryNameKey(sk))
		switch {
		case errors.Is(err, ledger.ErrNotFound):
			names = &ledger.DirectoryNames{Skeleton: sk}
		case err != nil:
			return nil, err
		}
		for _, d := range names.DIDs {
			if d == org || slices.Contains(next.Entry.DistinctFrom, d) {
				continue
			}
			// Governance may have told them apart from the other side.
			other, err := getJSON[ledger.DirectoryRecord](r, ledger.DirectoryKey(d))
			if err != nil {
				return nil, fmt.Errorf("%w: name holder %s: %v", ledger.ErrInternal, d, err)
			}
			if c := other.Current(); c == nil || !slices.Contains(c.Entry.DistinctFrom, org) {
				return nil, fmt.Errorf("%w: the name of %s looks the same as the name of %s, which is in the directory: refused as an imitation (if they are different organisations, list %s in distinctFrom and show them apart, e.g. by country)", ledger.ErrExists, org, d, d)
			}
		}
		if slices.Contains(old, sk) || slices.Contains(names.DIDs, org) {
			continue
		}
		names.DIDs = append(names.DIDs, org)
		slices.Sort(names.DIDs)
		v, err := marshal(names)
		if err != nil {
			return nil, err
		}
		writes = append(writes, write{ledger.DirectoryNameKey(sk), v})
	}
	for _, sk := range old {
		if slices.Contains(now, sk) {
			continue
		}
		names, err := getJSON[ledger.DirectoryNames](r, ledger.DirectoryNameKey(sk))
		if err != nil {
			return nil, fmt.Errorf("%w: name holders of %s: %v", ledger.ErrInternal, org, err)
		}
		names.DIDs = slices.DeleteFunc(names.DIDs, func(d string) bool { return d == org })
		v, err := marshal(names)
		if err != nil {
			return nil, err
		}
		writes = append(writes, write{ledger.DirectoryNameKey(sk), v})
	}
	return writes, nil
}

// aliasWrites records the DIDs next's roles are performed under. A DID may
// stand for one organisation only: one another organisation's entry still
// lists (or that is an organisation itself) is refused.
func aliasWrites(r reader, org string, cur, next *ledger.DirectoryVersion) ([]write, error) {
	if next.Status == ledger.DirectoryRemoved {
		return nil, nil
	}
	// The organisation's own DID must not stand for another one.
	if err := aliasFree(r, org, org); err != nil {
		return nil, err
	}
	var writes []write
	for _, role := range next.Entry.Roles {
		if role.DID == "" || (cur != nil && cur.ListsDID(role.DID)) {
			continue
		}
		if v, err := r.Get(ledger.DirectoryKey(role.DID)); err != nil {
			return nil, fmt.Errorf("%w: %v", ledger.ErrInternal, err)
		} else if v != nil {
			return nil, fmt.Errorf("%w: role %s: %s is an organisation of its own in the directory", ledger.ErrExists, role.Role, role.DID)
		}
		if err := aliasFree(r, role.DID, org); err != nil {
			return nil, err
		}
		v, err := marshal(ledger.DirectoryAlias{DID: role.DID, Org: org})
		if err != nil {
			return nil, err
		}
		writes = append(writes, write{ledger.DirectoryAliasKey(role.DID), v})
	}
	return writes, nil
}

// aliasFree refuses did when another organisation than org lists it as a
// role DID in its current, not removed, entry.
func aliasFree(r reader, did, org string) error {
	al, err := getJSON[ledger.DirectoryAlias](r, ledger.DirectoryAliasKey(did))
	if errors.Is(err, ledger.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if al.Org == org {
		return nil
	}
	other, err := getJSON[ledger.DirectoryRecord](r, ledger.DirectoryKey(al.Org))
	if err != nil {
		return fmt.Errorf("%w: alias %s of %s: %v", ledger.ErrInternal, did, al.Org, err)
	}
	if c := other.Current(); c != nil && c.Status != ledger.DirectoryRemoved && c.ListsDID(did) {
		return fmt.Errorf("%w: %s is listed by %s in the directory", ledger.ErrExists, did, al.Org)
	}
	return nil
}

// Directory returns an organisation's directory record with its history
// from the latest committed state, or an error wrapping
// [ledger.ErrNotFound]. Safe for concurrent use.
func (a *App) Directory(did string) (*ledger.DirectoryRecord, error) {
	if !ledger.ValidKeyPart(did) {
		return nil, fmt.Errorf("%w: organisation %.128q", ledger.ErrNotFound, did)
	}
	view, _ := a.view()
	rec, err := getJSON[ledger.DirectoryRecord](view, ledger.DirectoryKey(did))
	if err != nil {
		return nil, fmt.Errorf("%w: organisation %s", err, did)
	}
	return rec, nil
}

// DirectoryAlias returns the alias record of a role DID (which
// organisation listed it) from the latest committed state, or an error
// wrapping [ledger.ErrNotFound]. The alias holds only while that
// organisation's entry lists the DID.
func (a *App) DirectoryAlias(did string) (*ledger.DirectoryAlias, error) {
	if !ledger.ValidKeyPart(did) {
		return nil, fmt.Errorf("%w: %.128q", ledger.ErrNotFound, did)
	}
	view, _ := a.view()
	al, err := getJSON[ledger.DirectoryAlias](view, ledger.DirectoryAliasKey(did))
	if err != nil {
		return nil, fmt.Errorf("%w: alias %s", err, did)
	}
	return al, nil
}

// SearchDirectory answers a directory search from the in-memory index of
// the latest committed state (see dirIndex). Errors wrap
// [ledger.ErrInvalid] for a malformed query or cursor. Safe for concurrent
// use.
func (a *App) SearchDirectory(q ledger.DirectorySearch) (*ledger.DirectoryPage, error) {
	return a.dir.search(q)
}

// LogoDir is the folder in which the registry keeps the logo images the
// directory names by hash (beside the state database; see registry/api).
func (a *App) LogoDir() string { return filepath.Join(a.cfg.Dir, "logos") }

// isDirectoryKey reports whether k is an organisation record (what the
// search index holds).
func isDirectoryKey(k []byte) bool { return strings.HasPrefix(string(k), ledger.PrefixDirectory) }
