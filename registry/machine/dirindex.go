package machine

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/cosmos/iavl"

	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/tx"
)

// dirIndex is the directory's search index: the current version of every
// organisation, its folded name words in one sorted list (for "a name word
// starts with q") and its folded display names in another (for listing).
// It lives in memory beside the tree, is rebuilt from the tree at start
// (one scan of dir/) and updated at each Commit with the block's directory
// writes, after the tree saved them. It is not part of the app hash and
// proves nothing: results are hints, each entry is proven on its own
// (GET /1.0/directory/{did}?proof=true).
//
// Why in memory: a search must answer within a few milliseconds over
// 100,000 organisations (BENCHMARKS.md, issue 13), and a prefix scan of a
// sorted slice with cheap filters does that where a LevelDB iteration of
// as many keys would not; 100,000 organisations take ~30 MB.
type dirIndex struct {
	mu   sync.RWMutex           // guards everything below
	orgs map[string]*dirSummary // by DID
	// words and names are, per kind ("" = all kinds), the (folded word,
	// DID) and (folded display name, DID) positions, sorted: a search of
	// one kind scans only that kind's list.
	words map[string][]dirPos
	names map[string][]dirPos
}

// dirPos is one sorted index position; s is its organisation (so a scan
// reads no map).
type dirPos struct {
	key, did string
	s        *dirSummary
}

func (k dirPos) cmp(o dirPos) int {
	if c := strings.Compare(k.key, o.key); c != 0 {
		return c
	}
	return strings.Compare(k.did, o.did)
}

type dirSummary struct {
	ledger.DirectorySummary
	words  []string // distinct folded words of both names, sorted
	fold   string   // folded display name
	joined string   // " " + the words joined by " ": " w" in it means a word starts with w
}

func newDirIndex() *dirIndex {
	return &dirIndex{orgs: map[string]*dirSummary{}, words: map[string][]dirPos{}, names: map[string][]dirPos{}}
}

func summarize(rec *ledger.DirectoryRecord) *dirSummary {
	c := rec.Current()
	if c == nil {
		return nil
	}
	s := &dirSummary{DirectorySummary: ledger.DirectorySummary{DID: rec.DID, DisplayName: c.Entry.DisplayName,
		LegalName: c.Entry.LegalName, Kind: c.Entry.Kind, Country: c.Entry.Country, Status: c.Status, Version: c.Version}}
	for _, r := range c.Entry.Roles {
		if !slices.Contains(s.Roles, r.Role) {
			s.Roles = append(s.Roles, r.Role)
		}
	}
	s.words = append(tx.NameWords(c.Entry.DisplayName), tx.NameWords(c.Entry.LegalName)...)
	slices.Sort(s.words)
	s.words = slices.Compact(s.words)
	s.fold = tx.FoldName(c.Entry.DisplayName)
	s.joined = " " + strings.Join(s.words, " ")
	return s
}

// build fills an empty index from view (the saved version).
func (ix *dirIndex) build(view *iavl.ImmutableTree) error {
	start := []byte(ledger.PrefixDirectory)
	end := []byte(ledger.PrefixDirectory[:len(ledger.PrefixDirectory)-1] + string(rune(ledger.PrefixDirectory[len(ledger.PrefixDirectory)-1]+1)))
	var derr error
	ix.mu.Lock()
	defer ix.mu.Unlock()
	view.IterateRange(start, end, true, func(_, v []byte) bool {
		var rec ledger.DirectoryRecord
		if err := json.Unmarshal(v, &rec); err != nil {
			derr = fmt.Errorf("decode directory record: %w", err)
			return true
		}
		ix.add(&rec)
		return false
	})
	ix.sort()
	return derr
}

// add appends rec's positions unsorted (a bulk load, then sort); ix.mu is
// held.
func (ix *dirIndex) add(rec *ledger.DirectoryRecord) {
	if s := summarize(rec); s != nil {
		ix.orgs[s.DID] = s
		for _, k := range []string{"", s.Kind} {
			for _, w := range s.words {
				ix.words[k] = append(ix.words[k], dirPos{w, s.DID, s})
			}
			ix.names[k] = append(ix.names[k], dirPos{s.fold, s.DID, s})
		}
	}
}

func (ix *dirIndex) sort() {
	for k := range ix.words {
		slices.SortFunc(ix.words[k], dirPos.cmp)
	}
	for k := range ix.names {
		slices.SortFunc(ix.names[k], dirPos.cmp)
	}
}

