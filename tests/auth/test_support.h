// Helpers shared by the auth tests: running the official-generator node
// scripts under tests/auth/. A missing node or npm package makes the calling
// test fail (never skip): `make test` installs them.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

namespace aegis::auth::testing {

inline std::string SourceDir() {
  const char* env = std::getenv("AEGIS_SOURCE_DIR");
  return env != nullptr && *env != '\0' ? std::string(env) : std::string(AEGIS_TEST_SOURCE_DIR);
}

// Single-quotes `arg` for /bin/sh.
inline std::string ShellQuote(const std::string& arg) {
  std::string out = "'";
  for (char c : arg) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

// Runs `node tests/auth/<script> <args>` and parses its stdout as JSON.
// Returns a discarded json (is_discarded()) on any failure; `error` says why.
inline nlohmann::json RunNodeScript(const std::string& script, const std::string& args,
                                    std::string* error) {
  const std::string dir = SourceDir();
  const std::string cmd = "AEGIS_SOURCE_DIR=" + ShellQuote(dir) + " node " +
                          ShellQuote(dir + "/tests/auth/" + script) + " " + args + " 2>&1";
  FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) {
    *error = "popen failed for: " + cmd;
    return nlohmann::json(nlohmann::json::value_t::discarded);
  }
  std::string out;
  char buf[4096];
  size_t n = 0;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) {
    out.append(buf, n);
  }
  const int rc = pclose(pipe);
  if (rc != 0) {
    *error = "`" + cmd + "` exited with " + std::to_string(rc) + ": " + out;
    return nlohmann::json(nlohmann::json::value_t::discarded);
  }
  nlohmann::json doc = nlohmann::json::parse(out, nullptr, false);
  if (doc.is_discarded()) {
    *error = "`" + cmd + "` printed non-JSON: " + out;
  }
  return doc;
}

}  // namespace aegis::auth::testing
