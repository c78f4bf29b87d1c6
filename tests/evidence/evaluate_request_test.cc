// tests/evidence/evaluate_request_test.cc: the POST /v1/policy/evaluate body parser
// (engine/evidence/evaluate_request.*): the seed's error bytes, every refusal, context values
// kept by kind, and items of a bulk body parsed one by one.
#include "engine/evidence/evaluate_request.h"

#include <gtest/gtest.h>

#include <string>

#include "engine/evidence/default_policy.h"
#include "evidence_test_support.h"

namespace warrant::engine::evidence {
namespace {

using namespace test;

std::shared_ptr<const policy> rules_policy() {
  return policy_from(std::string(policy_head) + R"(  - {action: account.login, risk: low, allowTier: 0}
  - action: pay
    risk: medium
    allowTier: 2
    rules:
      - {field: amount_usd, gt: 250, atLeast: STEP_UP, reason: HIGH_VALUE}
      - {field: country, in: [KP], atLeast: DENY, reason: EMBARGO}
      - {field: first_payee, eq: true, atLeast: LIMIT, reason: NEW_PAYEE}
)");
}

struct parsed {
  bool ok;
  evaluate_request req;
  json_error err;
};

parsed parse(std::string_view body, const policy& p) {
  parsed out{};
  out.ok = parse_evaluate_request(body, p, out.req, out.err);
  return out;
}

std::string error_body(const json_error& e) {
  net::byte_buffer b;
  append_error_json(b, e);
  return std::string(b.view());
}

TEST(EvaluateRequest, TheSeedExample) {
  const auto p = default_policy();
  const parsed r = parse(R"({"actor": { "type": "human", "id": "emp-12345" }, "action": "data.export_pii"})", *p);
  ASSERT_TRUE(r.ok) << r.err.message;
  EXPECT_EQ(r.req.actor, actor_type::human);
  EXPECT_EQ(r.req.actor_id, "emp-12345");
  ASSERT_NE(r.req.action, nullptr);
  EXPECT_EQ(r.req.action->name, "data.export_pii");
  for (const context_value& v : r.req.context.by_field) EXPECT_FALSE(v.present);
}

TEST(EvaluateRequest, MissingActorIdIsTheSeedsBytes) {
  const auto p = default_policy();
  const std::string want = R"({"error":"Missing required field: actor.id","hint":"Provide an org-scoped identifier for the actor"})";
  EXPECT_EQ(missing_actor_id_body, want);
  for (std::string_view body : {
           R"({"action":"data.export_pii"})",
           R"({"actor":{"type":"human"},"action":"data.export_pii"})",
           R"({"actor":{"type":"human","id":""},"action":"data.export_pii"})",
           R"({"actor":{"type":"human","id":null},"action":"data.export_pii"})",
           R"({"actor":{},"action":"data.export_pii"})",
           R"({"actor_id":"","action":"data.export_pii"})",
           R"({"actor_id":null})",
           R"({"actor":null,"actor_id":null,"action":"account.login","context":null,"resource":null})",
           R"({"action":"no.such.action"})",  // the actor is checked first
           R"({})",
       }) {
    const parsed r = parse(body, *p);
    ASSERT_FALSE(r.ok) << body;
    EXPECT_EQ(r.err.status, 400) << body;
    EXPECT_TRUE(r.err.code.empty()) << body;
    EXPECT_EQ(error_body(r.err), want) << body;
  }
}

TEST(EvaluateRequest, FlatActorId) {
  const auto p = default_policy();
  parsed r = parse(R"({"actor_id":"u-1","action":"account.login"})", *p);
  ASSERT_TRUE(r.ok) << r.err.message;
  EXPECT_EQ(r.req.actor_id, "u-1");
  EXPECT_EQ(r.req.actor, actor_type::human);
  r = parse(R"({"actor":{"id":"u-1","type":"service"},"actor_id":"u-1","action":"account.login"})", *p);
  ASSERT_TRUE(r.ok) << r.err.message;
  EXPECT_EQ(r.req.actor, actor_type::service);
  r = parse(R"({"actor":{"type":"service"},"actor_id":"svc-9","action":"account.login"})", *p);
  ASSERT_TRUE(r.ok) << r.err.message;
  EXPECT_EQ(r.req.actor_id, "svc-9");
  r = parse(R"({"actor":{"id":"u-1"},"actor_id":"u-2","action":"account.login"})", *p);
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.err.code, "VALIDATION_ERROR");
  EXPECT_EQ(r.err.message, "actor.id and actor_id differ");
}

TEST(EvaluateRequest, ActorIdLimitsAndEscapes) {
  const auto p = default_policy();
  const std::string max_id(identifier_bytes_max, 'x');
  parsed r = parse(R"({"actor":{"id":")" + max_id + R"("},"action":"account.login"})", *p);
  ASSERT_TRUE(r.ok) << r.err.message;
  EXPECT_EQ(r.req.actor_id.size(), identifier_bytes_max);
  r = parse(R"({"actor":{"id":")" + max_id + R"(x"},"action":"account.login"})", *p);
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.err.message, "field 'actor.id' is longer than 255 bytes");
  r = parse(R"({"actor":{"id":"a\"b\u00e9"},"action":"account.login"})", *p);
  ASSERT_TRUE(r.ok) << r.err.message;
  EXPECT_EQ(r.req.actor_id, "a\"b\xc3\xa9");
}

