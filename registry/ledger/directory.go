package ledger

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"time"

	"github.com/medid/medid/registry/tx"
)

// Key prefixes of the directory (docs/design/0019-directory.md).
const (
	// PrefixDirectory keys organisations: dir/<DID> -> DirectoryRecord
	// (every version, so one proof shows the entry and its history).
	PrefixDirectory = "dir/"
	// PrefixDirectoryAlias keys the DIDs roles are performed under:
	// dira/<role DID> -> DirectoryAlias (which organisation listed it).
	PrefixDirectoryAlias = "dira/"
	// PrefixDirectoryName keys names by skeleton: dirn/<hex SHA-256 of
	// tx.NameSkeleton(name)> -> DirectoryNames (who holds that name), for
	// the duplicate and confusable rule.
	PrefixDirectoryName = "dirn/"
)

// MaxDirectoryVersions bounds the versions of one organisation's entry
// (its record holds them all): beyond it, governance removes the entry and
// adds the organisation under a new DID.
const MaxDirectoryVersions = 64

// Directory entry statuses.
const (
	DirectoryActive    = "active"
	DirectorySuspended = "suspended"
	DirectoryRemoved   = "removed"
)

// DirectoryKey returns the state key of an organisation's record. A
// /directory query proves this key.
func DirectoryKey(did string) []byte { return []byte(PrefixDirectory + did) }

// DirectoryAliasKey returns the state key of a role DID's alias record.
func DirectoryAliasKey(did string) []byte { return []byte(PrefixDirectoryAlias + did) }

// DirectoryNameKey returns the state key of the holders of a name's
// skeleton (see tx.NameSkeleton).
func DirectoryNameKey(skeleton string) []byte {
	sum := sha256.Sum256([]byte(skeleton))
	return []byte(PrefixDirectoryName + hex.EncodeToString(sum[:]))
}

// DirectoryRecord is an organisation's directory entry with its full
// history, oldest version first. Versions are never deleted: suspension
// and removal are versions too.
type DirectoryRecord struct {
	DID      string             `json:"did"`
	Versions []DirectoryVersion `json:"versions"`
}

// DirectoryVersion is one version of an entry: in force from Recorded (its
// block time) until the next version's.
type DirectoryVersion struct {
	Version int64 `json:"version"`
	// Status is DirectoryActive, DirectorySuspended or DirectoryRemoved.
	Status string `json:"status"`
	// Entry is the entry as of this version (a suspension or removal
	// keeps the entry it ends).
	Entry tx.DirectoryEntry `json:"entry"`
	// Reason is governance's reason for a suspension or removal.
	Reason string `json:"reason,omitempty"`
	// By is the governance DID that signed the change (that proposed it,
	// when a quorum approved it).
	By string `json:"by"`
	// Proposal is the governance proposal whose quorum carried the change
	// ("" when one governance signature wrote it).
	Proposal string `json:"proposal,omitempty"`
	// Recorded is the block time of the change; Height its block.
	Recorded time.Time `json:"recorded"`
	Height   int64     `json:"height"`
}

// Current returns the latest version (nil for an empty record).
func (r *DirectoryRecord) Current() *DirectoryVersion {
	if len(r.Versions) == 0 {
		return nil
	}
	return &r.Versions[len(r.Versions)-1]
}

// At returns the version in force at time t: the last one recorded at or
// before t, or nil when the organisation was not yet in the directory.
func (r *DirectoryRecord) At(t time.Time) *DirectoryVersion {
	var out *DirectoryVersion
	for i := range r.Versions {
		if r.Versions[i].Recorded.After(t) {
			break
		}
		out = &r.Versions[i]
	}
	return out
}

// Active reports whether v is in force for its roles (neither suspended
// nor removed).
func (v *DirectoryVersion) Active() bool { return v != nil && v.Status == DirectoryActive }

// RoleFor returns the role v lists under did ("" if none): the
// organisation's own roles are listed without a DID.
func (v *DirectoryVersion) RoleFor(org, did string) string {
	for _, r := range v.Entry.Roles {
		if r.DID == did || (did == org && r.DID == "") {
			return r.Role
		}
	}
	return ""
}

// ListsDID reports whether v lists did as the DID of one of its roles.
func (v *DirectoryVersion) ListsDID(did string) bool {
	return slices.ContainsFunc(v.Entry.Roles, func(r tx.Role) bool { return r.DID == did })
}

// DirectoryAlias says which organisation listed a DID as the DID of one
// of its roles (a vault's did:key). The alias counts only while that
// organisation's entry lists it: check with [DirectoryVersion.ListsDID].
type DirectoryAlias struct {
	DID string `json:"did"`
	Org string `json:"org"`
}

// DirectoryNames lists the organisations whose display or legal name has
// one skeleton, sorted.
type DirectoryNames struct {
	Skeleton string   `json:"skeleton"`
	DIDs     []string `json:"dids"`
}

// Directory search bounds.
const (
	// MaxSearchQuery bounds the query text (bytes) and MaxSearchWords
	// its words.
	MaxSearchQuery = 200
	MaxSearchWords = 8
	// DefaultSearchLimit and MaxSearchLimit bound a page of results.
	DefaultSearchLimit = 20
	MaxSearchLimit     = 100
)

// Search status filters ([DirectorySearch.Status]).
const (
	// SearchListed (the default) finds active and suspended entries.
	SearchListed = ""
	SearchAll    = "all"
)

// DirectorySearch is a directory search: organisations any of whose
// name words (display or legal name, folded with tx.FoldName) start with
// each word of Query, optionally of one Kind and Status. An empty Query
// lists the directory in display-name order.
type DirectorySearch struct {
	Query string
	Kind  string
	// Status is SearchListed, SearchAll, or one status (DirectoryActive,
	// DirectorySuspended, DirectoryRemoved).
	Status string
	// Cursor continues a search from a previous page's Next.
	Cursor string
	// Limit is the page size: 0 means DefaultSearchLimit, at most
	// MaxSearchLimit.
	Limit int
}

// DirectorySummary is one search result: the current version of an
// entry, in brief. Search results are an index's answer, not proven: read
// the entry itself (GET /1.0/directory/{did}?proof=true) to rely on it.
type DirectorySummary struct {
	DID         string   `json:"did"`
	DisplayName string   `json:"displayName"`
	LegalName   string   `json:"legalName"`
	Kind        string   `json:"kind"`
	Country     string   `json:"country"`
	Status      string   `json:"status"`
	Version     int64    `json:"version"`
	Roles       []string `json:"roles,omitempty"`
}

// DirectoryPage is a page of search results, in index order; Next is the
// cursor of the next page ("" on the last).
type DirectoryPage struct {
	Results []DirectorySummary `json:"results"`
	Next    string             `json:"next,omitempty"`
}
