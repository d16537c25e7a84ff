// Package layout holds no code: its tests enforce the import directions of
// docs/design/0012-architecture.md (contracts are leaves, clients never
// import servers, the patient side links no ledger or vault server, nothing
// imports cmd/), so the layout cannot erode unnoticed.
package layout
