package ledger

import "testing"

// TestApprovalNamesFiling: an approval names its filing exactly when the
// next block executes by protocol 4 or later: on a chain at 4; on a chain
// below whose upgrade to 4 (or later) is made at the next block, not
// before; never on a registry that reports no protocol.
func TestApprovalNamesFiling(t *testing.T) {
	for _, tc := range []struct {
		name   string
		ps     *ProtocolStatus
		height int64
		want   bool
	}{
		{"no protocol reported (an older registry)", nil, 100, false},
		{"protocol 2", &ProtocolStatus{Version: 2}, 100, false},
		{"protocol 3", &ProtocolStatus{Version: 3}, 100, false},
		{"protocol 4", &ProtocolStatus{Version: 4}, 100, true},
		{"protocol 5", &ProtocolStatus{Version: 5}, 100, true},
		{"3, upgrade to 4 at the next block", &ProtocolStatus{Version: 3, Upgrade: &ProtocolUpgrade{Version: 4, Height: 101}}, 100, true},
		{"3, upgrade to 4 two blocks ahead", &ProtocolStatus{Version: 3, Upgrade: &ProtocolUpgrade{Version: 4, Height: 102}}, 100, false},
		{"2, upgrade to 3 at the next block", &ProtocolStatus{Version: 2, Upgrade: &ProtocolUpgrade{Version: 3, Height: 101}}, 100, false},
		{"2, upgrade to 999 at the next block", &ProtocolStatus{Version: 2, Upgrade: &ProtocolUpgrade{Version: 999, Height: 101}}, 100, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ApprovalNamesFiling(tc.ps, tc.height); got != tc.want {
				t.Errorf("ApprovalNamesFiling(%+v, %d) = %v, want %v", tc.ps, tc.height, got, tc.want)
			}
		})
	}
}

// TestApprovalNamesFilingBlock: an approval may carry its filing's block
// hash exactly when the next block executes by protocol 5 or later.
func TestApprovalNamesFilingBlock(t *testing.T) {
	for _, tc := range []struct {
		name   string
		ps     *ProtocolStatus
		height int64
		want   bool
	}{
		{"no protocol reported (an older registry)", nil, 100, false},
		{"protocol 3", &ProtocolStatus{Version: 3}, 100, false},
		{"protocol 4", &ProtocolStatus{Version: 4}, 100, false},
		{"protocol 5", &ProtocolStatus{Version: 5}, 100, true},
		{"protocol 6", &ProtocolStatus{Version: 6}, 100, true},
		{"4, upgrade to 5 at the next block", &ProtocolStatus{Version: 4, Upgrade: &ProtocolUpgrade{Version: 5, Height: 101}}, 100, true},
		{"4, upgrade to 5 two blocks ahead", &ProtocolStatus{Version: 4, Upgrade: &ProtocolUpgrade{Version: 5, Height: 102}}, 100, false},
		{"3, upgrade to 4 at the next block", &ProtocolStatus{Version: 3, Upgrade: &ProtocolUpgrade{Version: 4, Height: 101}}, 100, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ApprovalNamesFilingBlock(tc.ps, tc.height); got != tc.want {
				t.Errorf("ApprovalNamesFilingBlock(%+v, %d) = %v, want %v", tc.ps, tc.height, got, tc.want)
			}
		})
	}
}
