package verify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/sdjwt"
	"github.com/medid/medid/credentials/statuslist"
	"github.com/medid/medid/credentials/tokenstatus"
	"github.com/medid/medid/credentials/vc"
	"github.com/medid/medid/internal/atomicfile"
)

// Cache is a folder of verification evidence saved while online: the DID
// documents of issuers and the status list credentials their credentials
// point at, each with the time it was fetched. With it a verifier checks
// credentials with no network at all ([Cache.Source]), and a verifier whose
// sources do not answer can say when a credential last verified valid.
//
// Layout: DIR/index.json lists every entry and when it was fetched;
// DIR/did/*.json are DID resolution results, DIR/status/*.jwt status list
// credentials, each named by a hash of its DID or URL. A folder without
// index.json whose *.json files are DID documents (as 'medid did resolve'
// writes them) is read as a cache of those documents, fetched when each
// file was written. Everything read back
// is verified again when used (signatures, list ids, issuers): the folder
// is a cache, not a trust anchor. A Cache is safe for concurrent use; two
// processes writing one folder at once may lose an index entry (the files
// themselves are written atomically), never corrupt one.
type Cache struct {
	dir string

	mu    sync.Mutex // guards index
	index cacheIndex
}

// cacheIndex is DIR/index.json.
type cacheIndex struct {
	DIDs  map[string]cacheEntry `json:"dids"`
	Lists map[string]cacheEntry `json:"statusLists"`
}

type cacheEntry struct {
	File    string    `json:"file"`
	Fetched time.Time `json:"fetched"`
}

const cacheIndexFile = "index.json"

// maxCacheIndexSize bounds index.json: a million entries of ~150 bytes.
const maxCacheIndexSize = 256 << 20

// OpenCache opens the cache in dir. A missing folder is an empty cache
// (it is created by the first save); an unreadable index is an error
// saying so.
func OpenCache(dir string) (*Cache, error) {
	if dir == "" {
		return nil, errors.New("verify: the cache needs a folder")
	}
	c := &Cache{dir: dir, index: cacheIndex{DIDs: map[string]cacheEntry{}, Lists: map[string]cacheEntry{}}}
	fi, err := os.Stat(filepath.Join(dir, cacheIndexFile))
	switch {
	case errors.Is(err, os.ErrNotExist):
		return c, c.readPlain()
	case err != nil:
		return nil, err
	case fi.Size() > maxCacheIndexSize:
		return nil, fmt.Errorf("verify: cache index %s is %d bytes, more than a cache can need", filepath.Join(dir, cacheIndexFile), fi.Size())
	}
	b, err := os.ReadFile(filepath.Join(dir, cacheIndexFile))
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &c.index); err != nil {
		return nil, fmt.Errorf("verify: cache index %s is not readable (%v): delete the folder and fill it again", filepath.Join(dir, cacheIndexFile), err)
	}
	if c.index.DIDs == nil {
		c.index.DIDs = map[string]cacheEntry{}
	}
	if c.index.Lists == nil {
		c.index.Lists = map[string]cacheEntry{}
	}
	return c, nil
}

// readPlain indexes a folder without index.json that holds DID documents
// as *.json files (what 'medid did resolve DID > DIR/x.json' makes), each
// fetched when the file was last written.
func (c *Cache) readPlain() error {
	files, err := filepath.Glob(filepath.Join(c.dir, "*.json"))
	if err != nil {
		return err
	}
	for _, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			return err
		}
		if fi.Size() > maxCacheIndexSize {
			return fmt.Errorf("verify: %s is %d bytes: not a DID document", f, fi.Size())
		}
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		res, err := did.ParseCached(b)
		if err != nil {
			return fmt.Errorf("verify: %s is not a DID document: %w", f, err)
		}
		c.index.DIDs[res.Document.ID] = cacheEntry{File: filepath.Base(f), Fetched: fi.ModTime().UTC()}
	}
	return nil
}

// Dir returns the cache's folder.
func (c *Cache) Dir() string { return c.dir }

// Len returns how many DID documents and status lists the cache holds.
func (c *Cache) Len() (dids, lists int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.index.DIDs), len(c.index.Lists)
}

func cacheName(id, ext string) string {
	h := sha256.Sum256([]byte(id))
	return hex.EncodeToString(h[:12]) + ext
}

// SaveDID stores a resolution of its document's DID, fetched at fetched.
func (c *Cache) SaveDID(res *did.Resolution, fetched time.Time) error {
	if res == nil || res.Document == nil {
		return errors.New("verify: cache: no DID document to save")
	}
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	return c.save(&c.index.DIDs, res.Document.ID, filepath.Join("did", cacheName(res.Document.ID, ".json")), b, fetched)
}

