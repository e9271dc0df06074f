// libFuzzer target for the signalling message decoder (untrusted WebSocket
// text from clients, FZ-01/FZ-10). Invariants: decoding never crashes or
// throws; a failure carries one of the five stable codes; a decoded message
// re-encodes to JSON that decodes to an equal message with the same encoding;
// error replies built from any failure are valid JSON.
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "signal/messages.h"

namespace {

using namespace aegis::signal;  // NOLINT(google-build-using-namespace)

[[noreturn]] void Die() { std::abort(); }

bool IsStableCode(const std::string& code) {
  return code == kErrBadMessage || code == kErrUnknownType || code == kErrMissingField ||
         code == kErrInvalidField || code == kErrTooLarge;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::optional<RequestId> error_id;
  aegis::Result<ClientMessage> decoded = DecodeClientMessage(text, &error_id);
  if (!decoded.ok()) {
    if (!IsStableCode(decoded.status().code())) {
      Die();
    }
    std::string reply = EncodeError(error_id, decoded.status());
    if (!nlohmann::json::accept(reply)) {
      Die();
    }
    return 0;
  }
  if (error_id != IdOf(*decoded)) {
    Die();
  }
  std::string encoded = EncodeClientMessage(*decoded);
  aegis::Result<ClientMessage> again = DecodeClientMessage(encoded);
  if (!again.ok() || !(*again == *decoded) || EncodeClientMessage(*again) != encoded) {
    Die();
  }
  if (!nlohmann::json::accept(EncodeOk(IdOf(*decoded)))) {
    Die();
  }
  return 0;
}
