// libFuzzer target for STUN (FZ-01/FZ-02, STUN-04): classifier, then Parse()
// with the magic cookie forced in (Pion habit, so the mutator gets past the
// header), every getter, CheckIntegrity/CheckFingerprint, a builder round trip
// (getters of the rebuilt message must equal the originals), and the ICE-lite
// matrix on a fresh, fixed-credential server for both the input and its
// rebuilt, correctly signed twin. Any response produced must parse, echo the
// transaction id and carry a valid FINGERPRINT (and MI on success).
#include <array>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "rtc/endpoint.h"
#include "rtc/stun/ice_lite.h"
#include "rtc/stun/stun_message.h"

namespace {

using aegis::rtc::Endpoint;
using aegis::rtc::IceAction;
using aegis::rtc::IceCredentials;
using aegis::rtc::IceLiteServer;
using aegis::rtc::StunClass;
using aegis::rtc::StunMessage;
using aegis::rtc::StunMessageBuilder;

constexpr std::string_view kUfrag = "fuzz";
constexpr std::string_view kPwd = "fuzzpasswordfuzzpassword";
constexpr std::string_view kRemoteUfrag = "peer";

void Check(bool condition) {
  if (!condition) std::abort();
}

// Touches every getter so sanitizers see every read.
void ReadAll(const StunMessage& m) {
  (void)m.method();
  (void)m.message_class();
  (void)m.transaction_id();
  (void)m.username();
  (void)m.priority();
  (void)m.use_candidate();
  (void)m.ice_controlled();
  (void)m.ice_controlling();
  (void)m.xor_mapped_address();
  (void)m.error_code();
  (void)m.software();
  (void)m.unknown_attributes();
  (void)m.unknown_comprehension_required();
  (void)m.has_message_integrity_sha256();
  (void)m.attribute_count();
  (void)m.CheckIntegrity(kPwd);
  (void)m.CheckIntegrity(std::string_view());
  Check(!m.CheckFingerprint() || m.has_fingerprint());
  Check(!m.CheckIntegrity(kPwd) || m.has_message_integrity());
}

// Serializes the attributes this module understands, signed with the server
// password; nullopt when a value cannot be re-encoded (e.g. a long reason).
std::optional<std::vector<uint8_t>> Rebuild(const StunMessage& m) {
  std::vector<uint8_t> buf(4096);
  StunMessageBuilder b(buf, m.method(), m.message_class(), m.transaction_id());
  if (auto v = m.username()) Check(b.AddUsername(*v).ok());
  if (auto v = m.priority()) Check(b.AddPriority(*v).ok());
  if (auto v = m.ice_controlling()) Check(b.AddIceControlling(*v).ok());
  if (auto v = m.ice_controlled()) Check(b.AddIceControlled(*v).ok());
  if (m.use_candidate()) Check(b.AddUseCandidate().ok());
  if (auto v = m.xor_mapped_address()) Check(b.AddXorMappedAddress(*v).ok());
  if (auto v = m.software()) Check(b.AddSoftware(*v).ok());
  if (auto v = m.error_code()) {
    if (v->reason.size() > 127) return std::nullopt;
    Check(b.AddErrorCode(v->code, v->reason).ok());
  }
  // Unknown comprehension-required types (values are not kept) reach the 420 row.
  for (uint16_t type : m.unknown_comprehension_required()) Check(b.AddRaw(type, {}).ok());
  if (m.has_message_integrity()) Check(b.AddMessageIntegrity(kPwd).ok());
  if (m.has_fingerprint()) Check(b.AddFingerprint().ok());
  auto built = b.Finish();
  Check(built.ok());
  return std::vector<uint8_t>(built->begin(), built->end());
}

void CheckSameValues(const StunMessage& a, const StunMessage& b) {
  Check(a.method() == b.method());
  Check(a.message_class() == b.message_class());
  Check(
      std::equal(a.transaction_id().begin(), a.transaction_id().end(), b.transaction_id().begin()));
  Check(a.username() == b.username());
  Check(a.priority() == b.priority());
  Check(a.use_candidate() == b.use_candidate());
  Check(a.ice_controlled() == b.ice_controlled());
  Check(a.ice_controlling() == b.ice_controlling());
  Check(a.xor_mapped_address() == b.xor_mapped_address());
  Check(a.software() == b.software());
  Check(a.error_code().has_value() == b.error_code().has_value());
  if (a.error_code()) {
    Check(a.error_code()->code == b.error_code()->code);
    Check(a.error_code()->reason == b.error_code()->reason);
  }
  Check(std::equal(
      a.unknown_comprehension_required().begin(), a.unknown_comprehension_required().end(),
      b.unknown_comprehension_required().begin(), b.unknown_comprehension_required().end()));
  Check(a.has_message_integrity() == b.has_message_integrity());
  Check(a.has_fingerprint() == b.has_fingerprint());
  if (b.has_message_integrity()) Check(b.CheckIntegrity(kPwd));
  if (b.has_fingerprint()) Check(b.CheckFingerprint());
}

void RunServer(std::span<const uint8_t> request, const Endpoint& from, bool remote_known) {
  auto created = IceLiteServer::Create(IceCredentials{std::string(kUfrag), std::string(kPwd)});
  Check(created.ok());
  IceLiteServer server = std::move(created).value();
  if (remote_known) Check(server.SetRemoteUfrag(kRemoteUfrag).ok());
  std::array<uint8_t, 256> out{};
  // Twice, so the second pass sees the state (tuples, buckets) the first left.
  for (int64_t now : {int64_t{0}, int64_t{31'000}}) {
    const aegis::rtc::IceResult r = server.HandleRequest(request, from, now, out);
    if (r.action == IceAction::kDrop) {
      Check(r.response.empty());
      continue;
    }
    auto resp = StunMessage::Parse(r.response);
    Check(resp.ok());
    ReadAll(*resp);
    auto req = StunMessage::Parse(request);
    Check(req.ok());
    Check(std::equal(req->transaction_id().begin(), req->transaction_id().end(),
                     resp->transaction_id().begin()));
    Check(resp->CheckFingerprint());
    if (r.action == IceAction::kSuccessResponse) {
      Check(resp->message_class() == StunClass::kSuccessResponse);
      Check(resp->CheckIntegrity(kPwd));
      Check(resp->xor_mapped_address() == from);
      Check(server.IsValidTuple(from, now));
      Check(server.selected_tuple().has_value());
      Check(server.IsConsentFresh(now));
      Check(!server.IsConsentFresh(now + 30'000));
    } else {
      Check(resp->message_class() == StunClass::kErrorResponse);
      Check(resp->error_code().has_value() && resp->error_code()->code == r.error_code);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint8_t> buf(data, data + size);
  (void)aegis::rtc::IsStun(buf);
  if (buf.size() >= 8) {
    buf[4] = 0x21;
    buf[5] = 0x12;
    buf[6] = 0xA4;
    buf[7] = 0x42;
  }
  const bool classified = aegis::rtc::IsStun(buf);
  auto parsed = StunMessage::Parse(buf);
  // Parse is at least as strict as the classifier on everything but the first
  // byte (RFC 7983 narrows it to 0..3; any method up to 0xFFF parses).
  Check(!parsed.ok() || classified || buf[0] > 3);

  const Endpoint from =
      (size > 0 && (data[size - 1] & 1))
          ? Endpoint::V6({0x20, 0x01, 0x0d, 0xb8, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12},
                         static_cast<uint16_t>(size))
          : Endpoint::V4({192, 0, 2, 1}, static_cast<uint16_t>(size));
  RunServer(buf, from, /*remote_known=*/true);
  if (!parsed.ok()) return 0;
  ReadAll(*parsed);

  std::optional<std::vector<uint8_t>> rebuilt = Rebuild(*parsed);
  if (!rebuilt) return 0;
  auto again = StunMessage::Parse(*rebuilt);
  Check(again.ok());
  CheckSameValues(*parsed, *again);
  // The rebuilt twin is signed with the server password, reaching the
  // authenticated rows of the response matrix (487, 400 priority, success).
  RunServer(*rebuilt, from, /*remote_known=*/true);
  RunServer(*rebuilt, from, /*remote_known=*/false);
  return 0;
}