// SaveStatusList stores the status list credential token fetched from url
// at fetched.
func (c *Cache) SaveStatusList(url, token string, fetched time.Time) error {
	return c.save(&c.index.Lists, url, filepath.Join("status", cacheName(url, ".jwt")), []byte(token+"\n"), fetched)
}

func (c *Cache) save(m *map[string]cacheEntry, id, file string, data []byte, fetched time.Time) error {
	if err := os.MkdirAll(filepath.Join(c.dir, filepath.Dir(file)), 0o755); err != nil {
		return err
	}
	if err := atomicfile.WriteFile(filepath.Join(c.dir, file), data, 0o644); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	(*m)[id] = cacheEntry{File: file, Fetched: fetched.UTC()}
	b, err := json.MarshalIndent(c.index, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(c.dir, cacheIndexFile), b, 0o644)
}

// CachedItem describes one entry of a [Cache].
type CachedItem struct {
	// Kind is "did" or "status list"; ID the DID or the list's URL.
	Kind, ID string
	Fetched  time.Time
}

// Items lists what the cache holds: DID documents first, then status
// lists, each sorted by id.
func (c *Cache) Items() []CachedItem {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []CachedItem
	for _, kind := range []struct {
		name string
		m    map[string]cacheEntry
	}{{"did", c.index.DIDs}, {"status list", c.index.Lists}} {
		start := len(out)
		for id, e := range kind.m {
			out = append(out, CachedItem{Kind: kind.name, ID: id, Fetched: e.Fetched})
		}
		slices.SortFunc(out[start:], func(a, b CachedItem) int { return strings.Compare(a.ID, b.ID) })
	}
	return out
}

// Fetched returns when the DID document or status list with this id (a DID
// or a status list URL) was fetched, if the cache holds it.
func (c *Cache) Fetched(id string) (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.index.DIDs[id]; ok {
		return e.Fetched, true
	}
	e, ok := c.index.Lists[id]
	return e.Fetched, ok
}

// ErrNotCached reports evidence the cache does not hold. It is not an
// answer about a DID or a list, so a verifier reports the check as
// unavailable, naming what to save.
var ErrNotCached = errors.New("not in the offline cache")

// CacheSource is what one verification read from a [Cache]: a resolver and
// a status fetcher over it that remember the oldest fetch time they served.
type CacheSource struct {
	c *Cache

	mu     sync.Mutex // guards oldest
	oldest time.Time
}

// Source returns a fresh [CacheSource] over c.
func (c *Cache) Source() *CacheSource { return &CacheSource{c: c} }

// Oldest returns the earliest fetch time of what s served (zero if nothing).
func (s *CacheSource) Oldest() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.oldest
}

func (s *CacheSource) served(t time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.oldest.IsZero() || t.Before(s.oldest) {
		s.oldest = t
	}
}

// Resolve implements did.Resolver from the cached documents. A DID the
// cache does not hold is [ErrNotCached] (not did.ErrNotFound: the cache not
// having it says nothing about the DID).
func (s *CacheSource) Resolve(_ context.Context, id string) (*did.Resolution, error) {
	s.c.mu.Lock()
	e, ok := s.c.index.DIDs[id]
	s.c.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("%w %s: save %s there while online ('medid cache update --dir %s --issuer %s')", ErrNotCached, s.c.dir, clip(id), s.c.dir, clip(id))
	}
	b, err := os.ReadFile(filepath.Join(s.c.dir, e.File))
	if err != nil {
		return nil, fmt.Errorf("offline cache %s: %w", s.c.dir, err)
	}
	res, err := did.ParseCached(b)
	if err != nil {
		return nil, err
	}
	if res.Document.ID != id {
		return nil, fmt.Errorf("%w: the cached document for %s is %s's", did.ErrInvalidDocument, clip(id), clip(res.Document.ID))
	}
	s.served(e.Fetched)
	if res.Metadata.Deactivated {
		return res, fmt.Errorf("%w: %s (cached %s)", did.ErrDeactivated, clip(id), e.Fetched.Format(time.RFC3339))
	}
	return res, nil
}

