#include "process_fleet.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/asio/buffer.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "controller.h"
#include "media.h"
#include "server_probe.h"
#include "shard.h"
#include "shard_result.h"

namespace aegis::bench {
namespace {

using json = nlohmann::json;

constexpr uint64_t kStepNs = 100'000'000;       // the controller's cadence
constexpr uint64_t kAnswerNs = 10'000'000'000;  // an "interval" answer
constexpr uint64_t kFinishNs = 60'000'000'000;  // closing and the result
constexpr size_t kMaxLine = 64 << 20;           // a child's line, result included

volatile std::sig_atomic_t g_signal = 0;

void OnSignal(int sig) { g_signal = sig; }

// Writes all of `text` and a newline; false when the other end is gone.
bool WriteLine(int fd, const std::string& text) {
  std::string line = text;
  line.push_back('\n');
  size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = ::write(fd, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

std::string DescribeExit(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    const char* name = strsignal(WTERMSIG(status));
    return "killed by signal " + std::to_string(WTERMSIG(status)) +
           (name != nullptr ? std::string(" (") + name + ")" : std::string());
  }
  return "stopped (status " + std::to_string(status) + ")";
}

// ---- The child side ------------------------------------------------------

json StatusLine(const Shard& shard, uint64_t acked) {
  const FleetCounts n = shard.Counts();
  return {{"t", "status"},      {"clients", n.clients}, {"ready", n.ready},
          {"failed", n.failed}, {"pending", n.pending}, {"subscribers", n.subscribers},
          {"acked", acked}};
}

// Runs shard `index` of `count`; returns the exit code.
int RunChild(const ScenarioConfig& config, uint32_t index, uint32_t count, int cmd_fd, int out_fd) {
  namespace asio = boost::asio;
  auto shard = std::make_unique<Shard>(config, index, count);
  const Status setup = shard->Setup();
  if (!setup.ok()) {
    (void)WriteLine(out_fd, json{{"t", "error"}, {"message", setup.ToString()}}.dump());
    return 2;
  }
  uint64_t acked = 0;
  bool finishing = false;
  bool orphaned = false;
  auto report = [&] {
    if (!WriteLine(out_fd, StatusLine(*shard, acked).dump())) {
      orphaned = true;  // the parent is gone
      shard->Stop();
    }
  };
  auto handle = [&](const std::string& cmd) {
    if (cmd == "begin") {
      shard->BeginWindow();
    } else if (cmd == "end") {
      shard->EndWindow();
    } else if (cmd == "stop_media") {
      shard->StopMedia();
    } else if (cmd.rfind("add ", 0) == 0) {
      shard->AddSubscriberRounds(static_cast<uint32_t>(std::strtoul(cmd.c_str() + 4, nullptr, 10)));
    } else if (cmd == "interval") {
      const IntervalFigures f = shard->CollectInterval();
      if (!WriteLine(out_fd, json{{"t", "interval"}, {"figures", IntervalToJson(f)}}.dump())) {
        orphaned = true;
        shard->Stop();
        return;
      }
    } else if (cmd == "finish") {
      finishing = true;
      shard->Stop();
    }
    ++acked;
    if (!finishing) report();
  };
  asio::posix::stream_descriptor commands(shard->io(), cmd_fd);
  std::array<char, 4096> chunk{};
  std::string pending;
  std::function<void()> read = [&] {
    commands.async_read_some(
        asio::buffer(chunk), [&](const boost::system::error_code& ec, size_t n) {
          if (finishing) return;
          if (ec) {  // EOF or error: the parent is gone, stop at once
            orphaned = true;
            shard->Stop();
            return;
          }
          pending.append(chunk.data(), n);
          for (size_t at = pending.find('\n'); at != std::string::npos; at = pending.find('\n')) {
            const std::string cmd = pending.substr(0, at);
            pending.erase(0, at + 1);
            handle(cmd);
            if (finishing || orphaned) return;
          }
          read();
        });
  };
  read();
  shard->StartPacer([&](uint64_t) { report(); });
  report();
  shard->io().run();
  if (orphaned || !finishing) return 3;
  const ShardResult result = shard->Finish();
  if (!WriteLine(out_fd, json{{"t", "result"}, {"result", ShardResultToJson(result)}}.dump())) {
    return 3;
  }
  return 0;
}

// ---- The parent side -----------------------------------------------------

struct Child {
  uint32_t index = 0;
  pid_t pid = -1;
  int to_child = -1;    // commands
  int from_child = -1;  // status, answers, result
  std::string buffer;
  bool eof = false;
  bool reaped = false;
  json status;  // the last status line
  uint64_t commands_sent = 0;
  std::optional<IntervalFigures> interval;
  std::optional<ShardResult> result;
  std::string error;  // what the child said before failing
};

class ProcessFleet final : public Fleet {
 public:
  ~ProcessFleet() override {
    KillAll();
    for (Child& c : children_) {
      if (c.to_child >= 0) ::close(c.to_child);
      if (c.from_child >= 0) ::close(c.from_child);
    }
  }

  Status Spawn(const ScenarioConfig& config) {
    const pid_t parent = getpid();
    std::fflush(nullptr);  // nothing buffered is written twice
    for (uint32_t i = 0; i < config.procs; ++i) {
      int down[2];
      int up[2];
      if (::pipe2(down, O_CLOEXEC) != 0) return SysError("pipe");
      if (::pipe2(up, O_CLOEXEC) != 0) {
        ::close(down[0]);
        ::close(down[1]);
        return SysError("pipe");
      }
      const pid_t pid = ::fork();
      if (pid < 0) {
        for (int fd : {down[0], down[1], up[0], up[1]}) ::close(fd);
        return SysError("fork");
      }
      if (pid == 0) {
        // Die with the parent, even when it is killed outright.
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent) ::_exit(3);
        std::signal(SIGINT, SIG_DFL);
        std::signal(SIGTERM, SIG_DFL);
        std::signal(SIGPIPE, SIG_DFL);
        // The siblings' pipes stay with the parent only, so each child sees
        // EOF when the parent goes.
        for (Child& c : children_) {
          ::close(c.to_child);
          ::close(c.from_child);
        }
        ::close(down[1]);
        ::close(up[0]);
        ::_exit(RunChild(config, i, config.procs, down[0], up[1]));
      }
      ::close(down[0]);
      ::close(up[1]);
      ::fcntl(up[0], F_SETFL, ::fcntl(up[0], F_GETFL) | O_NONBLOCK);
      Child c;
      c.index = i;
      c.pid = pid;
      c.to_child = down[1];
      c.from_child = up[0];
      children_.push_back(std::move(c));
    }
    return Status::Ok();
  }

  // Reads whatever the children sent, waiting up to `timeout_ms` for it.
  void Pump(int timeout_ms) {
    std::vector<pollfd> fds;
    std::vector<Child*> who;
    for (Child& c : children_) {
      if (c.eof) continue;
      fds.push_back(pollfd{c.from_child, POLLIN, 0});
      who.push_back(&c);
    }
    if (fds.empty()) return;
    const int n = ::poll(fds.data(), fds.size(), timeout_ms);
    if (n <= 0) return;  // timeout, or EINTR (a signal: the caller looks)
    for (size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].revents != 0) Read(*who[i]);
    }
  }

