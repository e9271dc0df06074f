#!/usr/bin/env bash
# aegisctl end to end on a real data dir: accounts, apps, keys, secrets,
# UserSig gen/verify (incl. rotation and revocation), master key rotation,
# JSON output and exit codes, audit verify, and audit tampering detected
# through direct SQLite edits.
set -euo pipefail
BIN=${AEGIS_BIN_DIR:?}
CTL=$BIN/aegisctl
DIR=$(mktemp -d /tmp/aegisctl-test-XXXXXX)
trap 'rm -rf "$DIR"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
ctl() { "$CTL" --data-dir "$DIR" "$@"; }
# expect_refused CODE cmd...: the command must exit 1 (not crash) printing error CODE.
expect_refused() {
  local code=$1; shift
  local out rc
  set +e; out=$("$@" 2>&1); rc=$?; set -e
  [ $rc -eq 1 ] || fail "expected exit 1 ($code) from: $* -- got rc=$rc: $out"
  grep -q "\"code\": \"$code\"" <<<"$out" || fail "expected $code from: $* -- got: $out"
}
jget() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const v=JSON.parse(s)[process.argv[1]];if(v===undefined)process.exit(3);console.log(v)})' "$1"; }

# Usage errors exit 2; refused operations exit 1 with a JSON error.
set +e
"$CTL" --data-dir "$DIR" app create --name x >/dev/null 2>&1; [ $? -eq 2 ] || fail "missing --uin must exit 2"
"$CTL" --data-dir "$DIR" frobnicate >/dev/null 2>&1; [ $? -eq 2 ] || fail "unknown command must exit 2"
out=$(ctl app create --uin 999 --name nope); rc=$?
set -e
[ $rc -eq 1 ] || fail "app for unknown account must exit 1, got $rc"
grep -q '"code"' <<<"$out" || fail "refusal must print a JSON error: $out"

# Master key created 0600 on an empty data dir.
UIN=$(ctl account create --name acme | jget Uin)
[ "$(stat -c %a "$DIR/master.key")" = 600 ] || fail "master.key must be 0600"
ctl account list | grep -q acme || fail "account list"