struct refusal {
  const char* body;
  const char* code;
  const char* message;  // exact
};

TEST(EvaluateRequest, Refusals) {
  const auto p = rules_policy();
  const refusal cases[] = {
      {R"({"actor":{"id":"u"}})", "VALIDATION_ERROR", "Missing required field: action"},
      {R"({"actor":{"id":"u"},"action":null})", "VALIDATION_ERROR", "Missing required field: action"},
      {R"({"actor":{"id":"u"},"action":null,"action":"pay"})", "VALIDATION_ERROR", "field 'action' is given twice"},
      {R"({"actor":{"id":"u"},"action":""})", "VALIDATION_ERROR", "Missing required field: action"},
      {R"({"actor":{"id":"u"},"action":"data.export_pii"})", "UNKNOWN_ACTION", "Unknown action: data.export_pii"},
      {R"({"actor":{"id":"u"},"action":7})", "VALIDATION_ERROR", "field 'action' must be a string"},
      {R"({"actor":"u","action":"pay"})", "VALIDATION_ERROR", "field 'actor' must be an object"},
      {R"({"actor":{"id":5},"action":"pay"})", "VALIDATION_ERROR", "field 'actor.id' must be a string"},
      {R"({"actor_id":["u"],"action":"pay"})", "VALIDATION_ERROR", "field 'actor_id' must be a string"},
      {R"({"actor":{"id":"u","type":"robot"},"action":"pay"})", "VALIDATION_ERROR",
       R"(field 'actor.type' must be "human" or "service")"},
      {R"({"actor":{"id":"u","type":null},"action":"pay"})", "VALIDATION_ERROR",
       R"(field 'actor.type' must be "human" or "service")"},
      {R"({"actor":{"id":"u","role":"x"},"action":"pay"})", "UNKNOWN_FIELD", "unknown field 'actor.role'"},
      {R"({"actor":{"id":"u","id":"v"},"action":"pay"})", "VALIDATION_ERROR", "field 'actor.id' is given twice"},
      {R"({"actor":{"id":"u","type":"human","type":"service"},"action":"pay"})", "VALIDATION_ERROR",
       "field 'actor.type' is given twice"},
      {R"({"actor":{"id":"u"},"action":"pay","action":"account.login"})", "VALIDATION_ERROR",
       "field 'action' is given twice"},
      {R"({"actor":{"id":"u"},"actor":{"id":"v"},"action":"pay"})", "VALIDATION_ERROR", "field 'actor' is given twice"},
      {R"({"actor":{"id":"u"},"action":"pay","userExternalId":"u"})", "UNKNOWN_FIELD", "unknown field 'userExternalId'"},
      {R"({"actor":{"id":"u"},"action":"pay","resource":"doc-1"})", "VALIDATION_ERROR", "field 'resource' must be an object"},
      {R"({"actor":{"id":"u"},"action":"pay","resource":{},"resource":{}})", "VALIDATION_ERROR",
       "field 'resource' is given twice"},
      {R"({"actor":{"id":"u"},"action":"pay","context":[1]})", "VALIDATION_ERROR", "field 'context' must be an object"},
      {R"({"actor":{"id":"u"},"action":"pay","context":{"amount_usd":"300"}})", "VALIDATION_ERROR",
       "context field 'amount_usd' must be a number"},
      {R"({"actor":{"id":"u"},"action":"pay","context":{"country":1}})", "VALIDATION_ERROR",
       "context field 'country' must be a string"},
      {R"({"actor":{"id":"u"},"action":"pay","context":{"first_payee":"true"}})", "VALIDATION_ERROR",
       "context field 'first_payee' must be a boolean"},
      {R"({"actor":{"id":"u"},"action":"pay","context":{"amount_usd":1,"amount_usd":300}})", "VALIDATION_ERROR",
       "context field 'amount_usd' is given twice"},
      {R"({"actor":{"id":"u"},"action":"pay","context":{"amount_usd":null,"amount_usd":300}})", "VALIDATION_ERROR",
       "context field 'amount_usd' is given twice"},
  };
  for (const refusal& c : cases) {
    const parsed r = parse(c.body, *p);
    ASSERT_FALSE(r.ok) << c.body;
    EXPECT_EQ(r.err.status, 400) << c.body;
    EXPECT_EQ(r.err.code, c.code) << c.body;
    EXPECT_EQ(r.err.message, c.message) << c.body;
  }
}

