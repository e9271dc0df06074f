#include "api/auth_failure_coalescer.h"

#include <algorithm>
#include <utility>

namespace aegis::api {
namespace {

void Merge(std::string& kept, const std::string& value) {
  if (kept != value) {
    kept = AuthFailureCoalescer::kVarious;
  }
}

}  // namespace

AuthFailureCoalescer::AuthFailureCoalescer(const Clock& clock, Options options)
    : clock_(clock), options_(options) {
  options_.window_ms = std::max<int64_t>(options_.window_ms, 0);
  options_.max_keys = std::max<size_t>(options_.max_keys, 1);
}

bool AuthFailureCoalescer::EndedLocked(const Entry& entry, int64_t now_ms) const {
  // A clock stepping backwards more than a window also ends it (never stuck).
  return now_ms - entry.window_start_ms >= options_.window_ms ||
         entry.window_start_ms - now_ms > options_.window_ms;
}

void AuthFailureCoalescer::RemoveLocked(Order::iterator it, std::vector<Summary>* due) {
  if (it->count > 0) {
    due->push_back(Summary{std::move(it->last), it->count, it->window_start_ms});
  }
  index_.erase(it->key);
  order_.erase(it);
}

bool AuthFailureCoalescer::Add(const Failure& failure, std::vector<Summary>* due) {
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t now_ms = clock_.NowUnixMillis();
  auto found = index_.find(failure.key);
  if (found != index_.end()) {
    Entry& entry = *found->second;
    if (!EndedLocked(entry, now_ms)) {
      if (entry.count == 0) {
        entry.last = failure;
      } else {
        Merge(entry.last.actor, failure.actor);
        Merge(entry.last.target, failure.target);
        Merge(entry.last.result, failure.result);
        entry.last.request_id = failure.request_id;
        entry.last.client_ip = failure.client_ip;
      }
      ++entry.count;
      return false;
    }
    RemoveLocked(found->second, due);
  }
  while (index_.size() >= options_.max_keys && !order_.empty()) {
    RemoveLocked(std::prev(order_.end()), due);
  }
  order_.push_front(Entry{failure.key, now_ms, 0, {}});
  index_.emplace(failure.key, order_.begin());
  return true;
}

void AuthFailureCoalescer::Collect(std::vector<Summary>* due) {
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t now_ms = clock_.NowUnixMillis();
  // The back holds the earliest window: stop at the first one still running.
  while (!order_.empty() && EndedLocked(order_.back(), now_ms)) {
    RemoveLocked(std::prev(order_.end()), due);
  }
}

void AuthFailureCoalescer::Drain(std::vector<Summary>* due) {
  std::lock_guard<std::mutex> lock(mu_);
  while (!order_.empty()) {
    RemoveLocked(std::prev(order_.end()), due);
  }
}

size_t AuthFailureCoalescer::key_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return index_.size();
}

}  // namespace aegis::api
