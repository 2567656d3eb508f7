#include "events/encoding.hpp"

#include <doctest/doctest.h>

#include <map>

#include "common/json.hpp"
#include "support/cloudevents.hpp"

using namespace sab::events;
using sab::config::DeliveryMode;
using sab::test::parse_batch;
using sab::test::parse_structured;
using sab::test::percent_decode;
using sab::test::write_request;
using sab::test::WrittenRequest;

namespace {

Event sample(std::string service = "CloudWatch Events") {
  Event e;
  e.id = "c4895bc0-0610-502c-b729-ec54ca20f7bd";
  e.source = "cloud.aws.billing";
  e.type = "aws.service.daily";
  e.subject = "2023-01-15/" + service;
  e.time = "2023-01-16T02:00:07Z";
  e.estimated = true;
  std::string data = R"({"date":"2023-01-15","service":)";
  sab::common::append_json_string(data, service);
  data += R"(,"unblendedCost":{"amount":"0.0009189721","unit":"USD"}})";
  e.data = data;
  return e;
}

std::map<std::string, std::string> headers_of(const WrittenRequest& r) {
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : r.headers) {
    CHECK_MESSAGE(out.count(k) == 0, "duplicate header " << k);
    out[k] = v;
  }
  return out;
}

bool header_safe(std::string_view v) {
  for (char ch : v) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x21 || c > 0x7E || c == '"') return false;
  }
  return true;
}

const char* const kNastyNames[] = {
    "Amazon \"Quoted\" Service",
    "AWS/Slash/Service",
    "Überwachung 東京 ☁",
    "100% discount",
    "evil\r\nX-Injected: yes",
    "tab\there",
    "back\\slash",
    "%41 not decoded twice",
    "trailing space ",
    "\x7f del",
    "",
};

}  // namespace

TEST_CASE("encoding: percent-encoding per the HTTP binding") {
  std::string out;
  append_percent_encoded(out, "a b\"c%d/é\r\n~!");
  CHECK(out == "a%20b%22c%25d/%C3%A9%0D%0A~!");
  CHECK(percent_decode(out) == "a b\"c%d/é\r\n~!");
  CHECK(percent_decode("%zz%4") == "%zz%4");  // malformed escapes are kept as they are
  CHECK(percent_decode("%e2%98%81") == "☁");
}

TEST_CASE("encoding: binary mode") {
  const Event event = sample();
  auto r = write_request(DeliveryMode::binary, {&event, 1});
  CHECK(r.content_type == "application/json");
  CHECK(r.body == sample().data);
  auto h = headers_of(r);
  CHECK(h.size() == 7);
  CHECK(h["ce-specversion"] == "1.0");
  CHECK(h["ce-id"] == "c4895bc0-0610-502c-b729-ec54ca20f7bd");
  CHECK(h["ce-source"] == "cloud.aws.billing");
  CHECK(h["ce-type"] == "aws.service.daily");
  CHECK(h["ce-subject"] == "2023-01-15/CloudWatch%20Events");
  CHECK(h["ce-time"] == "2023-01-16T02:00:07Z");
  CHECK(h["ce-estimated"] == "true");
  CHECK(h.count("ce-datacontenttype") == 0);

  auto e = sample();
  e.estimated = false;
  r = write_request(DeliveryMode::binary, {&e, 1});
  CHECK(headers_of(r)["ce-estimated"] == "false");
  CHECK(r.headers.size() == 7);
}

TEST_CASE("encoding: binary mode sends the event's data as it is, without a copy") {
  const Event e = sample();
  std::string head = "POST / HTTP/1.1\r\n";
  std::string body = "left over";
  const std::string_view written = write_http_request(DeliveryMode::binary, {&e, 1}, head, body);
  CHECK(written.data() == e.data.data());
  CHECK(written.size() == e.data.size());
  CHECK(body.empty());
  CHECK(head.starts_with("POST / HTTP/1.1\r\nContent-Type: application/json\r\nce-specversion: "));
  CHECK(head.ends_with("\r\n"));
}

TEST_CASE("encoding: binary mode makes header injection impossible") {
  for (const char* name : kNastyNames) {
    CAPTURE(name);
    const Event event = sample(name);
    const auto r = write_request(DeliveryMode::binary, {&event, 1});
    for (const auto& [k, v] : r.headers) {
      CHECK(header_safe(v));
      CHECK(header_safe(k));
    }
    CHECK(percent_decode(headers_of(r)["ce-subject"]) == std::string("2023-01-15/") + name);
  }
}

