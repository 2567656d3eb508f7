// SigV4: the AWS signing test suite (every header-signing case; copy in tests/data), vectors kept
// inline, and Cost Explorer requests whose Authorization header botocore computed (a fact derived
// with tests/integration/support/botocore_sign.py; test_aws_botocore.py re-derives it live).

#include "aws/sigv4.hpp"

#include <doctest/doctest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace {

namespace fs = std::filesystem;
using namespace sab;

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::chrono::system_clock::time_point at(int y, unsigned m, unsigned d, int hh, int mm, int ss) {
  using namespace std::chrono;
  return sys_days{year{y} / month{m} / day{d}} + hours{hh} + minutes{mm} + seconds{ss};
}

// request.txt: request line, headers (continuation lines start with whitespace), blank line, body.
net::Request parse_request(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t pos = 0;
  std::string body;
  bool in_body = false;
  while (pos <= text.size()) {
    std::size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    std::string line = text.substr(pos, nl - pos);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    pos = nl + 1;
    if (in_body) {
      body += line;
      if (pos <= text.size()) body += "\n";
      continue;
    }
    if (line.empty() && !lines.empty()) {
      in_body = true;
      continue;
    }
    lines.push_back(line);
  }
  while (!body.empty() && body.back() == '\n')
    body.pop_back();
  REQUIRE(!lines.empty());
  const std::string& first = lines[0];
  const auto sp1 = first.find(' ');
  const auto sp2 = first.rfind(' ');
  net::Request req;
  req.method_string(first.substr(0, sp1));
  req.target(first.substr(sp1 + 1, sp2 - sp1 - 1));
  std::vector<std::pair<std::string, std::string>> headers;
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const std::string& l = lines[i];
    if (l.empty()) continue;
    if ((l[0] == ' ' || l[0] == '\t') && !headers.empty()) {
      headers.back().second += " " + l;  // obsolete line folding: joined with a space
      continue;
    }
    const auto colon = l.find(':');
    REQUIRE(colon != std::string::npos);
    headers.emplace_back(l.substr(0, colon), l.substr(colon + 1));
  }
  for (auto& [n, v] : headers)
    req.insert(n, v);
  req.body() = body;
  return req;
}

std::chrono::system_clock::time_point parse_timestamp(const std::string& ts) {
  // 2015-08-30T12:36:00Z
  return at(std::stoi(ts.substr(0, 4)), static_cast<unsigned>(std::stoi(ts.substr(5, 2))),
            static_cast<unsigned>(std::stoi(ts.substr(8, 2))), std::stoi(ts.substr(11, 2)),
            std::stoi(ts.substr(14, 2)), std::stoi(ts.substr(17, 2)));
}

fs::path suite_dir() {
  return fs::path(SAB_SOURCE_DIR) / "tests" / "data" / "aws-sigv4-test-suite" / "v4";
}

}  // namespace

TEST_CASE("sigv4: AWS signing test suite, every header-signing case") {
  const fs::path dir = suite_dir();
  // The suite lives in the repository, so missing data is a failure, never a skip.
  REQUIRE_MESSAGE(fs::is_directory(dir), "sigv4 test suite not found at " << dir.string());
  int cases = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (!entry.is_directory()) continue;
    const fs::path c = entry.path();
    if (!fs::exists(c / "header-canonical-request.txt")) continue;
    CAPTURE(c.filename().string());
    const auto ctx = boost::json::parse(read_text(c / "context.json")).as_object();
    const auto& cred = ctx.at("credentials").as_object();
    aws::Credentials creds;
    creds.access_key_id = std::string(cred.at("access_key_id").as_string());
    creds.secret_access_key = std::string(cred.at("secret_access_key").as_string());
    if (cred.contains("token")) creds.session_token = std::string(cred.at("token").as_string());
    aws::SignOptions opts;
    opts.normalize_path = ctx.at("normalize").as_bool();
    opts.add_content_sha256 = ctx.at("sign_body").as_bool();
    if (ctx.contains("omit_session_token")) {
      opts.sign_session_token = !ctx.at("omit_session_token").as_bool();
    }
    net::Request req = parse_request(read_text(c / "request.txt"));
    const auto details =
        aws::sign(req, creds, std::string(ctx.at("region").as_string()),
                  std::string(ctx.at("service").as_string()),
                  parse_timestamp(std::string(ctx.at("timestamp").as_string())), opts);
    CHECK(details.canonical_request == read_text(c / "header-canonical-request.txt"));
    CHECK(details.string_to_sign == read_text(c / "header-string-to-sign.txt"));
    CHECK(details.signature == read_text(c / "header-signature.txt"));
    // The signed request's Authorization line, too.
    const std::string signed_req = read_text(c / "header-signed-request.txt");
    CHECK(signed_req.find("Authorization:" + details.authorization + "\n") != std::string::npos);
    ++cases;
  }
  CHECK(cases >= 30);
}

