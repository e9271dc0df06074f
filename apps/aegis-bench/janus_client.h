// The Janus VideoRoom side of a BenchClient (`--target janus`): Janus's
// WebSocket API (subprotocol "janus-protocol"), one session and one
// VideoRoom plugin handle per peer connection, publishers offer and Janus
// answers (a=setup:active, so our DTLS is the server), subscribers get
// Janus's offer and answer it. Same BenchPeer, media and measurements as the
// Aegis client. One event-loop thread.
#pragma once

#include <memory>

#include "bench_client.h"

namespace aegis::bench {

std::unique_ptr<BenchClient> CreateJanusClient(const ClientEnvironment& env, ClientConfig config);

}  // namespace aegis::bench
