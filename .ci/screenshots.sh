#!/usr/bin/env bash
# Screenshots of the real wallet app (cmd/wallet, cgo + X11) under Xvfb,
# against a local registryd (with a record vault) and a demo wallet holding
# synthetic records, consents and an anchored access trail. Writes
# docs/screenshots/*.png. Needs: Xvfb, xwininfo, ImageMagick (import,
# convert, identify), curl, python3 (free ports, JSON), and the GL/X headers
# to build cmd/wallet.
#
# The demo wallet's passphrase comes from MEDID_DEMO_PASSPHRASE (an
# environment variable, never a flag); a default is used when unset. Fyne's
# own Canvas().Capture() is black under Xvfb, hence `import -window root`.
set -euo pipefail
cd "$(dirname "$0")/.."
out=docs/screenshots
mkdir -p "$out"
tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

echo "building registryd, medid, wallet" >&2
go build -o "$tmp/bin/" ./cmd/registryd ./cmd/medid ./cmd/wallet
# A wallet made with `medid wallet init` has never had its recovery words
# checked, so the app would ask for three of them after unlocking. There is
# no CLI for "the patient confirmed the words", so a throw-away program
# (compiled into the module through a build overlay; nothing is written to
# the tree) sets Settings.PhraseConfirmed on the demo wallet.
mkdir -p "$tmp/confirmphrase"
cat >"$tmp/confirmphrase/main.go" <<'GO'
// Command confirmphrase marks the demo wallet's recovery phrase as
// confirmed ($MEDID_WALLET, $MEDID_WALLET_PASSPHRASE).
package main

import (
	"fmt"
	"os"

	"github.com/medid/medid/wallet"
)

func main() {
	w, err := wallet.Open(wallet.Config{Dir: os.Getenv("MEDID_WALLET")}, []byte(os.Getenv("MEDID_WALLET_PASSPHRASE")))
	if err == nil {
		var s wallet.Settings
		if s, err = w.Settings(); err == nil {
			s.PhraseConfirmed = true
			err = w.SetSettings(s)
		}
		if cerr := w.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "confirmphrase:", err)
		os.Exit(1)
	}
}
GO
printf '{"Replace":{"%s":"%s"}}' "$PWD/cmd/screenshots-confirmphrase/main.go" "$tmp/confirmphrase/main.go" >"$tmp/confirmphrase/overlay.json"
go build -overlay "$tmp/confirmphrase/overlay.json" -o "$tmp/bin/confirmphrase" ./cmd/screenshots-confirmphrase
PATH="$tmp/bin:$PATH"

# The demo hospital's key: it issues the credentials and writes records to
# the vault (a vault writer).
medid key new --out "$tmp/hospital.jwk" >/dev/null
hospital=$(medid key show "$tmp/hospital.jwk" | sed -n 's/^did: //p')
# The ER doctor is on the hospital's staff roster (break-glass under the
# patient's standing emergency permission needs it).
medid key new --out "$tmp/er.jwk" >/dev/null
er=$(medid key show "$tmp/er.jwk" | sed -n 's/^did: //p')

# A local registry on free ports with a throw-away home, serving a record
# vault the demo hospital may write to.
http=127.0.0.1:$(free_port)
registryd --home "$tmp/registry" --http "$http" --p2p "127.0.0.1:$(free_port)" --log-level warn \
	--vault "$tmp/vault" --vault-writers "$hospital" --vault-staff "$er" >"$tmp/registryd.log" 2>&1 &
pids+=($!)
for _ in $(seq 120); do curl -sf "http://$http/readyz" >/dev/null && break; sleep 0.5; done
curl -sf "http://$http/readyz" >/dev/null || { cat "$tmp/registryd.log" >&2; echo "registryd did not start" >&2; exit 1; }
export MEDID_REGISTRY="http://$http"
export MEDID_VAULT="http://$http"

# The directory (issue 13): governance names the hospital (and its vault's
# DID) and a licensing body, so the app shows names, not DIDs.
gov="$tmp/registry/governance.jwk"
vaultdid=$(medid key show "$tmp/vault/vault.key" | sed -n 's/^did: //p')
medid directory add --governance-key "$gov" --did "$hospital" --name "St Mary's Hospital" \
	--legal-name "St Mary's Hospital NHS Foundation Trust" --kind hospital --country GB --role issuer \
	--role "vault-operator=$vaultdid" >/dev/null
