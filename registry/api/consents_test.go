package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/medid/medid/credentials/consent"
	"github.com/medid/medid/registry/ledger"
)

// consentState serves one consent record.
type consentState struct {
	emptyState
	rec *ledger.ConsentRecord
}

func (c consentState) ConsentStatus(controller, hash string) (*ledger.ConsentRecord, error) {
	if c.rec != nil && c.rec.Hash == hash && c.rec.Controller == controller {
		return c.rec, nil
	}
	return nil, ledger.ErrNotFound
}

func TestConsentEndpoint(t *testing.T) {
	hash := strings.Repeat("ab", 32)
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	until := from.AddDate(1, 0, 0)
	revoked := from.AddDate(0, 6, 0)
	ctl := "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
	other := "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"
	rec := &ledger.ConsentRecord{Hash: hash, Controller: ctl,
		ValidFrom: from, ValidUntil: &until, AnchoredHeight: 7, RevokedAt: &revoked, RevokedHeight: 9}
	s, err := New(Config{State: consentState{rec: rec}, Ledger: &fakeLedger{}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		path       string
		wantStatus int
		inForce    bool
	}{
		{"in force before the revocation", "/1.0/consents/" + ctl + "/" + hash + "?at=2026-04-01T00:00:00Z", 200, true},
		{"revoked", "/1.0/consents/" + ctl + "/" + hash + "?at=2026-10-01T00:00:00Z", 200, false},
		{"before validFrom", "/1.0/consents/" + ctl + "/" + hash + "?at=2026-02-01T00:00:00Z", 200, false},
		{"unknown hash", "/1.0/consents/" + ctl + "/" + strings.Repeat("cd", 32), 404, false},
		{"the same hash under another controller", "/1.0/consents/" + other + "/" + hash, 404, false},
		{"not a hash", "/1.0/consents/" + ctl + "/ABC", 400, false},
		{"controller not a did:key", "/1.0/consents/did:medid:2yqQkJBPyqgZ3Zz5oAhNqc/" + hash, 400, false},
		{"bad time", "/1.0/consents/" + ctl + "/" + hash + "?at=yesterday", 400, false},
		{"by hash alone, as before anchors had controllers", "/1.0/consents/" + hash, 410, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			s.ServeHTTP(w, httptest.NewRequest(http.MethodGet, tc.path, nil))
			if w.Code != tc.wantStatus {
				t.Fatalf("status %d (%s), want %d", w.Code, w.Body, tc.wantStatus)
			}
			if w.Code != http.StatusOK {
				if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
					t.Errorf("error Content-Type %q", ct)
				}
				return
			}
			var st consent.Status
			if err := json.Unmarshal(w.Body.Bytes(), &st); err != nil {
				t.Fatal(err)
			}
			if st.Hash != hash || st.Controller != ctl || !st.Revoked || st.AnchoredHeight != 7 || st.InForce != tc.inForce {
				t.Errorf("answer = %+v, want inForce %v", st, tc.inForce)
			}
		})
	}
}
