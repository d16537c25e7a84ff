package vault

// Backlog is the number of trail entries written but not yet anchored on
// the ledger. It grows when anchoring falls behind or fails; registryd's
// /readyz reports the vault not ready above a threshold. Safe for
// concurrent use.
func (v *Vault) Backlog() int { return v.log.Pending() }