  const std::optional<Status>& failure() const { return failure_; }

  // Sends SIGKILL to every child still running and reaps it.
  void KillAll() {
    for (Child& c : children_) {
      if (c.reaped || c.pid <= 0) continue;
      ::kill(c.pid, SIGKILL);
      int status = 0;
      while (::waitpid(c.pid, &status, 0) < 0 && errno == EINTR) {
      }
      c.reaped = true;
    }
  }

  // "finish" to every child, then their results (by index).
  Result<std::vector<ShardResult>> Finish() {
    Command("finish");
    const uint64_t deadline = MonotonicNs() + kFinishNs;
    while (!failure_ && MonotonicNs() < deadline) {
      bool all = true;
      for (const Child& c : children_) all = all && c.result.has_value();
      if (all) break;
      Pump(100);
      if (g_signal != 0) return Interrupted();
    }
    if (failure_) return *failure_;
    std::vector<ShardResult> out;
    for (Child& c : children_) {
      if (!c.result) {
        return Status::Error("bench_procs", Name(c) + " sent no result within " +
                                                std::to_string(kFinishNs / 1'000'000'000) + " s");
      }
      out.push_back(std::move(*c.result));
      int status = 0;
      while (::waitpid(c.pid, &status, 0) < 0 && errno == EINTR) {
      }
      c.reaped = true;
    }
    return out;
  }

  static Status Interrupted() {
    return Status::Error("bench_procs", "interrupted by signal " + std::to_string(g_signal));
  }

  // --- Fleet
  FleetCounts Counts() override {
    FleetCounts n;
    for (const Child& c : children_) {
      const json& s = c.status;
      if (!s.is_object() || s.value("acked", uint64_t{0}) != c.commands_sent) {
        n.settled = false;
        continue;
      }
      n.clients += s.value("clients", size_t{0});
      n.ready += s.value("ready", size_t{0});
      n.failed += s.value("failed", size_t{0});
      n.pending += s.value("pending", size_t{0});
      n.subscribers += s.value("subscribers", size_t{0});
    }
    return n;
  }
  void BeginWindow() override { Command("begin"); }
  void EndWindow() override { Command("end"); }
  void StopMedia() override { Command("stop_media"); }
  void AddSubscriberRounds(uint32_t rounds) override { Command("add " + std::to_string(rounds)); }
  IntervalFigures CollectInterval() override {
    IntervalFigures sum;
    for (Child& c : children_) c.interval.reset();
    Command("interval");
    const uint64_t deadline = MonotonicNs() + kAnswerNs;
    while (!failure_ && g_signal == 0) {
      bool all = true;
      for (const Child& c : children_) all = all && c.interval.has_value();
      if (all) break;
      if (MonotonicNs() > deadline) {
        Fail(children_.front(), "no interval figures within 10 s");
        break;
      }
      Pump(50);
    }
    for (const Child& c : children_) {
      if (c.interval) sum.Merge(*c.interval);
    }
    return sum;
  }

 private:
  static Status SysError(const char* what) {
    return Status::Error("bench_procs", std::string(what) + ": " + std::strerror(errno));
  }

  static std::string Name(const Child& c) {
    return "generator process " + std::to_string(c.index) + " (pid " + std::to_string(c.pid) + ")";
  }

  void Fail(const Child& c, const std::string& why) {
    if (!failure_) failure_ = Status::Error("bench_procs", Name(c) + " failed: " + why);
  }

  void Command(const std::string& cmd) {
    for (Child& c : children_) {
      ++c.commands_sent;
      if (!WriteLine(c.to_child, cmd)) Fail(c, "its command pipe is closed");
    }
  }

  void Read(Child& c) {
    std::array<char, 65536> chunk{};
    for (;;) {
      const ssize_t n = ::read(c.from_child, chunk.data(), chunk.size());
      if (n > 0) {
        c.buffer.append(chunk.data(), static_cast<size_t>(n));
        if (c.buffer.size() > kMaxLine) return Fail(c, "sent a line longer than 64 MiB");
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      // EOF (or a read error): the child is gone.
      c.eof = true;
      break;
    }
    for (size_t at = c.buffer.find('\n'); at != std::string::npos; at = c.buffer.find('\n')) {
      const std::string line = c.buffer.substr(0, at);
      c.buffer.erase(0, at + 1);
      Handle(c, line);
    }
    if (c.eof && !c.result) {
      int status = 0;
      pid_t got = 0;
      while ((got = ::waitpid(c.pid, &status, 0)) < 0 && errno == EINTR) {
      }
      c.reaped = true;
      Fail(c,
           !c.error.empty() ? c.error : (got == c.pid ? DescribeExit(status) : "its pipe closed"));
    }
  }

  void Handle(Child& c, const std::string& line) {
    json msg = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!msg.is_object() || !msg.contains("t") || !msg["t"].is_string()) {
      return Fail(c, "sent a line that is not a JSON message");
    }
    const std::string type = msg["t"].get<std::string>();
    if (type == "status") {
      c.status = std::move(msg);
    } else if (type == "interval") {
      auto f = IntervalFromJson(msg.contains("figures") ? msg["figures"] : json());
      if (!f.ok()) return Fail(c, f.status().message());
      c.interval = std::move(f).value();
    } else if (type == "result") {
      auto r = ShardResultFromJson(msg.contains("result") ? msg["result"] : json());
      if (!r.ok()) return Fail(c, r.status().message());
      c.result = std::move(r).value();
    } else if (type == "error") {
      c.error = msg.value("message", std::string("unknown error"));
    }
  }

  std::vector<Child> children_;
  std::optional<Status> failure_;
};

// SIGINT/SIGTERM set a flag the loops look at; SIGPIPE is ignored (a dead
// child's pipe gives EPIPE). The previous dispositions come back at the end.
class SignalGuard {
 public:
  SignalGuard() {
    g_signal = 0;
    struct sigaction sa {};
    sa.sa_handler = OnSignal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: poll() returns EINTR
    ::sigaction(SIGINT, &sa, &old_int_);
    ::sigaction(SIGTERM, &sa, &old_term_);
    struct sigaction ign {};
    ign.sa_handler = SIG_IGN;
    sigemptyset(&ign.sa_mask);
    ::sigaction(SIGPIPE, &ign, &old_pipe_);
  }
  ~SignalGuard() {
    ::sigaction(SIGINT, &old_int_, nullptr);
    ::sigaction(SIGTERM, &old_term_, nullptr);
    ::sigaction(SIGPIPE, &old_pipe_, nullptr);
  }
  SignalGuard(const SignalGuard&) = delete;
  SignalGuard& operator=(const SignalGuard&) = delete;

 private:
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
  struct sigaction old_pipe_ {};
};

}  // namespace

Result<json> RunProcesses(const ScenarioConfig& config) {
  // Handlers first: a Ctrl-C during the fork loop still reaches the guard's
  // flag (the children reset it to the default and die with the group).
  SignalGuard signals;
  ProcessFleet fleet;
  AEGIS_RETURN_IF_ERROR(fleet.Spawn(config));
  Controller controller(config, &fleet, [pid = config.server_pid] { return SampleProcess(pid); });
  controller.Start(MonotonicNs());
  uint64_t next = MonotonicNs() + kStepNs;
  for (;;) {
    const uint64_t now = MonotonicNs();
    if (now < next) {
      fleet.Pump(static_cast<int>((next - now + 999'999) / 1'000'000));
    }
    if (g_signal != 0) return ProcessFleet::Interrupted();  // ~ProcessFleet kills the children
    if (fleet.failure()) return *fleet.failure();
    const uint64_t step_at = MonotonicNs();
    if (step_at < next) continue;
    next = std::max(next + kStepNs, step_at);
    if (controller.Step(step_at)) break;
    if (fleet.failure()) return *fleet.failure();
  }
  auto shards = fleet.Finish();
  if (!shards.ok()) return shards.status();
  RunFacts facts = controller.facts();
  facts.coordinator_pid = static_cast<int>(getpid());
  facts.coordinator = SampleProcess(facts.coordinator_pid);
  return BuildResult(config, facts, *shards);
}

}  // namespace aegis::bench
