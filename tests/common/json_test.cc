// engine/common/json.h: read_key and read_string, which read a key or string in place when it
// has no escape, must give exactly what simdjson's unescaping getters give, escapes or not,
// and refuse what they refuse.
#include "engine/common/json.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace warrant::engine {
namespace {

struct member {
  std::string key;
  std::string value;  // the string, or "<error N>"
};

std::vector<member> read_all(std::string_view body, bool in_place) {
  std::vector<member> out;
  json_error err;
  const bool ok = for_each_member(body, err, [&](std::string_view key, simdjson::ondemand::value& v) {
    std::string_view s;
    const simdjson::error_code e = in_place ? read_string(v, s) : v.get_string().get(s);
    out.push_back({std::string(key), e ? "<error " + std::to_string(static_cast<int>(e)) + ">" : std::string(s)});
    return true;
  });
  if (!ok) out.push_back({"<body>", err.code});
  return out;
}

TEST(JsonRead, InPlaceGivesWhatUnescapingGives) {
  const std::string bodies[] = {
      R"({"a":"plain","b":""})",
      R"({"k\u0065y":"v\u00e9","q\"":"a\\b","t":"tab\there"})",
      R"({"n":12,"o":{"x":1},"l":[1],"z":null,"f":false})",
      R"({"u":"caf\u00c3\u00a9 \ud83d\ude00","e":"end\\"})",
      "{\"utf8\":\"caf\xc3\xa9\"}",
  };
  for (const std::string& body : bodies) {
    const std::vector<member> fast = read_all(body, true);
    const std::vector<member> slow = read_all(body, false);
    ASSERT_EQ(fast.size(), slow.size()) << body;
    for (std::size_t i = 0; i < fast.size(); ++i) {
      EXPECT_EQ(fast[i].key, slow[i].key) << body;
      EXPECT_EQ(fast[i].value, slow[i].value) << body;
    }
  }
}

TEST(JsonRead, EscapedKeysAreUnescaped) {
  const std::vector<member> m = read_all(R"({"act\u0069on":"x","plain":"y"})", true);
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].key, "action");
  EXPECT_EQ(m[1].key, "plain");
}

TEST(JsonRead, ABadEscapeIsStillRefused) {
  std::vector<member> m = read_all(R"({"a":"bad \q escape"})", true);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_NE(m[0].value.find("<error"), std::string::npos) << m[0].value;
  // Raw control characters and invalid UTF-8 never reach the in-place path: the whole body is
  // refused first.
  m = read_all("{\"a\":\"ctl \x01\"}", true);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].key, "<body>");
  EXPECT_EQ(m[0].value, "INVALID_JSON");
  m = read_all("{\"a\":\"bad \xff utf8\"}", true);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].value, "INVALID_JSON");
}

}  // namespace
}  // namespace warrant::engine
