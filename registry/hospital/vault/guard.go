package vault

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/medid/medid/registry/hospital/vaultapi"
)

type originKey struct{}

// WithOrigin returns ctx carrying the network origin of a request (the
// client's IP address), which the vault records for attempts that do not
// authenticate. The HTTP handler sets it from the connection.
func WithOrigin(ctx context.Context, origin string) context.Context {
	return context.WithValue(ctx, originKey{}, origin)
}

// Origin returns the origin [WithOrigin] put in ctx, or "unknown".
func Origin(ctx context.Context) string {
	if o, ok := ctx.Value(originKey{}).(string); ok && o != "" {
		return o
	}
	return "unknown"
}

// requestOrigin is the origin of an HTTP request: the peer's IP address
// (not a forwarded-for header, which the peer writes itself).
func requestOrigin(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// originLimiter caps, per origin and fixed one-minute window, how many
// unauthenticated attempts are written to trails one by one; the attempts
// over the cap are tallied per (origin, patient) for one summary entry. So
// a forger can neither flood a patient's trail nor hide their attempts.
type originLimiter struct {
	perMinute int

	mu         sync.Mutex // guards the maps
	windows    map[string]*window
	suppressed map[[2]string]int // (origin, patient) -> attempts over the cap
}

type window struct {
	start time.Time
	n     int
}

type suppressedCount struct {
	origin, patient string
	count           int
}

func newOriginLimiter(perMinute int) *originLimiter {
	return &originLimiter{perMinute: perMinute, windows: map[string]*window{}, suppressed: map[[2]string]int{}}
}

// allow reports whether an attempt from origin on patient's record may be
// written on its own; if not, it is counted.
func (l *originLimiter) allow(origin, patient string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.windows[origin]
	if w == nil || now.Sub(w.start) >= time.Minute || now.Before(w.start) {
		if w == nil && len(l.windows) >= maxCache {
			for o, old := range l.windows {
				if now.Sub(old.start) >= time.Minute {
					delete(l.windows, o)
				}
			}
		}
		w = &window{start: now}
		l.windows[origin] = w
	}
	if w.n < l.perMinute {
		w.n++
		return true
	}
	k := [2]string{origin, patient}
	if _, ok := l.suppressed[k]; ok || len(l.suppressed) < maxCache {
		l.suppressed[k]++
	} else {
		l.suppressed[[2]string{"(many origins)", patient}]++
	}
	return false
}

// drain returns and forgets the tallies.
func (l *originLimiter) drain(time.Time) []suppressedCount {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]suppressedCount, 0, len(l.suppressed))
	for k, n := range l.suppressed {
		out = append(out, suppressedCount{origin: k[0], patient: k[1], count: n})
	}
	clear(l.suppressed)
	return out
}

// checkClass reports whether a FHIR resource is of the class it is filed
// under: its resourceType is the class, or it is a Bundle whose every entry
// holds a resource of the class (an empty Bundle is refused). A grant for
// AllergyIntolerance must not open a Bundle of Conditions.
func checkClass(resource []byte, class string) error {
	var r struct {
		ResourceType string `json:"resourceType"`
		Entry        []struct {
			Resource *struct {
				ResourceType string `json:"resourceType"`
			} `json:"resource"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(resource, &r); err != nil {
		return fmt.Errorf("%w: the body is not FHIR JSON", vaultapi.ErrClassMismatch)
	}
	if r.ResourceType == class {
		return nil
	}
	if r.ResourceType != "Bundle" {
		return fmt.Errorf("%w: a %.64q resource filed as %s", vaultapi.ErrClassMismatch, r.ResourceType, class)
	}
	if len(r.Entry) == 0 {
		return fmt.Errorf("%w: an empty Bundle filed as %s", vaultapi.ErrClassMismatch, class)
	}
	for i, e := range r.Entry {
		if e.Resource == nil || e.Resource.ResourceType != class {
			got := ""
			if e.Resource != nil {
				got = e.Resource.ResourceType
			}
			return fmt.Errorf("%w: Bundle entry %d is a %.64q, not a %s", vaultapi.ErrClassMismatch, i, got, class)
		}
	}
	return nil
}