TEST(EvaluateRequest, LongUnknownKeysAreClippedOnACharacterBoundary) {
  const auto p = default_policy();
  // 63 ASCII bytes then a 3-byte character straddling the 64-byte clip.
  const std::string key = std::string(63, 'k') + "\u1615" + "tail";
  for (const std::string& body : {R"({")" + key + R"(":1})", R"({"actor":{")" + key + R"(":1}})"}) {
    const parsed r = parse(body, *p);
    ASSERT_FALSE(r.ok);
    EXPECT_EQ(r.err.code, "UNKNOWN_FIELD");
    EXPECT_NE(r.err.message.find(std::string(63, 'k') + "'"), std::string::npos) << r.err.message;
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    EXPECT_EQ(parser.parse(error_body(r.err)).get(doc), simdjson::SUCCESS);
  }
}

TEST(EvaluateRequest, UnknownActionHintNamesTheListingRoute) {
  const auto p = default_policy();
  const parsed r = parse(R"({"actor":{"id":"u"},"action":"nope"})", *p);
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.err.code, "UNKNOWN_ACTION");
  EXPECT_NE(r.err.hint.find("GET /v1/policy/actions"), std::string::npos);
  EXPECT_EQ(error_body(r.err),
            R"({"error":"Unknown action: nope","code":"UNKNOWN_ACTION","hint":"GET /v1/policy/actions lists the registered actions"})");
  const parsed long_name = parse(R"({"actor":{"id":"u"},"action":")" + std::string(300, 'a') + "\"}", *p);
  ASSERT_FALSE(long_name.ok);
  EXPECT_EQ(long_name.err.message, "Unknown action");
}

