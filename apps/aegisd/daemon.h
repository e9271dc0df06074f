// aegisd process lifecycle: configuration, data directory, master key,
// store, first-start demo bootstrap, TLS material, HTTPS listener, and a
// graceful stop on SIGTERM/SIGINT. RunDaemon must be called from main()
// before any other thread exists (it blocks the stop signals for all
// threads and waits for them with sigwait).
#pragma once

#include <string>

namespace aegis::aegisd {

struct DaemonFlags {
  std::string config_file;  // --config; empty: none
  std::string data_dir;     // --data-dir; empty: from config
  std::string listen;       // --listen HOST:PORT; empty: from config
};

// Returns the process exit code: 0 after a clean stop, 1 on a startup error.
int RunDaemon(const DaemonFlags& flags);

}  // namespace aegis::aegisd
