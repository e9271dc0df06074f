#include "api_endpoint.h"

#include "api/rest_api.h"
#include "api/room_registry.h"

namespace aegis::aegisd {
namespace {

class RestApiEndpoint final : public ApiEndpoint {
 public:
  RestApiEndpoint(store::ControlStore& store, const Config& config, const Clock& clock)
      : api_(store, config, clock, rooms_) {}

  net::HttpResponse Handle(const net::HttpRequest& request) override {
    return api_.Handle(request);
  }

 private:
  // Allocated by this. rooms_ is declared first: api_ borrows it.
  api::RoomRegistry rooms_;
  api::RestApi api_;
};

}  // namespace

std::unique_ptr<ApiEndpoint> MakeApiEndpoint(store::ControlStore& store, const Config& config,
                                             const Clock& clock) {
  return std::make_unique<RestApiEndpoint>(store, config, clock);
}

}  // namespace aegis::aegisd
