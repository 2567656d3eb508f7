#pragma once

// credential_process of a profile: its command line split as botocore splits it (POSIX shell
// words, no shell), the JSON it prints (Version 1), and running it with a deadline (then killed
// with its process group), stdin closed, stderr discarded, output bounded.
//
// The output is a secret: it is never logged, and no error quotes it.

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "aws/credentials.hpp"

namespace sab::aws {

// POSIX shell word splitting without expansions (Python's shlex.split): blanks separate words,
// '...' is literal, "..." honours \" and \\, a backslash outside quotes escapes the next
// character. CredentialError on an unclosed quote or a trailing backslash.
std::vector<std::string> split_command(std::string_view command);

// The credentials in a credential_process answer: {"Version": 1, "AccessKeyId", "SecretAccessKey",
// optional "SessionToken" and "Expiration"}. CredentialError (never quoting the output) when it is
// not such an object.
Credentials parse_process_output(std::string_view output);

struct ProcessResult {
  int exit_code = -1;  // when it exited
  int signal = 0;      // when a signal ended it (other than our kill after the deadline)
  bool timed_out = false;
  bool too_large = false;
  std::string output;  // stdout, at most max_output bytes
};

// A process that could not be started (the message names the program and the reason).
class ProcessError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Runs argv[0] (looked up in PATH) in a process group of its own with stdin and stderr on
// /dev/null; reads its stdout until it exits. After `timeout`, or once stdout passes `max_output`,
// the group is killed (SIGKILL) and reaped. A cancelled caller kills it too. Throws ProcessError
// when it cannot be started.
boost::asio::awaitable<ProcessResult> run_process(std::vector<std::string> argv,
                                                  std::chrono::milliseconds timeout,
                                                  std::size_t max_output);

struct ProcessOptions {
  std::chrono::milliseconds timeout{30'000};
  std::size_t max_output = std::size_t{64} * 1024;
};

// Runs `command` (profile `profile`'s credential_process) and returns its credentials.
// CredentialError naming the profile and the program (not its arguments) when it cannot be
// started, times out, prints too much, fails or prints something else than version 1 JSON.
boost::asio::awaitable<Credentials> process_credentials(std::string command, std::string profile,
                                                        ProcessOptions options);

}  // namespace sab::aws
