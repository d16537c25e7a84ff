package httpserver

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/medid/medid/internal/tlsfiles"
)

// serve starts a Server for h with limits on 127.0.0.1 and stops it at the
// end of the test.
func serve(t *testing.T, h http.Handler, lim Limits, files tlsfiles.Server) *Server {
	t.Helper()
	if lim.MaxConns == 0 {
		lim.MaxConns = 64
	}
	s, err := New(Config{Addr: "127.0.0.1:0", Handler: h, Limits: lim, TLS: files, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return s
}

func okHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, "ok")
	})
}

// dialFrom connects to s from the loopback address src (127.0.0.x), so a
// test can play several clients.
func dialFrom(t *testing.T, s *Server, src string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// closedWithin reports whether the server closes c (a read returns EOF or
// a reset) within d.
func closedWithin(c net.Conn, d time.Duration) bool {
	_ = c.SetReadDeadline(time.Now().Add(d))
	buf := make([]byte, 512)
	for {
		_, err := c.Read(buf)
		if err == nil {
			continue
		}
		var ne net.Error
		return !(errors.As(err, &ne) && ne.Timeout())
	}
}

func get(t *testing.T, c net.Conn, path string) string {
	t.Helper()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	return resp.Status
}

// TestPhaseTimeouts: a client that sends nothing, one that stops in the
// middle of its headers and one that sends its body slowly are all closed
// by the server's deadlines, while a normal request is served.
func TestPhaseTimeouts(t *testing.T) {
	lim := Limits{ReadHeaderTimeout: 200 * time.Millisecond, ReadTimeout: 400 * time.Millisecond, WriteTimeout: time.Second, IdleTimeout: 300 * time.Millisecond}
	s := serve(t, okHandler(), lim, tlsfiles.Server{})
	tests := []struct {
		name  string
		send  func(c net.Conn)
		close time.Duration // the server must close within this
	}{
		{"idle connection", func(net.Conn) {}, 2 * time.Second},
		{"half a request line", func(c net.Conn) { io.WriteString(c, "GET / HT") }, 2 * time.Second},
		{"slow headers", func(c net.Conn) {
			io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n")
			for i := 0; i < 10; i++ {
				time.Sleep(50 * time.Millisecond)
				io.WriteString(c, "X-Slow: 1\r\n")
			}
		}, 2 * time.Second},
		{"slow body", func(c net.Conn) {
			io.WriteString(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n")
			for i := 0; i < 5; i++ {
				time.Sleep(50 * time.Millisecond)
				io.WriteString(c, "x")
			}
		}, 2 * time.Second},
		{"idle keep-alive", func(c net.Conn) {
			io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err == nil {
				io.Copy(io.Discard, resp.Body)
			}
		}, 2 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := dialFrom(t, s, "127.0.0.1")
			start := time.Now()
			tc.send(c)
			if !closedWithin(c, tc.close) {
				t.Fatalf("connection still open after %v", time.Since(start))
			}
		})
	}
	if got := get(t, dialFrom(t, s, "127.0.0.1"), "/"); got != "200 OK" {
		t.Errorf("normal request: %s", got)
	}
}

// TestSizeLimits: oversized headers get 431, a declared oversized body 413
// before it is read, and a body longer than declared-unknown (chunked) is
// cut at the limit.
func TestSizeLimits(t *testing.T) {
	var sawErr error
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, sawErr = io.ReadAll(r.Body)
		if sawErr != nil {
			http.Error(w, "too large", http.StatusRequestEntityTooLarge)
			return
		}
		io.WriteString(w, "ok")
	})
	s := serve(t, h, Limits{MaxHeaderBytes: 4 << 10, MaxBodyBytes: 1 << 10}, tlsfiles.Server{})
	tests := []struct {
		name, req string
		want      int
	}{
		{"small", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi", 200},
		{"big header", "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 8<<10) + "\r\n\r\n", 431},
		{"declared big body", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n", 413},
		{"chunked big body", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n" + strings.Repeat("b", 0x800) + "\r\n0\r\n\r\n", 413},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := dialFrom(t, s, "127.0.0.1")
			_ = c.SetDeadline(time.Now().Add(5 * time.Second))
			io.WriteString(c, tc.req)
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}
}

// TestConnectionCaps: one client address cannot take more than its share;
// at the total cap a newcomer evicts a waiting connection of the address
// holding the most, never a connection serving a request, and is refused
// when no address holds more than it would.
func TestConnectionCaps(t *testing.T) {
	lim := Limits{MaxConns: 8, MaxConnsPerClient: 3, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 10 * time.Second}
	release := make(chan struct{})
	mux := http.NewServeMux()
	mux.Handle("/", okHandler())
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) { <-release; io.WriteString(w, "slow") })
	s := serve(t, mux, lim, tlsfiles.Server{})
	var flood []net.Conn
	for i := 0; i < 3; i++ {
		flood = append(flood, dialFrom(t, s, "127.0.0.2"))
	}
	waitOpen(t, s, 3)
	if extra := dialFrom(t, s, "127.0.0.2"); !closedWithin(extra, 2*time.Second) {
		t.Fatal("a fourth connection from the same address was kept")
	}
	if got := get(t, dialFrom(t, s, "127.0.0.1"), "/"); got != "200 OK" {
		t.Fatalf("another client while the first holds its share: %s", got)
	}
	// A request in progress, then silent connections up to the cap.
	busy := dialFrom(t, s, "127.0.0.3")
	fmt.Fprintf(busy, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
	waitOpen(t, s, 5)
	var silent []net.Conn
	for i := 0; i < 3; i++ {
		silent = append(silent, dialFrom(t, s, fmt.Sprintf("127.0.1.%d", 1+i)))
	}
	waitOpen(t, s, 8)
	time.Sleep(2 * minWaitToEvict)
	// Two newcomers evict two of 127.0.0.2's three connections.
	for i := 0; i < 2; i++ {
		if got := get(t, dialFrom(t, s, fmt.Sprintf("127.0.0.%d", 100+i)), "/"); got != "200 OK" {
			t.Fatalf("newcomer %d at the cap: %s", i, got)
		}
		time.Sleep(2 * minWaitToEvict)
	}
	if s.Evicted() != 2 {
		t.Errorf("Evicted = %d, want 2", s.Evicted())
	}
	// Now every address holds one connection: a newcomer is refused.
	if c := dialFrom(t, s, "127.0.0.102"); !closedWithin(c, 2*time.Second) {
		t.Error("a newcomer displaced a connection of an address holding only one")
	}
	// The request in progress was not cut; the single connections stay.
	close(release)
	_ = busy.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(busy), nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("the request in progress: %v %v", resp, err)
	}
	for i, c := range silent {
		if closedWithin(c, 20*time.Millisecond) {
			t.Errorf("silent connection %d of a single-connection address was evicted", i)
		}
	}
	closed := 0
	for _, c := range flood {
		if closedWithin(c, 20*time.Millisecond) {
			closed++
		}
	}
	if closed != 2 {
		t.Errorf("%d of 127.0.0.2's connections were evicted, want 2", closed)
	}
}

// TestFloodFromManyAddresses: silent connections from many addresses,
// re-opened as fast as they are closed, do not keep a real client out.
func TestFloodFromManyAddresses(t *testing.T) {
	lim := Limits{MaxConns: 32, MaxConnsPerClient: 8, ReadHeaderTimeout: 10 * time.Second}
	s := serve(t, okHandler(), lim, tlsfiles.Server{})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	for a := 0; a < 8; a++ {
		wg.Add(1)
		go func(a int) {
			defer wg.Done()
			d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(fmt.Sprintf("127.0.2.%d", a+1))}}
			var held []net.Conn
			defer func() {
				for _, c := range held {
					c.Close()
				}
			}()
			for ctx.Err() == nil {
				c, err := d.DialContext(ctx, "tcp", s.Addr().String())
				if err != nil {
					time.Sleep(time.Millisecond)
					continue
				}
				held = append(held, c)
				if len(held) > 64 {
					held[0].Close()
					held = held[1:]
				}
			}
		}(a)
	}
	time.Sleep(300 * time.Millisecond)
	served := 0
	for i := 0; i < 20; i++ {
		c, err := net.DialTimeout("tcp", s.Addr().String(), 2*time.Second)
		if err != nil {
			continue
		}
		_ = c.SetDeadline(time.Now().Add(2 * time.Second))
		fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		if resp, err := http.ReadResponse(bufio.NewReader(c), nil); err == nil && resp.StatusCode == 200 {
			served++
		}
		c.Close()
	}
	if served < 18 {
		t.Errorf("a real client was served %d times of 20 during the flood (open %d, refused %d, evicted %d)", served, s.Open(), s.Refused(), s.Evicted())
	}
	t.Logf("flood: refused %d, evicted %d", s.Refused(), s.Evicted())
}

