#include "aws/credential_process.hpp"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>
#include <cstring>
#include <optional>

#include "aws/credential_json.hpp"

extern char** environ;  // NOLINT(readability-redundant-declaration): POSIX, for posix_spawnp

namespace sab::aws {
namespace asio = boost::asio;

namespace {

// The words of a command line, one character at a time.
class Splitter {
 public:
  void feed(char c) {
    if (escaped_) {
      escaped_ = false;
      // Inside double quotes a backslash escapes only '"' and '\'.
      if (quote_ == '"' && c != '"' && c != '\\') word_ += '\\';
      word_ += c;
    } else if (quote_ == '\'') {
      if (c == '\'')
        quote_ = 0;
      else
        word_ += c;
    } else if (quote_ == '"') {
      if (c == '"')
        quote_ = 0;
      else if (c == '\\')
        escaped_ = true;
      else
        word_ += c;
    } else {
      unquoted(c);
    }
  }

  std::vector<std::string> finish() {
    if (quote_ != 0) throw CredentialError("credential_process: no closing quotation");
    if (escaped_) throw CredentialError("credential_process: no character after a backslash");
    end_word();
    return std::move(words_);
  }

 private:
  void unquoted(char c) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      end_word();
      return;
    }
    in_word_ = true;
    if (c == '\\') {
      escaped_ = true;
    } else if (c == '\'' || c == '"') {
      quote_ = c;
    } else {
      word_ += c;
    }
  }

  void end_word() {
    if (in_word_) words_.push_back(std::move(word_));
    word_.clear();
    in_word_ = false;
  }

  std::vector<std::string> words_;
  std::string word_;
  bool in_word_ = false;
  bool escaped_ = false;
  char quote_ = 0;
};

void cleanse(std::string& s) {
  if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
  s.clear();
}

std::string seconds_text(std::chrono::milliseconds d) {
  const auto ms = d.count();
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + " s";
  return std::to_string(ms) + " ms";
}

// A started child: killed (with its group) and reaped on destruction unless it was reaped.
class Child {
 public:
  Child(const std::vector<std::string>& argv, int& read_fd) { spawn(argv, read_fd); }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() { kill_and_reap(); }

  // True once it has exited (status in status()).
  bool try_reap() {
    if (reaped_) return true;
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      reaped_ = true;
      status_ = status;
    } else if (r < 0 && errno != EINTR) {
      reaped_ = true;  // not our child any more (SIGCHLD ignored): nothing to wait for
    }
    return reaped_;
  }

  void kill_and_reap() {
    if (reaped_) return;
    ::kill(-pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    reaped_ = true;
    status_ = status;
  }

  int status() const { return status_; }
  pid_t pid() const { return pid_; }

 private:
  void spawn(const std::vector<std::string>& argv, int& read_fd);

  pid_t pid_ = -1;
  bool reaped_ = false;
  int status_ = 0;
};

void Child::spawn(const std::vector<std::string>& argv, int& read_fd) {
  std::array<int, 2> fds{-1, -1};
  if (::pipe2(fds.data(), O_CLOEXEC) != 0) {
    throw ProcessError("cannot start " + argv.at(0) + ": pipe: " + std::strerror(errno));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&attr, 0);
  sigset_t set;
  sigemptyset(&set);
  posix_spawnattr_setsigmask(&attr, &set);
  for (int s : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT})
    sigaddset(&set, s);
  posix_spawnattr_setsigdefault(&attr, &set);
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const auto& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));  // NOLINT: posix_spawn's signature
  args.push_back(nullptr);
  const int rc = ::posix_spawnp(&pid_, args[0], &actions, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    reaped_ = true;
    throw ProcessError("cannot start " + argv[0] + ": " + std::strerror(rc));
  }
  read_fd = fds[0];
}

// What the deadline's handler needs, shared with it: it may run after run_process has returned.
struct Watch {
  Watch(const asio::any_io_executor& executor, int fd, pid_t group)
      : pipe(executor, fd), group(group) {}
  asio::posix::stream_descriptor pipe;
  pid_t group;
  bool finished = false;   // reaped (or given up on): the group id may be reused, never kill it
  bool timed_out = false;  // the deadline killed the group and closed the pipe
};

