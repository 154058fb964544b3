// A child process with its stdout on a pipe, for the crash tests: spawn it, read
// what it reports line by line, SIGKILL it at a chosen moment, and still read the
// lines it wrote before it died (they stay in the pipe).
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

extern char** environ;

namespace portal::test_support {

class ChildProcess {
 public:
  using Clock = std::chrono::steady_clock;

  // Runs `path` with `args` (argv[0] is path), its stdout on a pipe to this process.
  ChildProcess(const std::string& path, std::vector<std::string> args) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe2: ") + std::strerror(errno));
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    // dup2 clears close-on-exec on the child's stdout; the original ends close at exec.
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    args.insert(args.begin(), path);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int rc = ::posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(fds[1]);
    if (rc != 0) {
      ::close(fds[0]);
      throw std::runtime_error("posix_spawn " + path + ": " + std::strerror(rc));
    }
    fd_ = fds[0];
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (fd_ >= 0) ::close(fd_);
  }

  // Waits (at most `limit`) for a line equal to `want`; false at the end of the
  // output or on timeout. Every line read is kept (lines()).
  bool wait_line(const std::string& want, std::chrono::milliseconds limit) {
    const auto until = Clock::now() + limit;
    std::size_t seen = lines_.size();
    while (true) {
      take_lines();
      for (; seen < lines_.size(); ++seen) {
        if (lines_[seen] == want) return true;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
      if (left.count() <= 0 || !read_some(static_cast<int>(std::min<long>(left.count(), 50)))) {
        take_lines();
        for (; seen < lines_.size(); ++seen) {
          if (lines_[seen] == want) return true;
        }
        return false;
      }
    }
  }
  // Reads lines for `span` (less if the output ends).
  void read_for(std::chrono::milliseconds span) {
    const auto until = Clock::now() + span;
    for (auto left = span; left.count() > 0;
         left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now())) {
      if (!read_some(static_cast<int>(std::min<long>(left.count(), 50)))) break;
    }
    take_lines();
  }
  bool said(const std::string& line) {
    read_some(0);
    take_lines();
    return std::find(lines_.begin(), lines_.end(), line) != lines_.end();
  }
  const std::vector<std::string>& lines() const { return lines_; }

  // SIGKILL, then every line it wrote before dying; returns whether the child
  // was still running when killed.
  bool kill() {
    const bool running = ::waitpid(pid_, nullptr, WNOHANG) == 0;
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    while (read_some(-1)) {
    }
    take_lines();
    return running;
  }
  // Waits for the child to exit on its own; returns its exit status (128 + the
  // signal if a signal ended it).
  int wait() {
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    while (read_some(-1)) {
    }
    take_lines();
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

 private:
  // Waits up to timeout_ms (-1: until data or the end) and reads what is there;
  // false at the end of the output, on an error, or when nothing came in time.
  bool read_some(int timeout_ms) {
    if (fd_ < 0) return false;
    pollfd pfd{fd_, POLLIN, 0};
    const int ready = ::poll(&pfd, 1, timeout_ms);
    if (ready < 0) return errno == EINTR;
    if (ready == 0) return timeout_ms != 0;  // nothing yet: the caller's clock decides
    char buf[1 << 16];
    const ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n < 0) return errno == EINTR;
    if (n == 0) {
      ::close(fd_);
      fd_ = -1;
      return false;
    }
    pending_.append(buf, static_cast<std::size_t>(n));
    return true;
  }
  // A partial last line (a child killed mid-write) stays pending: it was never
  // followed by what it announces.
  void take_lines() {
    for (std::size_t nl; (nl = pending_.find('\n')) != std::string::npos;) {
      lines_.push_back(pending_.substr(0, nl));
      pending_.erase(0, nl + 1);
    }
  }

  pid_t pid_ = -1;
  int fd_ = -1;
  std::string pending_;
  std::vector<std::string> lines_;
};

}  // namespace portal::test_support