# Accredited for what it issues (before issuing), so the offer preview says so.
medid issuer accredit --governance-key "$gov" --issuer "$hospital" --type AllergyIntoleranceCredential \
	--type ImmunizationCredential --type BloodTypeCredential >/dev/null
medid key new --out "$tmp/gmc.jwk" >/dev/null
gmc=$(medid key show "$tmp/gmc.jwk" | sed -n 's/^did: //p')
medid directory add --governance-key "$gov" --did "$gmc" --name "General Medical Council" --kind licensing-body --country GB --role issuer >/dev/null
medid issuer accredit --governance-key "$gov" --issuer "$gmc" --type PractitionerLicenceCredential >/dev/null

# The demo wallet: synthetic data only.
export MEDID_WALLET="$tmp/wallet"
export MEDID_WALLET_PASSPHRASE="${MEDID_DEMO_PASSPHRASE:-purple elephant dancing slowly}"
cd "$tmp"
medid wallet init >/dev/null
confirmphrase
me=$(medid wallet did list | grep -o 'did:key:z[1-9A-HJ-NP-Za-km-z]*' | head -n 1)
medid wallet did new --pairwise "St Mary's Hospital" >/dev/null
medid wallet did register --pairwise "City ER" >/dev/null
medid status new --key "$tmp/hospital.jwk" --id https://hospital.example/status/1 --out list.jwt >/dev/null
cat >allergy.json <<'JSON'
{"type": "AllergyIntolerance", "code": {"system": "http://snomed.info/sct", "code": "764146007", "display": "Penicillin"},
 "reaction": "anaphylaxis", "criticality": "high", "note": "SYNTHETIC DEMO DATA"}
JSON
cat >immunization.json <<'JSON'
{"vaccineCode": {"text": "Tetanus, diphtheria (Td)"}, "occurrenceDateTime": "2025-10-02", "doseNumber": "2"}
JSON
cat >blood.json <<'JSON'
{"bloodType": "O+", "rhesus": "positive"}
JSON
medid vc issue --key "$tmp/hospital.jwk" --subject "$me" --type AllergyIntoleranceCredential --claims allergy.json \
	--status-list list.jwt --status-index 3 --out allergy.jwt >/dev/null
medid vc issue --key "$tmp/hospital.jwk" --subject "$me" --type ImmunizationCredential --claims immunization.json \
	--status-list list.jwt --status-index 4 --out immunization.jwt >/dev/null
medid vc issue --key "$tmp/hospital.jwk" --subject "$me" --type BloodTypeCredential --claims blood.json --out blood.jwt >/dev/null
# Offline receipt (local status list; the demo hospital is not accredited on
# this fresh registry).
for f in allergy immunization blood; do env -u MEDID_REGISTRY medid wallet receive "$f.jwt" --status-list list.jwt >/dev/null; sleep 1; done
medid status revoke --key "$tmp/hospital.jwk" --list list.jwt --index 4 >/dev/null
env -u MEDID_REGISTRY medid wallet refresh --status-list list.jwt >/dev/null

# Records at the hospital vault (synthetic FHIR), consent, and access events
# for the Consent and Who looked screens: a family doctor reads the allergy
# record under consent, another provider is refused, and an ER doctor opens
# it with break-glass (which the patient allows at this hospital).
cat >fhir-allergy.json <<'JSON'
{"resourceType": "AllergyIntolerance", "code": {"text": "Penicillin"}, "criticality": "high",
 "reaction": [{"manifestation": [{"text": "anaphylaxis"}]}], "note": [{"text": "SYNTHETIC DEMO DATA"}]}
JSON
cat >fhir-immunization.json <<'JSON'
{"resourceType": "Immunization", "status": "completed", "vaccineCode": {"text": "Tetanus, diphtheria (Td)"},
 "occurrenceDateTime": "2025-10-02", "note": [{"text": "SYNTHETIC DEMO DATA"}]}
