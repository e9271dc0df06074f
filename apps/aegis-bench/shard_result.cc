#include "shard_result.h"

#include <unistd.h>

#include <algorithm>
#include <limits>

#include "media_publisher.h"

namespace aegis::bench {
namespace {

using json = nlohmann::json;

constexpr size_t kMaxErrors = 10;

double Ms(uint64_t us) { return static_cast<double>(us) / 1000.0; }

Status Bad(const std::string& what) {
  return Status::Error("bench_ipc", "generator process result: " + what);
}

// Readers of a child's JSON: false when the field is missing or mistyped.
bool ReadU64(const json& j, const char* key, uint64_t* out) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_number_unsigned()) return false;
  *out = j[key].get<uint64_t>();
  return true;
}

template <typename T>
bool ReadUnsigned(const json& j, const char* key, T* out) {
  uint64_t v = 0;
  if (!ReadU64(j, key, &v) || v > std::numeric_limits<T>::max()) return false;
  *out = static_cast<T>(v);
  return true;
}

bool ReadDouble(const json& j, const char* key, double* out) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_number()) return false;
  *out = j[key].get<double>();
  return true;
}

bool ReadBool(const json& j, const char* key, bool* out) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_boolean()) return false;
  *out = j[key].get<bool>();
  return true;
}

bool ReadInt(const json& j, const char* key, int* out) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_number_integer()) return false;
  const int64_t v = j[key].get<int64_t>();
  if (v < std::numeric_limits<int>::min() || v > std::numeric_limits<int>::max()) return false;
  *out = static_cast<int>(v);
  return true;
}

std::optional<double> OptionalMs(const json& j, const char* key) {
  if (!j.contains(key) || !j[key].is_number()) return std::nullopt;
  return j[key].get<double>();
}

uint64_t ExpectedSoFar(const ReceivedStream& s) { return uint64_t{s.highest - s.first} + 1; }

uint64_t ExpectedUpTo(const ReceivedStream& s, uint32_t last_sent) {
  const int32_t ahead = static_cast<int32_t>(last_sent - s.highest);
  return ExpectedSoFar(s) + (ahead > 0 ? static_cast<uint64_t>(ahead) : 0);
}

}  // namespace

void IntervalFigures::Merge(const IntervalFigures& o) {
  latency.Merge(o.latency);
  rx_packets += o.rx_packets;
  tx_packets += o.tx_packets;
  lost += o.lost;
  expected += o.expected;
}

void IntervalFigures::Reset() { *this = IntervalFigures{}; }

double IntervalFigures::LossPct() const {
  return expected == 0 ? 0 : 100.0 * static_cast<double>(lost) / static_cast<double>(expected);
}

json HistogramToJson(const LatencyHistogram& h) {
  const LatencyHistogram::Raw raw = h.ToRaw();
  json buckets = json::array();
  for (const auto& [index, n] : raw.buckets) buckets.push_back({index, n});
  return {{"buckets", std::move(buckets)}, {"max", raw.max}, {"sum", raw.sum}};
}

Result<LatencyHistogram> HistogramFromJson(const json& j) {
  LatencyHistogram::Raw raw;
  if (!j.is_object() || !j.contains("buckets") || !j["buckets"].is_array() ||
      !ReadU64(j, "max", &raw.max) || !ReadDouble(j, "sum", &raw.sum)) {
    return Bad("histogram without buckets/max/sum");
  }
  for (const json& b : j["buckets"]) {
    if (!b.is_array() || b.size() != 2 || !b[0].is_number_unsigned() ||
        !b[1].is_number_unsigned() || b[0].get<uint64_t>() > 0xffffffffULL) {
      return Bad("histogram bucket is not [index, count]");
    }
    raw.buckets.emplace_back(b[0].get<uint32_t>(), b[1].get<uint64_t>());
  }
  auto h = LatencyHistogram::FromRaw(raw);
  if (!h) return Bad("histogram bucket index out of range");
  return std::move(*h);
}

