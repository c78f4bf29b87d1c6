// tests/idempotency/key_test.cc: engine/idempotency/key.* — the Idempotency-Key header.
#include "engine/idempotency/key.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace warrant::engine::idempotency {
namespace {

std::optional<std::string> parsed(std::string_view v) {
  parsed_key k;
  if (!parse_key(v, k)) return std::nullopt;
  return std::string(k.view());
}

TEST(IdempotencyKey, AcceptsOneTo255PrintableCharacters) {
  EXPECT_EQ(parsed("a"), "a");
  EXPECT_EQ(parsed("7f9c0d2e-4b1a-4e8f-9a63-1c2d3e4f5a6b"), "7f9c0d2e-4b1a-4e8f-9a63-1c2d3e4f5a6b");
  EXPECT_EQ(parsed("with space and ~!@#$%^&*()_+{}|:<>?"), "with space and ~!@#$%^&*()_+{}|:<>?");
  EXPECT_EQ(parsed(std::string(key_bytes_max, 'k')), std::string(key_bytes_max, 'k'));
  EXPECT_EQ(parsed("back\\slash"), "back\\slash");
}

TEST(IdempotencyKey, RefusesEmptyLongAndUnprintable) {
  EXPECT_EQ(parsed(""), std::nullopt);
  EXPECT_EQ(parsed(std::string(key_bytes_max + 1, 'k')), std::nullopt);
  EXPECT_EQ(parsed("tab\there"), std::nullopt);
  EXPECT_EQ(parsed(std::string("nul\0x", 5)), std::nullopt);
  EXPECT_EQ(parsed("del\x7f"), std::nullopt);
  EXPECT_EQ(parsed("caf\xc3\xa9"), std::nullopt);
  EXPECT_EQ(parsed("\x1b[31m"), std::nullopt);
}

TEST(IdempotencyKey, AcceptsAStructuredFieldString) {
  EXPECT_EQ(parsed(R"("abc")"), "abc");
  EXPECT_EQ(parsed(R"("a \"quoted\" \\ key")"), R"(a "quoted" \ key)");
  EXPECT_EQ(parsed("\"" + std::string(key_bytes_max, 'q') + "\""), std::string(key_bytes_max, 'q'));
}

TEST(IdempotencyKey, RefusesMalformedStructuredFieldStrings) {
  EXPECT_EQ(parsed(R"("")"), std::nullopt);                 // empty content
  EXPECT_EQ(parsed(R"("abc)"), std::nullopt);               // unterminated
  EXPECT_EQ(parsed(R"("abc"x)"), std::nullopt);             // something after it
  EXPECT_EQ(parsed(R"("a\nb")"), std::nullopt);             // only \" and \\ may be escaped
  EXPECT_EQ(parsed(R"("abc\")"), std::nullopt);             // escape at the end
  EXPECT_EQ(parsed("\"tab\there\""), std::nullopt);
  EXPECT_EQ(parsed("\"" + std::string(key_bytes_max + 1, 'q') + "\""), std::nullopt);
  EXPECT_EQ(parsed(R"(")"), std::nullopt);
}

net::http_request request_with(std::initializer_list<net::http_header> headers) {
  net::http_request req;
  for (const net::http_header& h : headers) req.headers[req.header_count++] = h;
  return req;
}

TEST(IdempotencyKey, ReadsTheHeaderOnce) {
  parsed_key k;
  EXPECT_EQ(read_key(request_with({{"Host", "x"}}), k), key_presence::absent);
  EXPECT_EQ(read_key(request_with({{"IDEMPOTENCY-KEY", "abc"}}), k), key_presence::valid);
  EXPECT_EQ(k.view(), "abc");
  EXPECT_EQ(read_key(request_with({{"Idempotency-Key", ""}}), k), key_presence::invalid);
  EXPECT_EQ(read_key(request_with({{"Idempotency-Key", "a"}, {"idempotency-key", "a"}}), k), key_presence::invalid);
}

}  // namespace
}  // namespace warrant::engine::idempotency