TEST_CASE("sigv4: inline vectors (get-vanilla, session token, header folding)") {
  const aws::Credentials creds{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "", {}};
  const auto t = at(2015, 8, 30, 12, 36, 0);
  {
    net::Request req;
    req.method(boost::beast::http::verb::get);
    req.target("/");
    req.set(boost::beast::http::field::host, "example.amazonaws.com");
    const auto d = aws::sign(req, creds, "us-east-1", "service", t);
    CHECK(d.canonical_request ==
          "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
          "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(d.string_to_sign ==
          "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
          "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
    CHECK(d.signature == "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
    CHECK(req["X-Amz-Date"] == "20150830T123600Z");
    CHECK(req[boost::beast::http::field::authorization] ==
          "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
          "SignedHeaders=host;x-amz-date, "
          "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
  }
  {
    // get-vanilla-with-session-token
    aws::Credentials with_token = creds;
    with_token.session_token = "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267";
    net::Request req;
    req.method(boost::beast::http::verb::get);
    req.target("/");
    req.set(boost::beast::http::field::host, "example.amazonaws.com");
    const auto d = aws::sign(req, with_token, "us-east-1", "service", t);
    CHECK(d.signature == "07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8");
    CHECK(req["X-Amz-Security-Token"] == with_token.session_token);
  }
  // get-header-value-trim and -order, pure steps.
  const auto h = aws::canonical_headers({{"Host", "example.amazonaws.com"},
                                         {"My-Header1", " value1"},
                                         {"My-Header2", " \"a   b   c\""},
                                         {"my-header3", "b"},
                                         {"MY-HEADER3", "a"},
                                         {"User-Agent", "not signed"}});
  CHECK(h.canonical ==
        "host:example.amazonaws.com\nmy-header1:value1\nmy-header2:\"a b c\"\nmy-header3:b,a\n");
  CHECK(h.signed_headers == "host;my-header1;my-header2;my-header3");
  CHECK(aws::canonical_uri("/example1/example2/../..", true) == "/");
  CHECK(aws::canonical_uri("//example//", true) == "/example/");
  CHECK(aws::canonical_uri("//example//", false) == "//example//");
  CHECK(aws::canonical_uri("/a/b/../c/./d", true) == "/a/c/d");
  CHECK(aws::canonical_uri("/example space/", true) == "/example%20space/");
  CHECK(aws::canonical_uri("", true) == "/");
  CHECK(aws::canonical_query("Param-3=Value3&Param=Value2&%E1%88%B4=Value1") ==
        "%E1%88%B4=Value1&Param=Value2&Param-3=Value3");
  CHECK(aws::canonical_query("b=2&a&a=1&&c=x y") == "a=&a=1&b=2&c=x%20y");
  CHECK(aws::canonical_query("") == "");
}

TEST_CASE("sigv4: signing key derivation and its cache") {
  // The derived key of the AWS documentation example (20150830/us-east-1/iam).
  const auto k =
      aws::signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20150830", "us-east-1", "iam");
  CHECK(aws::to_hex(k) == "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9");
  CHECK(aws::cached_signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20150830", "us-east-1",
                                "iam") == k);
  CHECK(aws::cached_signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20150830", "us-east-1",
                                "iam") == k);
  // Another secret with everything else equal must not hit the cached key.
  CHECK_FALSE(aws::cached_signing_key("another-secret", "20150830", "us-east-1", "iam") == k);
  CHECK_FALSE(aws::cached_signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20150831",
                                      "us-east-1", "iam") == k);
  // An empty key is a valid HMAC key (OpenSSL needs a non-null pointer for it).
  CHECK(aws::to_hex(aws::hmac_sha256("", "")) ==
        "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
  CHECK(aws::sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_CASE("sigv4: a Cost Explorer request signs byte-identically to botocore") {
  // Authorization values computed by botocore 1.43 SigV4Auth for these exact requests
  // (tests/integration/support/botocore_sign.py); test_aws_botocore.py re-derives them live.
  const std::string body =
      R"({"TimePeriod":{"Start":"2026-01-14","End":"2026-01-15"},"Granularity":"DAILY",)"
      R"("Metrics":["UnblendedCost"],"GroupBy":[{"Type":"DIMENSION","Key":"SERVICE"}]})";
  const auto t = at(2026, 1, 15, 2, 3, 4);
  auto make = [&](const std::string& host) {
    net::Request req;
    req.method(boost::beast::http::verb::post);
    req.target("/");
    req.set(boost::beast::http::field::host, host);
    req.set(boost::beast::http::field::content_type, "application/x-amz-json-1.1");
    req.set("X-Amz-Target", "AWSInsightsIndexService.GetCostAndUsage");
    req.set(boost::beast::http::field::user_agent, "source-aws-billing/test");
    req.body() = body;
    return req;
  };
  aws::Credentials creds{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "", {}};
  auto req = make("ce.us-east-1.amazonaws.com");
  aws::sign(req, creds, "us-east-1", "ce", t);
  CHECK(req[boost::beast::http::field::authorization] ==
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260115/us-east-1/ce/aws4_request, "
        "SignedHeaders=content-type;host;x-amz-date;x-amz-target, "
        "Signature=55ac509abec24faeddfc8130511b350fb09a2357f4ad749ac5bd78fbeb59ba44");
  creds.session_token = "TOKEN123";
  auto cn = make("ce.cn-northwest-1.amazonaws.com.cn");
  aws::sign(cn, creds, "cn-northwest-1", "ce", t);
  CHECK(cn[boost::beast::http::field::authorization] ==
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260115/cn-northwest-1/ce/aws4_request, "
        "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target, "
        "Signature=68aef46d8ee27ac42147038cf10eec41183c22d14f899dfdf92236ce333f386b");
}

TEST_CASE("sigv4: bad input is an error, not a crash") {
  net::Request req;
  req.method(boost::beast::http::verb::post);
  req.target("/");
  aws::Credentials creds{"AKID", "secret", "", {}};
  CHECK_THROWS_AS(aws::sign(req, creds, "us-east-1", "ce", {}), std::invalid_argument);
  req.set(boost::beast::http::field::host, "h");
  CHECK_THROWS_AS(aws::sign(req, aws::Credentials{}, "us-east-1", "ce", {}), std::invalid_argument);
  CHECK(aws::canonical_query("%zz=%") == "%25zz=%25");
}
