package tokenstatus

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/medid/medid/credentials/jose"
)

type specList struct {
	Bits int    `json:"bits"`
	Lst  string `json:"lst"`
}

func readSpec(t testing.TB, name string) specList {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "spec", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var s specList
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestSpecExamples decodes the examples of the Token Status List
// specification (§4.1 and the test vectors of its appendix, typed into
// testdata/spec) and checks every status it lists, and that every other
// entry is VALID.
func TestSpecExamples(t *testing.T) {
	want := map[string]map[int]uint8{
		"status_list_encoding":  {0: 1, 1: 0, 2: 0, 3: 1, 4: 1, 5: 1, 6: 0, 7: 1, 8: 1, 9: 1, 10: 0, 11: 0, 12: 0, 13: 1, 14: 0, 15: 1},
		"status_list_encoding2": {0: 1, 1: 2, 2: 0, 3: 3, 4: 0, 5: 1, 6: 0, 7: 1, 8: 1, 9: 2, 10: 3, 11: 3},
	}
	f, err := os.Open(filepath.Join("testdata", "spec", "expected.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		i, _ := strconv.Atoi(fs[1])
		v, _ := strconv.Atoi(fs[2])
		if want[fs[0]] == nil {
			want[fs[0]] = map[int]uint8{}
		}
		want[fs[0]][i] = uint8(v)
	}
	for name, statuses := range want {
		t.Run(name, func(t *testing.T) {
			s := readSpec(t, name)
			l, err := Decode(s.Bits, s.Lst)
			if err != nil {
				t.Fatal(err)
			}
			nonzero := 0
			for i, v := range statuses {
				got, err := l.Get(i)
				if err != nil || got != v {
					t.Errorf("status[%d] = %d, %v; want %d", i, got, err, v)
				}
				if v != 0 {
					nonzero++
				}
			}
			seen := 0
			for i := range l.Len() {
				if v, _ := l.Get(i); v != 0 {
					seen++
				}
			}
			if seen != nonzero {
				t.Errorf("%d entries are not VALID, the specification lists %d", seen, nonzero)
			}
			// Our encoding decodes to the same array.
			enc, err := l.Encode()
			if err != nil {
				t.Fatal(err)
			}
			back, err := Decode(s.Bits, enc)
			if err != nil || string(back.Bytes()) != string(l.Bytes()) {
				t.Errorf("re-encoded list differs: %v", err)
			}
		})
	}
}

func TestGetSet(t *testing.T) {
	for _, bits := range []int{1, 2, 4, 8} {
		l, err := New(1000, bits)
		if err != nil {
			t.Fatal(err)
		}
		max := uint8(1<<bits - 1)
		for i := range 1000 {
			if err := l.Set(i, uint8(i)&max); err != nil {
				t.Fatal(err)
			}
		}
		for i := range 1000 {
			if got, _ := l.Get(i); got != uint8(i)&max {
				t.Fatalf("bits %d: entry %d = %d, want %d (neighbours overwritten?)", bits, i, got, uint8(i)&max)
			}
		}
		if err := l.Set(0, max+1); bits < 8 && !errors.Is(err, ErrRange) {
			t.Errorf("bits %d: value %d accepted", bits, max+1)
		}
		for _, i := range []int{-1, 1000} {
			if _, err := l.Get(i); !errors.Is(err, ErrRange) {
				t.Errorf("Get(%d) err = %v", i, err)
			}
		}
	}
	// Index 0 is the least significant bits of byte 0 (the specification's
	// example: status[0]=1, status[3]=1 gives 0b00001001 = 0x09).
	l, _ := New(16, 1)
	l.Set(0, 1)
	l.Set(3, 1)
	if b := l.Bytes()[0]; b != 0x09 {
		t.Errorf("byte 0 = %#x, want 0x09", b)
	}
	for _, bits := range []int{0, 3, 16} {
		if _, err := New(8, bits); err == nil {
			t.Errorf("New with %d bits accepted", bits)
		}
	}
}

func TestDecodeRefuses(t *testing.T) {
	good := readSpec(t, "status_list_encoding").Lst
	comp, _ := jose.Decode(good)
	for _, tc := range []struct {
		name string
		bits int
		lst  string
	}{
		{"bits 3", 3, good},
		{"padding", 1, good + "=="},
		{"standard base64", 1, strings.ReplaceAll(good, "_", "/") + "+"},
		{"not zlib", 1, jose.Encode([]byte("hello world"))},
		{"bad checksum", 1, jose.Encode(append(append([]byte{}, comp[:len(comp)-1]...), comp[len(comp)-1]^1))},
		{"trailing bytes", 1, jose.Encode(append(append([]byte{}, comp...), 0))},
		{"truncated", 1, jose.Encode(comp[:len(comp)-3])},
		{"line break", 1, good[:4] + "\n" + good[4:]},
		{"empty", 1, ""},
	} {
		if _, err := Decode(tc.bits, tc.lst); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err = %v, want ErrMalformed", tc.name, err)
		}
	}
	// A zip bomb: 17 MiB of zeros compresses to a few KiB.
	var bomb bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&bomb, zlib.BestCompression)
	zw.Write(make([]byte, MaxDecodedBytes+1))
	zw.Close()
	if _, err := Decode(8, jose.Encode(bomb.Bytes())); !errors.Is(err, ErrMalformed) {
		t.Errorf("oversized list: err = %v", err)
	}
}