JSON
rec=$(medid records put --vault "$MEDID_VAULT" --key "$tmp/hospital.jwk" --owner "$me" --class AllergyIntolerance fhir-allergy.json 2>/dev/null)
medid records put --vault "$MEDID_VAULT" --key "$tmp/hospital.jwk" --owner "$me" --class Immunization fhir-immunization.json >/dev/null 2>&1
for k in doctor other; do medid key new --out "$k.jwk" >/dev/null; done
doctor=$(medid key show doctor.jwk | sed -n 's/^did: //p')
pharmacy=$(medid key show other.jwk | sed -n 's/^did: //p')
medid wallet consent grant --provider "$doctor" --class allergies --purpose TREAT --days 30 >/dev/null
medid wallet consent grant --provider "$pharmacy" --class immunizations --purpose TREAT --days 7 >/dev/null
medid wallet consent grant --vault "$MEDID_VAULT" --break-glass --class allergies --days 365 >/dev/null 2>&1
# The doctor's grant token: the listed grant naming the doctor.
medid wallet consent list --json >consents.json
python3 -c '
import json, sys
doc = json.load(open(sys.argv[1]))
items = doc if isinstance(doc, list) else next(v for v in doc.values() if isinstance(v, list))
print(next(c["token"] for c in items if sys.argv[2] in json.dumps(c)))
' consents.json "$doctor" >grant.jwt
# The doctor is licensed by the licensing body and presents the licence to
# the vault, so the patient's "Who looked" names her.
medid licence issue --key "$tmp/gmc.jwk" --subject "$doctor" --name "Dr. Jane Doe" --profession doctor \
	--number GMC-7654321 --jurisdiction GB --employer "$hospital" --valid-for 8760h --out doctor-licence.jwt >/dev/null
medid licence present --vault "$MEDID_VAULT" --key doctor.jwk --licence doctor-licence.jwt >/dev/null
# So is the ER doctor, so the emergency access is named too; the provider
# refused below is in no directory and shows as such.
medid licence issue --key "$tmp/gmc.jwk" --subject "$er" --name "Dr. Ravi Patel" --profession doctor \
	--specialty '773568002=Emergency medicine' --number GMC-2345678 --jurisdiction GB --employer "$hospital" \
	--valid-for 8760h --out er-licence.jwt >/dev/null
medid licence present --vault "$MEDID_VAULT" --key "$tmp/er.jwk" --licence er-licence.jwt >/dev/null
medid records get --vault "$MEDID_VAULT" --key doctor.jwk --record "$rec" --purpose TREAT --consent grant.jwt >/dev/null
if medid records get --vault "$MEDID_VAULT" --key other.jwk --record "$rec" --purpose TREAT --consent grant.jwt >/dev/null 2>&1; then
	echo "the vault let another provider read with the doctor's grant" >&2
	exit 1
fi
medid records get --vault "$MEDID_VAULT" --key er.jwk --record "$rec" --break-glass 'unconscious, suspected anaphylaxis' >/dev/null
# Wait until the vault has anchored the trail on the ledger.
for _ in $(seq 60); do
	medid wallet access-log --vault "$MEDID_VAULT" >access-log.txt 2>access-log.err && grep -q 'EMERGENCY OVERRIDE' access-log.txt && break
	sleep 1
done
grep -q 'EMERGENCY OVERRIDE' access-log.txt || { cat access-log.txt access-log.err "$tmp/registryd.log" >&2; echo "access trail not anchored" >&2; exit 1; }
cat access-log.txt access-log.err >&2

# The allergy also as an SD-JWT VC (each detail sent on its own), and a
# verifier's request that accepts two answers (the substance, or the
# substance and the severity): the "answer" shot shows the choice and
# what leaves the wallet.
cat >allergy-sd.json <<'JSON'
{"code": {"system": "http://snomed.info/sct", "code": "764146007", "display": "Penicillin"}, "criticality": "high",
 "reaction": [{"manifestation": "anaphylaxis"}], "note": "SYNTHETIC DEMO DATA"}
