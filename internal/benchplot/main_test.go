package main

import (
	"slices"
	"testing"
	"time"

	"github.com/medid/medid/internal/benchbase"
)

// TestLabels: "before" comes first, then the labels in the order of their
// first runs in time, whatever order the history file lists them in (it
// keeps them sorted by name), so the latency plot's "latest label" is the
// latest in time.
func TestLabels(t *testing.T) {
	at := func(m int) time.Time { return time.Date(2026, 12, 5, 6, m, 0, 0, time.UTC) }
	for _, tc := range []struct {
		name string
		runs []benchbase.RunSummary
		want []string
	}{
		{"empty", nil, nil},
		{"one", []benchbase.RunSummary{{Label: "a", When: at(1)}}, []string{"a"}},
		{"sorted by name, not by time", []benchbase.RunSummary{
			{Label: "CometBFT v0.39.4", When: at(40)}, {Label: "after", When: at(2)},
			{Label: "before", When: at(1)}, {Label: "ledgercost", When: at(10)},
		}, []string{"before", "after", "ledgercost", "CometBFT v0.39.4"}},
		{"a label's earliest run counts", []benchbase.RunSummary{
			{Label: "x", When: at(30)}, {Label: "y", When: at(20)}, {Label: "x", When: at(10)},
		}, []string{"x", "y"}},
		{"before first even if later", []benchbase.RunSummary{
			{Label: "old", When: at(1)}, {Label: "before", When: at(50)},
		}, []string{"before", "old"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := labels(tc.runs); !slices.Equal(got, tc.want) {
				t.Errorf("labels = %q, want %q", got, tc.want)
			}
		})
	}
}
