package did

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/medid/medid/credentials/credtest"
	"github.com/medid/medid/credentials/key"
)

// countingResolver resolves did:key DIDs, answers ErrNotFound for
// did:example:missing, and counts calls per DID.
type countingResolver struct {
	mu    sync.Mutex // guards calls
	calls map[string]int
	ttl   time.Duration
	gate  chan struct{} // if non-nil, each call waits for it to close
}

func (r *countingResolver) Resolve(ctx context.Context, did string) (*Resolution, error) {
	r.mu.Lock()
	if r.calls == nil {
		r.calls = make(map[string]int)
	}
	r.calls[did]++
	r.mu.Unlock()
	if r.gate != nil {
		select {
		case <-r.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	switch did {
	case "did:example:missing":
		return nil, fmt.Errorf("%w: %s", ErrNotFound, did)
	case "did:example:broken":
		return nil, errors.New("registry unreachable")
	}
	res, err := KeyResolver{}.Resolve(ctx, did)
	if err != nil {
		return nil, err
	}
	res.TTL = r.ttl
	return res, nil
}

func (r *countingResolver) count(did string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls[did]
}

func TestCacheTTL(t *testing.T) {
	ctx := context.Background()
	clk := credtest.NewClock(time.Unix(1_700_000_000, 0))
	r := &countingResolver{}
	c := NewCache(r, CacheConfig{TTL: time.Minute, Now: clk.Now})

	first, err := c.Resolve(ctx, zeroSeedDID)
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(59 * time.Second)
	again, err := c.Resolve(ctx, zeroSeedDID)
	if err != nil {
		t.Fatal(err)
	}
	if again != first || r.count(zeroSeedDID) != 1 {
		t.Fatalf("within TTL: calls = %d, want 1 (and the cached result)", r.count(zeroSeedDID))
	}
	clk.Advance(time.Second)
	if _, err := c.Resolve(ctx, zeroSeedDID); err != nil {
		t.Fatal(err)
	}
	if got := r.count(zeroSeedDID); got != 2 {
		t.Fatalf("after TTL: calls = %d, want 2", got)
	}
}

func TestCacheHonoursResolutionTTL(t *testing.T) {
	ctx := context.Background()
	clk := credtest.NewClock(time.Unix(1_700_000_000, 0))
	r := &countingResolver{ttl: 10 * time.Second}
	c := NewCache(r, CacheConfig{TTL: time.Hour, Now: clk.Now})
	for _, step := range []struct {
		advance time.Duration
		want    int
	}{{0, 1}, {9 * time.Second, 1}, {time.Second, 2}, {9 * time.Second, 2}, {time.Second, 3}} {
		clk.Advance(step.advance)
		if _, err := c.Resolve(ctx, zeroSeedDID); err != nil {
			t.Fatal(err)
		}
		if got := r.count(zeroSeedDID); got != step.want {
			t.Fatalf("after +%v: calls = %d, want %d", step.advance, got, step.want)
		}
	}
}

func TestCacheNegative(t *testing.T) {
	ctx := context.Background()
	clk := credtest.NewClock(time.Unix(1_700_000_000, 0))
	r := &countingResolver{}
	c := NewCache(r, CacheConfig{TTL: time.Hour, NegativeTTL: 5 * time.Second, Now: clk.Now})
	for i := 0; i < 3; i++ {
		if _, err := c.Resolve(ctx, "did:example:missing"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("error = %v, want ErrNotFound", err)
		}
	}
	if got := r.count("did:example:missing"); got != 1 {
		t.Fatalf("not-found calls = %d, want 1", got)
	}
	clk.Advance(5 * time.Second)
	if _, err := c.Resolve(ctx, "did:example:missing"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("error = %v, want ErrNotFound", err)
	}
	if got := r.count("did:example:missing"); got != 2 {
		t.Fatalf("after negative TTL: calls = %d, want 2", got)
	}
	// Other errors are not cached.
	for i := 0; i < 3; i++ {
		if _, err := c.Resolve(ctx, "did:example:broken"); err == nil {
			t.Fatal("want an error")
		}
	}
	if got := r.count("did:example:broken"); got != 3 {
		t.Fatalf("transient error calls = %d, want 3 (not cached)", got)
	}
	// Invalid DIDs never reach the resolver.
	if _, err := c.Resolve(ctx, "not a did"); !errors.Is(err, ErrInvalidDID) {
		t.Fatalf("error = %v, want ErrInvalidDID", err)
	}
	// Negative caching can be switched off.
	r2 := &countingResolver{}
	c2 := NewCache(r2, CacheConfig{NegativeTTL: -1, Now: clk.Now})
	c2.Resolve(ctx, "did:example:missing")
	c2.Resolve(ctx, "did:example:missing")
	if got := r2.count("did:example:missing"); got != 2 {
		t.Fatalf("with NegativeTTL < 0: calls = %d, want 2", got)
	}
}

func TestCacheLRUBound(t *testing.T) {
	ctx := context.Background()
	r := &countingResolver{}
	c := NewCache(r, CacheConfig{MaxEntries: 3})
	dids := make([]string, 5)
	for i := range dids {
		dids[i] = KeyDID(zeroSeedKeyN(t, byte(i)))
	}
	for _, d := range dids[:3] {
		if _, err := c.Resolve(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	// Touch dids[0] so dids[1] is the least recently used.
	c.Resolve(ctx, dids[0])
	c.Resolve(ctx, dids[3]) // evicts dids[1]
	if got := c.Len(); got != 3 {
		t.Fatalf("Len = %d, want 3", got)
	}
	for _, i := range []int{0, 2, 3, 0} {
		c.Resolve(ctx, dids[i])
	}
	for _, tc := range []struct {
		did  string
		want int
	}{{dids[0], 1}, {dids[2], 1}, {dids[3], 1}} {
		if got := r.count(tc.did); got != tc.want {
			t.Fatalf("%s: calls = %d, want %d (should have stayed cached)", tc.did, got, tc.want)
		}
	}
	c.Resolve(ctx, dids[1])
	if got := r.count(dids[1]); got != 2 {
		t.Fatalf("evicted DID: calls = %d, want 2", got)
	}
	// Many more DIDs than the bound: the size stays bounded.
	for i := 0; i < 50; i++ {
		c.Resolve(ctx, KeyDID(zeroSeedKeyN(t, byte(10+i))))
	}
	if got := c.Len(); got != 3 {
		t.Fatalf("Len = %d after 50 more DIDs, want 3", got)
	}
	c.Forget(KeyDID(zeroSeedKeyN(t, 59)))
	if got := c.Len(); got != 2 {
		t.Fatalf("Len after Forget = %d, want 2", got)
	}
}

func TestCacheSingleFlight(t *testing.T) {
	ctx := context.Background()
	r := &countingResolver{gate: make(chan struct{})}
	c := NewCache(r, CacheConfig{})
	const n = 32
	var wg sync.WaitGroup
	results := make([]*Resolution, n)
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = c.Resolve(ctx, zeroSeedDID)
		}()
	}
	// Let the callers pile up behind the first, then release it.
	waitFor(t, func() bool { return r.count(zeroSeedDID) == 1 })
	time.Sleep(20 * time.Millisecond)
	close(r.gate)
	wg.Wait()
	if got := r.count(zeroSeedDID); got != 1 {
		t.Fatalf("%d concurrent misses made %d resolver calls, want 1", n, got)
	}
	for i := range results {
		if errs[i] != nil || results[i] != results[0] {
			t.Fatalf("caller %d got %v, %v; want the shared result", i, results[i], errs[i])
		}
	}
}

func TestCacheLeaderCancelled(t *testing.T) {
	r := &countingResolver{gate: make(chan struct{})}
	c := NewCache(r, CacheConfig{})
	leaderCtx, cancel := context.WithCancel(context.Background())
	leaderErr := make(chan error, 1)
	go func() {
		_, err := c.Resolve(leaderCtx, zeroSeedDID)
		leaderErr <- err
	}()
	waitFor(t, func() bool { return r.count(zeroSeedDID) == 1 })
	follower := make(chan error, 1)
	go func() {
		_, err := c.Resolve(context.Background(), zeroSeedDID)
		follower <- err
	}()
	time.Sleep(20 * time.Millisecond)
	cancel()
	if err := <-leaderErr; !errors.Is(err, context.Canceled) {
		t.Fatalf("leader error = %v, want context.Canceled", err)
	}
	// The follower retries with its own context and succeeds once the
	// resolver answers.
	waitFor(t, func() bool { return r.count(zeroSeedDID) == 2 })
	close(r.gate)
	if err := <-follower; err != nil {
		t.Fatalf("follower error = %v, want success", err)
	}
}

func TestCacheFollowerContext(t *testing.T) {
	r := &countingResolver{gate: make(chan struct{})}
	defer close(r.gate)
	c := NewCache(r, CacheConfig{})
	go c.Resolve(context.Background(), zeroSeedDID)
	waitFor(t, func() bool { return r.count(zeroSeedDID) == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if _, err := c.Resolve(ctx, zeroSeedDID); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("waiting follower error = %v, want DeadlineExceeded", err)
	}
}

func TestCachePanickingResolver(t *testing.T) {
	var calls atomic.Int32
	gate := make(chan struct{})
	c := NewCache(ResolverFunc(func(ctx context.Context, did string) (*Resolution, error) {
		if calls.Add(1) > 1 {
			return KeyResolver{}.Resolve(ctx, did)
		}
		<-gate
		panic("boom")
	}), CacheConfig{})
	leader := make(chan any, 1)
	go func() {
		defer func() { leader <- recover() }()
		c.Resolve(context.Background(), zeroSeedDID)
	}()
	waitFor(t, func() bool { return calls.Load() == 1 })
	follower := make(chan error, 1)
	go func() {
		_, err := c.Resolve(context.Background(), zeroSeedDID)
		follower <- err
	}()
	time.Sleep(20 * time.Millisecond) // let the follower start waiting
	close(gate)
	if p := <-leader; p == nil {
		t.Fatal("the leader's panic was swallowed")
	}
	select {
	case err := <-follower:
		// A waiter gets an error; a follower that arrived after the panic
		// (a slow scheduler) resolves afresh and succeeds.
		if err == nil && calls.Load() != 2 {
			t.Fatal("follower got no error from a panicking resolver")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("follower hung after the resolver panicked")
	}
}

func TestCacheConcurrentMixed(t *testing.T) {
	// Run under -race: many goroutines, several DIDs, a tiny bound.
	r := &countingResolver{}
	c := NewCache(r, CacheConfig{MaxEntries: 2, TTL: time.Millisecond})
	dids := []string{zeroSeedDID, p256DID1, p256DID2, "did:example:missing"}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				d := dids[(g+i)%len(dids)]
				res, err := c.Resolve(context.Background(), d)
				if d == "did:example:missing" {
					if !errors.Is(err, ErrNotFound) {
						t.Errorf("%s: %v", d, err)
					}
					continue
				}
				if err != nil || res.Document.ID != d {
					t.Errorf("%s: %v", d, err)
				}
			}
		}()
	}
	wg.Wait()
	if c.Len() > 2 {
		t.Fatalf("Len = %d, want <= 2", c.Len())
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 5s")
		}
		time.Sleep(time.Millisecond)
	}
}

// zeroSeedKeyN returns the Ed25519 key of the seed n, 0, 0, ….
func zeroSeedKeyN(t testing.TB, n byte) key.PublicKey {
	t.Helper()
	seed := make([]byte, 32)
	seed[0] = n
	k, err := key.NewEd25519FromSeed(seed)
	if err != nil {
		t.Fatal(err)
	}
	return k.Public()
}