json IntervalToJson(const IntervalFigures& f) {
  return {{"latency", HistogramToJson(f.latency)},
          {"rx_packets", f.rx_packets},
          {"tx_packets", f.tx_packets},
          {"lost", f.lost},
          {"expected", f.expected}};
}

Result<IntervalFigures> IntervalFromJson(const json& j) {
  IntervalFigures f;
  if (!j.is_object() || !j.contains("latency")) return Bad("interval without latency");
  auto h = HistogramFromJson(j["latency"]);
  if (!h.ok()) return h.status();
  f.latency = std::move(h).value();
  if (!ReadU64(j, "rx_packets", &f.rx_packets) || !ReadU64(j, "tx_packets", &f.tx_packets) ||
      !ReadU64(j, "lost", &f.lost) || !ReadU64(j, "expected", &f.expected)) {
    return Bad("interval counters missing");
  }
  return f;
}

json ShardResultToJson(const ShardResult& r) {
  json pubs = json::array();
  for (const PublisherResult& p : r.publishers) pubs.push_back({p.room, p.started});
  json subs = json::array();
  for (const SubscriberResult& s : r.subscribers) {
    json streams = json::array();
    for (const ReceivedStream& st : s.streams) {
      streams.push_back({{"id", st.id},
                         {"first", st.first},
                         {"highest", st.highest},
                         {"unique", st.unique},
                         {"duplicates", st.duplicates},
                         {"gaps", st.gaps},
                         {"late", st.late},
                         {"jitter_ms", st.jitter_ms},
                         {"last_ns", st.last_ns}});
    }
    json sub = {{"room", s.room}, {"receiving", s.receiving}, {"streams", std::move(streams)}};
    if (s.first_packet_ms) sub["first_packet_ms"] = *s.first_packet_ms;
    if (s.first_keyframe_ms) sub["first_keyframe_ms"] = *s.first_keyframe_ms;
    subs.push_back(std::move(sub));
  }
  json sent = json::array();
  for (const SentStream& s : r.sent) {
    sent.push_back({{"id", s.id},
                    {"video", s.video},
                    {"layer", s.layer},
                    {"group", s.group},
                    {"next_counter", s.next_counter},
                    {"packets", s.packets},
                    {"keyframes", s.keyframes},
                    {"plis_received", s.plis_received},
                    {"nacks_received", s.nacks_received}});
  }
  return {{"index", r.index},
          {"pid", r.pid},
          {"failed", r.failed},
          {"errors", r.errors},
          {"publishers", std::move(pubs)},
          {"subscribers", std::move(subs)},
          {"sent", std::move(sent)},
          {"window_latency", HistogramToJson(r.window_latency)},
          {"window_s", r.window_s},
          {"window_rx_packets", r.window_rx_packets},
          {"window_rx_bytes", r.window_rx_bytes},
          {"window_tx_packets", r.window_tx_packets},
          {"window_tx_bytes", r.window_tx_bytes},
          {"tx_packets", r.tx_packets},
          {"rx_packets", r.rx_packets},
          {"foreign_payloads", r.foreign_payloads},
          {"send_skipped", r.send_skipped},
          {"nacks_sent", r.nacks_sent},
          {"plis_sent", r.plis_sent},
          {"srtp_errors", r.srtp_errors},
          {"srtp_profiles", r.srtp_profiles},
          {"cpu_seconds", r.cpu_seconds},
          {"rss_bytes", r.rss_bytes}};
}

