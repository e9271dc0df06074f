// Process metrics in Prometheus text exposition format (GET /metrics).
// Counters and gauges keyed by name + label set. Label values must never carry
// personal data (no user ids, addresses, SecretIds): callers pass bounded
// enumerations only (action names, result codes, reasons).
// Thread-safe (internal mutex; metrics are control-plane, not per packet).
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace aegis::ops {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Metrics {
 public:
  static Metrics& Global();

  // Declares help text and type ("counter" | "gauge") for a metric family.
  void Describe(const std::string& name, const std::string& type, const std::string& help);
  void Increment(const std::string& name, const Labels& labels = {}, double by = 1.0);
  void Set(const std::string& name, const Labels& labels, double value);
  double Value(const std::string& name, const Labels& labels = {}) const;

  // Prometheus text format 0.0.4.
  std::string Render() const;

 private:
  struct Family {
    std::string type = "untyped";
    std::string help;
    std::map<Labels, double> series;
  };
  mutable std::mutex mu_;
  std::map<std::string, Family> families_;
};

}  // namespace aegis::ops
