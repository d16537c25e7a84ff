package client_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/credentials/statuslist"
	"github.com/medid/medid/credentials/vc"
	"github.com/medid/medid/registry/client"
	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/node/nodetest"
	"github.com/medid/medid/registry/tx"
)

// TestQuotaAttackThroughNode is issue 11 item 9 end to end: 300 did.create of
// ~60 KB each from fresh identities, submitted over HTTP to a real node
// (CometBFT, the registry app, the API) whose genesis lets self-made DIDs
// write 1 MiB of did.create per hour. What fits is committed; every other
// one is refused with HTTP 429, code 12 (quota exceeded), in CheckTx or in
// its block; and the hospital's operations, governance and a patient's
// consent anchor keep working during the attack.
func TestQuotaAttackThroughNode(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node and signs 300 large documents")
	}
	const budget = 1 << 20
	s := nodetest.Start(t, nodetest.Options{Quotas: &ledger.QuotaPolicy{SelfMade: ledger.OriginQuota{
		Types: map[tx.Type]ledger.TypeQuota{tx.DIDCreate: {MaxTxBytes: tx.MaxSize, Total: ledger.Limit{Bytes: budget}}}}}})
	c, _ := newClients(t, s)
	ctx := context.Background()

	hosp := nodetest.NewIdentity(t, "quota-hospital")
	if _, err := c.Submit(ctx, hosp.CreateTx(t)); err != nil {
		t.Fatal(err)
	}
	from := time.Now().Add(-24 * time.Hour).UTC().Truncate(time.Second).Format(time.RFC3339)
	accredit := func(id string) []byte {
		return nodetest.Sign(t, &tx.Payload{Type: tx.IssuerAccredit, DID: s.GovernanceDID, Issuer: hosp.DID, AccreditationID: id,
			CredentialTypes: []string{"AllergyIntoleranceCredential"}, ValidFrom: from}, s.Governance, s.GovernanceKID())
	}
	if _, err := c.Submit(ctx, accredit("acc-1")); err != nil {
		t.Fatal(err)
	}
	listID := hosp.DID + ":quota-list"
	publish := func(version int64) []byte {
		l, _ := statuslist.New(statuslist.MinEntries)
		_ = l.Set(int(version), true)
		cred, err := statuslist.NewCredential(s.URL+"/1.0/status-lists/"+listID, hosp.DID, statuslist.Revocation, l, 0)
		if err != nil {
			t.Fatal(err)
		}
		vf := time.Now().Add(-time.Minute).UTC().Truncate(time.Second)
		cred.ValidFrom = &vf
		tok, err := vc.Issue(cred, hosp.Key, hosp.KID())
		if err != nil {
			t.Fatal(err)
		}
		return nodetest.Sign(t, &tx.Payload{Type: tx.StatusListPublish, DID: hosp.DID, ListID: listID, Version: version, Credential: tok}, hosp.Key, hosp.KID())
	}
	if _, err := c.Submit(ctx, publish(1)); err != nil {
		t.Fatal(err)
	}

	// The attack: 300 fresh identities, 60 KB each, 16 at a time.
	ids := make([]*nodetest.Identity, 300)
	raws := make([][]byte, len(ids))
	var wg sync.WaitGroup
	for w := range runtime.NumCPU() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(ids); i += runtime.NumCPU() {
				ids[i] = nodetest.NewPaddedIdentity(t, fmt.Sprint("quota-attacker-", i), 60_000)
				raws[i] = ids[i].CreateTx(t)
			}
		}()
	}
	wg.Wait()
	var mu sync.Mutex
	var accepted, acceptedBytes int
	stages := map[string]int{}
	next := make(chan int)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				_, err := c.Submit(ctx, raws[i])
				mu.Lock()
				var pe *client.ProblemError
				switch {
				case err == nil:
					accepted++
					acceptedBytes += len(raws[i])
				case errors.Is(err, ledger.ErrQuotaExceeded) && errors.As(err, &pe) && pe.Status == http.StatusTooManyRequests && pe.Code == ledger.CodeQuota:
					stages[pe.Stage]++
				default:
					t.Errorf("attack tx %d: %v, want committed or refused with 429 quota-exceeded", i, err)
				}
				mu.Unlock()
			}
		}()
	}
	for i := range raws {
		next <- i
	}
	close(next)
	wg.Wait()
	t.Logf("attack through the node: %d of %d did.create committed (%d bytes); refused with code %d: %v (by stage)", accepted, len(raws), acceptedBytes, ledger.CodeQuota, stages)
	if acceptedBytes > budget || accepted < budget/(62_000) {
		t.Fatalf("%d did.create committed (%d bytes), want the %d-byte budget filled and no more", accepted, acceptedBytes, budget)
	}
	var onLedger int
	for _, id := range ids {
		if _, err := c.Resolve(ctx, id.DID); err == nil {
			onLedger++
		} else if !errors.Is(err, did.ErrNotFound) {
			t.Fatal(err)
		}
	}
	if onLedger != accepted {
		t.Errorf("%d attacker DIDs on the ledger, %d were reported committed", onLedger, accepted)
	}

	// The hospital (accredited), governance and a patient carry on.
	pk, err := key.Generate(key.Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	pd := did.KeyDID(pk.Public())
	anchor := nodetest.Sign(t, &tx.Payload{Type: tx.ConsentAnchor, DID: pd, GrantHash: fmt.Sprintf("%064x", 42),
		ValidFrom: from}, pk, pd+"#"+pk.Public().Multikey())
	for what, raw := range map[string][]byte{"hospital publishes version 2 of its list": publish(2),
		"governance accredits the hospital again": accredit("acc-2"), "a patient anchors a consent": anchor} {
		if _, err := c.Submit(ctx, raw); err != nil {
			t.Errorf("%s during the attack: %v", what, err)
		}
	}
}