Result<ShardResult> ShardResultFromJson(const json& j) {
  ShardResult r;
  if (!j.is_object()) return Bad("not an object");
  if (!ReadUnsigned(j, "index", &r.index) || !ReadInt(j, "pid", &r.pid) ||
      !ReadU64(j, "failed", &r.failed) || !ReadDouble(j, "window_s", &r.window_s) ||
      !ReadU64(j, "window_rx_packets", &r.window_rx_packets) ||
      !ReadU64(j, "window_rx_bytes", &r.window_rx_bytes) ||
      !ReadU64(j, "window_tx_packets", &r.window_tx_packets) ||
      !ReadU64(j, "window_tx_bytes", &r.window_tx_bytes) ||
      !ReadU64(j, "tx_packets", &r.tx_packets) || !ReadU64(j, "rx_packets", &r.rx_packets) ||
      !ReadU64(j, "foreign_payloads", &r.foreign_payloads) ||
      !ReadU64(j, "send_skipped", &r.send_skipped) || !ReadU64(j, "nacks_sent", &r.nacks_sent) ||
      !ReadU64(j, "plis_sent", &r.plis_sent) || !ReadU64(j, "srtp_errors", &r.srtp_errors) ||
      !ReadDouble(j, "cpu_seconds", &r.cpu_seconds) || !ReadU64(j, "rss_bytes", &r.rss_bytes)) {
    return Bad("a counter is missing or not a number");
  }
  if (!j.contains("window_latency")) return Bad("no window_latency");
  auto h = HistogramFromJson(j["window_latency"]);
  if (!h.ok()) return h.status();
  r.window_latency = std::move(h).value();
  if (!j.contains("errors") || !j["errors"].is_array()) return Bad("no errors list");
  for (const json& e : j["errors"]) {
    if (!e.is_string()) return Bad("an error is not a string");
    r.errors.push_back(e.get<std::string>());
  }
  if (!j.contains("publishers") || !j["publishers"].is_array()) return Bad("no publishers");
  for (const json& p : j["publishers"]) {
    if (!p.is_array() || p.size() != 2 || !p[0].is_number_unsigned() || !p[1].is_boolean()) {
      return Bad("publisher is not [room, started]");
    }
    r.publishers.push_back({p[0].get<uint32_t>(), p[1].get<bool>()});
  }
  if (!j.contains("subscribers") || !j["subscribers"].is_array()) return Bad("no subscribers");
  for (const json& s : j["subscribers"]) {
    SubscriberResult sub;
    if (!ReadUnsigned(s, "room", &sub.room) || !ReadBool(s, "receiving", &sub.receiving) ||
        !s.contains("streams") || !s["streams"].is_array()) {
      return Bad("subscriber without room/receiving/streams");
    }
    sub.first_packet_ms = OptionalMs(s, "first_packet_ms");
    sub.first_keyframe_ms = OptionalMs(s, "first_keyframe_ms");
    for (const json& st : s["streams"]) {
      ReceivedStream rs;
      if (!ReadUnsigned(st, "id", &rs.id) || !ReadUnsigned(st, "first", &rs.first) ||
          !ReadUnsigned(st, "highest", &rs.highest) || !ReadU64(st, "unique", &rs.unique) ||
          !ReadU64(st, "duplicates", &rs.duplicates) || !ReadU64(st, "gaps", &rs.gaps) ||
          !ReadU64(st, "late", &rs.late) || !ReadDouble(st, "jitter_ms", &rs.jitter_ms) ||
          !ReadU64(st, "last_ns", &rs.last_ns)) {
        return Bad("received stream counters missing");
      }
      sub.streams.push_back(rs);
    }
    r.subscribers.push_back(std::move(sub));
  }
  if (!j.contains("sent") || !j["sent"].is_array()) return Bad("no sent streams");
  for (const json& st : j["sent"]) {
    SentStream s;
    if (!ReadUnsigned(st, "id", &s.id) || !ReadBool(st, "video", &s.video) ||
        !ReadInt(st, "layer", &s.layer) || !ReadUnsigned(st, "group", &s.group) ||
        !ReadUnsigned(st, "next_counter", &s.next_counter) || !ReadU64(st, "packets", &s.packets) ||
        !ReadU64(st, "keyframes", &s.keyframes) ||
        !ReadU64(st, "plis_received", &s.plis_received) ||
        !ReadU64(st, "nacks_received", &s.nacks_received)) {
      return Bad("sent stream counters missing");
    }
    r.sent.push_back(s);
  }
  if (!j.contains("srtp_profiles") || !j["srtp_profiles"].is_object()) {
    return Bad("no srtp_profiles");
  }
  for (const auto& [leg, names] : j["srtp_profiles"].items()) {
    if (!names.is_object()) return Bad("srtp_profiles entry is not an object");
    for (const auto& [name, n] : names.items()) {
      if (!n.is_number_unsigned()) return Bad("srtp_profiles count is not a number");
      r.srtp_profiles[leg][name] = n.get<uint64_t>();
    }
  }
  return r;
}

