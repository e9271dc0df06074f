#include "core/config.h"

#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <functional>

extern char** environ;  // NOLINT

namespace aegis {
namespace {

struct Binding {
  ConfigKey key;
  std::function<Status(Config&, const std::string&)> set;
};

Status BadValue(const std::string& name, const std::string& value, const char* want) {
  return Status::Error("config_bad_value",
                       name + ": expected " + want + ", got '" + value.substr(0, 64) + "'");
}

template <typename Get>
Binding Str(const std::string& section, const std::string& key, std::string meaning, Get get) {
  Binding b;
  Config defaults;
  b.key = {section, key, "string", *get(defaults), std::move(meaning)};
  b.set = [get](Config& c, const std::string& v) {
    *get(c) = v;
    return Status::Ok();
  };
  return b;
}

template <typename Get>
Binding Int(const std::string& section, const std::string& key, std::string meaning, Get get,
            int64_t min, int64_t max) {
  Binding b;
  Config defaults;
  b.key = {section, key, "int", std::to_string(*get(defaults)), std::move(meaning)};
  const std::string name = section + "." + key;
  b.set = [get, min, max, name](Config& c, const std::string& v) {
    int64_t out = 0;
    const auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    if (ec != std::errc() || ptr != v.data() + v.size() || out < min || out > max) {
      return BadValue(
          name, v,
          ("an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "]").c_str());
    }
    *get(c) = out;
    return Status::Ok();
  };
  return b;
}

template <typename Get>
Binding Float(const std::string& section, const std::string& key, std::string meaning, Get get) {
  Binding b;
  Config defaults;
  std::string def = std::to_string(*get(defaults));
  def.erase(def.find_last_not_of('0') + 1);
  if (!def.empty() && def.back() == '.') def.pop_back();
  b.key = {section, key, "float", def, std::move(meaning)};
  const std::string name = section + "." + key;
  b.set = [get, name](Config& c, const std::string& v) {
    try {
      size_t used = 0;
      const double d = std::stod(v, &used);
      if (used != v.size() || !(d > 0) || d > 1e9) return BadValue(name, v, "a positive number");
      *get(c) = d;
    } catch (const std::exception&) {
      return BadValue(name, v, "a positive number");
    }
    return Status::Ok();
  };
  return b;
}

template <typename Get>
Binding Bool(const std::string& section, const std::string& key, std::string meaning, Get get) {
  Binding b;
  Config defaults;
  b.key = {section, key, "bool", *get(defaults) ? "true" : "false", std::move(meaning)};
  const std::string name = section + "." + key;
  b.set = [get, name](Config& c, const std::string& v) {
    std::string l = v;
    std::transform(l.begin(), l.end(), l.begin(),
                   [](unsigned char ch) { return std::tolower(ch); });
    if (l == "true" || l == "1" || l == "yes" || l == "on") {
      *get(c) = true;
    } else if (l == "false" || l == "0" || l == "no" || l == "off") {
      *get(c) = false;
    } else {
      return BadValue(name, v, "true or false");
    }
    return Status::Ok();
  };
  return b;
}

const std::vector<Binding>& Bindings() {
  static const std::vector<Binding> bindings = {
      Str("server", "listen",
          "HTTPS listen address HOST:PORT (REST API, health, metrics, WSS signalling, SDK and demo "
          "files). "
          "Port 0 picks a free port.",
          [](Config& c) { return &c.server.listen; }),
      Str("server", "data_dir",
          "Directory for the SQLite store, master key file, TLS certificate and per-application "
          "databases.",
          [](Config& c) { return &c.server.data_dir; }),
      Int(
          "server", "shutdown_grace_ms",
          "On SIGTERM/SIGINT, how long in-flight requests may take to finish before connections "
          "are closed.",
          [](Config& c) { return &c.server.shutdown_grace_ms; }, 0, 600000),
      Int(
          "server", "max_body_bytes",
          "Largest accepted HTTP request body; larger bodies are refused with 413.",
          [](Config& c) { return &c.server.max_body_bytes; }, 1024, 64 << 20),
      Int(
          "server", "max_connections",
          "Concurrent HTTPS connections accepted; further connections are closed at once.",
          [](Config& c) { return &c.server.max_connections; }, 1, 1000000),
      Int(
          "server", "request_timeout_ms",
          "A connection that does not deliver a complete request within this time is closed.",
          [](Config& c) { return &c.server.request_timeout_ms; }, 100, 600000),
      Str("tls", "cert",
          "PEM certificate chain for the HTTPS listener. Empty: a self-signed certificate for "
          "localhost/127.0.0.1 is generated into data_dir on first start.",
          [](Config& c) { return &c.tls.cert; }),
      Str("tls", "key", "PEM private key matching tls.cert.", [](Config& c) { return &c.tls.key; }),
      Str("log", "level", "Minimum log level: debug, info, warn or error.",
          [](Config& c) { return &c.log.level; }),
      Str("keyring", "master_key_file",
          "Master key (KEK) file, mode 0600. Empty: <data_dir>/master.key. The env variable "
          "AEGIS_MASTER_KEY_FILE is also honoured.",
          [](Config& c) { return &c.keyring.master_key_file; }),
      Int(
          "usersig", "clock_skew_s",
          "Seconds of clock difference allowed when checking a UserSig's TLS.time/TLS.expire.",
          [](Config& c) { return &c.usersig.clock_skew_s; }, 0, 86400),
      Int(
          "api", "timestamp_tolerance_s",
          "REST requests whose X-TC-Timestamp differs from server time by more than this are "
          "rejected (AuthFailure.SignatureExpire).",
          [](Config& c) { return &c.api.timestamp_tolerance_s; }, 1, 86400),
      Float("api", "secret_action_rate",
            "Sustained REST requests per second allowed per SecretId per action.",
            [](Config& c) { return &c.api.secret_action_rate; }),
      Float("api", "secret_action_burst", "Burst size of the per-SecretId-per-action token bucket.",
            [](Config& c) { return &c.api.secret_action_burst; }),
      Float("api", "address_rate", "Sustained REST requests per second allowed per client address.",
            [](Config& c) { return &c.api.address_rate; }),
      Float("api", "address_burst", "Burst size of the per-address token bucket.",
            [](Config& c) { return &c.api.address_burst; }),
      Float("api", "auth_failure_cost",
            "Tokens a request with a failed signature costs in the per-address bucket (failed "
            "attempts are throttled harder).",
            [](Config& c) { return &c.api.auth_failure_cost; }),
      Int(
          "api", "max_buckets",
          "Upper bound on rate-limit buckets kept in memory per limiter; least recently used "
          "buckets are evicted.",
          [](Config& c) { return &c.api.max_buckets; }, 16, 100000000),
      Int(
          "api", "auth_failure_audit_window_s",
          "Failed REST authentications from one address with the same reason are written to the "
          "audit log once per window, with a count, so a flood cannot flood the log.",
          [](Config& c) { return &c.api.auth_failure_audit_window_s; }, 1, 86400),
      Bool("demo", "enabled",
           "On an empty data dir, create a demo account, application and API secret and print "
           "their credentials once.",
           [](Config& c) { return &c.demo.enabled; }),
      Int(
          "media", "workers", "Media worker threads (one UDP port each). 0: one per CPU core.",
          [](Config& c) { return &c.media.workers; }, 0, 256),
      Int(
          "media", "udp_port_base",
          "UDP port of media worker 0; worker i listens on udp_port_base + i.",
          [](Config& c) { return &c.media.udp_port_base; }, 1, 65535),
      Int(
          "media", "tcp_port_base",
          "ICE-TCP (passive) port of media worker 0; worker i listens on tcp_port_base + i. "
          "0: the same number as the worker's UDP port (udp_port_base + i).",
          [](Config& c) { return &c.media.tcp_port_base; }, 0, 65535),
      Str("media", "announced_ip", "IP address announced in ICE candidates.",
          [](Config& c) { return &c.media.announced_ip; }),
      Str("media", "listen_ip",
          "Local address the media UDP ports bind to (0.0.0.0: every IPv4 interface).",
          [](Config& c) { return &c.media.listen_ip; }),
      Int(
          "media", "fanout_min_subscribers",
          "Subscribe connections a room keeps on its own worker; from then on a subscriber's "
          "connection goes to the worker with the fewest connections, fed through a relay "
          "(docs/MEDIA.md \"Fan-out across workers\"). 0: every connection stays on the room's "
          "worker.",
          [](Config& c) { return &c.media.fanout_min_subscribers; }, 0, 1000000),
      Int(
          "media", "send_queue",
          "Datagrams a media worker queues before it sends them in one sendmmsg; packets to one "
          "subscriber within the queue leave as one UDP GSO message (docs/MEDIA.md \"Send "
          "batching\"). Larger: fewer syscalls in a big fan-out; 1: every datagram at once.",
          [](Config& c) { return &c.media.send_queue; }, 1, 1024),
      Int(
          "signal", "unauthenticated_timeout_ms",
          "A signalling connection that has not joined (or resumed) within this time is closed.",
          [](Config& c) { return &c.signal.unauthenticated_timeout_ms; }, 1000, 600000),
      Int(
          "signal", "session_timeout_ms",
          "A joined user silent for this long (no heartbeat, or the socket gone and not resumed) "
          "is removed from the room and its tracks unpublished. Also the resume window.",
          [](Config& c) { return &c.signal.session_timeout_ms; }, 5000, 600000),
      Float("signal", "max_messages_per_s",
            "Sustained signalling messages per second per connection.",
            [](Config& c) { return &c.signal.max_messages_per_s; }),
      Float("signal", "max_message_burst",
            "Signalling messages a connection may send in a burst; beyond it the connection is "
            "closed as a flood.",
            [](Config& c) { return &c.signal.max_message_burst; }),
      Int(
          "signal", "max_connections_per_ip",
          "Open signalling connections allowed per client address.",
          [](Config& c) { return &c.signal.max_connections_per_ip; }, 1, 100000),
      Int(
          "signal", "max_users_per_room", "Users allowed in one room at once.",
          [](Config& c) { return &c.signal.max_users_per_room; }, 2, 100000),
      Bool("room", "show_audience",
           "Audience members appear in other users' user lists and user-joined / user-left "
           "events like anchors. false (the live-streaming default): they are hidden and only "
           "their number is shared (audience-count event, audienceCount in the join reply).",
           [](Config& c) { return &c.room.show_audience; }),
      Int(
          "room", "max_message_bytes",
          "Largest room message payload (client.sendMessage) in bytes; larger ones are refused "
          "with message_too_large.",
          [](Config& c) { return &c.room.max_message_bytes; }, 1, 65536),
      Float("room", "max_messages_per_s",
            "Room messages one user may send per second (also the burst); beyond it messages "
            "are refused with message_rate_limited.",
            [](Config& c) { return &c.room.max_messages_per_s; }),
      Str("web", "root",
          "Directory holding the built web files: /sdk/ is served from <root>/sdk and /demo/ "
          "from <root>/demo (relative paths are relative to the working directory).",
          [](Config& c) { return &c.web.root; }),
  };
  return bindings;
}

std::string Upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
  return s;
}

std::string TomlValueToString(const toml::node& node) {
  if (auto s = node.value<std::string>(); s && node.is_string()) return *s;
  if (node.is_boolean()) return *node.value<bool>() ? "true" : "false";
  if (node.is_integer()) return std::to_string(*node.value<int64_t>());
  if (node.is_floating_point()) return std::to_string(*node.value<double>());
  return "\x01";  // arrays/tables/dates: never a valid value for any key
}

}  // namespace

std::string ConfigKey::EnvName() const { return "AEGIS_" + Upper(section) + "_" + Upper(key); }

const std::vector<ConfigKey>& ConfigKeys() {
  static const std::vector<ConfigKey> keys = [] {
    std::vector<ConfigKey> out;
    for (const Binding& b : Bindings()) out.push_back(b.key);
    return out;
  }();
  return keys;
}

Result<Config> LoadConfig(const ConfigSources& sources) {
  Config config;
  const auto find = [](const std::string& section, const std::string& key) -> const Binding* {
    for (const Binding& b : Bindings()) {
      if (b.key.section == section && b.key.key == key) return &b;
    }
    return nullptr;
  };

  if (!sources.file.empty()) {
    toml::table table;
    try {
      table = toml::parse_file(sources.file);
    } catch (const toml::parse_error& e) {
      const std::string desc(e.description());
      if (desc.find("File could not be opened") != std::string::npos) {
        return Status::Error("config_file_unreadable", "cannot read config file " + sources.file);
      }
      return Status::Error(
          "config_parse_error",
          sources.file + ":" + std::to_string(e.source().begin.line) + ": " + desc);
    }
    for (const auto& [section_name, section_node] : table) {
      std::string section(section_name.str());
      const toml::table* section_table = section_node.as_table();
      if (section_table == nullptr) {
        return Status::Error("config_unknown_key",
                             sources.file + ": '" + section + "' must be a [section]");
      }
      for (const auto& [key_name, value] : *section_table) {
        const std::string key(key_name.str());
        const Binding* b = find(section, key);
        if (b == nullptr) {
          return Status::Error("config_unknown_key",
                               sources.file + ": unknown key " + section.append(".").append(key));
        }
        AEGIS_RETURN_IF_ERROR(b->set(config, TomlValueToString(value)));
      }
    }
  }

  for (const Binding& b : Bindings()) {
    const auto it = sources.env.find(b.key.EnvName());
    if (it != sources.env.end()) AEGIS_RETURN_IF_ERROR(b.set(config, it->second));
  }

  for (const auto& [name, value] : sources.overrides) {
    const auto dot = name.find('.');
    const Binding* b =
        dot == std::string::npos ? nullptr : find(name.substr(0, dot), name.substr(dot + 1));
    if (b == nullptr) return Status::Error("config_unknown_key", "unknown key " + name);
    AEGIS_RETURN_IF_ERROR(b->set(config, value));
  }
  return config;
}

std::map<std::string, std::string> AegisEnvironment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string entry(*e);
    if (entry.rfind("AEGIS_", 0) != 0) continue;
    const auto eq = entry.find('=');
    if (eq != std::string::npos) env[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  return env;
}

}  // namespace aegis