// Reads stdout until EOF, or until it passes `max_output` (too_large). A cancelled caller gets
// operation_aborted; a read ended by the deadline just ends.
asio::awaitable<void> read_output(Watch& watch, ProcessResult& result, std::size_t max_output) {
  std::array<char, 4096> buf{};
  for (;;) {
    auto [ec, n] =
        co_await watch.pipe.async_read_some(asio::buffer(buf), asio::as_tuple(asio::use_awaitable));
    if (result.output.size() + n > max_output) {
      result.too_large = true;
      break;
    }
    result.output.append(buf.data(), n);
    if (ec == asio::error::operation_aborted && !watch.timed_out) {
      OPENSSL_cleanse(buf.data(), buf.size());
      throw boost::system::system_error(ec);
    }
    if (ec) break;  // eof, the deadline, or the pipe failed: the exit status tells the rest
  }
  OPENSSL_cleanse(buf.data(), buf.size());
}

// Its output, then its exit (polled: stdout may close before the process ends).
asio::awaitable<void> read_and_wait(Watch& watch, Child& child, ProcessResult& result,
                                    std::size_t max_output) {
  co_await read_output(watch, result, max_output);
  if (result.too_large) co_return;
  asio::steady_timer poll(co_await asio::this_coro::executor);
  while (!child.try_reap()) {
    poll.expires_after(std::chrono::milliseconds(10));
    co_await poll.async_wait(asio::use_awaitable);
  }
}

}  // namespace

std::vector<std::string> split_command(std::string_view command) {
  Splitter splitter;
  for (char c : command)
    splitter.feed(c);
  return splitter.finish();
}

Credentials parse_process_output(std::string_view output) {
  return credentials_from_json(
      output, {"credential_process", "SessionToken", false, false},
      "credential_process printed no JSON object", [](const JsonMembers& members) {
        const auto version = members.find("Version");
        if (version == members.end() || version->second.is_string || version->second.value != "1") {
          throw CredentialError(
              "credential_process printed JSON without \"Version\": 1 (the only version there is)");
        }
      });
}

asio::awaitable<ProcessResult> run_process(std::vector<std::string> argv,
                                           std::chrono::milliseconds timeout,
                                           std::size_t max_output) {
  if (argv.empty() || argv[0].empty()) throw ProcessError("no program to run");
  const auto executor = co_await asio::this_coro::executor;
  int read_fd = -1;
  Child child(argv, read_fd);
  const auto watch = std::make_shared<Watch>(executor, read_fd, child.pid());
  ProcessResult result;
  result.output.reserve(max_output);  // no reallocation leaves copies of the secret behind
  // At the deadline the group is killed and the pipe closed, which ends the read and the wait.
  asio::steady_timer deadline(executor, timeout);
  deadline.async_wait([watch](const boost::system::error_code& ec) {
    if (ec || watch->finished) return;
    watch->timed_out = true;
    ::kill(-watch->group, SIGKILL);
    boost::system::error_code ignored;
    watch->pipe.close(ignored);
  });
  try {
    co_await read_and_wait(*watch, child, result, max_output);
  } catch (...) {
    watch->finished = true;  // a cancelled caller: the child goes with `child` below
    deadline.cancel();
    throw;
  }
  child.kill_and_reap();  // after too_large; otherwise it was reaped already and this is a no-op
  watch->finished = true;
  deadline.cancel();
  result.timed_out = watch->timed_out;
  if (result.timed_out || result.too_large) {
    cleanse(result.output);
    co_return result;
  }
  const int status = child.status();
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
  co_return result;
}

asio::awaitable<Credentials> process_credentials(std::string command, std::string profile,
                                                 ProcessOptions options) {
  std::vector<std::string> argv = split_command(command);
  const std::string what = "credential_process of profile '" + profile + "' (program " +
                           (argv.empty() ? std::string("none") : argv[0]) + ")";
  if (argv.empty()) throw CredentialError(what + ": the command is empty");
  ProcessResult result;
  try {
    result = co_await run_process(argv, options.timeout, options.max_output);
  } catch (const ProcessError& e) {
    throw CredentialError(what + ": " + e.what());
  }
  for (auto& a : argv)
    cleanse(a);
  std::string problem;
  if (result.timed_out) {
    problem = "no answer within " + seconds_text(options.timeout) + "; killed";
  } else if (result.too_large) {
    problem = "printed more than " + std::to_string(options.max_output) + " bytes; killed";
  } else if (result.signal != 0) {
    problem = "ended by signal " + std::to_string(result.signal);
  } else if (result.exit_code != 0) {
    problem = "exited with status " + std::to_string(result.exit_code);
  }
  if (!problem.empty()) {
    cleanse(result.output);
    throw CredentialError(what + ": " + problem);
  }
  try {
    Credentials c = parse_process_output(result.output);
    cleanse(result.output);
    co_return c;
  } catch (const CredentialError& e) {
    cleanse(result.output);
    throw CredentialError(what + ": " + e.what());
  }
}

}  // namespace sab::aws
