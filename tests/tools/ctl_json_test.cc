// tests/tools/ctl_json_test.cc: the JSON writer and re-indenter of tools/ctl_json.h.
#include "tools/ctl_json.h"

#include <gtest/gtest.h>

namespace warrant::tools {
namespace {

TEST(json_out, places_commas_and_escapes_strings) {
  json_out j;
  j.begin_object().member("a", std::uint64_t{1}).key("b").begin_array().str("x").null().boolean(true).end_array();
  j.key("c").begin_object().end_object().key("d").num(std::int64_t{-5}).member("e", "q\"\\\n\t\x01")
      .key("f").raw(R"({"r":[]})").end_object();
  EXPECT_EQ(j.text(), R"({"a":1,"b":["x",null,true],"c":{},"d":-5,"e":"q\"\\\n\t\u0001","f":{"r":[]}})");
}

TEST(json_out, times_are_rfc3339_or_null) {
  json_out j;
  j.begin_array().time_or_null(0).time_or_null(1'700'000'000'123).end_array();
  EXPECT_EQ(j.text(), R"([null,"2023-11-14T22:13:20.123Z"])");
}

TEST(pretty_json, indents_without_touching_strings) {
  EXPECT_EQ(pretty_json(R"({"a":[1,{"b":"x,y:{[\"]"}],"c":{},"d":[ ]})"),
            "{\n"
            "  \"a\": [\n"
            "    1,\n"
            "    {\n"
            "      \"b\": \"x,y:{[\\\"]\"\n"
            "    }\n"
            "  ],\n"
            "  \"c\": {},\n"
            "  \"d\": []\n"
            "}");
  EXPECT_EQ(pretty_json("[]"), "[]");
  EXPECT_EQ(pretty_json("\"plain\""), "\"plain\"");
}

}  // namespace
}  // namespace warrant::tools
