// The REST API behind `POST /`, kept behind this one seam so that aegisd's
// router does not depend on how the API module is assembled (RestApi plus
// its RoomRegistry). Borrows the store, config, clock and registry (must outlive it).
// Thread-safety follows api::RestApi (Handle may be called concurrently).
#pragma once

#include <memory>

#include "api/room_registry.h"
#include "core/clock.h"
#include "core/config.h"
#include "net/http_types.h"
#include "store/store.h"

namespace aegis::aegisd {

class ApiEndpoint {
 public:
  virtual ~ApiEndpoint() = default;
  virtual net::HttpResponse Handle(const net::HttpRequest& request) = 0;
};

// `rooms` is the live room registry shared with the signalling server.
std::unique_ptr<ApiEndpoint> MakeApiEndpoint(store::ControlStore& store, const Config& config,
                                             const Clock& clock, api::RoomRegistry& rooms);

}  // namespace aegis::aegisd
