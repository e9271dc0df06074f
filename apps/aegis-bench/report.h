// Output of aegis-bench: the human table printed on stdout after a run, and
// the --fail-if thresholds ("p99_ms>50", "loss_pct>0", …) evaluated against
// the run's JSON. Threshold expressions come from the command line and are
// parsed strictly (error naming the expression). Pure functions;
// thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace aegis::bench {

// Flat figures by name (the names --fail-if accepts), read from the result.
std::vector<std::pair<std::string, double>> FlatFigures(const nlohmann::json& result);

struct Threshold {
  std::string metric;
  std::string op;  // ">", ">=", "<", "<="
  double value = 0;
};

// Error code: bench_fail_if.
Result<Threshold> ParseThreshold(const std::string& text);
// Names of the breached thresholds (empty: all hold). An unknown metric is an
// error.
Result<std::vector<std::string>> CheckThresholds(const nlohmann::json& result,
                                                 const std::vector<Threshold>& thresholds);

std::string FormatTable(const nlohmann::json& result);

}  // namespace aegis::bench
