#include <doctest/doctest.h>

#include "net/http_client.hpp"

using namespace sab::net;

TEST_CASE("http head: request line, headers and length, as HTTP/1.1 wants them") {
  std::string head;
  begin_request_head(head, "POST", "/events?x=1", "sink.example:8080");
  append_header(head, "Content-Type", "application/json");
  end_request_head(head, 1234);
  CHECK(head ==
        "POST /events?x=1 HTTP/1.1\r\nHost: sink.example:8080\r\nContent-Type: "
        "application/json\r\nContent-Length: 1234\r\n\r\n");
  CHECK(user_agent().starts_with("source-aws-billing/"));
}