json BuildResult(const ScenarioConfig& config, const RunFacts& facts,
                 const std::vector<ShardResult>& shards) {
  json r;
  r["scenario"] = config.name;
  r["target"] = config.target;
  r["config"] = {{"rooms", config.rooms},
                 {"publishers_per_room", config.publishers},
                 {"subscribers_per_room", config.subscribers},
                 {"audio", config.media.audio},
                 {"video", config.media.video},
                 {"video_kbps", config.media.video_kbps},
                 {"fps", config.media.fps},
                 {"keyframe_interval_s", config.media.keyframe_interval_s},
                 {"simulcast_layers", config.media.video ? config.media.simulcast_layers : 0},
                 {"duration_s", config.duration_s},
                 {"ramp_per_s", config.ramp_per_s},
                 {"capacity", config.capacity},
                 {"procs", config.procs},
                 {"arrival", config.arrival_at_socket ? "socket" : "app"}};

  // Publishers' send state by stream id, and the tracks published per room
  // (a simulcast video track counts once).
  std::map<uint16_t, const SentStream*> sent;
  for (const ShardResult& s : shards) {
    for (const SentStream& st : s.sent) sent[st.id] = &st;
  }
  const size_t tracks = (config.media.audio ? 1 : 0) + (config.media.video ? 1 : 0);
  std::map<uint32_t, size_t> tracks_per_room;
  size_t publishers = 0;
  size_t subscribers = 0;
  uint64_t failed = 0;
  std::vector<std::string> errors;
  for (const ShardResult& s : shards) {
    for (const PublisherResult& p : s.publishers) {
      ++publishers;
      if (p.started) tracks_per_room[p.room] += tracks;
    }
    subscribers += s.subscribers.size();
    failed += s.failed;
    for (const std::string& e : s.errors) {
      if (errors.size() < kMaxErrors) errors.push_back(e);
    }
  }

  const uint32_t layers = config.media.video ? config.media.simulcast_layers : 1;
  std::vector<uint64_t> unique_per_layer(layers, 0);
  std::vector<uint64_t> subscribers_per_final_layer(layers, 0);
  std::vector<double> join_first_packet;
  std::vector<double> join_first_keyframe;
  uint64_t lost = 0, expected = 0, received = 0, dups = 0, gaps = 0, late = 0;
  uint64_t missing_streams = 0;
  double jitter_sum_ms = 0;
  size_t jitter_n = 0;
  for (const ShardResult& shard : shards) {
    for (const SubscriberResult& sub : shard.subscribers) {
      const size_t want = tracks_per_room[sub.room];
      if (!sub.receiving) {
        missing_streams += want;
        continue;
      }
      if (sub.first_packet_ms) join_first_packet.push_back(*sub.first_packet_ms);
      if (sub.first_keyframe_ms) join_first_keyframe.push_back(*sub.first_keyframe_ms);
      // A track's streams: one, or the simulcast layers the server forwarded
      // over time. The one received last is the layer being forwarded at the
      // end and is judged up to the publisher's last counter; a layer left
      // earlier only between its first and last packet received.
      std::map<uint16_t, std::vector<const ReceivedStream*>> by_track;
      for (const ReceivedStream& st : sub.streams) {
        const auto it = sent.find(st.id);
        by_track[it == sent.end() ? st.id : it->second->group].push_back(&st);
      }
      if (by_track.size() < want) missing_streams += want - by_track.size();
      for (const auto& [group, streams] : by_track) {
        const ReceivedStream* latest = *std::ranges::max_element(
            streams, [](const auto* a, const auto* b) { return a->last_ns < b->last_ns; });
        for (const ReceivedStream* st : streams) {
          const auto it = sent.find(st->id);
          const SentStream* s = it == sent.end() ? nullptr : it->second;
          const uint64_t exp = st == latest && s != nullptr && s->next_counter > 0
                                   ? ExpectedUpTo(*st, s->next_counter - 1)
                                   : ExpectedSoFar(*st);
          expected += exp;
          received += st->unique;
          lost += exp > st->unique ? exp - st->unique : 0;
          dups += st->duplicates;
          gaps += st->gaps;
          late += st->late;
          jitter_sum_ms += st->jitter_ms;
          ++jitter_n;
          if (s != nullptr && s->layer >= 0 && static_cast<uint32_t>(s->layer) < layers) {
            unique_per_layer[static_cast<size_t>(s->layer)] += st->unique;
            if (st == latest) ++subscribers_per_final_layer[static_cast<size_t>(s->layer)];
          }
        }
      }
    }
  }

  r["clients"] = {{"publishers", publishers},
                  {"subscribers", subscribers},
                  {"failed", failed},
                  {"connect_timeout", facts.connect_timeout},
                  {"connect_s", facts.connect_s},
                  {"errors", errors}};
  r["window_s"] = facts.window_s;

  LatencyHistogram wl;
  uint64_t tx_packets = 0, rx_packets = 0, foreign = 0, skipped = 0, nacks = 0, plis = 0;
  uint64_t srtp_errors = 0;
  double in_pps = 0, out_pps = 0, in_bps = 0, out_bps = 0;
  std::map<std::string, std::map<std::string, uint64_t>> profiles;
  for (const ShardResult& s : shards) {
    wl.Merge(s.window_latency);
    tx_packets += s.tx_packets;
    rx_packets += s.rx_packets;
    foreign += s.foreign_payloads;
    skipped += s.send_skipped;
    nacks += s.nacks_sent;
    plis += s.plis_sent;
    srtp_errors += s.srtp_errors;
    // Each shard over its own window (they open and close a few ms apart).
    if (s.window_s > 0) {
      in_pps += static_cast<double>(s.window_tx_packets) / s.window_s;
      out_pps += static_cast<double>(s.window_rx_packets) / s.window_s;
      in_bps += static_cast<double>(s.window_tx_bytes) * 8 / s.window_s;
      out_bps += static_cast<double>(s.window_rx_bytes) * 8 / s.window_s;
    }
    for (const auto& [leg, names] : s.srtp_profiles) {
      for (const auto& [name, n] : names) profiles[leg][name] += n;
    }
  }
  r["latency_ms"] = {{"samples", wl.count()},        {"p50", Ms(wl.Percentile(50))},
                     {"p95", Ms(wl.Percentile(95))}, {"p99", Ms(wl.Percentile(99))},
                     {"max", Ms(wl.max())},          {"mean", wl.Mean() / 1000.0}};
  r["packets"] = {
      {"sent", tx_packets},
      {"received", rx_packets},
      {"expected", expected},
      {"received_unique", received},
      {"lost", lost},
      {"loss_pct",
       expected == 0 ? 0.0 : 100.0 * static_cast<double>(lost) / static_cast<double>(expected)},
      {"duplicates", dups},
      {"gaps", gaps},
      {"late", late},
      {"missing_streams", missing_streams},
      {"foreign_payloads", foreign},
      {"srtp_errors", srtp_errors},
      {"send_skipped", skipped},
      {"nacks_sent", nacks},
      {"plis_sent", plis}};
  r["rates"] = {{"in_pps", in_pps},
                {"out_pps", out_pps},
                {"in_mbps", in_bps / 1e6},
                {"out_mbps", out_bps / 1e6}};
  r["jitter_ms_mean"] = jitter_n == 0 ? 0.0 : jitter_sum_ms / static_cast<double>(jitter_n);
  r["join_ms"] = {{"first_packet_p50", NearestRankPercentile(join_first_packet, 50)},
                  {"first_packet_p95", NearestRankPercentile(join_first_packet, 95)},
                  {"first_frame_p50", NearestRankPercentile(join_first_keyframe, 50)},
                  {"first_frame_p95", NearestRankPercentile(join_first_keyframe, 95)},
                  {"subscribers_with_packets", join_first_packet.size()},
                  {"subscribers_with_keyframe", join_first_keyframe.size()}};
  if (layers > 1) {
    r["simulcast"] = {{"layers", layers},
                      {"rids", SimulcastRids(layers)},
                      {"layer_kbps", json::array()},
                      {"received_unique_per_layer", unique_per_layer},
                      {"subscribers_per_final_layer", subscribers_per_final_layer}};
    for (uint32_t i = 0; i < layers; ++i) {
      r["simulcast"]["layer_kbps"].push_back(LayerKbps(config.media, i));
    }
  }

  json server = {{"pid", config.server_pid}};
  if (facts.server_start && facts.server_end) {
    const double cpu = facts.server_end->cpu_seconds - facts.server_start->cpu_seconds;
    const double window_s = facts.window_s;
    server["cpu_seconds"] = cpu;
    server["cpu_pct"] = window_s > 0 ? 100.0 * cpu / window_s : 0;
    server["rss_bytes_start"] = facts.server_start->rss_bytes;
    server["rss_bytes_end"] = facts.server_end->rss_bytes;
    server["out_pps_per_cpu_second"] = cpu > 0 ? out_pps * window_s / cpu : 0;
    server["total_pps_per_cpu_second"] = cpu > 0 ? (in_pps + out_pps) * window_s / cpu : 0;
    // Memory: the series through the window, its maximum, the growth after
    // the warm-up (from the first sample at or after it; from the window
    // start when the window is shorter), and the cost of a connection.
    uint64_t max_rss = std::max(facts.server_start->rss_bytes, facts.server_end->rss_bytes);
    double base_s = 0;
    uint64_t base = facts.server_start->rss_bytes;
    bool based = false;
    json samples = json::array();
    for (const auto& [t, bytes] : facts.rss_samples) {
      samples.push_back({t, bytes});
      max_rss = std::max(max_rss, bytes);
      if (!based && t >= config.rss_warmup_s) {
        based = true;
        base_s = t;
        base = bytes;
      }
    }
    server["rss_samples"] = std::move(samples);
    server["rss_bytes_max"] = max_rss;
    server["rss_growth_from_s"] = base_s;
    server["rss_growth_bytes"] =
        static_cast<int64_t>(facts.server_end->rss_bytes) - static_cast<int64_t>(base);
    if (facts.server_idle) {
      server["rss_bytes_idle"] = facts.server_idle->rss_bytes;
      const int64_t delta = static_cast<int64_t>(facts.server_start->rss_bytes) -
                            static_cast<int64_t>(facts.server_idle->rss_bytes);
      server["rss_bytes_per_subscriber"] =
          subscribers == 0 ? 0.0 : static_cast<double>(delta) / static_cast<double>(subscribers);
    }
  }
  r["server"] = server;
  r["srtp_profiles"] = profiles;
  if (!facts.capacity.is_null()) r["capacity"] = facts.capacity;

  json processes = json::array();
  double cpu = facts.coordinator ? facts.coordinator->cpu_seconds : 0;
  uint64_t rss = facts.coordinator ? facts.coordinator->rss_bytes : 0;
  for (const ShardResult& s : shards) {
    processes.push_back({{"index", s.index},
                         {"pid", s.pid},
                         {"cpu_seconds", s.cpu_seconds},
                         {"rss_bytes", s.rss_bytes},
                         {"clients", s.publishers.size() + s.subscribers.size()}});
    cpu += s.cpu_seconds;
    rss += s.rss_bytes;
  }
  r["generator"] = {{"pid", facts.coordinator_pid != 0
                                ? facts.coordinator_pid
                                : (shards.empty() ? static_cast<int>(getpid()) : shards[0].pid)},
                    {"procs", shards.size()},
                    {"cpu_seconds", cpu},
                    {"rss_bytes", rss},
                    {"processes", std::move(processes)}};
  return r;
}

}  // namespace aegis::bench
