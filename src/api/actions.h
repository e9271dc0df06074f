// The REST actions of the TRTC cloud-API convention (version 2019-07-22) that
// Aegis implements, and the pure validation of each action's JSON body into a
// typed request (names, types and limits as in the public API; see
// docs/api/openapi.yaml). No store, no clock other than the `now_s` argument:
// the same function is what the fuzzer (fuzz/api_params_fuzzer.cc) drives.
// Input is untrusted. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "api/room_registry.h"
#include "core/status.h"

namespace aegis::api {

inline constexpr std::string_view kApiVersion = "2019-07-22";
inline constexpr std::string_view kApiService = "trtc";

enum class Action {
  kDescribeRoomInfo,
  kDescribeUserInfo,
  kDismissRoom,
  kDismissRoomByStrRoomId,
  kRemoveUser,
  kRemoveUserByStrRoomId,
};

inline constexpr Action kAllActions[] = {
    Action::kDescribeRoomInfo,       Action::kDescribeUserInfo, Action::kDismissRoom,
    Action::kDismissRoomByStrRoomId, Action::kRemoveUser,       Action::kRemoveUserByStrRoomId,
};

std::optional<Action> ParseActionName(std::string_view name);
std::string_view ActionName(Action action);
// Dismiss* and Remove*: audited.
bool IsWriteAction(Action action);

// Limits of the convention.
inline constexpr int64_t kMaxSdkAppId = 4294967295;
inline constexpr int64_t kMaxNumericRoomId = 4294967294;
inline constexpr size_t kMaxStrRoomIdBytes = 64;
inline constexpr size_t kMaxUserIdBytes = 32;
inline constexpr size_t kMaxCommIdBytes = 128;
inline constexpr size_t kMaxRemoveUsers = 10;
inline constexpr size_t kMaxDescribeUsers = 100;
inline constexpr int64_t kMaxPageSize = 100;
inline constexpr int64_t kMaxPageNumber = 1000000;
inline constexpr int64_t kHistoryWindowS = int64_t{14} * 24 * 3600;  // oldest queryable StartTime
inline constexpr int64_t kRoomQuerySpanS = int64_t{24} * 3600;       // DescribeRoomInfo
inline constexpr int64_t kUserQuerySpanS = int64_t{4} * 3600;        // DescribeUserInfo
inline constexpr int64_t kMaxUnixTime = 4102444800;                  // 2100-01-01

struct DescribeRoomInfoRequest {
  uint32_t sdkappid = 0;
  int64_t start_time = 0;
  int64_t end_time = 0;
  std::optional<std::string> room_id;
  int64_t page_number = 0;
  int64_t page_size = 10;
};

struct DescribeUserInfoRequest {
  uint32_t sdkappid = 0;
  std::string comm_id;
  int64_t start_time = 0;
  int64_t end_time = 0;
  std::vector<std::string> user_ids;  // empty: all
  int64_t page_number = 0;
  int64_t page_size = 6;
};

// DismissRoom and DismissRoomByStrRoomId.
struct DismissRoomRequest {
  RoomKey room;  // room.sdkappid is the SdkAppId parameter
};

// RemoveUser and RemoveUserByStrRoomId. user_ids deduplicated, order kept.
struct RemoveUserRequest {
  RoomKey room;
  std::vector<std::string> user_ids;
};

using ActionRequest = std::variant<DescribeRoomInfoRequest, DescribeUserInfoRequest,
                                   DismissRoomRequest, RemoveUserRequest>;

// Parses and validates `body` for `action`. `now_s` bounds the queryable
// history window of the Describe* actions. Errors: InvalidParameter,
// MissingParameter, UnknownParameter, InvalidParameterValue.
Result<ActionRequest> ValidateActionRequest(Action action, std::string_view body, int64_t now_s);

// The SdkAppId every request carries.
uint32_t RequestSdkAppId(const ActionRequest& request);

}  // namespace aegis::api
