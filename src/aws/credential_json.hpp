#pragma once

// The JSON answers of the HTTP and process credential sources (credential_process, the container
// endpoint, IMDS): a flat object's members, and the Credentials in them. Pure. The answers hold
// secrets: no message quotes them, and the members are wiped after use.

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "aws/credentials.hpp"

namespace sab::aws {

struct JsonMember {
  std::string value;  // a string's unescaped text, or the raw token of a number/true/false/null
  bool is_string = false;
};
using JsonMembers = std::map<std::string, JsonMember, std::less<>>;

// The members of the JSON object `json` (nested objects and arrays are skipped); nullopt when the
// text is not one complete JSON object.
std::optional<JsonMembers> parse_json_members(std::string_view json);

// Overwrites every value with zeros and clears them.
void wipe(JsonMembers& members);

// What an answer must hold besides AccessKeyId and SecretAccessKey.
struct CredentialFields {
  std::string_view source;     // for messages: "credential_process", "container endpoint", ...
  std::string_view token_key;  // "Token" or "SessionToken"
  bool token_required = true;
  bool expiration_required = true;
};

// AccessKeyId, SecretAccessKey, the token and Expiration (ISO 8601) from `members`. Throws
// CredentialError naming the source and the missing or malformed member (never a value but
// Expiration's).
Credentials credentials_from_members(const JsonMembers& members, const CredentialFields& fields);

// The whole answer of a source: `body` parsed as a JSON object (else CredentialError "<not_json>
// (<n> bytes)"), `check` run on its members for the source's own rules (a Version, a Code), then
// the credentials taken; the members are wiped whatever happens.
Credentials credentials_from_json(std::string_view body, const CredentialFields& fields,
                                  std::string_view not_json,
                                  const std::function<void(const JsonMembers&)>& check = {});

}  // namespace sab::aws
