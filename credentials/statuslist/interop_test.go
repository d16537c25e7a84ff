package statuslist

import "testing"

// Vectors from an independent implementation, Digital Bazaar's
// @digitalbazaar/vc-bitstring-status-list 2.0.1 (node 20): a 131,072-entry
// list with entries 0, 7, 8, 42, 1000, 65536 and 131071 set, produced by
// its BitstringStatusList.encode(). The same library decoded this package's
// Encode output for those entries back to the same set.
const interopEncoded = "uH4sIAAAAAAAAA-3OQQ0AIBADweIEqYdzRPBoQmYM7J5JstMxpS4AAAAAAAAAfGbaAwAAAAAAAADAq3UBucwJzwBAAAA"

var interopSet = []int{0, 7, 8, 42, 1000, 65536, 131071}

func TestInteropDecode(t *testing.T) {
	l, err := Decode(interopEncoded)
	if err != nil {
		t.Fatalf("Decode(digitalbazaar vector): %v", err)
	}
	if got, want := l.Len(), MinEntries; got != want {
		t.Fatalf("Len() = %d, want %d", got, want)
	}
	var got []int
	for i := range l.Len() {
		if v, _ := l.Get(i); v {
			got = append(got, i)
		}
	}
	if len(got) != len(interopSet) {
		t.Fatalf("set entries = %v, want %v", got, interopSet)
	}
	for i := range got {
		if got[i] != interopSet[i] {
			t.Fatalf("set entries = %v, want %v", got, interopSet)
		}
	}
}
