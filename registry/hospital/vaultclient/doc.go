// Package vaultclient is what a patient's wallet and a hospital's tools use
// to talk to a record vault: [Client] signs each call (registry/hospital/vaultapi)
// and [VerifyTrail] checks a patient's access trail against the roots the
// ledger anchored before anything of it is shown. It imports no server code.
package vaultclient
