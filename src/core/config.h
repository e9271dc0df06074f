// aegisd configuration: typed struct, loaded from (lowest to highest
// precedence) built-in defaults, a TOML file, environment variables
// AEGIS_<SECTION>_<KEY>, then command-line overrides. Every key is declared
// once in ConfigKeys() with its default and meaning; docs/CONFIG.md is checked
// against that table by a unit test. Unknown keys in the file are an error
// (a typo must not silently fall back to a default).
// Loading is a pure function of its inputs; Config is a plain value.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/status.h"

namespace aegis {

struct Config {
  struct Server {
    std::string listen = "127.0.0.1:8443";
    std::string data_dir = "./var";
    int64_t shutdown_grace_ms = 5000;
    int64_t max_body_bytes = 1 << 20;
    int64_t max_connections = 1024;
    int64_t max_connections_per_ip = 64;
    int64_t request_timeout_ms = 15000;
  } server;
  struct Tls {
    std::string cert;  // empty: self-signed cert generated into data_dir
    std::string key;
  } tls;
  struct Log {
    std::string level = "info";
  } log;
  struct Keyring {
    std::string master_key_file;  // empty: <data_dir>/master.key
  } keyring;
  struct UserSig {
    int64_t clock_skew_s = 300;
  } usersig;
  struct Api {
    int64_t timestamp_tolerance_s = 300;
    double secret_action_rate = 20;  // requests/s per SecretId per action
    double secret_action_burst = 40;
    double address_rate = 50;  // requests/s per client address
    double address_burst = 100;
    double auth_failure_cost = 10;  // tokens a failed signature costs
    int64_t max_buckets = 100000;
    int64_t auth_failure_audit_window_s = 60;
  } api;
  struct Demo {
    bool enabled = false;
  } demo;
  struct Media {
    int64_t workers = 0;  // 0: one per core
    int64_t udp_port_base = 50000;
    int64_t tcp_port_base = 0;  // 0: same numbers as the UDP ports
    std::string announced_ip = "127.0.0.1";
    std::string listen_ip = "0.0.0.0";
    // Subscribe transports of one room before the next ones may go to other
    // workers (docs/MEDIA.md "Fan-out across workers"); 0: never.
    int64_t fanout_min_subscribers = 64;
    // Datagrams each worker queues before a send (GSO coalescing, docs/MEDIA.md).
    int64_t send_queue = 1024;
  } media;
  struct Signal {
    int64_t unauthenticated_timeout_ms = 10000;
    int64_t session_timeout_ms = 20000;
    double max_messages_per_s = 20;
    double max_message_burst = 60;
    int64_t max_connections_per_ip = 32;
    int64_t max_users_per_room = 50;
  } signal;
  struct Room {
    bool show_audience = false;         // audience in user lists / joined-left events
    int64_t max_message_bytes = 16384;  // room message payload cap (data channels)
    double max_messages_per_s = 30;     // room messages per user per second (and burst)
  } room;
  struct Web {
    std::string root = "web/dist";
  } web;
};

struct ConfigKey {
  std::string section;
  std::string key;
  std::string type;  // "string" | "int" | "float" | "bool"
  std::string default_value;
  std::string meaning;
  std::string EnvName() const;  // AEGIS_SECTION_KEY
};

// The declared keys, in documentation order.
const std::vector<ConfigKey>& ConfigKeys();

struct ConfigSources {
  std::string file;                              // empty: no file
  std::map<std::string, std::string> env;        // usually the process environment
  std::map<std::string, std::string> overrides;  // "section.key" -> value (CLI flags)
};

// Errors: config_file_unreadable, config_parse_error, config_unknown_key,
// config_bad_value (message names the key and the source).
Result<Config> LoadConfig(const ConfigSources& sources);

// The current process environment as a map (only AEGIS_* variables).
std::map<std::string, std::string> AegisEnvironment();

}  // namespace aegis
