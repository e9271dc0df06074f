// aegisd: the Aegis server. See daemon.h for the lifecycle.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <iostream>

#include "daemon.h"

namespace {

int Main(int argc, char** argv) {
  CLI::App app{"aegisd - Aegis real-time communication server"};
  aegis::aegisd::DaemonFlags flags;
  bool version = false;
  app.add_option("--data-dir", flags.data_dir, "data directory (overrides server.data_dir)");
  app.add_option("--config", flags.config_file, "TOML configuration file");
  app.add_option("--listen", flags.listen, "HTTPS listen address HOST:PORT (port 0: any free)");
  app.add_flag("--version", version, "print the version and exit");
  CLI11_PARSE(app, argc, argv);
  if (version) {
    std::cout << "aegisd " << AEGIS_VERSION << std::endl;
    return 0;
  }
  return aegis::aegisd::RunDaemon(flags);
}

}  // namespace

int main(int argc, char** argv) {
  // Errors are values throughout; this only turns a bug (or std::bad_alloc)
  // into a message and exit status 1 instead of std::terminate.
  try {
    return Main(argc, argv);
  } catch (const std::exception& e) {
    (void)std::fprintf(stderr, "aegisd: fatal: %s\n", e.what());
  } catch (...) {
    (void)std::fprintf(stderr, "aegisd: fatal: unknown exception\n");
  }
  return 1;
}
