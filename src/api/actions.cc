#include "api/actions.h"

#include <set>

#include "api/params.h"

namespace aegis::api {
namespace {

constexpr ParamSpec kSdkAppId{"SdkAppId", ParamType::kInteger, true, 1, kMaxSdkAppId};
constexpr ParamSpec kStartTime{"StartTime", ParamType::kInteger, true, 0, kMaxUnixTime};
constexpr ParamSpec kEndTime{"EndTime", ParamType::kInteger, true, 0, kMaxUnixTime};
constexpr ParamSpec kPageNumber{"PageNumber", ParamType::kInteger, false, 0, kMaxPageNumber};
constexpr ParamSpec kPageSize{"PageSize", ParamType::kInteger, false, 1, kMaxPageSize};

constexpr ParamSpec kDescribeRoomInfoSpecs[] = {
    kSdkAppId,   kStartTime,
    kEndTime,    {"RoomId", ParamType::kString, false, 1, kMaxStrRoomIdBytes, Charset::kStrRoomId},
    kPageNumber, kPageSize,
};

constexpr ParamSpec kDescribeUserInfoSpecs[] = {
    {"CommId", ParamType::kString, true, 1, kMaxCommIdBytes, Charset::kCommId},
    kStartTime,
    kEndTime,
    kSdkAppId,
    {"UserIds", ParamType::kStringArray, false, 1, kMaxDescribeUsers, Charset::kUserId, 1,
     kMaxUserIdBytes},
    kPageNumber,
    kPageSize,
};

constexpr ParamSpec kDismissRoomSpecs[] = {
    kSdkAppId,
    {"RoomId", ParamType::kInteger, true, 1, kMaxNumericRoomId},
};

constexpr ParamSpec kDismissRoomByStrRoomIdSpecs[] = {
    kSdkAppId,
    {"RoomId", ParamType::kString, true, 1, kMaxStrRoomIdBytes, Charset::kStrRoomId},
};

constexpr ParamSpec kRemoveUserSpecs[] = {
    kSdkAppId,
    {"RoomId", ParamType::kInteger, true, 1, kMaxNumericRoomId},
    {"UserIds", ParamType::kStringArray, true, 1, kMaxRemoveUsers, Charset::kUserId, 1,
     kMaxUserIdBytes},
};

constexpr ParamSpec kRemoveUserByStrRoomIdSpecs[] = {
    kSdkAppId,
    {"RoomId", ParamType::kString, true, 1, kMaxStrRoomIdBytes, Charset::kStrRoomId},
    {"UserIds", ParamType::kStringArray, true, 1, kMaxRemoveUsers, Charset::kUserId, 1,
     kMaxUserIdBytes},
};

Status InvalidValue(std::string message) {
  return Status::Error("InvalidParameterValue", std::move(message));
}

// Time window rules shared by the Describe* actions.
Status CheckWindow(int64_t start, int64_t end, int64_t max_span, int64_t now_s) {
  if (end < start) {
    return InvalidValue("`EndTime` must not be earlier than `StartTime`.");
  }
  if (end - start > max_span) {
    return InvalidValue("`EndTime` and `StartTime` must be at most " +
                        std::to_string(max_span / 3600) + " hours apart.");
  }
  if (start < now_s - kHistoryWindowS) {
    return InvalidValue("`StartTime` must be within the last 14 days.");
  }
  return Status::Ok();
}

// The convention: when PageNumber or PageSize is absent, the first page of
// the default size is returned.
void Paging(const Params& p, int64_t default_size, int64_t* number, int64_t* size) {
  if (p.Has("PageNumber") && p.Has("PageSize")) {
    *number = p.Int("PageNumber");
    *size = p.Int("PageSize");
  } else {
    *number = 0;
    *size = default_size;
  }
}

std::vector<std::string> Dedup(std::vector<std::string> ids) {
  std::set<std::string> seen;
  std::vector<std::string> out;
  for (auto& id : ids) {
    if (seen.insert(id).second) {
      out.push_back(std::move(id));
    }
  }
  return out;
}

RoomKey RoomFrom(const Params& p, bool is_str_room) {
  auto sdkappid = static_cast<uint32_t>(p.Int("SdkAppId"));
  if (is_str_room) {
    return RoomKey::String(sdkappid, p.Str("RoomId"));
  }
  return RoomKey::Numeric(sdkappid, static_cast<uint64_t>(p.Int("RoomId")));
}

}  // namespace

std::optional<Action> ParseActionName(std::string_view name) {
  for (Action action : kAllActions) {
    if (ActionName(action) == name) {
      return action;
    }
  }
  return std::nullopt;
}

std::string_view ActionName(Action action) {
  switch (action) {
    case Action::kDescribeRoomInfo:
      return "DescribeRoomInfo";
    case Action::kDescribeUserInfo:
      return "DescribeUserInfo";
    case Action::kDismissRoom:
      return "DismissRoom";
    case Action::kDismissRoomByStrRoomId:
      return "DismissRoomByStrRoomId";
    case Action::kRemoveUser:
      return "RemoveUser";
    case Action::kRemoveUserByStrRoomId:
      return "RemoveUserByStrRoomId";
  }
  return "unknown";
}

bool IsWriteAction(Action action) {
  switch (action) {
    case Action::kDismissRoom:
    case Action::kDismissRoomByStrRoomId:
    case Action::kRemoveUser:
    case Action::kRemoveUserByStrRoomId:
      return true;
    case Action::kDescribeRoomInfo:
    case Action::kDescribeUserInfo:
      return false;
  }
  return false;
}

Result<ActionRequest> ValidateActionRequest(Action action, std::string_view body, int64_t now_s) {
  switch (action) {
    case Action::kDescribeRoomInfo: {
      auto p = ParseAndValidate(body, kDescribeRoomInfoSpecs);
      if (!p.ok()) {
        return p.status();
      }
      DescribeRoomInfoRequest r;
      r.sdkappid = static_cast<uint32_t>(p->Int("SdkAppId"));
      r.start_time = p->Int("StartTime");
      r.end_time = p->Int("EndTime");
      AEGIS_RETURN_IF_ERROR(CheckWindow(r.start_time, r.end_time, kRoomQuerySpanS, now_s));
      if (p->Has("RoomId")) {
        r.room_id = p->Str("RoomId");
      }
      Paging(*p, 10, &r.page_number, &r.page_size);
      return ActionRequest(std::move(r));
    }
    case Action::kDescribeUserInfo: {
      auto p = ParseAndValidate(body, kDescribeUserInfoSpecs);
      if (!p.ok()) {
        return p.status();
      }
      DescribeUserInfoRequest r;
      r.sdkappid = static_cast<uint32_t>(p->Int("SdkAppId"));
      r.comm_id = p->Str("CommId");
      r.start_time = p->Int("StartTime");
      r.end_time = p->Int("EndTime");
      AEGIS_RETURN_IF_ERROR(CheckWindow(r.start_time, r.end_time, kUserQuerySpanS, now_s));
      r.user_ids = Dedup(p->Strs("UserIds"));
      Paging(*p, 6, &r.page_number, &r.page_size);
      return ActionRequest(std::move(r));
    }
    case Action::kDismissRoom:
    case Action::kDismissRoomByStrRoomId: {
      bool str = action == Action::kDismissRoomByStrRoomId;
      auto p = ParseAndValidate(body, str ? std::span<const ParamSpec>(kDismissRoomByStrRoomIdSpecs)
                                          : std::span<const ParamSpec>(kDismissRoomSpecs));
      if (!p.ok()) {
        return p.status();
      }
      return ActionRequest(DismissRoomRequest{RoomFrom(*p, str)});
    }
    case Action::kRemoveUser:
    case Action::kRemoveUserByStrRoomId: {
      bool str = action == Action::kRemoveUserByStrRoomId;
      auto p = ParseAndValidate(body, str ? std::span<const ParamSpec>(kRemoveUserByStrRoomIdSpecs)
                                          : std::span<const ParamSpec>(kRemoveUserSpecs));
      if (!p.ok()) {
        return p.status();
      }
      return ActionRequest(RemoveUserRequest{RoomFrom(*p, str), Dedup(p->Strs("UserIds"))});
    }
  }
  return Status::Error("InvalidAction", "unknown action");
}

uint32_t RequestSdkAppId(const ActionRequest& request) {
  return std::visit(
      [](const auto& r) -> uint32_t {
        using T = std::decay_t<decltype(r)>;
        if constexpr (std::is_same_v<T, DescribeRoomInfoRequest> ||
                      std::is_same_v<T, DescribeUserInfoRequest>) {
          return r.sdkappid;
        } else {
          return r.room.sdkappid;
        }
      },
      request);
}

}  // namespace aegis::api
