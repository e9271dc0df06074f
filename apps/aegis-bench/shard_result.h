// The raw figures of one generator process ("shard": its share of the
// clients, or all of them with --procs 1) and the merge of every shard into
// the run's JSON result. Raw so the merge is exact: latency histograms travel
// as buckets and are summed (never percentiles of percentiles), a
// subscriber's loss is judged against the publisher's final counter
// whichever process sent it, rates are summed over the shards' own windows.
// A child's JSON is untrusted input to the parent: parsed defensively,
// errors name the field. Value types and pure functions; thread-compatible.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "runner.h"
#include "server_probe.h"
#include "stats.h"

namespace aegis::bench {

// One publisher stream: audio, or video (one per simulcast layer).
struct SentStream {
  uint16_t id = 0;
  bool video = false;
  int layer = -1;      // simulcast layer, -1: none
  uint16_t group = 0;  // the track's layer-0 stream id (own id without simulcast)
  uint32_t next_counter = 0;
  uint64_t packets = 0;
  uint64_t keyframes = 0;
  uint64_t plis_received = 0;
  uint64_t nacks_received = 0;
};

// One stream as one subscriber received it (StreamReceiveStats' counters).
struct ReceivedStream {
  uint16_t id = 0;
  uint32_t first = 0;
  uint32_t highest = 0;
  uint64_t unique = 0;
  uint64_t duplicates = 0;
  uint64_t gaps = 0;
  uint64_t late = 0;
  double jitter_ms = 0;
  uint64_t last_ns = 0;  // CLOCK_MONOTONIC of its latest packet
};

struct SubscriberResult {
  uint32_t room = 0;
  bool receiving = false;  // its subscribe connection was created
  std::optional<double> first_packet_ms;
  std::optional<double> first_keyframe_ms;
  std::vector<ReceivedStream> streams;
};

struct PublisherResult {
  uint32_t room = 0;
  bool started = false;  // media ever flowed
};

struct ShardResult {
  uint32_t index = 0;
  int pid = 0;
  uint64_t failed = 0;
  std::vector<std::string> errors;  // the first few
  std::vector<PublisherResult> publishers;
  std::vector<SubscriberResult> subscribers;
  std::vector<SentStream> sent;
  LatencyHistogram window_latency;
  double window_s = 0;  // this shard's own window (begin to end command)
  uint64_t window_rx_packets = 0;
  uint64_t window_rx_bytes = 0;
  uint64_t window_tx_packets = 0;
  uint64_t window_tx_bytes = 0;
  uint64_t tx_packets = 0;
  uint64_t rx_packets = 0;
  uint64_t foreign_payloads = 0;
  uint64_t send_skipped = 0;
  uint64_t nacks_sent = 0;
  uint64_t plis_sent = 0;
  uint64_t srtp_errors = 0;
  std::map<std::string, std::map<std::string, uint64_t>> srtp_profiles;
  double cpu_seconds = 0;
  uint64_t rss_bytes = 0;
};

// Receive figures since the last collection (progress line, capacity step).
struct IntervalFigures {
  LatencyHistogram latency;
  uint64_t rx_packets = 0;
  uint64_t tx_packets = 0;
  uint64_t lost = 0;
  uint64_t expected = 0;

  void Merge(const IntervalFigures& o);
  void Reset();
  double LossPct() const;
};

// What the controller measured itself (not per shard).
struct RunFacts {
  double window_s = 0;
  double connect_s = 0;
  bool connect_timeout = false;
  std::optional<ProcessSample> server_idle;   // before the first client started
  std::optional<ProcessSample> server_start;  // window start
  std::optional<ProcessSample> server_end;    // window end
  // Server RSS through the window: (seconds since window start, bytes).
  std::vector<std::pair<double, uint64_t>> rss_samples;
  nlohmann::json capacity;  // null unless capacity mode
  int coordinator_pid = 0;  // --procs > 1: the parent process
  std::optional<ProcessSample> coordinator;
};

nlohmann::json ShardResultToJson(const ShardResult& r);
// Error code bench_ipc, naming what is malformed.
Result<ShardResult> ShardResultFromJson(const nlohmann::json& j);

nlohmann::json IntervalToJson(const IntervalFigures& f);
Result<IntervalFigures> IntervalFromJson(const nlohmann::json& j);

nlohmann::json HistogramToJson(const LatencyHistogram& h);
Result<LatencyHistogram> HistogramFromJson(const nlohmann::json& j);

// Every figure of the run (docs/PERFORMANCE.md), from the shards in any order.
nlohmann::json BuildResult(const ScenarioConfig& config, const RunFacts& facts,
                           const std::vector<ShardResult>& shards);

}  // namespace aegis::bench
