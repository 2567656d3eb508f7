#include "aws/profile_files.hpp"

#include <openssl/crypto.h>

#include <algorithm>

#include "aws/text.hpp"

namespace sab::aws {

namespace {

std::string_view trim_view(std::string_view s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

std::string unquote(std::string_view s) {
  if (s.size() >= 2 && (s.front() == '"' || s.front() == '\'') && s.back() == s.front()) {
    s = s.substr(1, s.size() - 2);
  }
  return std::string(s);
}

// The profile a section header names, or nullopt when the section is not a profile.
std::optional<std::string> profile_of_section(std::string_view header, ProfileFileKind kind) {
  const std::string_view name = trim_view(header);
  if (kind == ProfileFileKind::credentials) return std::string(name);
  if (name == "default") return std::string(name);
  if (name.size() > 8 && name.starts_with("profile") && (name[7] == ' ' || name[7] == '\t')) {
    const std::string_view rest = trim_view(name.substr(8));
    const std::string profile = unquote(rest);
    // As shlex would split it: one word, or one quoted string.
    const bool one_word = profile.size() != rest.size() || rest.find_first_of(" \t") == rest.npos;
    if (!profile.empty() && one_word) return profile;
  }
  return std::nullopt;  // [sso-session x], [services x], [plugins], ...
}

void cleanse(std::string& s) {
  if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
  s.clear();
}

void wipe_profiles(Profiles& profiles) {
  for (auto& [name, keys] : profiles) {
    for (auto& [key, value] : keys)
      cleanse(value);
  }
}

// The value of `key` in one file's profile; nullptr when absent.
const std::string* find_in(const Profiles& file, std::string_view profile, std::string_view key) {
  const auto p = file.find(profile);
  if (p == file.end()) return nullptr;
  const auto k = p->second.find(key);
  return k == p->second.end() ? nullptr : &k->second;
}

// The value of `key` as the SDKs see the profile: the credentials file wins over the config file.
const std::string* setting(const ProfileFiles& files, std::string_view profile,
                           std::string_view key) {
  if (const auto* v = find_in(files.credentials, profile, key)) return v;
  return find_in(files.config, profile, key);
}

std::string setting_or_empty(const ProfileFiles& files, std::string_view profile,
                             std::string_view key) {
  const auto* v = setting(files, profile, key);
  return v == nullptr ? std::string() : *v;
}

bool has_static_keys(const ProfileFiles& files, std::string_view profile) {
  return setting(files, profile, "aws_access_key_id") != nullptr ||
         setting(files, profile, "aws_secret_access_key") != nullptr;
}

bool has_web_identity(const ProfileFiles& files, std::string_view profile) {
  return setting(files, profile, "role_arn") != nullptr &&
         setting(files, profile, "web_identity_token_file") != nullptr;
}

// role_arn that is assumed with AssumeRole (not with a web identity token).
bool has_assume_role(const ProfileFiles& files, std::string_view profile) {
  return setting(files, profile, "role_arn") != nullptr &&
         setting(files, profile, "web_identity_token_file") == nullptr;
}

std::string quoted(std::string_view name) {
  return "'" + std::string(name) + "'";
}

// Static keys of one file's profile into `plan`; false when that file's profile has none.
bool take_static_keys(const Profiles& file, std::string_view profile, const std::string& path,
                      ProfilePlan& plan) {
  const auto* id = find_in(file, profile, "aws_access_key_id");
  const auto* secret = find_in(file, profile, "aws_secret_access_key");
  if (id == nullptr && secret == nullptr) return false;
  if (id == nullptr || id->empty() || secret == nullptr || secret->empty()) {
    const bool no_id = id == nullptr || id->empty();
    throw CredentialError("profile " + quoted(profile) + " of " + path + " has " +
                          (no_id ? "aws_secret_access_key without aws_access_key_id"
                                 : "aws_access_key_id without aws_secret_access_key"));
  }
  const auto* token = find_in(file, profile, "aws_session_token");
  if (token == nullptr) token = find_in(file, profile, "aws_security_token");
  plan.base = ProfileBase::static_keys;
  plan.base_profile = std::string(profile);
  plan.base_file = path;
  plan.keys = {*id, *secret, token == nullptr ? std::string() : *token, std::nullopt};
  return true;
}

// A profile's own credentials, in botocore's order for a profile: web identity, keys of the
// credentials file, credential_process, keys of the config file. False when it has none.
bool own_credentials(const ProfileFiles& files, std::string_view profile, ProfilePlan& plan) {
  if (has_web_identity(files, profile)) {
    plan.base = ProfileBase::web_identity;
    plan.base_profile = std::string(profile);
    plan.web_identity_role_arn = setting_or_empty(files, profile, "role_arn");
    plan.web_identity_token_file = setting_or_empty(files, profile, "web_identity_token_file");
    plan.web_identity_session_name = setting_or_empty(files, profile, "role_session_name");
    if (plan.web_identity_session_name.empty())
      plan.web_identity_session_name = kDefaultSessionName;
    return true;
  }
  if (take_static_keys(files.credentials, profile, files.credentials_path, plan)) return true;
  const auto* process = setting(files, profile, "credential_process");
  if (process != nullptr && !process->empty()) {
    plan.base = ProfileBase::process;
    plan.base_profile = std::string(profile);
    plan.base_file = find_in(files.credentials, profile, "credential_process") != nullptr
                         ? files.credentials_path
                         : files.config_path;
    plan.process = *process;
    return true;
  }
  return take_static_keys(files.config, profile, files.config_path, plan);
}

AssumeRoleStep role_step(const ProfileFiles& files, std::string_view profile) {
  AssumeRoleStep step;
  step.profile = std::string(profile);
  step.role_arn = setting_or_empty(files, profile, "role_arn");
  step.external_id = setting_or_empty(files, profile, "external_id");
  step.session_name = setting_or_empty(files, profile, "role_session_name");
  if (step.session_name.empty()) step.session_name = kDefaultSessionName;
  const std::string duration = setting_or_empty(files, profile, "duration_seconds");
  if (!duration.empty() && duration.size() < 7 &&
      std::all_of(duration.begin(), duration.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    step.duration_seconds = std::stoi(duration);  // botocore ignores a value that is no integer
  }
  if (step.role_arn.empty()) {
    throw CredentialError("profile " + quoted(profile) + " has an empty role_arn");
  }
  return step;
}

ProfileBase named_source(const std::string& source, std::string_view profile) {
  if (source == "Environment") return ProfileBase::environment;
  if (source == "Ec2InstanceMetadata") return ProfileBase::imds;
  if (source == "EcsContainer") return ProfileBase::container;
  throw CredentialError("credential_source " + quoted(source) + " of profile " + quoted(profile) +
                        " is not one of Environment, Ec2InstanceMetadata, EcsContainer");
}

std::string cycle_text(const std::vector<std::string>& visited, const std::string& again) {
  std::string out;
  for (const auto& p : visited)
    out += p + " -> ";
  return out + again;
}

// Where the source of `profile`'s role comes from: true when the chain ends at `profile` (its
// credential_source or the source profile's own credentials, put into `plan`), false when it goes
// on with the source profile (returned in `next`).
bool follow_source(const ProfileFiles& files, const std::string& profile,
                   std::vector<std::string>& visited, ProfilePlan& plan, std::string& next) {
  const std::string source = setting_or_empty(files, profile, "source_profile");
  const std::string named = setting_or_empty(files, profile, "credential_source");
  if (!source.empty() && !named.empty()) {
    throw CredentialError("profile " + quoted(profile) +
                          " has both source_profile and credential_source");
  }
  if (source.empty() && named.empty()) {
    throw CredentialError("profile " + quoted(profile) +
                          " has role_arn but neither source_profile nor credential_source");
  }
  if (!named.empty()) {
    plan.base = named_source(named, profile);
    plan.base_profile = profile;
    return true;
  }
  if (!files.has(source)) {
    throw CredentialError("source_profile " + quoted(source) + " of profile " + quoted(profile) +
                          " does not exist");
  }
  // A profile may name itself as its source when it has static keys; any other repeat is a loop.
  const bool seen = std::find(visited.begin(), visited.end(), source) != visited.end();
  if (seen && (source != profile || !has_static_keys(files, source))) {
    throw CredentialError("source_profile cycle: " + cycle_text(visited, source));
  }
  visited.push_back(source);
  if (has_static_keys(files, source) || !has_assume_role(files, source)) {
    if (!own_credentials(files, source, plan)) {
      throw CredentialError("source_profile " + quoted(source) + " of profile " + quoted(profile) +
                            " has no credentials");
    }
    return true;
  }
  next = source;
  return false;
}

std::string program_of(std::string_view command) {
  command = trim_view(command);
  const auto end = command.find_first_of(" \t");
  std::string program(command.substr(0, end));
  if (program.size() >= 2 && (program.front() == '"' || program.front() == '\'')) {
    program = unquote(program);
  }
  return program;
}

}  // namespace

Profiles parse_profiles(std::string_view ini, ProfileFileKind kind) {
  Profiles out;
  ProfileKeys* current = nullptr;  // outside any profile section
  std::size_t pos = 0;
  while (pos < ini.size()) {
    std::size_t nl = ini.find('\n', pos);
    if (nl == std::string_view::npos) nl = ini.size();
    const std::string_view raw = ini.substr(pos, nl - pos);
    pos = nl + 1;
    const std::string_view line = trim_view(raw);
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    if (raw.front() == ' ' || raw.front() == '\t') continue;  // continuation or nested setting
    if (line.front() == '[') {
      const auto close = line.find(']');
      const auto name = close == std::string_view::npos
                            ? std::nullopt
                            : profile_of_section(line.substr(1, close - 1), kind);
      current = name ? &out[*name] : nullptr;
      continue;
    }
    if (current == nullptr) continue;
    const auto sep = line.find_first_of("=:");
    if (sep == std::string_view::npos) continue;
    std::string key = text::lower(std::string(trim_view(line.substr(0, sep))));
    if (key.empty()) continue;
    auto& value = (*current)[std::move(key)];
    cleanse(value);
    value = std::string(trim_view(line.substr(sep + 1)));
  }
  return out;
}

ProfileFiles::~ProfileFiles() {
  wipe_profiles(config);
  wipe_profiles(credentials);
}

bool ProfileFiles::has(std::string_view profile) const {
  return config.find(profile) != config.end() || credentials.find(profile) != credentials.end();
}

std::string ProfileFiles::setting(std::string_view profile, std::string_view key) const {
  return setting_or_empty(*this, profile, key);
}

ProfileKeys ProfileFiles::merged(std::string_view profile) const {
  ProfileKeys out;
  if (auto c = config.find(profile); c != config.end()) out = c->second;
  if (auto c = credentials.find(profile); c != credentials.end()) {
    for (const auto& [key, value] : c->second)
      out[key] = value;
  }
  return out;
}

namespace {

std::string file_path(const config::Env& env, std::string_view variable, std::string_view name) {
  const std::string home = text::env_or(env, "HOME");
  std::string path = text::env_or(env, variable);
  if (path.empty()) return home.empty() ? std::string() : home + "/.aws/" + std::string(name);
  if ((path == "~" || path.starts_with("~/")) && !home.empty()) path = home + path.substr(1);
  return path;
}

bool read_into(const std::string& path, ProfileFileKind kind, const FileReader& read_file,
               Profiles& out) {
  if (path.empty()) return false;
  auto text = read_file(path);
  if (!text) return false;
  out = parse_profiles(*text, kind);
  OPENSSL_cleanse(text->data(), text->size());
  return true;
}

}  // namespace

ProfileFiles load_profile_files(const config::Env& env, const FileReader& read_file) {
  ProfileFiles files;
  files.config_path = file_path(env, "AWS_CONFIG_FILE", "config");
  files.credentials_path = file_path(env, "AWS_SHARED_CREDENTIALS_FILE", "credentials");
  files.config_read =
      read_into(files.config_path, ProfileFileKind::config, read_file, files.config);
  files.credentials_read =
      read_into(files.credentials_path, ProfileFileKind::credentials, read_file, files.credentials);
  return files;
}

std::string selected_profile(const config::Env& env, bool* explicit_choice) {
  std::string name = text::env_or(env, "AWS_PROFILE", text::env_or(env, "AWS_DEFAULT_PROFILE"));
  if (explicit_choice != nullptr) *explicit_choice = !name.empty();
  return name.empty() ? std::string("default") : name;
}

std::string_view to_string(ProfileBase base) {
  switch (base) {
    case ProfileBase::static_keys:
      return "static keys";
    case ProfileBase::process:
      return "credential_process";
    case ProfileBase::web_identity:
      return "web identity";
    case ProfileBase::environment:
      return "credential_source Environment";
    case ProfileBase::imds:
      return "credential_source Ec2InstanceMetadata";
    case ProfileBase::container:
      return "credential_source EcsContainer";
  }
  return "unknown";
}

std::string describe(const ProfilePlan& plan) {
  std::string out = "profile " + quoted(plan.profile) + ": " + std::string(to_string(plan.base)) +
                    " of profile " + quoted(plan.base_profile);
  if (plan.base == ProfileBase::process) out += " (program " + program_of(plan.process) + ")";
  if (plan.base == ProfileBase::web_identity) out += " (role " + plan.web_identity_role_arn + ")";
  if (!plan.base_file.empty()) out += " in " + plan.base_file;
  for (const auto& role : plan.roles)
    out += ", then role " + role.role_arn + " (profile " + quoted(role.profile) + ")";
  return out;
}

std::optional<ProfilePlan> resolve_profile(const ProfileFiles& files, std::string_view name) {
  ProfilePlan plan;
  plan.profile = std::string(name);
  plan.region = setting_or_empty(files, name, "region");
  if (!has_assume_role(files, name)) {
    if (!own_credentials(files, name, plan)) return std::nullopt;
    return plan;
  }
  std::vector<std::string> visited{plan.profile};
  std::vector<AssumeRoleStep> outer_first;
  std::string current = plan.profile;
  for (;;) {
    outer_first.push_back(role_step(files, current));
    std::string next;
    if (follow_source(files, current, visited, plan, next)) break;
    current = std::move(next);
  }
  plan.roles.assign(outer_first.rbegin(), outer_first.rend());
  return plan;
}

}  // namespace sab::aws
