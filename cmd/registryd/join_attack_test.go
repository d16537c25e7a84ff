package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/medid/medid/registry/node/nodetest"
)

// TestJoinRefusesDisagreeingNodes is docs/design/0013's "peer serving
// state sync" before any snapshot: a node named with --from that serves
// another network's genesis (its own chain, its own validators) makes
// registryd join stop, naming both, and write nothing into the new home,
// whichever of the two is named first.
func TestJoinRefusesDisagreeingNodes(t *testing.T) {
	ours := nodetest.Start(t, nodetest.Options{})
	theirs := nodetest.Start(t, nodetest.Options{})
	if bytes.Equal(ours.Genesis, theirs.Genesis) {
		t.Fatal("two test networks with the same genesis")
	}
	for _, tc := range []struct{ name, from string }{
		{"the other network second", ours.URL + "," + theirs.URL},
		{"the other network first", theirs.URL + "," + ours.URL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			home := filepath.Join(t.TempDir(), "node")
			var out, errOut bytes.Buffer
			err := runJoin(context.Background(), []string{"--home", home, "--from", tc.from, "--state-sync", "off"}, &out, &errOut)
			if err == nil || !strings.Contains(err.Error(), "serve different genesis files") ||
				!strings.Contains(err.Error(), ours.URL) || !strings.Contains(err.Error(), theirs.URL) {
				t.Fatalf("join from two networks: %v, want a refusal naming both", err)
			}
			if _, err := os.Stat(home); !os.IsNotExist(err) {
				t.Fatalf("the refused join left %s: %v", home, err)
			}
		})
	}
}
