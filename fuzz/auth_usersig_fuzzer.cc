// libFuzzer target for the UserSig ticket and userbuf decoders (untrusted
// client input). Invariant checked: any userbuf that decodes re-encodes to the
// same bytes, and the decoded PrivateMapKey of a ticket re-encodes losslessly.
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string_view>

#include "auth/usersig.h"

namespace {

void CheckRoundTrip(std::span<const uint8_t> bytes) {
  aegis::Result<aegis::auth::PrivateMapKey> pmk = aegis::auth::DecodeUserBuf(bytes);
  if (!pmk.ok()) {
    return;
  }
  const std::vector<uint8_t> again = aegis::auth::EncodeUserBuf(*pmk);
  if (again.size() != bytes.size() || !std::equal(again.begin(), again.end(), bytes.begin())) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  CheckRoundTrip({data, size});

  aegis::Result<aegis::auth::UserSigInfo> info = aegis::auth::DecodeUserSig(text);
  if (info.ok() && info->private_map_key) {
    const std::vector<uint8_t> buf = aegis::auth::EncodeUserBuf(*info->private_map_key);
    CheckRoundTrip(buf);
    aegis::Result<aegis::auth::PrivateMapKey> back = aegis::auth::DecodeUserBuf(buf);
    if (!back.ok() || back->account != info->private_map_key->account ||
        back->str_room_id != info->private_map_key->str_room_id) {
      std::abort();
    }
  }

  aegis::auth::UserSigCheck check;
  check.sdkappid = info.ok() ? info->sdkappid : 1400000001;
  check.user_id = info.ok() ? info->identifier : "alice_01";
  check.keys = {"5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e", "k2"};
  check.now = info.ok() ? info->time : 1'700'000'000;
  aegis::Result<aegis::auth::UserSigInfo> verified = aegis::auth::VerifyUserSig(text, check);
  // Decoding and verification must agree on what is malformed.
  if (verified.ok() && !info.ok()) {
    std::abort();
  }
  return 0;
}