func waitOpen(t *testing.T, s *Server, n int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if s.Open() == n {
			return
		}
	}
	t.Fatalf("open connections = %d, want %d", s.Open(), n)
}

// TestDeadlinesExtendOneRoute: a route that waits longer than the server's
// WriteTimeout answers when it extends its own deadline, and is cut off
// when it does not.
func TestDeadlinesExtendOneRoute(t *testing.T) {
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(400 * time.Millisecond)
		io.WriteString(w, "done")
	})
	mux := http.NewServeMux()
	mux.Handle("GET /slow", slow)
	mux.Handle("GET /extended", Deadlines(slow, 0, 2*time.Second))
	s := serve(t, mux, Limits{WriteTimeout: 100 * time.Millisecond}, tlsfiles.Server{})
	if _, err := http.Get(s.URL() + "/slow"); err == nil {
		t.Error("/slow answered past the server's WriteTimeout")
	}
	resp, err := http.Get(s.URL() + "/extended")
	if err != nil {
		t.Fatalf("/extended: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "done" {
		t.Errorf("/extended = %q", b)
	}
}

// TestFallback: wrong methods get 405 with Allow, unknown paths 404,
// OPTIONS 204 with Allow, and the routes themselves are untouched.
func TestFallback(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "item "+r.PathValue("id")) })
	mux.HandleFunc("DELETE /items/{id}", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("POST /items", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusCreated) })
	Fallback(mux, nil)
	s := serve(t, mux, Limits{}, tlsfiles.Server{})
	tests := []struct {
		method, path string
		status       int
		allow        string
		body         string
	}{
		{"GET", "/items/7", 200, "", "item 7"},
		{"HEAD", "/items/7", 200, "", ""},
		{"DELETE", "/items/7", 204, "", ""},
		{"POST", "/items", 201, "", ""},
		{"PUT", "/items/7", 405, "GET, HEAD, DELETE, OPTIONS", "method-not-allowed"},
		{"POST", "/items/7", 405, "GET, HEAD, DELETE, OPTIONS", "PUT"},
		{"GET", "/items", 405, "POST, OPTIONS", "use POST"},
		{"OPTIONS", "/items/7", 204, "GET, HEAD, DELETE, OPTIONS", ""},
		{"GET", "/nothing", 404, "", "not-found"},
		{"POST", "/", 404, "", "not-found"},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, s.URL()+tc.path, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status || resp.Header.Get("Allow") != tc.allow {
				t.Errorf("got %d Allow %q, want %d Allow %q", resp.StatusCode, resp.Header.Get("Allow"), tc.status, tc.allow)
			}
			if tc.status >= 400 && resp.Header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("Content-Type %q, want application/problem+json", resp.Header.Get("Content-Type"))
			}
			if tc.body != "" && tc.status != 405 && !strings.Contains(string(b), tc.body) {
				t.Errorf("body %q lacks %q", b, tc.body)
			}
			if tc.status == 405 && !strings.Contains(string(b), "method-not-allowed") {
				t.Errorf("405 body %q is not a method-not-allowed problem", b)
			}
		})
	}
}