// FetchStatusList implements [StatusFetcher] from the cached lists; a list
// the cache does not hold is [ErrNotCached].
func (s *CacheSource) FetchStatusList(_ context.Context, url string) (string, error) {
	s.c.mu.Lock()
	e, ok := s.c.index.Lists[url]
	s.c.mu.Unlock()
	if !ok {
		return "", fmt.Errorf("%w %s: save the status list %s there while online ('medid cache update --dir %s --credential FILE')", ErrNotCached, s.c.dir, clip(url), s.c.dir)
	}
	b, err := os.ReadFile(filepath.Join(s.c.dir, e.File))
	if err != nil {
		return "", fmt.Errorf("offline cache %s: %w", s.c.dir, err)
	}
	s.served(e.Fetched)
	return strings.TrimSpace(string(b)), nil
}

// Fill saves in c what verifying token (a vc+jwt, a vp+jwt or an SD-JWT VC,
// as issued or presented) needs, fetched
// now from resolver and fetcher: the DID documents of its issuers (and of
// the issuers of their status lists) and every status list its credentials
// point at. did:key DIDs need no saving. It returns the DIDs and URLs saved;
// on an error, what was saved before it stays saved.
func (c *Cache) Fill(ctx context.Context, resolver did.Resolver, fetcher StatusFetcher, token string, now time.Time) ([]string, error) {
	if isSDJWT(token) {
		ev, err := sdjwt.Peek(token)
		if err != nil {
			return nil, fmt.Errorf("SD-JWT VC: %w", err)
		}
		cr := &vc.Credential{Issuer: ev.Issuer}
		if ev.Status != nil {
			// Cached and fetched by URL like a Bitstring list; the
			// verifier tells the two kinds apart by the token's typ.
			cr.Status = []vc.Status{{StatusListCredential: ev.Status.URI}}
		}
		return c.fill(ctx, resolver, fetcher, []*vc.Credential{cr}, now)
	}
	var creds []*vc.Credential
	if t, err := vc.Parse(token); err == nil {
		creds = append(creds, t.Credential)
	} else if p, _, perr := vc.ParsePresentation(token); perr == nil {
		for _, ct := range p.Credentials {
			t, err := vc.Parse(ct)
			if err != nil {
				return nil, fmt.Errorf("a credential in the presentation: %w", err)
			}
			creds = append(creds, t.Credential)
		}
	} else {
		return nil, fmt.Errorf("neither a credential nor a presentation: %w", err)
	}
	return c.fill(ctx, resolver, fetcher, creds, now)
}

// fill saves the DID documents of creds' issuers and the status lists they
// point at (and their issuers' documents); see [Cache.Fill].
func (c *Cache) fill(ctx context.Context, resolver did.Resolver, fetcher StatusFetcher, creds []*vc.Credential, now time.Time) ([]string, error) {
	var saved []string
	dids := map[string]bool{}
	for _, cr := range creds {
		dids[cr.Issuer] = true
		for _, st := range cr.Status {
			u := st.StatusListCredential
			if u == "" || slices.Contains(saved, u) {
				continue
			}
			tok, err := fetcher.FetchStatusList(ctx, u)
			if err != nil {
				return saved, fmt.Errorf("status list %s: %w", clip(u), err)
			}
			if DetectFormat(tok) == FormatTokenStatusList {
				lt, _, err := tokenstatus.Parse(tok)
				if err != nil {
					return saved, fmt.Errorf("token status list %s: %w", clip(u), err)
				}
				if lt.Issuer != "" {
					dids[lt.Issuer] = true
				}
			} else if lt, err := vc.Parse(tok); err == nil {
				dids[lt.Credential.Issuer] = true
				if _, err := statuslist.FromCredential(lt.Credential); err != nil {
					return saved, fmt.Errorf("status list %s: %w", clip(u), err)
				}
			}
			if err := c.SaveStatusList(u, tok, now); err != nil {
				return saved, err
			}
			saved = append(saved, u)
		}
	}
	ids := make([]string, 0, len(dids))
	for d := range dids {
		ids = append(ids, d)
	}
	slices.Sort(ids)
	for _, id := range ids {
		if strings.HasPrefix(id, "did:key:") {
			continue
		}
		n, err := c.SaveIssuer(ctx, resolver, id, now)
		if err != nil {
			return saved, err
		}
		saved = append(saved, n)
	}
	return saved, nil
}

// SaveIssuer resolves id with resolver and saves its document, fetched now.
func (c *Cache) SaveIssuer(ctx context.Context, resolver did.Resolver, id string, now time.Time) (string, error) {
	res, err := resolver.Resolve(ctx, id)
	if err != nil && !(errors.Is(err, did.ErrDeactivated) && res != nil) {
		return "", fmt.Errorf("resolve %s: %w", clip(id), err)
	}
	if err := c.SaveDID(res, now); err != nil {
		return "", err
	}
	return id, nil
}
