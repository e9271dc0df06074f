// libFuzzer target: arbitrary bytes as the JSON body of every REST action
// (R7, FZ-01 "REST JSON bodies"). Validation is a pure function of the body,
// so no store is needed. Checks: no crash, no exception, no UB; an accepted
// request satisfies the limits it was validated against; a rejection carries
// one of the documented parameter error codes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "api/actions.h"
#include "api/params.h"

namespace {

constexpr int64_t kNow = 1'700'000'000;

void Check(bool condition) {
  if (!condition) {
    std::abort();
  }
}

bool IsParamErrorCode(const std::string& code) {
  return code == "InvalidParameter" || code == "MissingParameter" || code == "UnknownParameter" ||
         code == "InvalidParameterValue";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  for (aegis::api::Action action : aegis::api::kAllActions) {
    auto result = aegis::api::ValidateActionRequest(action, body, kNow);
    if (!result.ok()) {
      Check(IsParamErrorCode(result.status().code()));
      continue;
    }
    Check(aegis::api::RequestSdkAppId(*result) >= 1);
    if (const auto* r = std::get_if<aegis::api::RemoveUserRequest>(&*result)) {
      Check(!r->user_ids.empty() && r->user_ids.size() <= aegis::api::kMaxRemoveUsers);
      Check(!r->room.room_id.empty());
    } else if (const auto* d = std::get_if<aegis::api::DismissRoomRequest>(&*result)) {
      Check(!d->room.room_id.empty() && d->room.room_id.size() <= aegis::api::kMaxStrRoomIdBytes);
    } else if (const auto* q = std::get_if<aegis::api::DescribeRoomInfoRequest>(&*result)) {
      Check(q->page_size >= 1 && q->page_size <= aegis::api::kMaxPageSize);
      Check(q->end_time >= q->start_time);
    } else if (const auto* u = std::get_if<aegis::api::DescribeUserInfoRequest>(&*result)) {
      Check(u->user_ids.size() <= aegis::api::kMaxDescribeUsers);
      Check(!u->comm_id.empty());
    }
  }
  // The parser on its own, with a small depth cap.
  auto parsed = aegis::api::ParseJsonObject(body, 4);
  if (parsed.ok()) {
    Check(parsed->is_object());
  }
  return 0;
}
