// Package vaultapi is the wire contract of a hospital's record vault: the
// signed request every call carries ([Request], [SignRequest],
// [ParseSigned]), the answers ([Meta], [Info], [AccessLogResponse]) and the
// errors with their HTTP statuses ([StatusOf]). The vault server
// (registry/hospital/vault) and its client (registry/hospital/vaultclient)
// both import it; neither imports the other.
package vaultapi