// apply indexes a committed block's organisation records.
func (ix *dirIndex) apply(writes []write) {
	if len(writes) == 0 {
		return
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	for _, w := range writes {
		var rec ledger.DirectoryRecord
		if err := json.Unmarshal(w.value, &rec); err != nil {
			continue // cannot happen: the state machine wrote it
		}
		if old := ix.orgs[rec.DID]; old != nil {
			for _, k := range []string{"", old.Kind} {
				for _, word := range old.words {
					ix.words[k] = remove(ix.words[k], dirPos{key: word, did: old.DID})
				}
				ix.names[k] = remove(ix.names[k], dirPos{key: old.fold, did: old.DID})
			}
		}
		s := summarize(&rec)
		if s == nil {
			delete(ix.orgs, rec.DID)
			continue
		}
		ix.orgs[s.DID] = s
		for _, k := range []string{"", s.Kind} {
			for _, word := range s.words {
				ix.words[k] = insert(ix.words[k], dirPos{word, s.DID, s})
			}
			ix.names[k] = insert(ix.names[k], dirPos{s.fold, s.DID, s})
		}
	}
}

func insert(list []dirPos, k dirPos) []dirPos {
	i, found := slices.BinarySearchFunc(list, k, dirPos.cmp)
	if found {
		list[i] = k
		return list
	}
	return slices.Insert(list, i, k)
}

func remove(list []dirPos, k dirPos) []dirPos {
	if i, found := slices.BinarySearchFunc(list, k, dirPos.cmp); found {
		return slices.Delete(list, i, i+1)
	}
	return list
}

// search answers q; see ledger.DirectorySearch.
func (ix *dirIndex) search(q ledger.DirectorySearch) (*ledger.DirectoryPage, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ledger.ErrInvalid, fmt.Sprintf(format, args...))
	}
	if len(q.Query) > ledger.MaxSearchQuery {
		return nil, bad("the query is longer than %d bytes", ledger.MaxSearchQuery)
	}
	words := tx.NameWords(q.Query)
	if len(words) > ledger.MaxSearchWords {
		return nil, bad("the query has more than %d words", ledger.MaxSearchWords)
	}
	if q.Kind != "" && !slices.Contains(tx.Kinds, q.Kind) {
		return nil, bad("kind %.40q: want one of %s", q.Kind, strings.Join(tx.Kinds, ", "))
	}
	switch q.Status {
	case ledger.SearchListed, ledger.SearchAll, ledger.DirectoryActive, ledger.DirectorySuspended, ledger.DirectoryRemoved:
	default:
		return nil, bad("status %.40q: want active, suspended, removed or all", q.Status)
	}
	limit := q.Limit
	switch {
	case limit == 0:
		limit = ledger.DefaultSearchLimit
	case limit < 0 || limit > ledger.MaxSearchLimit:
		return nil, bad("limit must be 1 to %d", ledger.MaxSearchLimit)
	}
	var after dirPos
	if q.Cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(q.Cursor)
		k, d, ok := strings.Cut(string(b), "\x00")
		if err != nil || !ok || len(b) > 2*ledger.MaxSearchQuery+tx.MaxDIDLen {
			return nil, bad("cursor is not one this registry gave")
		}
		after = dirPos{key: k, did: d}
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	// Scan the range of the query word with the fewest candidates in the
	// kind's word list, or the kind's display-name list when there is no
	// query: two binary searches per word choose it.
	list, lead := ix.names[q.Kind], ""
	if len(words) > 0 {
		list = ix.words[q.Kind]
		best := -1
		for _, w := range words {
			lo, _ := slices.BinarySearchFunc(list, dirPos{key: w}, dirPos.cmp)
			hi, _ := slices.BinarySearchFunc(list, dirPos{key: w + "\U0010FFFF"}, dirPos.cmp)
			if best < 0 || hi-lo < best {
				best, lead = hi-lo, w
			}
		}
	}
	i, _ := slices.BinarySearchFunc(list, dirPos{key: lead}, dirPos.cmp)
	if q.Cursor != "" {
		j, found := slices.BinarySearchFunc(list, after, dirPos.cmp)
		if found {
			j++
		}
		i = max(i, j)
	}
	spaced := make([]string, len(words))
	for j, w := range words {
		spaced[j] = " " + w
	}
	page := &ledger.DirectoryPage{Results: []ledger.DirectorySummary{}}
	for ; i < len(list) && strings.HasPrefix(list[i].key, lead); i++ {
		s := list[i].s
		if !s.matches(spaced, q.Kind, q.Status) {
			continue
		}
		if lead != "" && s.earlierMatch(lead, list[i].key) {
			continue // listed at its first matching word
		}
		if len(page.Results) == limit {
			last := list[i-1]
			page.Next = base64.RawURLEncoding.EncodeToString([]byte(last.key + "\x00" + last.did))
			break
		}
		page.Results = append(page.Results, s.DirectorySummary)
	}
	return page, nil
}

// matches reports whether s answers the query words (each with a leading
// space), kind and status.
func (s *dirSummary) matches(spaced []string, kind, status string) bool {
	if kind != "" && s.Kind != kind {
		return false
	}
	switch status {
	case ledger.SearchListed:
		if s.Status == ledger.DirectoryRemoved {
			return false
		}
	case ledger.SearchAll:
	default:
		if s.Status != status {
			return false
		}
	}
	for _, w := range spaced {
		if !strings.Contains(s.joined, w) {
			return false
		}
	}
	return true
}

// earlierMatch reports whether s has a word before word that also starts
// with lead: then s was (or will be) listed there, once.
func (s *dirSummary) earlierMatch(lead, word string) bool {
	for _, w := range s.words {
		if w >= word {
			return false
		}
		if strings.HasPrefix(w, lead) {
			return true
		}
	}
	return false
}
