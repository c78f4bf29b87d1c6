// tests/idempotency/canonical_json_test.cc: engine/idempotency/canonical_json.* — one text per
// value, whatever the spelling: member order, whitespace, number forms, escapes, nesting; and
// refusals of what is not one JSON value.
#include "engine/idempotency/canonical_json.h"

#include <gtest/gtest.h>

#include <string>

namespace warrant::engine::idempotency {
namespace {

std::string canon(std::string_view json) {
  std::string out;
  const canonical_result r = canonicalize(json, out);
  EXPECT_TRUE(r.ok()) << json << ": " << canonical_errc_message(r.error) << " at " << r.offset;
  return out;
}

canonical_errc error_of(std::string_view json) {
  std::string out;
  return canonicalize(json, out).error;
}

std::string number(std::string_view token) {
  std::string out;
  EXPECT_TRUE(canonical_number(token, out)) << token;
  return out;
}

TEST(CanonicalJson, SortsMembersByName) {
  EXPECT_EQ(canon(R"({"b":1,"a":2,"c":3})"), R"({"a":2,"b":1,"c":3})");
  EXPECT_EQ(canon(R"({"b":1,"a":2})"), canon(R"({"a":2,"b":1})"));
  // Byte order of the unescaped names: upper case before lower, shorter prefix first.
  EXPECT_EQ(canon(R"({"a":0,"B":0,"ab":0,"":0})"), R"({"":0,"B":0,"a":0,"ab":0})");
  // Non-ASCII names sort by their UTF-8 bytes, after ASCII.
  EXPECT_EQ(canon("{\"\xc3\xa9\":1,\"z\":2}"), "{\"z\":2,\"\xc3\xa9\":1}");
}

TEST(CanonicalJson, DropsInsignificantWhitespace) {
  EXPECT_EQ(canon(" {\n\t\"a\" :  [ 1 , 2 ,\r\n 3 ] , \"b\" : { } , \"c\":[ ] }  \n"), R"({"a":[1,2,3],"b":{},"c":[]})");
  EXPECT_EQ(canon(R"({"a":"  spaces stay  "})"), R"({"a":"  spaces stay  "})");
}

TEST(CanonicalJson, KeepsArrayOrder) {
  EXPECT_EQ(canon("[3,1,2]"), "[3,1,2]");
  EXPECT_NE(canon("[1,2]"), canon("[2,1]"));
}

TEST(CanonicalJson, NormalisesNumbers) {
  EXPECT_EQ(number("1"), "1");
  EXPECT_EQ(number("1.0"), "1");
  EXPECT_EQ(number("1.000"), "1");
  EXPECT_EQ(number("1e0"), "1");
  EXPECT_EQ(number("10e-1"), "1");
  EXPECT_EQ(number("0.1e1"), "1");
  EXPECT_EQ(number("1E+2"), "100");
  EXPECT_EQ(number("100"), "100");
  EXPECT_EQ(number("1.50"), "1.5");
  EXPECT_EQ(number("-0"), "0");
  EXPECT_EQ(number("-0.0e-5"), "0");
  EXPECT_EQ(number("0"), "0");
  EXPECT_EQ(number("-12.5"), "-12.5");
  EXPECT_EQ(number("0.001"), "0.001");
  EXPECT_EQ(number("0.000001"), "0.000001");
  EXPECT_EQ(number("0.0000001"), "1e-7");
  EXPECT_EQ(number("1e21"), "1e+21");
  EXPECT_EQ(number("123e20"), "1.23e+22");
  EXPECT_EQ(number("100000000000000000000"), "100000000000000000000");  // 21 digits in full
  EXPECT_EQ(number("1e-0007"), "1e-7");
  EXPECT_EQ(number("1e00000000000000000000002"), "100");  // leading exponent zeros mean nothing
  // Exact: integers beyond 2^53 and long fractions stay distinct (a double would merge them).
  EXPECT_EQ(number("9007199254740993"), "9007199254740993");
  EXPECT_NE(number("9007199254740993"), number("9007199254740992"));
  EXPECT_EQ(number("123456789012345678901234567890"), "1.2345678901234567890123456789e+29");
  EXPECT_EQ(number("0.1000000000000000000000000001"), "0.1000000000000000000000000001");
  EXPECT_EQ(number("1e400"), "1e+400");  // beyond a double, still one value
}

TEST(CanonicalJson, RefusesNumbersOutsideTheGrammar) {
  for (const std::string_view bad : {"01", "1.", ".5", "+1", "1e", "1e+", "--1", "0x10", "1.5.2", "NaN", "Infinity",
                                     "-", "1e9999999999999999", "1 2"}) {
    std::string out;
    EXPECT_FALSE(canonical_number(bad, out)) << bad;
  }
  EXPECT_EQ(error_of("[01]"), canonical_errc::bad_number);
  EXPECT_EQ(error_of(R"({"a":1.})"), canonical_errc::bad_number);
  EXPECT_EQ(error_of("[1e99999999999999999]"), canonical_errc::bad_number);
  // The bound is on the normalised exponent (fuzzer find): 165e+10^15 is 1.65e+(10^15+2).
  EXPECT_EQ(error_of("165e01000000000000000"), canonical_errc::bad_number);
  EXPECT_EQ(canon("1e1000000000000000"), "1e+1000000000000000");
  EXPECT_EQ(canon("0.001e-999999999999997"), "1e-1000000000000000");
}

TEST(CanonicalJson, NumbersInDocumentsNormaliseToo) {
  EXPECT_EQ(canon(R"({"n":1.0,"m":[1e2,-0,2.50]})"), R"({"m":[100,0,2.5],"n":1})");
  EXPECT_EQ(canon(R"({"n":1})"), canon(R"({"n":1.0e0})"));
}

TEST(CanonicalJson, NormalisesStringEscapes) {
  EXPECT_EQ(canon(R"(["\u0041","\/","\u00e9","\ud83d\ude00"])"), "[\"A\",\"/\",\"\xc3\xa9\",\"\xf0\x9f\x98\x80\"]");
  EXPECT_EQ(canon(R"(["A"])"), canon(R"(["\u0041"])"));
  EXPECT_EQ(canon(R"(["\"\\"])"), R"(["\"\\"])");
  EXPECT_EQ(canon(R"(["\b\f\n\r\t"])"), R"(["\b\f\n\r\t"])");
  EXPECT_EQ(canon(R"(["\u0008\u000C\u000a"])"), R"(["\b\f\n"])");
  EXPECT_EQ(canon(R"(["\u0001\u001F\u0000"])"), R"(["\u0001\u001f\u0000"])");
  EXPECT_EQ(canon(R"(["\u007f\u2028"])"), "[\"\x7f\xe2\x80\xa8\"]");  // not control characters in JSON
  // Names are strings too.
  EXPECT_EQ(canon(R"({"\u0062":1,"a":2})"), R"({"a":2,"b":1})");
}

TEST(CanonicalJson, SortsNestedObjectsKeepsNestedArrays) {
  EXPECT_EQ(canon(R"({"z":{"y":[{"b":1,"a":[3,{"d":0,"c":0}]}],"x":null},"a":true})"),
            R"({"a":true,"z":{"x":null,"y":[{"a":[3,{"c":0,"d":0}],"b":1}]}})");
}

TEST(CanonicalJson, ScalarsAtTheRoot) {
  EXPECT_EQ(canon(" 1.0 "), "1");
  EXPECT_EQ(canon("\"\\u0041\""), "\"A\"");
  EXPECT_EQ(canon("true"), "true");
  EXPECT_EQ(canon("false"), "false");
  EXPECT_EQ(canon("null"), "null");
}

TEST(CanonicalJson, AllowsSixtyFourLevelsNotMore) {
  const std::string ok = std::string(canonical_depth_max, '[') + std::string(canonical_depth_max, ']');
  EXPECT_EQ(canon(ok), ok);
  const std::string deep = std::string(canonical_depth_max + 1, '[') + std::string(canonical_depth_max + 1, ']');
  EXPECT_EQ(error_of(deep), canonical_errc::too_deep);
  std::string objects;
  for (std::size_t i = 0; i <= canonical_depth_max; ++i) objects += R"({"a":)";
  objects += "1" + std::string(canonical_depth_max + 1, '}');
  EXPECT_EQ(error_of(objects), canonical_errc::too_deep);
  EXPECT_EQ(error_of(std::string(100000, '[')), canonical_errc::too_deep);
}

TEST(CanonicalJson, RefusesDuplicateNames) {
  EXPECT_EQ(error_of(R"({"a":1,"a":1})"), canonical_errc::duplicate_name);
  EXPECT_EQ(error_of(R"({"a":1,"\u0061":2})"), canonical_errc::duplicate_name);
  EXPECT_EQ(error_of(R"({"x":{"a":1,"b":2,"a":3}})"), canonical_errc::duplicate_name);
  EXPECT_EQ(canon(R"({"a":{"a":1},"b":{"a":1}})"), R"({"a":{"a":1},"b":{"a":1}})");  // same name, other objects
}

TEST(CanonicalJson, RefusesWhatIsNotOneJsonValue) {
  for (const std::string_view bad :
       {"", "   ", "{", "}", "[1,]", "{\"a\":}", "{\"a\" 1}", "{a:1}", "'x'", "tru", "nul", "truex", "[true false]",
        "\"unterminated", "[\"\\x\"]", "[\"\\u12\"]", "[\"\\ud800\"]", "{\"a\":1,}", "[1 2]"}) {
    std::string out;
    EXPECT_FALSE(canonicalize(bad, out).ok()) << "'" << bad << "'";
  }
  EXPECT_EQ(error_of("{} x"), canonical_errc::trailing);
  EXPECT_EQ(error_of("{}{}"), canonical_errc::trailing);
  EXPECT_EQ(error_of("1 2"), canonical_errc::trailing);
  EXPECT_EQ(error_of("\"a\" \"b\""), canonical_errc::trailing);
  std::string out;
  EXPECT_FALSE(canonicalize("[\"\xff\"]", out).ok());   // not UTF-8
  EXPECT_FALSE(canonicalize("[\"a\x01\"]", out).ok());  // a raw control character
}

TEST(CanonicalJson, ReportsWhereItBroke) {
  std::string out;
  const canonical_result r = canonicalize(R"({"a":[1,2,01]})", out);
  EXPECT_EQ(r.error, canonical_errc::bad_number);
  EXPECT_EQ(r.offset, 10u);  // the "01"
}

TEST(CanonicalJson, CanonicalFormIsAFixedPoint) {
  for (const std::string_view json :
       {R"({"b":[1.0,{"d":"\u00e9","c":1e-9}],"a":-0.5e3})", R"([[],{},"",0,-1.25e+30,null])", "\"\\u001f\""}) {
    const std::string once = canon(json);
    EXPECT_EQ(canon(once), once);
  }
}

}  // namespace
}  // namespace warrant::engine::idempotency
