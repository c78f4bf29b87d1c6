// engine/guard/auth.* and the key format it checks (engine/tenancy/api_key.*): which header
// carries the key, what counts as well formed, and that only usable keys authenticate.
#include "engine/guard/auth.h"

#include <gtest/gtest.h>

// GCC 12 at -O3 reports a false -Wrestrict inside std::string concatenation (GCC PR 105329);
// it surfaced here once api_key_record gained a string member (agent_id).
#pragma GCC diagnostic ignored "-Wrestrict"
#include <openssl/evp.h>

#include <string>

#include "engine/guard/raw_head.h"
#include "net/http_parser.h"

namespace warrant::engine {
namespace {

// Parses `head` (request line and header lines, CRLF-terminated) into a request.
class parsed {
 public:
  explicit parsed(std::string head) : _text(std::move(head) + "\r\n") {
    net::http_parser p;
    const net::parse_result r = p.parse(_text, _req);
    EXPECT_EQ(r.status, net::parse_status::complete) << _text;
  }
  const net::http_request& req() const { return _req; }

 private:
  std::string _text;
  net::http_request _req;
};

std::string key_of(const std::string& header_lines) {
  parsed p("GET /api/me HTTP/1.1\r\nHost: h\r\n" + header_lines);
  return std::string(presented_key(p.req()));
}

TEST(PresentedKey, EitherHeader) {
  EXPECT_EQ(key_of("x-api-key: abc\r\n"), "abc");
  EXPECT_EQ(key_of("X-API-Key: abc\r\n"), "abc");
  EXPECT_EQ(key_of("Authorization: Bearer abc\r\n"), "abc");
  EXPECT_EQ(key_of("authorization: bearer abc\r\n"), "abc") << "the scheme is case-insensitive";
  EXPECT_EQ(key_of("Authorization: BEARER abc\r\n"), "abc");
  EXPECT_EQ(key_of("Authorization: Bearer    abc\r\n"), "abc") << "extra spaces before the token";
  EXPECT_EQ(key_of("Authorization: Bearer abc   \r\n"), "abc") << "trailing whitespace is not part of it";
  EXPECT_EQ(key_of("x-api-key: one\r\nAuthorization: Bearer two\r\n"), "one") << "x-api-key wins";
  EXPECT_EQ(key_of("x-api-key: \r\nAuthorization: Bearer two\r\n"), "two") << "an empty x-api-key is absent";
}

TEST(PresentedKey, NothingUsable) {
  EXPECT_EQ(key_of(""), "");
  EXPECT_EQ(key_of("Authorization: Basic abc\r\n"), "");
  EXPECT_EQ(key_of("Authorization: Bearer\r\n"), "");
  EXPECT_EQ(key_of("Authorization: Bearer \r\n"), "");
  EXPECT_EQ(key_of("Authorization: Bearerabc\r\n"), "");
  EXPECT_EQ(key_of("Authorization: abc\r\n"), "");
  EXPECT_EQ(key_of("X-Api-Token: abc\r\n"), "");
}

// The checksum as it was first specified (docs/api-admin.md): base62 of the first 32 bits of
// SHA-256(first 48 characters), six characters, '0'-padded. Keys issued before the
// allocation-free rewrite must stay valid, so this recomputes it independently (via EVP).
std::string reference_checksum(std::string_view body) {
  unsigned char h[32];
  unsigned int n = 0;
  EVP_Digest(body.data(), body.size(), h, &n, EVP_sha256(), nullptr);
  std::uint64_t v = (std::uint64_t{h[0]} << 24) | (std::uint64_t{h[1]} << 16) | (std::uint64_t{h[2]} << 8) | h[3];
  constexpr char digits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  std::string out(6, '0');
  for (int i = 5; i >= 0; --i) {
    out[static_cast<std::size_t>(i)] = digits[v % 62];
    v /= 62;
  }
  return out;
}

// The raw-bytes reading (guard "Warming") finds what the parser would, from whole lines.
TEST(PresentedKeyInHead, AgreesWithTheParsedRequest) {
  for (const std::string lines :
       {"x-api-key: abc\r\n", "X-API-Key: abc\r\n", "Authorization: Bearer abc\r\n", "authorization: bearer abc\r\n",
        "Authorization: BEARER abc\r\n", "Authorization: Bearer    abc\r\n", "Authorization: Bearer abc   \r\n",
        "x-api-key: one\r\nAuthorization: Bearer two\r\n", "Authorization: Bearer two\r\nx-api-key: one\r\n",
        "x-api-key: \r\nAuthorization: Bearer two\r\n", "", "Authorization: Basic abc\r\n", "Authorization: Bearer\r\n",
        "Authorization: Bearer \r\n", "Authorization: Bearerabc\r\n", "X-Api-Token: abc\r\n",
        "Accept: */*\r\nx-api-key:\tabc\t\r\nUser-Agent: t\r\n"}) {
    const std::string head = "GET /api/me HTTP/1.1\r\nHost: h\r\n" + lines + "\r\n";
    EXPECT_EQ(presented_key_in_head(head), key_of(lines)) << lines;
  }
}

TEST(PresentedKeyInHead, OnlyWholeLinesOfTheHead) {
  const std::string head = "GET /api/me HTTP/1.1\r\nHost: h\r\nx-api-key: abcdef\r\n\r\n";
  EXPECT_EQ(presented_key_in_head(head), "abcdef");
  EXPECT_EQ(presented_key_in_head(head.substr(0, head.find("abcdef") + 3)), "") << "a line cut short is not read";
  EXPECT_EQ(presented_key_in_head("GET /api/me HTTP/1.1\nx-api-key: bare-lf\n\n"), "bare-lf");
  EXPECT_EQ(presented_key_in_head("POST /v1/x HTTP/1.1\r\nHost: h\r\n\r\nx-api-key: in-the-body\r\n"), "")
      << "the body is not the head";
  EXPECT_EQ(presented_key_in_head("x-api-key: on-the-first-line\r\n\r\n"), "") << "the first line is the request line";
  EXPECT_EQ(presented_key_in_head("tail of an earlier request\r\nx-api-key: k\r\n"), "k")
      << "bytes that begin mid-request are read from their first whole line";
  EXPECT_EQ(presented_key_in_head(""), "");
  EXPECT_EQ(presented_key_in_head("\n\n\n"), "");
}

TEST(WarmedKeys, AKeptHashIsUsedOnlyForTheSameConnectionAndTheSameText) {
  const generated_key a = generate_api_key();
  const generated_key b = generate_api_key();
  const generated_key c = generate_api_key();
  warmed_keys w;
  ASSERT_TRUE(w.add(1, 7, a.text));
  ASSERT_TRUE(w.add(2, 7, b.text));
  ASSERT_TRUE(w.add(3, 7, c.text));
  EXPECT_EQ(w.end() - w.begin(), 3);
  EXPECT_EQ(w.begin()->hash, a.hash);
  // Connection 1 presents another key than the one warmed for it: its own hash, not a's.
  EXPECT_EQ(w.hash(1, 7, b.text), b.hash);
  // Connection 2's entry, then connection 3's with another generation (a new connection in
  // the same slot): computed.
  EXPECT_EQ(w.hash(2, 7, b.text), b.hash);
  EXPECT_EQ(w.hash(3, 8, c.text), c.hash);
  // Entries are consumed in order: connection 2's was used, so a second request of it computes.
  EXPECT_EQ(w.hash(2, 7, b.text), b.hash);
  // Unknown connection.
  EXPECT_EQ(w.hash(9, 9, a.text), a.hash);
  // Texts that differ in one character only, first, in the middle, last (the word compare's
  // overlapping tail): never the kept hash.
  for (const std::size_t at : {std::size_t{0}, std::size_t{30}, std::size_t{47}, api_key_chars - 1}) {
    std::string near = a.text;
    near[at] = near[at] == 'A' ? 'B' : 'A';
    w.clear();
    ASSERT_TRUE(w.add(1, 7, a.text));
    EXPECT_EQ(w.hash(1, 7, near), hash_api_key(near)) << at;
    EXPECT_NE(hash_api_key(near), a.hash);
  }
  w.clear();
  ASSERT_TRUE(w.add(1, 7, a.text));
  EXPECT_EQ(w.hash(1, 7, a.text), a.hash);
  w.clear();
  EXPECT_EQ(w.begin(), w.end());
  for (std::size_t i = 0; i < warmed_keys::capacity; ++i) EXPECT_TRUE(w.add(static_cast<std::uint32_t>(i), 0, a.text));
  EXPECT_FALSE(w.add(99, 0, a.text)) << "full";
  EXPECT_EQ(w.hash(5, 0, a.text), a.hash);
  EXPECT_EQ(w.hash(63, 0, a.text), a.hash);
}

TEST(ApiKeyFormat, GeneratedKeysAreWellFormedAndKeepTheirChecksum) {
  for (int i = 0; i < 200; ++i) {
    const generated_key g = generate_api_key();
    ASSERT_EQ(g.text.size(), api_key_chars);
    EXPECT_EQ(g.text.substr(0, 5), "wrnt_");
    EXPECT_TRUE(well_formed_api_key(g.text)) << g.text;
    EXPECT_EQ(g.text.substr(48), reference_checksum(g.text.substr(0, 48))) << g.text;
    EXPECT_EQ(g.hash, hash_api_key(g.text));
    EXPECT_EQ(g.prefix, g.text.substr(0, 9));
    EXPECT_EQ(g.last4, g.text.substr(50));
  }
}

TEST(ApiKeyFormat, HashIsSha256) {
  unsigned char h[32];
  unsigned int n = 0;
  const std::string text = "wrnt_example";
  EVP_Digest(text.data(), text.size(), h, &n, EVP_sha256(), nullptr);
  const key_hash got = hash_api_key(text);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(got.data()), 32), std::string(reinterpret_cast<char*>(h), 32));
}

