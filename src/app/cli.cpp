#include "app/cli.hpp"

#include <charconv>
#include <cstdio>

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

ParseResult parse_args(const std::vector<std::string_view>& args) {
  ParseResult r;
  auto& o = r.options;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    std::optional<std::string_view> inline_value;
    if (arg.starts_with("--")) {
      if (auto eq = arg.find('='); eq != std::string_view::npos) {
        inline_value = arg.substr(eq + 1);
        arg = arg.substr(0, eq);
      }
    }
    auto value = [&]() -> std::optional<std::string_view> {
      if (inline_value) return inline_value;
      if (i + 1 < args.size()) return args[++i];
      return std::nullopt;
    };
    auto date_value = [&](std::optional<std::chrono::sys_days>& out) {
      auto v = value();
      if (!v) {
        r.error = std::string(arg) + " needs a date (YYYY-MM-DD)";
        return false;
      }
      if (out) {
        r.error = std::string(arg) + " given twice";
        return false;
      }
      out = parse_date(*v);
      if (!out) {
        r.error = std::string(arg) + ": not a valid date (YYYY-MM-DD): '" + std::string(*v) + "'";
        return false;
      }
      return true;
    };
    auto flag = [&](bool& out) {
      if (inline_value) {
        r.error = std::string(arg) + " takes no value";
        return false;
      }
      out = true;
      return true;
    };

    bool ok = true;
    if (arg == "--config" || arg == "-c") {
      auto v = value();
      if (!v || v->empty()) {
        r.error = "--config needs a file name";
        return r;
      }
      o.config_path = std::string(*v);
    } else if (arg == "--once") {
      ok = flag(o.once);
    } else if (arg == "--dry-run") {
      ok = flag(o.dry_run);
    } else if (arg == "--check-config") {
      ok = flag(o.check_config);
    } else if (arg == "--version") {
      ok = flag(o.version);
    } else if (arg == "--help" || arg == "-h") {
      ok = flag(o.help);
    } else if (arg == "--date") {
      ok = date_value(o.date);
    } else if (arg == "--from") {
      ok = date_value(o.from);
    } else if (arg == "--to") {
      ok = date_value(o.to);
    } else {
      r.error = "unknown argument '" + std::string(args[i]) + "'";
      return r;
    }
    if (!ok) return r;
  }
  if (o.help || o.version) return r;
  if (o.date && (o.from || o.to)) {
    r.error = "--date cannot be combined with --from/--to";
  } else if (o.from.has_value() != o.to.has_value()) {
    r.error = o.from ? "--from needs --to" : "--to needs --from";
  } else if (o.from && *o.from > *o.to) {
    r.error = "--from " + format_date(*o.from) + " is after --to " + format_date(*o.to);
  } else if ((o.date || o.from) && !o.once) {
    r.error = "--date, --from and --to select days for --once; add --once";
  } else if (o.check_config && (o.once || o.dry_run)) {
    r.error = "--check-config cannot be combined with --once or --dry-run";
  }
  return r;
}

}  // namespace sab::app
