#!/usr/bin/env bash
# Screenshots of the real wallet app (cmd/wallet, cgo + X11) under Xvfb,
# against a local registryd with a demo wallet holding synthetic records.
# Writes docs/screenshots/*.png. Needs: Xvfb, ImageMagick (import), curl,
# python3 (to find free ports), and the GL/X headers to build cmd/wallet.
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
PATH="$tmp/bin:$PATH"

# A local registry on free ports with a throw-away home.
http=127.0.0.1:$(free_port)
registryd --home "$tmp/registry" --http "$http" --p2p "127.0.0.1:$(free_port)" --log-level warn >"$tmp/registryd.log" 2>&1 &
pids+=($!)
for _ in $(seq 120); do curl -sf "http://$http/healthz" >/dev/null && break; sleep 0.5; done
curl -sf "http://$http/healthz" >/dev/null || { cat "$tmp/registryd.log" >&2; echo "registryd did not start" >&2; exit 1; }
export MEDID_REGISTRY="http://$http"

# The demo wallet: synthetic data only.
export MEDID_WALLET="$tmp/wallet"
export MEDID_WALLET_PASSPHRASE="${MEDID_DEMO_PASSPHRASE:-purple elephant dancing slowly}"
cd "$tmp"
medid wallet init >/dev/null
me=$(medid wallet did list | grep -o 'did:key:z[1-9A-HJ-NP-Za-km-z]*' | head -n 1)
medid wallet did new --pairwise "St Mary's Hospital" >/dev/null
medid wallet did register --pairwise "City ER" >/dev/null
medid key new --out hospital.jwk >/dev/null
medid status new --key hospital.jwk --id https://hospital.example/status/1 --out list.jwt >/dev/null
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
medid vc issue --key hospital.jwk --subject "$me" --type AllergyIntoleranceCredential --claims allergy.json \
	--status-list list.jwt --status-index 3 --out allergy.jwt >/dev/null
medid vc issue --key hospital.jwk --subject "$me" --type ImmunizationCredential --claims immunization.json \
	--status-list list.jwt --status-index 4 --out immunization.jwt >/dev/null
medid vc issue --key hospital.jwk --subject "$me" --type BloodTypeCredential --claims blood.json --out blood.jwt >/dev/null
# Offline receipt (local status list; the demo hospital is not accredited on
# this fresh registry).
for f in allergy immunization blood; do env -u MEDID_REGISTRY medid wallet receive "$f.jwt" --status-list list.jwt >/dev/null; sleep 1; done
medid status revoke --key hospital.jwk --list list.jwt --index 4 >/dev/null
env -u MEDID_REGISTRY medid wallet refresh --status-list list.jwt >/dev/null
cd - >/dev/null

# The X server, the size of the window.
display=:99
Xvfb "$display" -screen 0 960x680x24 -nolisten tcp >"$tmp/xvfb.log" 2>&1 &
pids+=($!)
sleep 1

# shot NAME [env...]: start the app, wait for it to draw, capture, stop it.
shot() {
	local name=$1
	shift
	env DISPLAY="$display" "$@" wallet >"$tmp/wallet-$name.log" 2>&1 &
	local pid=$!
	sleep 5
	import -display "$display" -window root "$tmp/$name.png"
	kill -TERM "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	# 256 colours keep the files small; the UI has few colours anyway.
	convert "$tmp/$name.png" -colors 256 "PNG8:$out/$name.png"
	echo "wrote $out/$name.png" >&2
}

shot welcome MEDID_WALLET="$tmp/empty" MEDID_WALLET_PASSPHRASE=
shot unlock MEDID_WALLET_PASSPHRASE=
for s in credentials detail share emergency consent access identities settings; do
	shot "$s" MEDID_WALLET_SCREEN="$s"
done