TEST_CASE("encoding: structured mode and the parser round trip") {
  const Event event = sample();
  auto r = write_request(DeliveryMode::structured, {&event, 1});
  CHECK(r.content_type == "application/cloudevents+json; charset=utf-8");
  CHECK(r.headers.empty());
  CHECK(
      r.body ==
      R"({"specversion":"1.0","id":"c4895bc0-0610-502c-b729-ec54ca20f7bd","source":"cloud.aws.billing",)"
      R"("type":"aws.service.daily","datacontenttype":"application/json","time":"2023-01-16T02:00:07Z",)"
      R"("subject":"2023-01-15/CloudWatch Events","estimated":true,)"
      R"("data":{"date":"2023-01-15","service":"CloudWatch Events",)"
      R"("unblendedCost":{"amount":"0.0009189721","unit":"USD"}}})");
  for (const char* name : kNastyNames) {
    CAPTURE(name);
    const Event named = sample(name);
    r = write_request(DeliveryMode::structured, {&named, 1});
    CHECK(r.body.find('\n') == std::string::npos);  // one JSON line per event
    Event back;
    std::string error;
    REQUIRE_MESSAGE(parse_structured(r.body, back, error), error);
    CHECK(back == sample(name));
  }
}

TEST_CASE("encoding: batch mode") {
  std::vector<Event> events;
  for (const char* name : kNastyNames)
    events.push_back(sample(name));
  events[1].estimated = false;
  auto r = write_request(DeliveryMode::batch, events);
  CHECK(r.content_type == "application/cloudevents-batch+json");
  std::vector<Event> back;
  std::string error;
  REQUIRE_MESSAGE(parse_batch(r.body, back, error), error);
  CHECK(back == events);
  CHECK(r.headers.empty());
  r = write_request(DeliveryMode::batch, {});
  CHECK(r.body == "[]");
  REQUIRE(parse_batch(r.body, back, error));
  CHECK(back.empty());
}

TEST_CASE("encoding: invalid UTF-8 in a name still gives valid JSON") {
  const Event event = sample("bad \xC3\x28 byte \xFF");
  const auto r = write_request(DeliveryMode::structured, {&event, 1});
  Event back;
  std::string error;
  REQUIRE_MESSAGE(parse_structured(r.body, back, error), error);
  CHECK(back.subject == "2023-01-15/bad \xEF\xBF\xBD( byte \xEF\xBF\xBD");
}

