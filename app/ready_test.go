package app

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/medid/medid/internal/logbuf"
)

// gatedAccessLog is an access log that answers only once released (a
// slow vault).
type gatedAccessLog struct {
	fakeAccessLog
	release chan struct{}
}

func (g *gatedAccessLog) Accesses(ctx context.Context, since time.Time) ([]AccessEvent, error) {
	select {
	case <-g.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return g.fakeAccessLog.Accesses(ctx, since)
}

// TestReadyLog: with Config.ReadyLog the app says "screen ready" for the
// start screen only once what it loads has arrived and is on screen, not
// while it is still loading (the screenshot script waits for this line).
func TestReadyLog(t *testing.T) {
	log := &logbuf.Buffer{}
	clk := newClock()
	slow := &gatedAccessLog{fakeAccessLog: fakeAccessLog{events: []AccessEvent{
		{At: clk.Now().Add(-time.Hour), Accessor: "Dr. Jane Doe", Data: []string{"allergies"}, Purpose: "TREAT", Outcome: OutcomePermitted},
	}}, release: make(chan struct{})}
	h := newHarness(t, prepared(t), withAccessLog(slow), func(c *Config) {
		c.ReadyLog, c.StartScreen = true, "access"
		c.Logger = slog.New(slog.NewTextHandler(log, nil))
	})
	// pump applies queued UI updates without waiting for background work
	// (h.a.wait would wait for the gated vault).
	pump := func() {
		h.a.qmu.Lock()
		q := h.a.queue
		h.a.queue = nil
		h.a.qmu.Unlock()
		for _, f := range q {
			f()
		}
	}
	ready := `msg="screen ready" screen=access`
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(log.String(), `msg="screen ready" screen=unlock`); {
		if time.Now().After(deadline) {
			t.Fatalf("the unlock screen never announced ready:\n%s", log)
		}
		pump()
		time.Sleep(20 * time.Millisecond)
	}
	test.Type(h.a.unlock.pass, testPass)
	test.Tap(h.a.unlock.btn)
	for end := time.Now().Add(2 * time.Second); time.Now().Before(end); {
		pump()
		time.Sleep(20 * time.Millisecond)
	}
	if h.a.main == nil || h.a.main.tabs.Selected() != h.a.main.items["access"] {
		t.Fatal("not on the access screen after unlocking")
	}
	if strings.Contains(log.String(), ready) {
		t.Fatalf("announced ready while the access log was still loading:\n%s", log)
	}
	close(slow.release)
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(log.String(), ready); {
		if time.Now().After(deadline) {
			t.Fatalf("never announced ready after the access log arrived:\n%s", log)
		}
		pump()
		time.Sleep(20 * time.Millisecond)
	}
	if n := len(h.a.main.access.rows); n != 1 {
		t.Errorf("announced ready with %d access rows on screen, want 1", n)
	}
	h.a.wait()
}

func TestReadyName(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", "credentials"}, {"consent", "consent"}, {"openid4vp://?request_uri=https%3A%2F%2Fer.example%2Fr%2F1", "answer"},
		{"OPENID4VP://?client_id=x", "answer"}, {"check:eyJhbGciOi", "check"},
	} {
		if got := readyName(c.in); got != c.want {
			t.Errorf("readyName(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
