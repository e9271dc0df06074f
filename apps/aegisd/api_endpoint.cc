#include "api_endpoint.h"

#include "api/rest_api.h"
#include "api/room_registry.h"

namespace aegis::aegisd {
namespace {

class RestApiEndpoint final : public ApiEndpoint {
 public:
  RestApiEndpoint(store::ControlStore& store, const Config& config, const Clock& clock,
                  api::RoomRegistry& rooms)
      : api_(store, config, clock, rooms) {}

  net::HttpResponse Handle(const net::HttpRequest& request) override {
    return api_.Handle(request);
  }

 private:
  // Allocated by this.
  api::RestApi api_;
};

}  // namespace

std::unique_ptr<ApiEndpoint> MakeApiEndpoint(store::ControlStore& store, const Config& config,
                                             const Clock& clock, api::RoomRegistry& rooms) {
  return std::make_unique<RestApiEndpoint>(store, config, clock, rooms);
}

}  // namespace aegis::aegisd
