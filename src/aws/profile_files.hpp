#pragma once

// The AWS shared config and credentials files (~/.aws/config, ~/.aws/credentials): INI parsing
// into profiles, and what a profile stands for (static keys, credential_process, a role on top of
// a source_profile chain with cycle detection, or a named credential_source). Pure: the files
// come through an injectable reader.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aws/credentials.hpp"
#include "config/config.hpp"

namespace sab::aws {

// One profile's `key = value` lines: keys lower-cased, values trimmed.
using ProfileKeys = std::map<std::string, std::string, std::less<>>;
// Profiles by name.
using Profiles = std::map<std::string, ProfileKeys, std::less<>>;

enum class ProfileFileKind {
  config,       // sections [default] and [profile NAME]; other sections are not profiles
  credentials,  // sections [NAME]
};

// INI as the SDKs read these files: '#' and ';' comment lines, `key = value` or `key: value`,
// keys case-insensitive, indented lines continue the previous value (nested settings such as
// `s3 =` are skipped), a section given twice is merged.
Profiles parse_profiles(std::string_view ini, ProfileFileKind kind);

// Both files as the chain reads them. The values hold secrets: they are wiped on destruction.
struct ProfileFiles {
  Profiles config;       // AWS_CONFIG_FILE, default ~/.aws/config
  Profiles credentials;  // AWS_SHARED_CREDENTIALS_FILE, default ~/.aws/credentials
  std::string config_path;
  std::string credentials_path;
  bool config_read = false;
  bool credentials_read = false;

  ProfileFiles() = default;
  ProfileFiles(const ProfileFiles&) = default;
  ProfileFiles(ProfileFiles&&) = default;
  ProfileFiles& operator=(const ProfileFiles&) = default;
  ProfileFiles& operator=(ProfileFiles&&) = default;
  ~ProfileFiles();

  bool has(std::string_view profile) const;
  // One key of the profile (the credentials file wins over the config file); empty when absent.
  std::string setting(std::string_view profile, std::string_view key) const;
  // The profile as the SDKs see it: the config file's keys, overridden by the credentials file's.
  ProfileKeys merged(std::string_view profile) const;
};

// Reads both files (paths from the environment; a leading ~ is HOME). A file that cannot be read
// counts as empty.
ProfileFiles load_profile_files(const config::Env& env, const FileReader& read_file);

// AWS_PROFILE, else AWS_DEFAULT_PROFILE, else "default"; `explicit_choice` tells whether one of the
// variables named it (a profile named that way must exist).
std::string selected_profile(const config::Env& env, bool* explicit_choice = nullptr);

// Where the first credentials of a profile come from.
enum class ProfileBase {
  static_keys,   // aws_access_key_id + aws_secret_access_key [+ aws_session_token]
  process,       // credential_process
  web_identity,  // role_arn + web_identity_token_file (STS AssumeRoleWithWebIdentity)
  environment,   // credential_source = Environment
  imds,          // credential_source = Ec2InstanceMetadata
  container,     // credential_source = EcsContainer
};
std::string_view to_string(ProfileBase base);

// One STS AssumeRole of a profile's role_arn.
struct AssumeRoleStep {
  std::string profile;  // the profile that names the role
  std::string role_arn;
  std::string external_id;   // empty: none
  std::string session_name;  // role_session_name, else "source-aws-billing"
  int duration_seconds = 0;  // duration_seconds of the profile; 0: the chain's default
};

// What a profile stands for: a base, then zero or more roles assumed in order.
struct ProfilePlan {
  std::string profile;  // the selected profile
  ProfileBase base = ProfileBase::static_keys;
  std::string base_profile;  // the profile holding the base (the end of a source_profile chain)
  std::string base_file;     // the file the keys or credential_process line came from
  Credentials keys;          // static_keys
  std::string process;       // process: the command line (may hold arguments: not logged)
  std::string web_identity_role_arn;  // web_identity
  std::string web_identity_token_file;
  std::string web_identity_session_name;
  std::vector<AssumeRoleStep> roles;  // applied first to last (the innermost source first)
  std::string region;                 // region of the selected profile (for STS), may be empty

  ProfilePlan() = default;
  ProfilePlan(const ProfilePlan&) = default;
  ProfilePlan(ProfilePlan&&) = default;
  ProfilePlan& operator=(const ProfilePlan&) = default;
  ProfilePlan& operator=(ProfilePlan&&) = default;
  ~ProfilePlan() { wipe(keys); }
};

// For logs: "profile app: role arn:... (profile app) on profile base's static keys (path)". No
// secrets, no credential_process arguments.
std::string describe(const ProfilePlan& plan);

inline constexpr std::string_view kDefaultSessionName = "source-aws-billing";

// What profile `name` stands for, the way botocore resolves it: a role_arn first (with
// source_profile or credential_source; a source profile with static keys, or without role_arn,
// ends the chain with its own keys or credential_process), else keys from the credentials file,
// else credential_process, else keys from the config file. nullopt when the profile holds no
// credentials at all (the chain goes on). CredentialError, naming the profiles, for a
// source_profile cycle, a source_profile that does not exist or has no credentials, role_arn with
// neither or both of source_profile and credential_source, an unknown credential_source, half a
// key pair.
std::optional<ProfilePlan> resolve_profile(const ProfileFiles& files, std::string_view name);

}  // namespace sab::aws
