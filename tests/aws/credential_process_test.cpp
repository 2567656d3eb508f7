// credential_process: command splitting as botocore (shlex) does it, the version 1 JSON answer,
// and real child processes: output, exit status, the deadline (the whole process group is
// killed), the output bound, stdin closed and stderr discarded.

#include "aws/credential_process.hpp"

#include <doctest/doctest.h>
#include <signal.h>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

using namespace sab;
using namespace std::chrono_literals;

namespace {

template <class T>
T run_sync(boost::asio::awaitable<T> task) {
  boost::asio::io_context ioc;
  std::optional<T> out;
  std::exception_ptr error;
  boost::asio::co_spawn(ioc, std::move(task), [&](std::exception_ptr e, T value) {
    error = e;
    if (!e) out = std::move(value);
  });
  ioc.run_for(std::chrono::seconds(30));
  if (error) std::rethrow_exception(error);
  REQUIRE(out);
  return std::move(*out);
}

aws::ProcessResult run_sh(const std::string& script, std::chrono::milliseconds timeout = 10s,
                          std::size_t limit = 4096) {
  return run_sync(aws::run_process({"/bin/sh", "-c", script}, timeout, limit));
}

std::string error_of(const std::string& command, std::chrono::milliseconds timeout = 10s) {
  try {
    (void)run_sync(aws::process_credentials(command, "dev", {timeout, 4096}));
  } catch (const aws::CredentialError& e) {
    return e.what();
  }
  return "no error";
}

// A script in a fresh folder; removed with the folder by the caller.
std::string script(const std::filesystem::path& dir, const std::string& name,
                   const std::string& body) {
  const auto path = dir / name;
  std::ofstream(path) << "#!/bin/sh\n" << body;
  std::filesystem::permissions(path, std::filesystem::perms::owner_all);
  return path.string();
}

// Running (not gone, not a zombie).
bool alive(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  const auto close = line.rfind(')');
  return close != std::string::npos && close + 2 < line.size() && line[close + 2] != 'Z';
}

const char* kAnswer =
    R"({"Version": 1, "AccessKeyId": "AKIAPROCESS", "SecretAccessKey": "process/secret+",
        "SessionToken": "process-token", "Expiration": "2030-01-02T03:04:05Z"})";

}  // namespace

TEST_CASE("credential_process: the command line is split like shlex.split") {
  using V = std::vector<std::string>;
  CHECK(aws::split_command("/usr/bin/get-creds --profile dev") ==
        V{"/usr/bin/get-creds", "--profile", "dev"});
  CHECK(aws::split_command("  a   'b c'  \"d \\\" e\" f\\ g ''") ==
        V{"a", "b c", "d \" e", "f g", ""});
  CHECK(aws::split_command("x \"a\\nb\" 'c\\d'") == V{"x", "a\\nb", "c\\d"});
  CHECK(aws::split_command("pre'quoted'post") == V{"prequotedpost"});
  CHECK(aws::split_command("").empty());
  CHECK_THROWS_AS(aws::split_command("a 'b"), aws::CredentialError);
  CHECK_THROWS_AS(aws::split_command("a \"b"), aws::CredentialError);
  CHECK_THROWS_AS(aws::split_command("a b\\"), aws::CredentialError);
}

TEST_CASE("credential_process: the version 1 answer") {
  auto c = aws::parse_process_output(kAnswer);
  CHECK(c.access_key_id == "AKIAPROCESS");
  CHECK(c.secret_access_key == "process/secret+");
  CHECK(c.session_token == "process-token");
  REQUIRE(c.expiration);
  // Long-term keys: no token, no expiry (never refreshed).
  c = aws::parse_process_output(
      R"({"Version":1,"AccessKeyId":"AKIA","SecretAccessKey":"s","Extra":{"x":[1,2]}})");
  CHECK(c.session_token.empty());
  CHECK_FALSE(c.expiration);
  auto error = [](std::string_view output) -> std::string {
    try {
      (void)aws::parse_process_output(output);
    } catch (const aws::CredentialError& e) {
      return e.what();
    }
    return "no error";
  };
  CHECK(error("not json at all: secret-material") ==
        "credential_process printed no JSON object (32 bytes)");
  CHECK(error("") == "credential_process printed no JSON object (0 bytes)");
  CHECK(error(R"({"Version":1,"AccessKeyId":"A","SecretAccessKey":"s"} trailing)")
            .find("no JSON object") != std::string::npos);
  CHECK(error(R"({"Version":2,"AccessKeyId":"A","SecretAccessKey":"s"})").find("Version") !=
        std::string::npos);
  CHECK(error(R"({"Version":"1","AccessKeyId":"A","SecretAccessKey":"s"})").find("Version") !=
        std::string::npos);
  CHECK(error(R"({"Version":1,"AccessKeyId":"A","SecretAccessKey":""})") ==
        "credential_process answer without SecretAccessKey");
  CHECK(error(R"({"Version":1,"SecretAccessKey":"s3cr3t"})") ==
        "credential_process answer without AccessKeyId");
  CHECK(error(R"({"Version":1,"AccessKeyId":"A","SecretAccessKey":"s","Expiration":"soon"})") ==
        "credential_process answer with a malformed Expiration 'soon'");
  CHECK(error("[1,2]").find("no JSON object") != std::string::npos);
}

