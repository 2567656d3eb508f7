#include "app/cli.hpp"

#include <charconv>
#include <cstdio>
#include <utility>

namespace sab::app {

std::string usage() {
  return "usage: source-aws-billing [--config FILE] [--once] [--date YYYY-MM-DD | --from "
         "YYYY-MM-DD --to YYYY-MM-DD]\n"
         "                          [--dry-run] [--check-config] [--version] [--help]\n"
         "\n"
         "Pulls AWS Cost Explorer costs of complete UTC days and delivers them as CloudEvents.\n"
         "\n"
         "  --config FILE   config file (default: $CONNECTOR_CONFIG, else "
         "/vanus-connect/config/config.yml)\n"
         "  --once          pull the selected days (default: yesterday, UTC), deliver, exit\n"
         "  --date D        with --once: that UTC day\n"
         "  --from D --to D with --once: those UTC days, both inclusive\n"
         "  --dry-run       do not deliver; print each event as a JSON line on stdout\n"
         "  --check-config  validate the config, print it with secrets masked, exit\n"
         "  --version       print the version and exit\n"
         "  --help          print this help and exit\n"
         "\n"
         "Exit codes: 0 ok; 1 a failed run (with --once: the pull failed, some event was not\n"
         "delivered or the checkpoint could not be saved); 2 usage or config error.\n";
}

namespace {

// "--name=value" is the option "--name" with an inline value; short options take none.
struct Arg {
  std::string_view name;
  std::optional<std::string_view> inline_value;
};

Arg split_arg(std::string_view arg) {
  if (arg.starts_with("--")) {
    if (auto eq = arg.find('='); eq != std::string_view::npos) {
      return {arg.substr(0, eq), arg.substr(eq + 1)};
    }
  }
  return {arg, std::nullopt};
}

// The arguments not read yet: an option's value is its inline one, else the next argument.
class ArgCursor {
 public:
  explicit ArgCursor(const std::vector<std::string_view>& args) : args_(args) {}
  bool done() const { return next_ >= args_.size(); }
  std::string_view take() { return args_[next_++]; }
  std::optional<std::string_view> value(const Arg& arg) {
    if (arg.inline_value) return arg.inline_value;
    if (!done()) return take();
    return std::nullopt;
  }

 private:
  const std::vector<std::string_view>& args_;
  std::size_t next_ = 0;
};

using DateOption = std::optional<std::chrono::sys_days> Options::*;

constexpr std::pair<std::string_view, bool Options::*> kFlags[] = {
    {"--once", &Options::once},
    {"--dry-run", &Options::dry_run},
    {"--check-config", &Options::check_config},
    {"--version", &Options::version},
    {"--help", &Options::help},
    {"-h", &Options::help},
};
constexpr std::pair<std::string_view, DateOption> kDates[] = {
    {"--date", &Options::date},
    {"--from", &Options::from},
    {"--to", &Options::to},
};

// Each reader below returns what is wrong with the option, empty when nothing.

std::string read_flag(const Arg& arg, bool& out) {
  if (arg.inline_value) return std::string(arg.name) + " takes no value";
  out = true;
  return {};
}

std::string read_date(ArgCursor& args, const Arg& arg, std::optional<std::chrono::sys_days>& out) {
  const auto v = args.value(arg);
  if (!v) return std::string(arg.name) + " needs a date (YYYY-MM-DD)";
  if (out) return std::string(arg.name) + " given twice";
  out = parse_date(*v);
  if (!out) {
    return std::string(arg.name) + ": not a valid date (YYYY-MM-DD): '" + std::string(*v) + "'";
  }
  return {};
}

std::string read_option(ArgCursor& args, Options& o) {
  const std::string_view raw = args.take();
  const Arg arg = split_arg(raw);
  if (arg.name == "--config" || arg.name == "-c") {
    const auto v = args.value(arg);
    if (!v || v->empty()) return "--config needs a file name";
    o.config_path = std::string(*v);
    return {};
  }
  for (const auto& [name, member] : kFlags) {
    if (arg.name == name) return read_flag(arg, o.*member);
  }
  for (const auto& [name, member] : kDates) {
    if (arg.name == name) return read_date(args, arg, o.*member);
  }
  return "unknown argument '" + std::string(raw) + "'";
}

// Options each valid alone that do not go together.
std::string combination_error(const Options& o) {
  if (o.date && (o.from || o.to)) return "--date cannot be combined with --from/--to";
  if (o.from.has_value() != o.to.has_value()) {
    return o.from ? "--from needs --to" : "--to needs --from";
  }
  if (o.from && *o.from > *o.to) {
    return "--from " + format_date(*o.from) + " is after --to " + format_date(*o.to);
  }
  if ((o.date || o.from) && !o.once) {
    return "--date, --from and --to select days for --once; add --once";
  }
  if (o.check_config && (o.once || o.dry_run)) {
    return "--check-config cannot be combined with --once or --dry-run";
  }
  return {};
}

}  // namespace

ParseResult parse_args(const std::vector<std::string_view>& args) {
  ParseResult r;
  for (ArgCursor cursor(args); !cursor.done();) {
    r.error = read_option(cursor, r.options);
    if (!r.error.empty()) return r;
  }
  // --help and --version ignore the rest.
  if (r.options.help || r.options.version) return r;
  r.error = combination_error(r.options);
  return r;
}

}  // namespace sab::app