TEST(EvaluateRequest, MalformedJsonSaysWhere) {
  const auto p = default_policy();
  struct probe {
    const char* body;
    const char* words;
  };
  const probe probes[] = {
      {"", "empty"},
      {"[1]", "must be a JSON object"},
      {"\"x\"", "must be a JSON object"},
      {R"({"actor":{"id":"u"},"action":"account.login"} x)", "malformed JSON at byte"},
      {R"({"actor":{"id":"u"},"action":"account.login")", "malformed JSON"},
      {R"({"actor":{"id":"u"},"action":"account.login","resource":{"a":tru}})", "malformed JSON at byte"},
      {R"({"actor":{"id":"u"},"action":"account.login","context":{"other":[1,2,}]}})", "malformed JSON"},
      {R"({"actor":{"id":"u"},"action":"account.login","resource":{"s":"\q"}})", "malformed JSON"},
  };
  for (const probe& pr : probes) {
    const parsed r = parse(pr.body, *p);
    ASSERT_FALSE(r.ok) << pr.body;
    EXPECT_EQ(r.err.code, "INVALID_JSON") << pr.body;
    EXPECT_NE(r.err.message.find(pr.words), std::string::npos) << pr.body << " -> " << r.err.message;
  }
}

TEST(EvaluateRequest, NestingBeyondTheLimitIsRefused) {
  const auto p = default_policy();
  auto nested = [](std::size_t depth) {
    std::string inner;
    for (std::size_t i = 0; i < depth; ++i) inner += "[";
    for (std::size_t i = 0; i < depth; ++i) inner += "]";
    return R"({"actor":{"id":"u"},"action":"account.login","resource":{"deep":)" + inner + "}}";
  };
  EXPECT_TRUE(parse(nested(json_depth_max - 3), *p).ok);
  const parsed deep = parse(nested(json_depth_max + 10), *p);
  ASSERT_FALSE(deep.ok);
  EXPECT_EQ(deep.err.code, "INVALID_JSON");
}

TEST(EvaluateRequest, ContextValuesAreKeptByKind) {
  const auto p = rules_policy();
  const parsed r = parse(R"({"actor":{"type":"service","id":"svc"},"action":"pay",
      "resource":{"id":"doc-1","tags":["a",{"b":null}],"n":-1.5e3,"t":true},
      "context":{"ignored":{"deep":[1,2,3]},"amount_usd":1250.5,"country":"K\u0050","first_payee":true,"other":"x"}})",
                         *p);
  ASSERT_TRUE(r.ok) << r.err.message;
  const auto& by = r.req.context.by_field;
  const std::size_t amount = *p->find_context_field("amount_usd");
  const std::size_t country = *p->find_context_field("country");
  const std::size_t first = *p->find_context_field("first_payee");
  ASSERT_TRUE(by[amount].present);
  EXPECT_EQ(by[amount].kind, value_kind::number);
  EXPECT_EQ(by[amount].number, 1250.5);
  ASSERT_TRUE(by[country].present);
  EXPECT_EQ(by[country].text, "KP");
  ASSERT_TRUE(by[first].present);
  EXPECT_TRUE(by[first].flag);
  std::size_t present = 0;
  for (const context_value& v : by) present += v.present;
  EXPECT_EQ(present, 3u);
  // Decided on: every rule holds; EMBARGO denies.
  decision_result d;
  decide(*p, *r.req.action, facts_for(3), r.req.context, d);
  EXPECT_EQ(d.outcome, decision::deny);
  EXPECT_EQ(d.reason_count, 4u);
}

TEST(EvaluateRequest, NullContextValueIsAbsent) {
  const auto p = rules_policy();
  const parsed r = parse(R"({"actor":{"id":"u"},"action":"pay","context":{"amount_usd":null}})", *p);
  ASSERT_TRUE(r.ok) << r.err.message;
  EXPECT_FALSE(r.req.context.by_field[*p->find_context_field("amount_usd")].present);
}

TEST(EvaluateRequest, IntegerContextValues) {
  const auto p = rules_policy();
  const parsed r = parse(R"({"actor":{"id":"u"},"action":"pay","context":{"amount_usd":18446744073709551615}})", *p);
  ASSERT_TRUE(r.ok) << r.err.message;
  EXPECT_GT(r.req.context.by_field[*p->find_context_field("amount_usd")].number, 1e19);
}

