package client_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"strings"
	"testing"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/key"
	"github.com/medid/medid/registry/client"
	"github.com/medid/medid/registry/ledger"
	"github.com/medid/medid/registry/node/nodetest"
	"github.com/medid/medid/registry/tx"
)

func testPNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	img.Set(1, 1, color.RGBA{200, 0, 0, 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestDirectoryReads(t *testing.T) {
	s := nodetest.Start(t, nodetest.Options{})
	plain, proving := newClients(t, s)
	ctx := context.Background()
	org := nodetest.NewIdentity(t, "st-marys")
	if _, err := plain.Submit(ctx, org.CreateTx(t)); err != nil {
		t.Fatal(err)
	}
	logo := testPNG(t)
	sum := sha256.Sum256(logo)
	vaultKey, _ := key.Generate(key.Ed25519)
	vault := did.KeyDID(vaultKey.Public())
	entry := &tx.DirectoryEntry{LegalName: "St Mary's Hospital NHS Trust", DisplayName: "St Mary's Hospital", Kind: tx.KindHospital, Country: "GB",
		Logo:  &tx.Logo{SHA256: hex.EncodeToString(sum[:]), MediaType: "image/png"},
		Roles: []tx.Role{{Role: tx.RoleIssuer}, {Role: tx.RoleVaultOperator, DID: vault}}}
	if _, err := plain.Submit(ctx, nodetest.Sign(t, &tx.Payload{Type: tx.DirectoryAdd, DID: s.GovernanceDID, Org: org.DID, Entry: entry}, s.Governance, s.GovernanceKID())); err != nil {
		t.Fatal(err)
	}
	// The organisation cannot name itself.
	self := nodetest.Sign(t, &tx.Payload{Type: tx.DirectoryUpdate, DID: org.DID, Org: org.DID, Entry: entry, Version: 2}, org.Key, org.KID())
	if _, err := plain.Submit(ctx, self); !errors.Is(err, ledger.ErrUnauthorized) {
		t.Fatalf("self-naming: %v, want ErrUnauthorized", err)
	}
	for name, c := range map[string]*client.Client{"plain": plain, "proving": proving} {
		rec, err := c.Directory(ctx, org.DID)
		if err != nil {
			t.Fatalf("%s: Directory: %v", name, err)
		}
		if cur := rec.Current(); cur == nil || cur.Entry.DisplayName != "St Mary's Hospital" || cur.Status != ledger.DirectoryActive {
			t.Fatalf("%s: current = %+v", name, cur)
		}
		al, err := c.DirectoryRole(ctx, vault)
		if err != nil || al.Org != org.DID {
			t.Fatalf("%s: DirectoryRole(vault) = %+v, %v", name, al, err)
		}
		if _, err := c.Directory(ctx, vault); !errors.Is(err, ledger.ErrNotFound) {
			t.Errorf("%s: Directory(unknown) = %v, want ErrNotFound", name, err)
		}
		if _, err := c.DirectoryRole(ctx, org.DID); !errors.Is(err, ledger.ErrNotFound) {
			t.Errorf("%s: DirectoryRole(org) = %v, want ErrNotFound", name, err)
		}
	}
	page, err := plain.SearchDirectory(ctx, ledger.DirectorySearch{Query: "mary", Kind: tx.KindHospital})
	if err != nil || len(page.Results) != 1 || page.Results[0].DID != org.DID {
		t.Fatalf("search: %+v, %v", page, err)
	}
	var pe *client.ProblemError
	if _, err := plain.SearchDirectory(ctx, ledger.DirectorySearch{Kind: "spa"}); !errors.As(err, &pe) || pe.Status != http.StatusBadRequest {
		t.Errorf("search kind=spa: %v, want a 400 problem", err)
	}
	// The logo: only the image the ledger names is taken and served.
	if err := plain.UploadLogo(ctx, org.DID, append(bytes.Clone(logo), 0), "image/png"); err == nil || !strings.Contains(err.Error(), "SHA-256") {
		t.Errorf("upload of another image: %v", err)
	}
	if err := plain.UploadLogo(ctx, org.DID, logo, "image/png"); err != nil {
		t.Fatal(err)
	}
	got, err := proving.Logo(ctx, org.DID, entry.Logo)
	if err != nil || !bytes.Equal(got, logo) {
		t.Fatalf("Logo: %d bytes, %v", len(got), err)
	}
}
