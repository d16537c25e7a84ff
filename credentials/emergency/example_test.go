package emergency_test

import (
	"context"
	"fmt"
	"time"

	"github.com/medid/medid/credentials/did"
	"github.com/medid/medid/credentials/emergency"
	"github.com/medid/medid/credentials/verify"
)

// An emergency department offline scans a patient's card and verifies it
// with did:key issuers and the status lists it has cached.
func ExampleVerify() {
	// A card the patient's wallet made on 1 March 2026 (wallet/card.Make)
	// and the issuing hospital's revocation list, cached by the ER.
	exampleCard, exampleList, err := makeCard(emergency.Nonce(made), emergency.Audience, false)
	if err != nil {
		panic(err)
	}
	scanned := emergency.QRText(exampleCard) // what the camera reads
	token, err := emergency.FromQR(scanned)
	if err != nil {
		panic(err)
	}
	v, _ := verify.New(verify.Config{
		Resolver: did.KeyResolver{},
		Status:   verify.StaticStatusFetcher{"https://hospital.example/status/1": exampleList},
		Now:      func() time.Time { return time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC) },
	})
	card, err := emergency.Verify(context.Background(), v, token)
	if err != nil {
		fmt.Println("not an emergency card:", err)
		return
	}
	fmt.Println(card.Made.Format(time.DateOnly), card.Result.Valid, len(card.Result.Credentials))
	// Output: 2026-03-01 true 1
}
