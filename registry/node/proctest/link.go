package proctest

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Link is a TCP proxy on loopback from one node to another's p2p port (see
// the package documentation). Safe for concurrent use.
type Link struct {
	ln     net.Listener
	target string
	cut    atomic.Bool
	delay  atomic.Int64 // nanoseconds
	bytes  atomic.Int64 // forwarded, both directions

	mu    sync.Mutex // guards conns
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

func newLink(target string) (*Link, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	l := &Link{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	l.wg.Add(1)
	go l.serve()
	return l, nil
}

// Addr is the address the link listens on.
func (l *Link) Addr() string { return l.ln.Addr().String() }

// Cut closes the link's connections and refuses new ones until Restore.
func (l *Link) Cut() {
	l.cut.Store(true)
	l.mu.Lock()
	for c := range l.conns {
		c.Close()
	}
	l.mu.Unlock()
}

// Restore lets connections through again.
func (l *Link) Restore() { l.cut.Store(false) }

// SetDelay holds every byte for d in each direction (0: none).
func (l *Link) SetDelay(d time.Duration) { l.delay.Store(int64(d)) }

// Bytes returns how many bytes the link forwarded so far, both
// directions together.
func (l *Link) Bytes() int64 { return l.bytes.Load() }

// Close stops the link.
func (l *Link) Close() {
	l.ln.Close()
	l.Cut()
	l.wg.Wait()
}

func (l *Link) track(c net.Conn, add bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if add {
		l.conns[c] = struct{}{}
	} else {
		delete(l.conns, c)
	}
}

func (l *Link) serve() {
	defer l.wg.Done()
	for {
		in, err := l.ln.Accept()
		if err != nil {
			return
		}
		if l.cut.Load() {
			in.Close()
			continue
		}
		out, err := net.DialTimeout("tcp", l.target, 2*time.Second)
		if err != nil {
			in.Close()
			continue
		}
		l.track(in, true)
		l.track(out, true)
		l.wg.Add(2)
		go l.pipe(out, in)
		go l.pipe(in, out)
	}
}

// pipe copies src to dst, each chunk held for the link's delay when set,
// and closes both ends when either side stops.
func (l *Link) pipe(dst, src net.Conn) {
	defer l.wg.Done()
	defer func() {
		dst.Close()
		src.Close()
		l.track(dst, false)
		l.track(src, false)
	}()
	type chunk struct {
		at time.Time
		b  []byte
	}
	ch := make(chan chunk, 1024)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for c := range ch {
			if d := time.Until(c.at); d > 0 {
				time.Sleep(d)
			}
			n, err := dst.Write(c.b)
			l.bytes.Add(int64(n))
			if err != nil {
				for range ch { // drain so the reader can finish
				}
				return
			}
		}
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			b := make([]byte, n)
			copy(b, buf[:n])
			ch <- chunk{at: time.Now().Add(time.Duration(l.delay.Load())), b: b}
		}
		if err != nil {
			close(ch)
			<-done
			if err != io.EOF {
				return
			}
			return
		}
	}
}