JSON
medid vc issue --format sd-jwt --key "$tmp/hospital.jwk" --subject "$me" --type AllergyIntoleranceCredential \
	--claims allergy-sd.json --valid-for 8760h --out allergy.sdjwt >/dev/null
env -u MEDID_REGISTRY medid wallet receive allergy.sdjwt >/dev/null
# The verifier is what a patient normally meets: an ER registered in the
# directory that signs its requests with its did:medid, so the app names it
# "City ER" from the directory (an unsigned request shows as "Unverified",
# tested in app TestAnswerPresentationRequest and TestVerifierName).
medid key new --out "$tmp/cityer.jwk" >/dev/null
cityer=$(medid did register --key "$tmp/cityer.jwk" --quiet)
medid directory add --governance-key "$gov" --did "$cityer" --name "City ER" --legal-name "City Emergency Services" \
	--kind emergency-service --country GB --role verifier >/dev/null
medid serve verifier --addr "127.0.0.1:$(free_port)" --admin-token-file verifier.token --status-list list.jwt \
	--key "$tmp/cityer.jwk" --did "$cityer" --kid "$cityer#key-1" \
	--name 'City ER' --url-file verifier.url >"$tmp/verifier.log" 2>&1 &
pids+=($!)
for _ in $(seq 60); do [ -s verifier.url ] && break; sleep 0.5; done
medid vp request --verifier-url-file verifier.url --admin-token-file verifier.token --type AllergyIntoleranceCredential \
	--format dc+sd-jwt --claim-set code.display --claim-set code.display,criticality --terminal-qr=false >request.txt
request=$(grep '^openid4vp://' request.txt)

# Acting for someone (issue 17): the patient's mother, Rosa Silva, lets the
# patient see and receive her records for 30 days; the patient redeems the
# hospital's offer of Rosa's immunization record for her (issued to Rosa,
# held for her: the acting screen's "Give to Rosa Silva…").
medid wallet init --wallet "$tmp/rosa" --phrase-file rosa-phrase.txt >/dev/null
rosa=$(medid wallet did list --wallet "$tmp/rosa" --primary)
medid wallet delegate grant --wallet "$tmp/rosa" --to "$me" --name 'Alex Silva' --patient-name 'Rosa Silva' \
	--relationship MTH --scope view,receive --class '*' --days 30 --out rosa-delegation.jwt >/dev/null
medid wallet act-for add rosa-delegation.jwt >/dev/null
medid serve issuer --key "$tmp/hospital.jwk" --addr "127.0.0.1:$(free_port)" --admin-token-file issuer.token \
	--type ImmunizationCredential --name "St Mary's Hospital" --url-file issuer.url >"$tmp/issuer.log" 2>&1 &
pids+=($!)
for _ in $(seq 120); do [ -s issuer.url ] && break; sleep 0.5; done
[ -s issuer.url ] || { cat "$tmp/issuer.log" >&2; echo "the issuer did not start" >&2; exit 1; }
cat >rosa-immunization.json <<'JSON'
{"vaccineCode": {"text": "Influenza, seasonal"}, "occurrenceDateTime": "2026-10-12", "note": "SYNTHETIC DEMO DATA"}
JSON
medid issue offer --issuer-url-file issuer.url --admin-token-file issuer.token --type ImmunizationCredential \
	--subject-claims rosa-immunization.json --for "$rosa" --terminal-qr=false >offer.txt
medid wallet act-for Rosa accept-offer "$(grep '^openid' offer.txt)" >/dev/null

# A practitioner's wallet (issue 13): Sam Nurse, licensed by the General
# Medical Council's register for the demo, at St Mary's. Her wallet shows
# the "My licence" tab and its card; the patient's app checks that card.
export MEDID_PRACTITIONER="$tmp/sam"
MEDID_WALLET="$MEDID_PRACTITIONER" medid wallet init --phrase-file sam-phrase.txt >/dev/null
MEDID_WALLET="$MEDID_PRACTITIONER" confirmphrase
sam=$(medid wallet did list --wallet "$MEDID_PRACTITIONER" --primary)
medid licence issue --key "$tmp/gmc.jwk" --subject "$sam" --name 'Sam Nurse' --profession nurse \
	--number GMC-1234567 --jurisdiction GB --employer "$hospital" --valid-for 8760h --out sam-licence.jwt >/dev/null
