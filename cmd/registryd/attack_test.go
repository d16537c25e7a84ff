package main

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/medid/medid/registry/client"
	"github.com/medid/medid/registry/hospital/trail"
	"github.com/medid/medid/registry/hospital/vaultapi"
	"github.com/medid/medid/registry/hospital/vaultclient"
	"github.com/medid/medid/wallet"
	"github.com/medid/medid/wallet/hospital"
)

// soakDuration is how long an attack runs under load: def in `make test`,
// MEDID_SOAK_DURATION (a Go duration) under `make soak`.
func soakDuration(def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv("MEDID_SOAK_DURATION")); err == nil && d > 0 {
		return d
	}
	return def
}

// TestAttacksUnderLoad runs the red-team moves of issue 11 against the real
// registryd with a vault, all at once and for a bounded time, while a
// provider reads under consent from two clients: requests forged in the
// hospital's name with slanderous text, break-glass by a stranger and by a
// provider whose consent was revoked, 14,000-character reasons, replays of
// captured requests, unsigned probes for record existence, and a writer
// filing Conditions as allergies. It then checks and reports what held:
// no attack released a byte or stored a record, every read the provider
// got is in the patient's verified trail, and no entry attributes a forged
// request to anyone.
func TestAttacksUnderLoad(t *testing.T) {
	ctx := context.Background()
	hosp := vaultActor(t, "")
	httpAddr := freeAddr(t)
	vdir := filepath.Join(t.TempDir(), "vault")
	p := start(t, httpAddr, "--home", t.TempDir(), "--http", httpAddr, "--p2p", freeAddr(t), "--block-time", "20ms",
		"--vault", vdir, "--vault-writers", hosp.DID)
	p.waitHealthy(30 * time.Second)
	defer func() { _ = p.stop(syscall.SIGTERM) }()
	hosp.URL = p.url
	reg, err := client.New(client.Config{URL: p.url})
	if err != nil {
		t.Fatal(err)
	}
	w, _, err := wallet.Create(wallet.Config{Dir: filepath.Join(t.TempDir(), "wallet"),
		KDF: wallet.KDFParams{Time: 1, MemoryKiB: 8 * 1024, Threads: 1}}, []byte("patient passphrase for tests"))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	patient, _ := w.PrimaryDID()
	rec, err := hosp.Put(ctx, patient.DID, "AllergyIntolerance", []byte(`{"resourceType":"AllergyIntolerance","code":{"text":"penicillin"}}`))
	if err != nil {
		t.Fatal(err)
	}
	cond, err := hosp.Put(ctx, patient.DID, "Condition", []byte(`{"resourceType":"Condition","code":{"text":"HIV"}}`))
	if err != nil {
		t.Fatal(err)
	}
	prov, revoked, stranger := vaultActor(t, p.url), vaultActor(t, p.url), vaultActor(t, p.url)
	grant := func(provider string, classes []string, purpose string, bg bool) wallet.Consent {
		g, err := hospital.GrantConsent(ctx, w, reg, wallet.ConsentRequest{Provider: provider, Classes: classes, Purposes: []string{purpose},
			Duration: 24 * time.Hour, BreakGlass: bg})
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	g := grant(prov.DID, []string{"AllergyIntolerance"}, "TREAT", false)
	old := grant(revoked.DID, []string{"AllergyIntolerance"}, "TREAT", false)
	if _, err := hospital.RevokeConsent(ctx, w, reg, old.ID); err != nil {
		t.Fatal(err)
	}
	vaultDID, err := hosp.VaultDID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	standing := grant(vaultDID, []string{"AllergyIntolerance"}, "ETREAT", true)
	if err := hospital.AllowBreakGlass(ctx, w, p.url, standing); err != nil {
		t.Fatal(err)
	}

	var acked, breaches atomic.Int64
	held := map[string]*atomic.Int64{}
	var heldMu sync.Mutex
	refused := func(name string, err error, body []byte) {
		if err == nil || len(body) > 0 {
			breaches.Add(1)
			t.Errorf("%s: the attack got through (%d bytes, err %v)", name, len(body), err)
			return
		}
		heldMu.Lock()
		c := held[name]
		if c == nil {
			c = new(atomic.Int64)
			held[name] = c
		}
		heldMu.Unlock()
		c.Add(1)
	}
	// A captured request of the provider, to replay.
	captured, err := vaultapi.SignRequest(&vaultapi.Request{Issuer: prov.DID, Audience: vaultDID, Op: vaultapi.OpRead,
		Record: rec.ID, Purpose: "TREAT", Consent: g.Token}, prov.Key, prov.KeyID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rawGet(p.url+"/1.0/vault/records/"+rec.ID, captured); err != nil {
		t.Fatal(err)
	}
	acked.Add(1)
	attacks := map[string]func() ([]byte, error){
		"forged in the hospital's name": func() ([]byte, error) {
			tok, err := vaultapi.SignRequest(&vaultapi.Request{Issuer: hosp.DID, Audience: vaultDID, Op: vaultapi.OpRead, Record: rec.ID,
				Purpose: "ETREAT", BreakGlass: "Dr. Smith reading HIV status for insurance check"}, stranger.Key, hosp.DID+"#"+stranger.Key.Public().Multikey())
			if err != nil {
				return nil, err
			}
			return rawGet(p.url+"/1.0/vault/records/"+rec.ID, tok)
		},
		"break-glass by a stranger": func() ([]byte, error) { return stranger.Get(ctx, rec.ID, "ETREAT", "", "unconscious") },
		"break-glass after revoked consent": func() ([]byte, error) {
			return revoked.Get(ctx, rec.ID, "ETREAT", "", "unconscious")
		},
		"oversized reason": func() ([]byte, error) { return stranger.Get(ctx, cond.ID, "ETREAT", "", strings.Repeat("x", 14000)) },
		"replayed request": func() ([]byte, error) { return rawGet(p.url+"/1.0/vault/records/"+rec.ID, captured) },
		"revoked consent":  func() ([]byte, error) { return revoked.Get(ctx, rec.ID, "TREAT", old.Token, "") },
		"unsigned existence probe": func() ([]byte, error) {
			b, err := rawGet(p.url+"/1.0/vault/records/"+rec.ID+"/events", "")
			if err == nil {
				return b, nil
			}
			_, err2 := rawGet(p.url+"/1.0/vault/records/r-00000000000000000000000000000000/events", "")
			if err.Error() != err2.Error() {
				return []byte("oracle"), errors.New("different answers for an existing and a missing record")
			}
			return nil, err
		},
		"Conditions filed as allergies": func() ([]byte, error) {
			m, err := hosp.Put(ctx, patient.DID, "AllergyIntolerance", []byte(`{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Condition"}}]}`))
			if m != nil {
				return []byte(m.ID), err
			}
			return nil, err
		},
	}
	deadline := time.Now().Add(soakDuration(5 * time.Second))
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				if _, err := prov.Get(ctx, rec.ID, "TREAT", g.Token, ""); err == nil {
					acked.Add(1)
				}
			}
		}()
	}
	for name, attack := range attacks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				body, err := attack()
				refused(name, err, body)
			}
		}()
	}
	wg.Wait()

	// Every acknowledged read is in the patient's verified trail, and no
	// entry names anyone who did not sign.
	var granted int64
	for wait := time.Now().Add(20 * time.Second); ; time.Sleep(300 * time.Millisecond) {
		evs, err := hospital.AccessLog(ctx, w, hospital.AccessLogOptions{VaultURL: p.url, Anchors: reg})
		if err != nil {
			t.Fatalf("access log: %v", err)
		}
		granted = 0
		for _, e := range evs {
			if e.Outcome == trail.OutcomeGranted && e.Action == trail.ActionRead {
				if e.Provider != prov.DID {
					t.Fatalf("a granted read by %q in the trail: %+v", e.Provider, e)
				}
				granted++
			}
			if e.Unauthenticated && (e.Provider != "" || strings.Contains(e.Reason, "Smith")) {
				t.Fatalf("a forged attempt was recorded as fact: %+v", e)
			}
			if strings.Contains(e.Reason, "Smith") {
				t.Fatalf("attacker text in the trail: %+v", e)
			}
		}
		if granted >= acked.Load() || time.Now().After(wait) {
			break
		}
	}
	if granted < acked.Load() {
		t.Errorf("%d reads acknowledged, %d in the patient's verified trail", acked.Load(), granted)
	}
	heldMu.Lock()
	defer heldMu.Unlock()
	for name, n := range held {
		t.Logf("held: %-32s refused %d times", name, n.Load())
	}
	t.Logf("held: %d acknowledged reads, %d in the verified trail; %d breaches", acked.Load(), granted, breaches.Load())
	if len(held) != len(attacks) {
		t.Errorf("only %d of %d attacks ran", len(held), len(attacks))
	}
}

// rawGet sends a GET with a MedID-Request token ("" for none) and returns
// the body of a 200, or an error naming the status.
func rawGet(url, token string) ([]byte, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", vaultapi.AuthScheme+" "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, &vaultclient.ProblemError{Status: resp.StatusCode}
	}
	b := make([]byte, 1<<16)
	n, _ := resp.Body.Read(b)
	return b[:n], nil
}
