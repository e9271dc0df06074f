#include "controller.h"

#include <algorithm>
#include <cstdio>
#include <utility>

namespace aegis::bench {
namespace {

constexpr uint64_t kProgressNs = 1'000'000'000ULL;

const char* PhaseName(Controller::Phase p) {
  switch (p) {
    case Controller::Phase::kConnecting:
      return "connecting";
    case Controller::Phase::kSettling:
      return "settling";
    case Controller::Phase::kMeasuring:
      return "measuring";
    case Controller::Phase::kDraining:
      return "draining";
    case Controller::Phase::kDone:
      return "done";
  }
  return "?";
}

double Seconds(uint64_t ns) { return static_cast<double>(ns) / 1e9; }

}  // namespace

Controller::Controller(const ScenarioConfig& config, Fleet* fleet, ServerSampler sampler)
    : config_(config), fleet_(fleet), sampler_(std::move(sampler)) {}

void Controller::Start(uint64_t now_ns) {
  start_ns_ = now_ns;
  phase_start_ns_ = now_ns;
  last_progress_ns_ = now_ns;
  facts_.server_idle = sampler_();
}

void Controller::Enter(Phase p, uint64_t now_ns) {
  phase_ = p;
  phase_start_ns_ = now_ns;
}

bool Controller::Step(uint64_t now_ns) {
  const double in_phase = Seconds(now_ns - phase_start_ns_);
  switch (phase_) {
    case Phase::kConnecting: {
      const FleetCounts n = fleet_->Counts();
      if (n.settled && n.pending == 0 && n.ready == n.clients) {
        facts_.connect_s = Seconds(now_ns - start_ns_);
        Enter(Phase::kSettling, now_ns);
      } else if (in_phase > config_.connect_timeout_s) {
        facts_.connect_timeout = true;
        Enter(Phase::kSettling, now_ns);
      }
      break;
    }
    case Phase::kSettling:
      if (in_phase >= config_.settle_s) {
        BeginWindow(now_ns);
        Enter(Phase::kMeasuring, now_ns);
      }
      break;
    case Phase::kMeasuring: {
      if (config_.rss_interval_s > 0 && Seconds(now_ns - last_rss_ns_) >= config_.rss_interval_s) {
        last_rss_ns_ = now_ns;
        if (auto s = sampler_()) {
          facts_.rss_samples.emplace_back(Seconds(now_ns - window_start_ns_), s->rss_bytes);
        }
      }
      const double length = config_.capacity ? config_.capacity_step_s : config_.duration_s;
      if (in_phase < length) break;
      if (config_.capacity && CapacityStep(now_ns)) break;
      EndWindow(now_ns);
      fleet_->StopMedia();
      Enter(Phase::kDraining, now_ns);
      break;
    }
    case Phase::kDraining:
      if (in_phase >= config_.drain_s) Enter(Phase::kDone, now_ns);
      break;
    case Phase::kDone:
      break;
  }
  if (phase_ != Phase::kDone && now_ns - last_progress_ns_ >= kProgressNs) {
    if (config_.progress || config_.capacity) Progress(now_ns);
    last_progress_ns_ = now_ns;
  }
  if (phase_ == Phase::kDone && config_.capacity) {
    facts_.capacity = {{"knee_subscribers", knee_},
                       {"stopped_by", knee_reason_},
                       {"loss_limit_pct", config_.capacity_loss_pct},
                       {"p99_limit_ms", config_.capacity_p99_ms},
                       {"steps", capacity_steps_}};
  }
  return phase_ == Phase::kDone;
}

void Controller::BeginWindow(uint64_t now_ns) {
  // In capacity mode every step opens a new window: the final figures
  // describe the last step measured.
  fleet_->BeginWindow();
  window_start_ns_ = now_ns;
  last_rss_ns_ = now_ns;
  facts_.rss_samples.clear();
  step_.Reset();
  if (auto s = sampler_()) {
    facts_.server_start = s;
    step_cpu_ = s->cpu_seconds;
    facts_.rss_samples.emplace_back(0.0, s->rss_bytes);
  }
}

void Controller::EndWindow(uint64_t now_ns) {
  fleet_->EndWindow();
  facts_.window_s = Seconds(now_ns - window_start_ns_);
  if (auto s = sampler_()) {
    facts_.server_end = s;
    facts_.rss_samples.emplace_back(facts_.window_s, s->rss_bytes);
  }
}

void Controller::Collect() {
  const IntervalFigures f = fleet_->CollectInterval();
  progress_.Merge(f);
  if (phase_ == Phase::kMeasuring) step_.Merge(f);
}

// Capacity mode: judge the step just measured; true when the run goes on
// (more subscribers were added).
bool Controller::CapacityStep(uint64_t now_ns) {
  Collect();
  const double loss = step_.LossPct();
  const double p99 = static_cast<double>(step_.latency.Percentile(99)) / 1000.0;
  const double secs = std::max(1e-9, Seconds(now_ns - phase_start_ns_));
  const FleetCounts n = fleet_->Counts();
  nlohmann::json step = {{"subscribers", n.subscribers},
                         {"loss_pct", loss},
                         {"p99_ms", p99},
                         {"rx_pps", static_cast<double>(step_.rx_packets) / secs},
                         {"failed_clients", n.failed}};
  if (auto s = sampler_()) {
    step["server_cpu_s"] = s->cpu_seconds - step_cpu_;
    step_cpu_ = s->cpu_seconds;
  }
  capacity_steps_.push_back(step);
  const bool breached =
      loss > config_.capacity_loss_pct || p99 > config_.capacity_p99_ms || n.failed > 0;
  if (breached) {
    knee_reason_ = loss > config_.capacity_loss_pct ? "loss"
                   : p99 > config_.capacity_p99_ms  ? "p99"
                                                    : "failed_clients";
    return false;
  }
  knee_ = n.subscribers;
  if (n.subscribers + config_.rooms * config_.capacity_step > config_.capacity_max) {
    knee_reason_ = "capacity_max reached";
    return false;
  }
  fleet_->AddSubscriberRounds(config_.capacity_step);
  EndWindow(now_ns);
  Enter(Phase::kConnecting, now_ns);
  return true;
}

void Controller::Progress(uint64_t now_ns) {
  Collect();
  if (config_.progress) {
    const FleetCounts n = fleet_->Counts();
    const double secs = std::max(1e-9, Seconds(now_ns - last_progress_ns_));
    std::fprintf(stderr,
                 "[%6.1fs] %-10s clients %zu/%zu ready, %zu failed | tx %.0f pps rx %.0f pps | "
                 "p99 %.2f ms | loss %.2f%%\n",
                 Seconds(now_ns - start_ns_), PhaseName(phase_), n.ready, n.clients, n.failed,
                 static_cast<double>(progress_.tx_packets) / secs,
                 static_cast<double>(progress_.rx_packets) / secs,
                 static_cast<double>(progress_.latency.Percentile(99)) / 1000.0,
                 progress_.LossPct());
  }
  progress_.Reset();
}

}  // namespace aegis::bench