medid wallet receive --wallet "$MEDID_PRACTITIONER" sam-licence.jwt >/dev/null
cd - >/dev/null

# The X server, larger than the app's 960x680 window: a screen whose content
# is wider than that (full DIDs in the Consent and Who looked lists) grows
# the window, and each shot is cropped to the window (xwininfo).
display=:99
# xready: wait until the X server on $display answers.
xready() {
	for _ in $(seq 100); do xwininfo -display "$display" -root >/dev/null 2>&1 && return; sleep 0.1; done
	echo "Xvfb on $display did not start" >&2
	exit 1
}
Xvfb "$display" -screen 0 1800x1000x24 -nolisten tcp >"$tmp/xvfb.log" 2>&1 &
pids+=($!)
xready

# shot NAME READY [env...]: start the app, wait until it says the screen
# READY has finished loading (its "screen ready" log line: nothing loading
# for half a second and every update drawn; see app.Config.ReadyLog),
# capture its window, stop it. No fixed sleep: a loaded machine only
# makes the wait longer, never the picture half-loaded.
shot() {
	local name=$1 ready=$2
	shift 2
	local log="$tmp/wallet-$name.log"
	: >"$log"
	env DISPLAY="$display" "$@" wallet --registry "$MEDID_REGISTRY" --vault "$MEDID_VAULT" >"$log" 2>&1 &
	local pid=$! waited=0
	until grep -q "msg=\"screen ready\" screen=$ready\$" "$log"; do
		if ! kill -0 "$pid" 2>/dev/null || [ "$waited" -ge $((${SHOT_TIMEOUT:-180} * 5)) ]; then
			kill -TERM "$pid" 2>/dev/null || true
			cat "$log" >&2
			echo "the wallet did not say that $ready was ready for $name" >&2
			exit 1
		fi
		sleep 0.2
		waited=$((waited + 1))
	done
	local geom
	geom=$(xwininfo -display "$display" -name "medid wallet" 2>/dev/null | awk '
		/Absolute upper-left X:/ {x=$NF} /Absolute upper-left Y:/ {y=$NF}
		/Width:/ {w=$NF} /Height:/ {h=$NF} END {if (w) printf "%dx%d+%d+%d", w, h, x, y}') || true
	[ -z "$geom" ] || import -display "$display" -window root -crop "$geom" +repage "$tmp/$name.png"
	kill -TERM "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	[ -n "$geom" ] || { cat "$log" >&2; echo "no wallet window for $name" >&2; exit 1; }
# 256 colours keep the files small; the UI has few colours anyway.
	convert "$tmp/$name.png" -colors 256 "PNG8:$out/$name.png"
	echo "wrote $out/$name.png" >&2
}

shot welcome welcome MEDID_WALLET="$tmp/empty" MEDID_WALLET_PASSPHRASE=
shot unlock unlock MEDID_WALLET_PASSPHRASE=
for s in credentials detail preview share consent access identities settings; do
	shot "$s" "$s" MEDID_WALLET_SCREEN="$s"
done
shot answer answer MEDID_WALLET_SCREEN="$request"
shot sharedetails sharedetails MEDID_WALLET_SCREEN=sharedetails
shot acting acting MEDID_WALLET_SCREEN=acting
shot licence licencecard MEDID_WALLET="$MEDID_PRACTITIONER" MEDID_WALLET_SCREEN=licencecard
# A card lasts two minutes: made just before the shot that checks it,
# from the practitioner's wallet (the key never leaves it).
card=$(medid wallet licence-card --wallet "$MEDID_PRACTITIONER" 2>/dev/null)
shot check check MEDID_WALLET_SCREEN="check:$card"

# The emergency card is full screen: show it on a second X server the size
# of the main window, so it matches the other shots.
size=$(identify -format '%wx%h' "$tmp/credentials.png")
display=:98
Xvfb "$display" -screen 0 "${size}x24" -nolisten tcp >"$tmp/xvfb-emergency.log" 2>&1 &
pids+=($!)
xready
shot emergency emergency MEDID_WALLET_SCREEN=emergency