// A request object is reused from one parse to the next (the bulk route's items): nothing of
// the previous request may show through, context values above all.
TEST(EvaluateRequest, AReusedRequestKeepsNothingOfThePreviousOne) {
  const auto p = rules_policy();
  evaluate_request req;
  json_error err;
  ASSERT_TRUE(parse_evaluate_request(
      R"({"actor":{"type":"service","id":"svc"},"action":"pay","context":{"amount_usd":300,"country":"KP","first_payee":true}})",
      *p, req, err))
      << err.message;
  ASSERT_TRUE(parse_evaluate_request(R"({"actor_id":"u","action":"account.login","context":{"country":7.5}})", *p, req, err) ==
              false);
  ASSERT_TRUE(parse_evaluate_request(R"({"actor_id":"u","action":"pay","context":{"amount_usd":1}})", *p, req, err))
      << err.message;
  EXPECT_EQ(req.actor, actor_type::human);
  EXPECT_EQ(req.actor_id, "u");
  EXPECT_EQ(req.action->name, "pay");
  const auto& by = req.context.by_field;
  EXPECT_TRUE(by[*p->find_context_field("amount_usd")].present);
  EXPECT_EQ(by[*p->find_context_field("amount_usd")].number, 1);
  EXPECT_FALSE(by[*p->find_context_field("country")].present);
  EXPECT_FALSE(by[*p->find_context_field("first_payee")].present);
  EXPECT_FALSE(by[*p->find_context_field("first_payee")].flag);
  decision_result d;
  decide(*p, *req.action, facts_for(3), req.context, d);
  EXPECT_EQ(d.outcome, decision::allow);
}

TEST(EvaluateRequest, ErrorJsonLeavesOutEmptyParts) {
  EXPECT_EQ(error_body({400, "X", "m", ""}), R"({"error":"m","code":"X"})");
  EXPECT_EQ(error_body({400, "", "m", "h"}), R"({"error":"m","hint":"h"})");
  EXPECT_EQ(error_body({400, "X", "say \"hi\"\n", "h"}), R"({"error":"say \"hi\"\n","code":"X","hint":"h"})");
}

// The bulk route parses each item of "evaluations" with parse_evaluate_object; a refused item
// must not stop the others.
TEST(EvaluateRequest, BulkItemsOneByOne) {
  const auto p = rules_policy();
  const std::string body = R"({"evaluations":[
      {"actor":{"id":"a"},"action":"pay","context":{"amount_usd":300}},
      {"actor":{"id":"b"},"action":"nope","context":{"x":[1,{"y":2}]}},
      {"action":"pay","resource":{"z":[1,2,3]}},
      {"actor":{"id":"c","type":"robot","extra":1},"action":"pay"},
      {"actor_id":"d","action":"account.login"}
  ]})";
  simdjson::ondemand::parser parser;
  simdjson::padded_string padded(body);
  simdjson::ondemand::document doc;
  ASSERT_EQ(parser.iterate(padded).get(doc), simdjson::SUCCESS);
  simdjson::ondemand::array items;
  ASSERT_EQ(doc["evaluations"].get_array().get(items), simdjson::SUCCESS);
  std::vector<std::string> results;
  for (auto item : items) {
    simdjson::ondemand::object obj;
    ASSERT_EQ(item.get_object().get(obj), simdjson::SUCCESS);
    evaluate_request req;
    json_error err;
    if (parse_evaluate_object(obj, *p, req, err)) {
      results.push_back("ok " + std::string(req.actor_id) + " " + req.action->name);
    } else {
      results.push_back("error " + err.message);
    }
  }
  const std::vector<std::string> want = {
      "ok a pay",
      "error Unknown action: nope",
      "error Missing required field: actor.id",
      R"(error field 'actor.type' must be "human" or "service")",
      "ok d account.login",
  };
  EXPECT_EQ(results, want);
}

TEST(EvaluateRequest, ActorTypeNames) {
  EXPECT_EQ(actor_type_name(actor_type::human), "human");
  EXPECT_EQ(actor_type_name(actor_type::service), "service");
}

}  // namespace
}  // namespace warrant::engine::evidence