TEST_CASE("encoding: non-JSON data is a JSON string in structured mode") {
  auto e = sample();
  e.datacontenttype = "text/plain";
  e.data = "hello \"world\"\n";
  const auto r = write_request(DeliveryMode::structured, {&e, 1});
  CHECK(r.body.find(R"("data":"hello \"world\"\n")") != std::string::npos);
  Event back;
  std::string error;
  REQUIRE_MESSAGE(parse_structured(r.body, back, error), error);
  CHECK(back == e);
  CHECK(is_json_content_type("application/json; charset=utf-8"));
  CHECK(is_json_content_type("Application/CloudEvents+JSON"));
  CHECK(is_json_content_type("text/json"));
  CHECK_FALSE(is_json_content_type("text/plain"));
  CHECK_FALSE(is_json_content_type("json"));
}

TEST_CASE("encoding: the parser rejects bad input with a message, never crashes") {
  const char* const bad[] = {
      "",
      "[]",
      "{",
      "null",
      R"({"specversion":"0.3","id":"1","source":"s","type":"t"})",
      R"({"id":"1","source":"s","type":"t"})",
      R"({"specversion":"1.0","source":"s","type":"t"})",
      R"({"specversion":"1.0","id":"1","type":"t"})",
      R"({"specversion":"1.0","id":"1","source":"s"})",
      R"({"specversion":"1.0","id":1,"source":"s","type":"t"})",
      R"({"specversion":"1.0","id":"1","source":"s","type":"t","estimated":"yes"})",
      R"({"specversion":"1.0","id":"1","source":"s","type":"t","data":{"a":)",
      R"({"specversion":"1.0","id":"1","source":"s","type":"t"} x)",
      R"({"specversion":"1.0","id":"1","source":"s","type":"t","data_base64":"AA=="})",
  };
  for (const char* text : bad) {
    CAPTURE(text);
    Event e;
    std::string error;
    CHECK_FALSE(parse_structured(text, e, error));
    CHECK_FALSE(error.empty());
  }
  std::vector<Event> v;
  std::string error;
  CHECK_FALSE(parse_batch("{}", v, error));
  CHECK_FALSE(parse_batch("[1]", v, error));
  CHECK_FALSE(parse_batch(R"([{"specversion":"1.0"}])", v, error));
  CHECK(error.find("batch element 0") != std::string::npos);
}

TEST_CASE("encoding: the parser accepts foreign attribute order, extensions and scalar data") {
  Event e;
  std::string error;
  REQUIRE_MESSAGE(
      parse_structured(R"( {"data": [1, 2] , "type":"t","ext":{"x":[1,{"y":null}]},"id":"1",)"
                       R"("source":"s","specversion":"1.0","datacontenttype":"application/json"} )",
                       e, error),
      error);
  CHECK(e.data == "[1, 2]");
  CHECK(e.type == "t");
  REQUIRE(parse_structured(R"({"specversion":"1.0","id":"1","source":"s","type":"t","data":42 })",
                           e, error));
  CHECK(e.data == "42");
  CHECK(e.datacontenttype.empty());
}

TEST_CASE("encoding: binary mode header lines cannot be injected") {
  Event e;
  e.id = "3f0b6a2e-0000-5000-8000-000000000001";
  e.source = "cloud.aws.billing";
  e.type = "aws.service.daily";
  e.subject = "2024-01-13/Amazon S3\r\nX-Injected: 1/caf\xC3\xA9";
  e.time = "2024-01-14T02:00:00Z";
  e.estimated = true;
  e.data = "{\"date\":\"2024-01-13\"}";
  std::string head;
  std::string body;
  write_http_request(DeliveryMode::binary, {&e, 1}, head, body);
  CHECK(head ==
        "Content-Type: application/json\r\n"
        "ce-specversion: 1.0\r\n"
        "ce-id: 3f0b6a2e-0000-5000-8000-000000000001\r\n"
        "ce-source: cloud.aws.billing\r\n"
        "ce-type: aws.service.daily\r\n"
        "ce-subject: 2024-01-13/Amazon%20S3%0D%0AX-Injected:%201/caf%C3%A9\r\n"
        "ce-time: 2024-01-14T02:00:00Z\r\n"
        "ce-estimated: true\r\n");
  CHECK(head.find("\r\nX-Injected") == std::string::npos);
  // A content type with a line break cannot add a header either.
  e.datacontenttype = "application/json\r\nX-Injected: 1";
  head.clear();
  write_http_request(DeliveryMode::binary, {&e, 1}, head, body);
  CHECK(head.starts_with("Content-Type: application/jsonX-Injected: 1\r\nce-specversion: "));
  CHECK(head.find("\r\nX-Injected") == std::string::npos);
  // Without a datacontenttype there is no Content-Type line.
  e.datacontenttype.clear();
  head.clear();
  write_http_request(DeliveryMode::binary, {&e, 1}, head, body);
  CHECK(head.starts_with("ce-specversion: 1.0\r\n"));
}

TEST_CASE("encoding: structured and batch modes write their body into the buffer, head appended") {
  const Event events[] = {sample("a"), sample("b")};
  std::string head = "POST / HTTP/1.1\r\n";
  std::string body = "left over";
  std::string_view written = write_http_request(DeliveryMode::structured, {events, 1}, head, body);
  CHECK(head == "POST / HTTP/1.1\r\nContent-Type: application/cloudevents+json; charset=utf-8\r\n");
  CHECK(written.data() == body.data());
  std::string json;
  append_structured_json(json, events[0]);
  CHECK(body == json);

  head.clear();
  written = write_http_request(DeliveryMode::batch, events, head, body);
  CHECK(head == "Content-Type: application/cloudevents-batch+json\r\n");
  CHECK(written.data() == body.data());
  std::string second;
  append_structured_json(second, events[1]);
  CHECK(body == "[" + json + "," + second + "]");
}