TEST_CASE("credential_process: running a process") {
  auto r = run_sh("printf out; echo err >&2; exit 3");
  CHECK(r.output == "out");  // stderr is not captured
  CHECK(r.exit_code == 3);
  CHECK_FALSE(r.timed_out);
  // stdin is /dev/null: a process reading it sees the end at once.
  r = run_sh("cat; printf done");
  CHECK(r.output == "done");
  CHECK(r.exit_code == 0);
  // Output closed before the exit: the exit is still awaited.
  r = run_sh("exec >&-; sleep 0.2; exit 4");
  CHECK(r.exit_code == 4);
  r = run_sh("kill -TERM $$");
  CHECK(r.signal == SIGTERM);
  // Too much output: killed at once, no output kept.
  r = run_sh("while :; do echo xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; done", 10s, 4096);
  CHECK(r.too_large);
  CHECK(r.output.empty());
  CHECK_THROWS_AS(run_sync(aws::run_process({"/nonexistent/program"}, 1s, 10)), aws::ProcessError);
}

TEST_CASE("credential_process: a hanging process and its children are killed at the deadline") {
  const auto dir =
      std::filesystem::temp_directory_path() / ("sab-process-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto pid_file = (dir / "child.pid").string();
  const auto started = std::chrono::steady_clock::now();
  // The shell starts a grandchild that keeps stdout open, then waits for it.
  auto r = run_sh("sleep 30 & echo $! > " + pid_file + "; wait", 300ms);
  const auto took = std::chrono::steady_clock::now() - started;
  CHECK(r.timed_out);
  CHECK(took < 5s);
  std::ifstream in(pid_file);
  pid_t grandchild = 0;
  in >> grandchild;
  REQUIRE(grandchild > 0);
  // The grandchild went with the group (a zombie until whoever inherited it reaps it).
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {
    gone = !alive(grandchild);
    if (!gone) std::this_thread::sleep_for(20ms);
  }
  CHECK(gone);
  std::filesystem::remove_all(dir);
}

TEST_CASE("credential_process: a cancelled caller (a shutdown) kills the process at once") {
  boost::asio::io_context ioc;
  boost::asio::cancellation_signal cancel;
  std::exception_ptr error;
  bool done = false;
  boost::asio::co_spawn(ioc, aws::run_process({"/bin/sh", "-c", "sleep 30"}, 20s, 100),
                        boost::asio::bind_cancellation_slot(
                            cancel.slot(), [&](std::exception_ptr e, aws::ProcessResult) {
                              error = e;
                              done = true;
                            }));
  boost::asio::steady_timer t(ioc, 200ms);
  t.async_wait(
      [&](boost::system::error_code) { cancel.emit(boost::asio::cancellation_type::terminal); });
  const auto started = std::chrono::steady_clock::now();
  while (!done && ioc.run_one_for(10s) > 0) {
  }
  CHECK(done);
  CHECK(std::chrono::steady_clock::now() - started < 5s);
  REQUIRE(error);
  try {
    std::rethrow_exception(error);
  } catch (const boost::system::system_error& e) {
    CHECK(e.code() == boost::asio::error::operation_aborted);
  }
}

TEST_CASE("credential_process: credentials from a profile's command, and clear errors") {
  const auto dir =
      std::filesystem::temp_directory_path() / ("sab-credproc-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto good = script(dir, "good", std::string("cat <<'EOF'\n") + kAnswer + "\nEOF\n");
  const auto c = run_sync(aws::process_credentials(good + " --ignored 'arg x'", "dev", {}));
  CHECK(c.access_key_id == "AKIAPROCESS");
  CHECK(c.secret_access_key == "process/secret+");

  const auto fails = script(dir, "fails", "echo 'oops: s3cr3t-from-stderr' >&2; exit 1\n");
  CHECK(error_of(fails + " --token very-secret-arg") ==
        "credential_process of profile 'dev' (program " + fails + "): exited with status 1");
  const auto garbage = script(dir, "garbage", "echo 'AKIA s3cr3t garbage'\n");
  CHECK(error_of(garbage) == "credential_process of profile 'dev' (program " + garbage +
                                 "): credential_process printed no JSON object (20 bytes)");
  const auto hangs = script(dir, "hangs", "sleep 30\n");
  CHECK(error_of(hangs, 200ms) == "credential_process of profile 'dev' (program " + hangs +
                                      "): no answer within 200 ms; "
                                      "killed");
  CHECK(error_of("/nonexistent/get-creds").find("(program /nonexistent/get-creds): cannot start") !=
        std::string::npos);
  CHECK(error_of("'unclosed").find("no closing quotation") != std::string::npos);
  std::filesystem::remove_all(dir);
}
