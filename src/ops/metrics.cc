#include "ops/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace aegis::ops {
namespace {

// Label sets are kept sorted by label name so that the same series is found
// whatever order a caller lists its labels in, and so rendering is stable.
Labels Normalize(const Labels& labels) {
  Labels out = labels;
  std::stable_sort(out.begin(), out.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

// Text format 0.0.4: label values escape backslash, double quote and newline.
void AppendEscapedLabelValue(std::string* out, const std::string& value) {
  for (char c : value) {
    switch (c) {
      case '\\':
        out->append("\\\\");
        break;
      case '"':
        out->append("\\\"");
        break;
      case '\n':
        out->append("\\n");
        break;
      default:
        out->push_back(c);
    }
  }
}

// HELP text escapes only backslash and newline.
void AppendEscapedHelp(std::string* out, const std::string& help) {
  for (char c : help) {
    if (c == '\\') {
      out->append("\\\\");
    } else if (c == '\n') {
      out->append("\\n");
    } else {
      out->push_back(c);
    }
  }
}

void AppendValue(std::string* out, double value) {
  if (std::isnan(value)) {
    out->append("NaN");
    return;
  }
  if (std::isinf(value)) {
    out->append(value > 0 ? "+Inf" : "-Inf");
    return;
  }
  char buf[64];
  if (value == std::floor(value) && std::fabs(value) < 1e15) {
    (void)std::snprintf(buf, sizeof(buf), "%.0f", value);
  } else {
    (void)std::snprintf(buf, sizeof(buf), "%.17g", value);
  }
  out->append(buf);
}

}  // namespace

Metrics& Metrics::Global() {
  static Metrics metrics;
  return metrics;
}

void Metrics::Describe(const std::string& name, const std::string& type, const std::string& help) {
  std::lock_guard<std::mutex> lock(mu_);
  Family& family = families_[name];
  family.type = (type == "counter" || type == "gauge") ? type : "untyped";
  family.help = help;
}

void Metrics::Increment(const std::string& name, const Labels& labels, double by) {
  std::lock_guard<std::mutex> lock(mu_);
  families_[name].series[Normalize(labels)] += by;
}

void Metrics::Set(const std::string& name, const Labels& labels, double value) {
  std::lock_guard<std::mutex> lock(mu_);
  families_[name].series[Normalize(labels)] = value;
}

double Metrics::Value(const std::string& name, const Labels& labels) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto family = families_.find(name);
  if (family == families_.end()) {
    return 0;
  }
  auto series = family->second.series.find(Normalize(labels));
  return series == family->second.series.end() ? 0 : series->second;
}

std::string Metrics::Render() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  // std::map iteration gives families by name and series by label set.
  for (const auto& [name, family] : families_) {
    if (!family.help.empty()) {
      out.append("# HELP ").append(name).append(" ");
      AppendEscapedHelp(&out, family.help);
      out.push_back('\n');
    }
    out.append("# TYPE ").append(name).append(" ").append(family.type).append("\n");
    for (const auto& [labels, value] : family.series) {
      out.append(name);
      if (!labels.empty()) {
        out.push_back('{');
        for (size_t i = 0; i < labels.size(); ++i) {
          if (i > 0) {
            out.push_back(',');
          }
          out.append(labels[i].first).append("=\"");
          AppendEscapedLabelValue(&out, labels[i].second);
          out.push_back('"');
        }
        out.push_back('}');
      }
      out.push_back(' ');
      AppendValue(&out, value);
      out.push_back('\n');
    }
  }
  return out;
}

}  // namespace aegis::ops
