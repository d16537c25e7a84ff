package did

import (
	"context"
	"errors"
	"reflect"
	"testing"
)

func TestRouter(t *testing.T) {
	ctx := context.Background()
	var gotDID string
	medid := ResolverFunc(func(ctx context.Context, did string) (*Resolution, error) {
		gotDID = did
		return nil, ErrNotFound
	})
	r := NewRouter(map[string]Resolver{"key": KeyResolver{}, "medid": medid, "nil": nil})
	if got, want := r.Methods(), []string{"key", "medid"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("Methods = %q, want %q", got, want)
	}
	tests := []struct {
		name    string
		did     string
		wantErr error
	}{
		{"did:key", zeroSeedDID, nil},
		{"did:medid goes to its resolver", "did:medid:abc", ErrNotFound},
		{"unknown method", "did:web:example.com", ErrMethodNotSupported},
		{"nil resolver ignored", "did:nil:x", ErrMethodNotSupported},
		{"invalid DID", "did:key", ErrInvalidDID},
		{"DID URL is not a DID", zeroSeedDID + "#k", ErrInvalidDID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := r.Resolve(ctx, tt.did)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Resolve(%q) error = %v, want %v", tt.did, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Document.ID != tt.did {
				t.Fatalf("document id = %q, want %q", res.Document.ID, tt.did)
			}
		})
	}
	if gotDID != "did:medid:abc" {
		t.Fatalf("medid resolver saw %q", gotDID)
	}
}