TEST(ApiKeyFormat, MalformedKeys) {
  const std::string good = generate_api_key().text;
  std::string bad_checksum = good;
  bad_checksum.back() = bad_checksum.back() == 'a' ? 'b' : 'a';
  std::string bad_alphabet = good;
  bad_alphabet[10] = '-';
  std::string bad_prefix = good;
  bad_prefix[0] = 'W';
  for (const std::string& k : {std::string(), std::string("wrnt_"), good.substr(0, 53), good + "0", bad_checksum,
                               bad_alphabet, bad_prefix, std::string(54, 'a')}) {
    EXPECT_FALSE(well_formed_api_key(k)) << k;
  }
}

TEST(Authenticate, OnlyUsableKeysOfTheSnapshot) {
  tenancy_snapshot snap;
  const std::int64_t now = 1'700'000'000'000;
  auto add = [&](std::string id, std::int64_t expires, std::int64_t revoked) {
    generated_key g = generate_api_key();
    api_key_record k;
    k.id = std::move(id);
    k.workspace_id = "w";
    k.hash = g.hash;
    k.expires_at_ms = expires;
    k.revoked_at_ms = revoked;
    snap.keys_by_hash[k.hash] = k;
    return g.text;
  };
  const std::string live = add("live", 0, 0);
  const std::string expiring = add("expiring", now + 1, 0);
  const std::string expired = add("expired", now, 0);
  const std::string revoked = add("revoked", 0, now - 5);
  const std::string unknown = generate_api_key().text;
  auto auth = [&](const std::string& key) -> const api_key_record* {
    parsed p("GET / HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer " + key + "\r\n");
    return authenticate(p.req(), snap, now);
  };
  ASSERT_NE(auth(live), nullptr);
  EXPECT_EQ(auth(live)->id, "live");
  ASSERT_NE(auth(expiring), nullptr);
  EXPECT_EQ(auth(expired), nullptr) << "expires_at is the first instant it no longer works";
  EXPECT_EQ(auth(revoked), nullptr);
  EXPECT_EQ(auth(unknown), nullptr);
  EXPECT_EQ(auth("nope"), nullptr);
}

TEST(Answers, UnauthorizedAndForbidden) {
  net::http_response res;
  answer_unauthorized(res);
  EXPECT_EQ(res.status(), 401);
  EXPECT_EQ(res.body().view(), R"({"error":"invalid or missing API key","code":"UNAUTHORIZED"})");
  EXPECT_EQ(res.extra_headers(), "WWW-Authenticate: Bearer\r\n");
  net::http_response f;
  answer_forbidden(f, "this key lacks the scope grant:revoke");
  EXPECT_EQ(f.status(), 403);
  EXPECT_EQ(f.body().view(),
            R"({"error":"this key lacks the scope grant:revoke","code":"FORBIDDEN","hint":"use a key that carries it"})");
}

}  // namespace
}  // namespace warrant::engine
