package tokenstatus

import (
	"errors"
	"math"
	"slices"
	"testing"
)

// rankCorrelation returns Spearman's rank correlation between issuance
// order (0, 1, 2, ...) and the indexes handed out.
func rankCorrelation(idx []int) float64 {
	n := len(idx)
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return idx[a] - idx[b] })
	rank := make([]float64, n)
	for r, i := range order {
		rank[i] = float64(r)
	}
	var d2 float64
	for i := range n {
		d := rank[i] - float64(i)
		d2 += d * d
	}
	nf := float64(n)
	return 1 - 6*d2/(nf*(nf*nf-1))
}

// nearNeighbours counts consecutive issuances whose indexes are within
// window of each other.
func nearNeighbours(idx []int, window int) int {
	c := 0
	for i := 1; i < len(idx); i++ {
		if d := idx[i] - idx[i-1]; d > -window && d < window {
			c++
		}
	}
	return c
}

// orderLeaks reports whether the indexes reveal issuance order. With m
// random draws, the rank correlation is about normal with standard
// deviation 1/sqrt(m-1) (0.022 for 2,000): |rho| > 0.15 is over 6.7
// deviations, a chance of about 1e-11. Two consecutive random draws fall
// within n/1000 of each other with probability 0.002: 4 expected in 2,000,
// and 50 or more has a Poisson chance below 1e-30. A sequential allocator,
// or one that starts at random and counts up, gives rho near 1 and ~2,000
// near neighbours.
func orderLeaks(idx []int, n int) (bool, float64, int) {
	rho := rankCorrelation(idx)
	near := nearNeighbours(idx, n/1000)
	return math.Abs(rho) > 0.15 || near >= 50, rho, near
}

// TestAllocationHidesIssuanceOrder is the herd-privacy test: indexes drawn
// by an Allocator do not reveal issuance order, and the same statistics
// catch a sequential allocator (so the test cannot pass by accident).
func TestAllocationHidesIssuanceOrder(t *testing.T) {
	const m = 2000
	a, err := NewAllocator(MinEntries)
	if err != nil {
		t.Fatal(err)
	}
	idx := make([]int, m)
	for i := range idx {
		if idx[i], err = a.Allocate(); err != nil {
			t.Fatal(err)
		}
	}
	if leak, rho, near := orderLeaks(idx, MinEntries); leak {
		t.Errorf("allocation order leaks: rank correlation %.3f, %d near neighbours", rho, near)
	} else {
		t.Logf("random allocator: rank correlation %.4f, %d near neighbours in %d", rho, near, m)
	}
	// Spread over the whole list, not a corner of it.
	if lo, hi := slices.Min(idx), slices.Max(idx); lo > MinEntries/20 || hi < MinEntries*19/20 {
		t.Errorf("indexes span only [%d, %d] of %d", lo, hi, MinEntries)
	}
	seq := make([]int, m)
	start := 77777
	for i := range seq {
		seq[i] = (start + i) % MinEntries
	}
	if leak, rho, near := orderLeaks(seq, MinEntries); !leak {
		t.Errorf("the test does not catch a sequential allocator (rho %.3f, %d near)", rho, near)
	}
}

// TestAllocatorFillsOnce fills a whole list: every index once, then
// ErrListFull; and the state survives a round trip.
func TestAllocatorFillsOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("fills 131,072 entries")
	}
	a, err := NewAllocator(MinEntries + 5)
	if err != nil {
		t.Fatal(err)
	}
	seen := make([]bool, a.Len())
	for range a.Len() {
		i, err := a.Allocate()
		if err != nil {
			t.Fatal(err)
		}
		if seen[i] {
			t.Fatalf("index %d handed out twice", i)
		}
		seen[i] = true
	}
	if _, err := a.Allocate(); !errors.Is(err, ErrListFull) {
		t.Errorf("full list: err = %v", err)
	}
	state, _ := a.MarshalBinary()
	var b Allocator
	if err := b.UnmarshalBinary(state); err != nil || b.Free() != 0 || !b.Taken(MinEntries+4) {
		t.Errorf("restored: err %v, free %d", err, b.Free())
	}
}

func TestAllocatorState(t *testing.T) {
	a, _ := NewAllocator(MinEntries)
	taken := map[int]bool{}
	for range 100 {
		i, _ := a.Allocate()
		taken[i] = true
	}
	state, _ := a.MarshalBinary()
	var b Allocator
	if err := b.UnmarshalBinary(state); err != nil {
		t.Fatal(err)
	}
	for i := range taken {
		if !b.Taken(i) {
			t.Fatalf("restored allocator forgot index %d", i)
		}
	}
	for range 1000 {
		i, _ := b.Allocate()
		if taken[i] {
			t.Fatalf("restored allocator handed out %d again", i)
		}
	}
	if _, err := NewAllocator(MinEntries - 1); err == nil {
		t.Error("a list smaller than MinEntries was accepted")
	}
	for _, bad := range [][]byte{nil, make([]byte, 8), state[:len(state)-8]} {
		if err := new(Allocator).UnmarshalBinary(bad); err == nil {
			t.Errorf("bad state of %d bytes accepted", len(bad))
		}
	}
}