// TestPlanConns: a budget that leaves too few descriptors is refused with
// an error naming the reservations and the limit to set.
func TestPlanConns(t *testing.T) {
	b, err := PlanConns([]Reserve{ProcessReserve}, 100)
	if err != nil {
		t.Fatalf("PlanConns with the process reserve: %v", err)
	}
	if b.Conns < MinConns || b.Conns > 100 || b.Limit < b.Reserved()+b.Conns {
		t.Errorf("budget %+v", b)
	}
	_, err = PlanConns([]Reserve{ProcessReserve, {What: "a huge database", N: b.Limit}}, 100)
	var be *BudgetError
	if !errors.As(err, &be) {
		t.Fatalf("err = %v, want *BudgetError", err)
	}
	for _, want := range []string{"too small", "a huge database", "ulimit -n", "LimitNOFILE="} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

// devCerts writes a throwaway CA, server and client certificate.
func devCerts(t *testing.T) (dir string, files tlsfiles.Server) {
	t.Helper()
	dir = t.TempDir()
	if _, err := tlsfiles.DevCerts(tlsfiles.DevCertConfig{Dir: dir}); err != nil {
		t.Fatal(err)
	}
	n := tlsfiles.DevCertNames
	return dir, tlsfiles.Server{Cert: filepath.Join(dir, n.Cert), Key: filepath.Join(dir, n.Key)}
}

// tlsClient is a client like the ones medid builds: the default
// transport (which offers HTTP/2) with c's TLS configuration.
func tlsClient(t *testing.T, c tlsfiles.Client) *http.Client {
	t.Helper()
	cfg, err := c.Config()
	if err != nil {
		t.Fatal(err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = cfg
	return &http.Client{Timeout: 5 * time.Second, Transport: tr}
}

// TestMutualTLS: with a client CA, the routes wrapped in RequireClientCert
// answer only clients with a certificate from that CA; other routes
// answer everyone; a certificate from another CA fails the handshake.
func TestMutualTLS(t *testing.T) {
	dir, files := devCerts(t)
	n := tlsfiles.DevCertNames
	files.ClientCA = filepath.Join(dir, n.CA)
	mux := http.NewServeMux()
	mux.Handle("GET /admin", RequireClientCert(okHandler()))
	mux.Handle("GET /open", okHandler())
	s := serve(t, mux, Limits{}, files)
	if !strings.HasPrefix(s.URL(), "https://") {
		t.Fatalf("URL %s", s.URL())
	}
	ca := filepath.Join(dir, n.CA)
	anon := tlsClient(t, tlsfiles.Client{CA: ca})
	withCert := tlsClient(t, tlsfiles.Client{CA: ca, Cert: filepath.Join(dir, n.ClientCert), Key: filepath.Join(dir, n.ClientKey)})
	other := t.TempDir()
	if _, err := tlsfiles.DevCerts(tlsfiles.DevCertConfig{Dir: other}); err != nil {
		t.Fatal(err)
	}
	foreign := tlsClient(t, tlsfiles.Client{CA: ca, Cert: filepath.Join(other, n.ClientCert), Key: filepath.Join(other, n.ClientKey)})
	tests := []struct {
		name   string
		c      *http.Client
		path   string
		status int // 0: the handshake must fail
	}{
		{"open route, no certificate", anon, "/open", 200},
		{"admin route, no certificate", anon, "/admin", 403},
		{"admin route, client certificate", withCert, "/admin", 200},
		{"open route, client certificate", withCert, "/open", 200},
		{"certificate from another CA", foreign, "/open", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := tc.c.Get(s.URL() + tc.path)
			if tc.status == 0 {
				if err == nil {
					resp.Body.Close()
					t.Fatal("handshake with a foreign client certificate succeeded")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Errorf("status %d (%s), want %d", resp.StatusCode, b, tc.status)
			}
			if tc.status == 403 && !strings.Contains(string(b), "--client-cert") {
				t.Errorf("403 body does not say what to present: %s", b)
			}
		})
	}
	// Without mutual TLS the wrapper lets everyone through.
	_, plainFiles := devCerts(t)
	s2 := serve(t, mux, Limits{}, plainFiles)
	c2 := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	resp, err := c2.Get(s2.URL() + "/admin")
	if err != nil || resp.StatusCode != 200 {
		t.Errorf("admin route without mutual TLS: %v %v", resp, err)
	}
	if resp != nil {
		resp.Body.Close()
	}
}

// TestTLSPolicy: old protocol versions and non-AEAD suites are refused; an
// untrusted server certificate is refused by a client without the CA.
func TestTLSPolicy(t *testing.T) {
	dir, files := devCerts(t)
	s := serve(t, okHandler(), Limits{}, files)
	pool, err := tlsfiles.LoadPool(filepath.Join(dir, tlsfiles.DevCertNames.CA))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		cfg  *tls.Config
		ok   bool
	}{
		{"TLS 1.3", &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS13}, true},
		{"TLS 1.2 AEAD", &tls.Config{RootCAs: pool, MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}}, true},
		{"TLS 1.1", &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}, false},
		{"TLS 1.2 CBC suite", &tls.Config{RootCAs: pool, MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA}}, false},
		{"untrusted CA", &tls.Config{}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := tls.Dial("tcp", s.Addr().String(), tc.cfg)
			if err == nil {
				err = c.Handshake()
				c.Close()
			}
			if (err == nil) != tc.ok {
				t.Errorf("handshake err = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

// TestTLSReload: a renewed certificate written over the files is served
// without a restart; a broken replacement keeps the old one in service.
func TestTLSReload(t *testing.T) {
	dir, files := devCerts(t)
	n := tlsfiles.DevCertNames
	s := serve(t, okHandler(), Limits{}, files)
	serial := func() string {
		t.Helper()
		c, err := tls.Dial("tcp", s.Addr().String(), &tls.Config{InsecureSkipVerify: true})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.ConnectionState().PeerCertificates[0].SerialNumber.String()
	}
	first := serial()
	// A broken key: the old certificate stays.
	time.Sleep(1100 * time.Millisecond)
	if err := os.WriteFile(files.Key, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := serial(); got != first {
		t.Fatalf("serial changed to %s after a broken key was written", got)
	}
	// A renewed pair: served from the next handshake a second later.
	renewed := t.TempDir()
	if _, err := tlsfiles.DevCerts(tlsfiles.DevCertConfig{Dir: renewed}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{n.Cert, n.Key} {
		b, err := os.ReadFile(filepath.Join(renewed, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for serial() == first {
		if time.Now().After(deadline) {
			t.Fatal("the renewed certificate was not picked up")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestTLSKeyMode: a key file others can read is refused at start, naming
// the fix.
func TestTLSKeyMode(t *testing.T) {
	_, files := devCerts(t)
	if err := os.Chmod(files.Key, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := New(Config{Addr: "127.0.0.1:0", Handler: okHandler(), TLS: files, Limits: Limits{MaxConns: 64}})
	if !errors.Is(err, tlsfiles.ErrKeyMode) || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("err = %v, want ErrKeyMode with the chmod", err)
	}
	if _, err := New(Config{Addr: "127.0.0.1:0", Handler: okHandler(), TLS: tlsfiles.Server{Cert: files.Cert}, Limits: Limits{MaxConns: 64}}); err == nil {
		t.Fatal("a certificate without a key was accepted")
	}
}