APP=$(ctl app create --uin "$UIN" --name clinic)
SDKAPPID=$(echo "$APP" | jget SdkAppId)
KEY1=$(echo "$APP" | jget Key)
[ ${#KEY1} -eq 64 ] || fail "app key should be 64 hex chars"
[ -f "$DIR/apps/$SDKAPPID.db" ] || fail "per-application database file missing"
ctl app list --uin "$UIN" | grep -q clinic || fail "app list"

SEC=$(ctl secret create --uin "$UIN")
SECRET_ID=$(echo "$SEC" | jget SecretId)
SECRET_KEY=$(echo "$SEC" | jget SecretKey)
ctl secret list --uin "$UIN" | grep -q "$SECRET_ID" || fail "secret list"
if ctl secret list --uin "$UIN" | grep -q "$SECRET_KEY"; then fail "secret list must not show SecretKey"; fi

# UserSig with --key and with --data-dir lookup.
SIG=$("$CTL" usersig gen --sdkappid "$SDKAPPID" --key "$KEY1" --userid alice_01)
"$CTL" usersig verify --sdkappid "$SDKAPPID" --key "$KEY1" --userid alice_01 --usersig "$SIG" | grep -q '"TLS.identifier": "alice_01"' \
  || fail "verify with --key"
ctl usersig verify --sdkappid "$SDKAPPID" --userid alice_01 --usersig "$SIG" >/dev/null || fail "verify with --data-dir"
set +e
out=$("$CTL" usersig verify --sdkappid "$SDKAPPID" --key "$KEY1" --userid bob_0001 --usersig "$SIG"); rc=$?
set -e
[ $rc -eq 1 ] && grep -q usersig_identifier_mismatch <<<"$out" || fail "wrong user must fail with usersig_identifier_mismatch: $out"

# PrivateMapKey fields are printed.
PMK=$("$CTL" usersig gen --sdkappid "$SDKAPPID" --key "$KEY1" --userid alice_01 --str-room "ward-7" --privilege 42)
out=$("$CTL" usersig verify --sdkappid "$SDKAPPID" --key "$KEY1" --userid alice_01 --usersig "$PMK")
grep -q '"strRoomId": "ward-7"' <<<"$out" && grep -q '"privilegeMap": 42' <<<"$out" || fail "PMK fields: $out"

# Rotation: old key keeps verifying until revoked.
ROT=$(ctl app rotate-key --sdkappid "$SDKAPPID")
KEY2=$(echo "$ROT" | jget Key)
[ "$KEY2" != "$KEY1" ] || fail "rotate must produce a new key"
ctl usersig verify --sdkappid "$SDKAPPID" --userid alice_01 --usersig "$SIG" >/dev/null || fail "old key must verify while retiring"
[ "$(ctl app key show --sdkappid "$SDKAPPID" | jget Key)" = "$KEY2" ] || fail "key show must print the new key"
OLD_ID=$(ctl app keys --sdkappid "$SDKAPPID" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{console.log(JSON.parse(s).find(k=>k.Status==="retiring").KeyId)})')
ctl app revoke-key --sdkappid "$SDKAPPID" --key-id "$OLD_ID" >/dev/null
expect_refused usersig_bad_signature ctl usersig verify --sdkappid "$SDKAPPID" --userid alice_01 --usersig "$SIG"

# Master key rotation re-wraps data keys; everything still decrypts.
ROTM=$(ctl keys rotate-master)
[ "$(echo "$ROTM" | jget KekVersion)" = 2 ] || fail "rotate-master: $ROTM"
[ "$(ctl app key show --sdkappid "$SDKAPPID" | jget Key)" = "$KEY2" ] || fail "key unreadable after master rotation"

# Audit: clean chain verifies; secrets never appear in it.
ctl audit verify >/dev/null || fail "audit verify on untouched log"
AUDIT=$(ctl audit list)
grep -q '"app.create"' <<<"$AUDIT" || fail "audit must record app.create"
for s in "$KEY1" "$KEY2" "$SECRET_KEY"; do
  if grep -q "$s" <<<"$AUDIT"; then fail "audit log contains a secret"; fi
done

# Tampering with a row directly in SQLite is detected and named.
sqlite3 "$DIR/control.db" "UPDATE audit_log SET actor='operator:mallory' WHERE seq=2;" 2>/dev/null \
  || sqlite3 "$DIR/control.db" ".tables" >&2
set +e
out=$(ctl audit verify); rc=$?
set -e
[ $rc -eq 1 ] || fail "tampered audit log must fail verification (rc=$rc): $out"
grep -q '"firstBadSeq": 2' <<<"$out" || fail "verify must name record 2: $out"

# Deleting the application shreds its data key and removes its database.
ctl app delete --sdkappid "$SDKAPPID" >/dev/null
[ ! -f "$DIR/apps/$SDKAPPID.db" ] || fail "app db must be removed"
expect_refused store_not_found ctl usersig verify --sdkappid "$SDKAPPID" --userid alice_01 --usersig "$SIG"
# Data dir safety: a typo'd dir is not created by lookups; a non-empty foreign dir is refused.
expect_refused store_not_found "$CTL" --data-dir "$DIR/typo" usersig verify --sdkappid 1 --userid alice_01 --usersig x
[ ! -e "$DIR/typo" ] || fail "a lookup must not create a data dir"
mkdir -p "$DIR/home" && touch "$DIR/home/notes.txt" && chmod 755 "$DIR/home"
expect_refused store_invalid "$CTL" --data-dir "$DIR/home" account create --name x
[ "$(stat -c %a "$DIR/home")" = 755 ] || fail "a foreign directory's permissions must not change"

# Names with invalid UTF-8 and a hostile $USER never crash listing commands.
ctl account create --name $'bad\xffname' >/dev/null
ctl account list >/dev/null || fail "account list with a non-UTF-8 name must not crash"
USER=$'x\xff\n{evil' ctl account create --name y >/dev/null
ctl audit list | grep -q '"operator:local:x___evil"' || fail "operator name must be reduced to a safe charset"

echo "aegisctl integration: OK"
