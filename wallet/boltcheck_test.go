package wallet

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestTruncatedWalletFileIsCorrupt (issue 11 item 12): a wallet file cut
// short (a full disk, a broken copy) used to crash the process inside
// bbolt (invalid freelist page, SIGSEGV). Every truncation, and garbage
// over the meta pages, is now refused with ErrCorrupt and the file left as
// it was.
func TestTruncatedWalletFileIsCorrupt(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "w")
	w, _, err := Create(Config{Dir: dir, KDF: fastKDF}, []byte("correct horse battery staple"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, FileName)
	w.Close()
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string][]byte{}
	for _, n := range []int{1, 16, 4095, 4096, 4097, 8192, 8193, len(good) / 2, len(good) - 4096, len(good) - 1} {
		if n > 0 && n < len(good) {
			cases["truncated to "+itoa(n)] = good[:n]
		}
	}
	garbled := append([]byte(nil), good...)
	for i := 16; i < 64; i++ {
		garbled[i] ^= 0xA5
		garbled[4096+i] ^= 0x5A
	}
	cases["both meta pages garbled"] = garbled
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "wallet.db")
			if err := os.WriteFile(p, b, 0o600); err != nil {
				t.Fatal(err)
			}
			st, err := OpenBoltStore(p, false)
			if err == nil {
				// bbolt grows its file ahead of use: a cut that removes
				// only unused space leaves a sound store, which must then
				// pass the full page walk. Anything else is ErrCorrupt.
				err = st.Check()
				st.Close()
				if err != nil {
					t.Fatalf("opened, then the page walk failed: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("open: %v, want ErrCorrupt", err)
			}
			after, _ := os.ReadFile(p)
			if string(after) != string(b) {
				t.Error("the damaged file was modified")
			}
		})
	}
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}
