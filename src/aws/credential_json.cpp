#include "aws/credential_json.hpp"

#include <openssl/crypto.h>
#include <simdjson.h>

#include "aws/sts.hpp"
#include "aws/text.hpp"

namespace sab::aws {

namespace {

// One member's value into `out` (objects and arrays are skipped).
void read_member(simdjson::dom::element value, std::optional<JsonMember>& out) {
  const auto type = value.type();
  if (type == simdjson::dom::element_type::OBJECT || type == simdjson::dom::element_type::ARRAY) {
    return;
  }
  JsonMember member;
  if (type == simdjson::dom::element_type::STRING) {
    member.value = std::string(std::string_view(value));
    member.is_string = true;
  } else {
    member.value = simdjson::minify(value);  // a number, true, false or null as written
  }
  out = std::move(member);
}

// The whole text is validated (the DOM parser refuses trailing content).
bool parse_into(simdjson::padded_string& padded, JsonMembers& out) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  simdjson::dom::object object;
  if (parser.parse(padded).get(doc) != simdjson::SUCCESS ||
      doc.get_object().get(object) != simdjson::SUCCESS) {
    return false;
  }
  for (auto [key, value] : object) {
    std::optional<JsonMember> member;
    read_member(value, member);
    if (member) out[std::string(key)] = std::move(*member);
  }
  return true;
}

const JsonMember* member_of(const JsonMembers& members, std::string_view key) {
  const auto it = members.find(key);
  return it == members.end() ? nullptr : &it->second;
}

// A required string member; CredentialError naming it when it is missing, empty or no string.
std::string required_string(const JsonMembers& members, std::string_view key,
                            std::string_view source) {
  const auto* m = member_of(members, key);
  if (m == nullptr || !m->is_string || m->value.empty()) {
    throw CredentialError(std::string(source) + " answer without " + std::string(key));
  }
  return m->value;
}

}  // namespace

std::optional<JsonMembers> parse_json_members(std::string_view json) {
  simdjson::padded_string padded(json);
  JsonMembers out;
  const bool ok = parse_into(padded, out);
  OPENSSL_cleanse(padded.data(), padded.size());
  if (!ok) {
    wipe(out);
    return std::nullopt;
  }
  return out;
}

void wipe(JsonMembers& members) {
  for (auto& [key, member] : members) {
    if (!member.value.empty()) OPENSSL_cleanse(member.value.data(), member.value.size());
    member.value.clear();
  }
}

Credentials credentials_from_members(const JsonMembers& members, const CredentialFields& fields) {
  Credentials c;
  try {
    c.access_key_id = required_string(members, "AccessKeyId", fields.source);
    c.secret_access_key = required_string(members, "SecretAccessKey", fields.source);
    if (fields.token_required) {
      c.session_token = required_string(members, fields.token_key, fields.source);
    } else if (const auto* t = member_of(members, fields.token_key); t && t->is_string) {
      c.session_token = t->value;
    }
    const auto* expiration = member_of(members, "Expiration");
    if (expiration == nullptr || !expiration->is_string) {
      if (fields.expiration_required) {
        throw CredentialError(std::string(fields.source) + " answer without Expiration");
      }
      return c;
    }
    c.expiration = parse_iso8601(expiration->value);
    if (!c.expiration) {
      throw CredentialError(std::string(fields.source) + " answer with a malformed Expiration '" +
                            expiration->value.substr(0, 64) + "'");
    }
  } catch (...) {
    wipe(c);
    throw;
  }
  return c;
}

Credentials credentials_from_json(std::string_view body, const CredentialFields& fields,
                                  std::string_view not_json,
                                  const std::function<void(const JsonMembers&)>& check) {
  auto members = parse_json_members(body);
  if (!members) {
    throw CredentialError(std::string(not_json) + " (" + std::to_string(body.size()) + " bytes)");
  }
  try {
    if (check) check(*members);
    Credentials c = credentials_from_members(*members, fields);
    wipe(*members);
    return c;
  } catch (...) {
    wipe(*members);
    throw;
  }
}

}  // namespace sab::aws
