#include "aws/xml.hpp"

#include <charconv>
#include <utility>

namespace sab::aws {
namespace {

// Appends `code` as UTF-8.
void append_utf8(std::string& out, unsigned code) {
  if (code < 0x80) {
    out.push_back(static_cast<char>(code));
  } else if (code < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (code >> 6)));
    out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
  } else if (code < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (code >> 12)));
    out.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (code >> 18)));
    out.push_back(static_cast<char>(0x80 | ((code >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
  }
}

// Decodes one entity name (between '&' and ';') onto `out`; false when it is not one we know
// (the caller then keeps the text as it was).
bool append_entity(std::string& out, std::string_view ent) {
  static constexpr std::pair<std::string_view, char> kNamed[] = {
      {"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''}};
  for (const auto& [name, c] : kNamed) {
    if (ent == name) {
      out.push_back(c);
      return true;
    }
  }
  if (ent.size() < 2 || ent[0] != '#') return false;
  const bool hexnum = ent[1] == 'x' || ent[1] == 'X';
  const auto digits = ent.substr(hexnum ? 2 : 1);
  unsigned code = 0;
  auto [p, ec] =
      std::from_chars(digits.data(), digits.data() + digits.size(), code, hexnum ? 16 : 10);
  if (ec != std::errc{} || p != digits.data() + digits.size() || code > 0x10FFFF) return false;
  append_utf8(out, code);
  return true;
}

std::string xml_unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto semi = s[i] == '&' ? s.find(';', i) : std::string_view::npos;
    if (semi == std::string_view::npos || semi - i > 10) {
      out.push_back(s[i]);
      continue;
    }
    if (!append_entity(out, s.substr(i + 1, semi - i - 1))) out.append(s.substr(i, semi - i + 1));
    i = semi;
  }
  return out;
}

}  // namespace

std::optional<std::string> xml_element(std::string_view xml, std::string_view tag,
                                       std::size_t from) {
  const std::string open = "<" + std::string(tag) + ">";
  const std::string close = "</" + std::string(tag) + ">";
  const auto b = xml.find(open, from);
  if (b == std::string_view::npos) return std::nullopt;
  const auto start = b + open.size();
  const auto e = xml.find(close, start);
  if (e == std::string_view::npos) return std::nullopt;
  return xml_unescape(xml.substr(start, e - start));
}

}  // namespace sab::aws
