// tests/evidence/evidence_server_test.cc: the evidence routes end to end against the real
// warrantd (engine/evidence/evidence_routes.h; docs/api-evidence.md): every route and error
// code, idempotency replay, conflict and auto-dedup on events, paging, history from the
// entity index, the claim lifecycle, workspaces kept apart, identity namespaces shared, and
// restarts that rebuild the index to the same answers (also after a random workload).
#include <gtest/gtest.h>

// GCC 12 at -O3 reports a false -Wrestrict inside std::string concatenation (GCC PR 105329).
#pragma GCC diagnostic ignored "-Wrestrict"

#include <latch>
#include <map>
#include <thread>
#include <random>
#include <set>

#include "engine/evidence/entity_id.h"
#include "tests/admin/admin_fixture.h"

namespace warrant::test {
namespace {

struct tenant {
  std::string id;
  std::string key;
};

class evidence_server : public admin_fixture {
 public:
  tenant make_tenant(std::string_view name, std::string_view identity_namespace = {}) {
    std::string body = R"({"name":)" + json_quote(name);
    if (!identity_namespace.empty()) body += R"(,"identity_namespace":)" + json_quote(identity_namespace);
    body += "}";
    const http_response r = admin("POST", "/v1/admin/workspaces", body);
    if (r.status != 201) throw std::runtime_error("create workspace: " + r.body);
    tenant t;
    t.id = body_json(r)["id"].string;
    t.key = create_key(t.id, R"(["platform.operator"])")["key"].string;
    return t;
  }

  http_response post(const tenant& t, std::string_view path, std::string_view body,
                     std::string_view idempotency_key = {}) {
    header_list h{{"x-api-key", t.key}, {"Content-Type", "application/json"}};
    if (!idempotency_key.empty()) h.emplace_back("Idempotency-Key", std::string(idempotency_key));
    auto r = _client->request("POST", path, body, h);
    if (!r) throw std::runtime_error("POST failed on the wire");
    return *r;
  }
  http_response get(const tenant& t, std::string_view path) { return call("GET", path, {}, t.key); }

  static std::string event_body(std::string_view user, std::string_view type, std::string_view extra = {}) {
    std::string b = R"({"userExternalId":)" + json_quote(user) + R"(,"eventType":)" + json_quote(type);
    if (!extra.empty()) b += "," + std::string(extra);
    return b + "}";
  }
  json history(const tenant& t, std::string_view user) {
    const http_response r = get(t, "/v1/history/" + std::string(user));
    EXPECT_EQ(r.status, 200) << r.body;
    return body_json(r);
  }
  static std::string entity_hex(std::string_view ns, std::string_view user) {
    return engine::evidence::entity_id_hex(engine::evidence::compute_entity_id(ns, user));
  }
  static std::string ago(std::int64_t ms) { return rfc3339_ms(now_unix_ms() - ms); }
};

constexpr std::int64_t day_ms = 86'400'000;

TEST_F(evidence_server, EventTypesListTheCatalogue) {
  const tenant a = make_tenant("a");
  for (std::string_view path : {"/v1/events/types", "/events/types"}) {
    const http_response r = get(a, path);
    ASSERT_EQ(r.status, 200) << r.body;
    const json j = body_json(r);
    ASSERT_EQ(j["types"].items.size(), 49u);
    EXPECT_EQ(j["types"].items[0]["type"].string, "transaction.initiated");
  }
  EXPECT_TRUE(is_error(call("GET", "/v1/events/types"), 401, "UNAUTHORIZED"));
}

TEST_F(evidence_server, PostEventAnswers201WithTheStoredEvent) {
  const tenant a = make_tenant("a");
  const std::string occurred = ago(3600'000);
  for (std::string_view path : {"/v1/events", "/events"}) {
    const http_response r = post(a, path,
                                 event_body("user-1", "transaction.completed",
                                            R"("occurredAt":")" + occurred +
                                                R"(","significance":"high","actorType":"HUMAN","batchType":"LIVE")"));
    ASSERT_EQ(r.status, 201) << r.body;
    const json e = body_json(r);
    EXPECT_EQ(e.keys(), (std::vector<std::string>{"id", "entityId", "eventType", "occurredAt", "receivedAt",
                                                   "significance", "actorType", "batchType", "partnerId"}));
    EXPECT_TRUE(is_uuid(e["id"].string));
    EXPECT_EQ(e["entityId"].string, entity_hex(a.id, "user-1"));  // namespace = the workspace id by default
    EXPECT_EQ(e["eventType"].string, "transaction.completed");
    EXPECT_EQ(e["occurredAt"].string, occurred);
    EXPECT_TRUE(is_rfc3339_ms(e["receivedAt"].string));
    EXPECT_EQ(e["significance"].string, "high");
    EXPECT_EQ(e["actorType"].string, "HUMAN");
    EXPECT_EQ(e["batchType"].string, "LIVE");
    EXPECT_EQ(e["partnerId"].string, a.id);
    EXPECT_NE(r.header("RateLimit"), "");
  }
  // Defaults; the plaintext id appears nowhere in the answer.
  const http_response r = post(a, "/v1/events", event_body("secret-user", "review.submitted"));
  ASSERT_EQ(r.status, 201) << r.body;
  const json e = body_json(r);
  EXPECT_EQ(e["significance"].string, "normal");
  EXPECT_EQ(e["actorType"].string, "UNKNOWN");
  EXPECT_EQ(e["batchType"].string, "LIVE");
  EXPECT_EQ(e["occurredAt"].string, e["receivedAt"].string);
  EXPECT_EQ(r.body.find("secret-user"), std::string::npos);
}

TEST_F(evidence_server, PostEventErrors) {
  const tenant a = make_tenant("a");
  EXPECT_TRUE(is_error(post(a, "/v1/events", event_body("u", "gig.paid", R"("metadata":{"x":1})")), 400, "UNKNOWN_FIELD"));
  EXPECT_TRUE(is_error(post(a, "/v1/events", event_body("u", "gig.flew")), 400, "INVALID_EVENT_TYPE"));
  EXPECT_TRUE(is_error(post(a, "/v1/events", event_body("u", "gig.paid", R"("occurredAt":")" + ago(-6 * 60'000) + "\"")),
                       400, "OCCURRED_AT_IN_FUTURE"));
  EXPECT_TRUE(is_error(post(a, "/v1/events", event_body("u", "gig.paid", R"("occurredAt":")" + ago(31 * day_ms) + "\"")),
                       400, "BACKFILL_REQUIRED"));
  const http_response backfill = post(
      a, "/v1/events", event_body("u", "gig.paid", R"("occurredAt":")" + ago(300 * day_ms) + R"(","batchType":"BACKFILL")"));
  EXPECT_EQ(backfill.status, 201) << backfill.body;
  EXPECT_TRUE(is_error(post(a, "/v1/events", event_body("u", "gig.paid", R"("occurredAt":"last week")")), 400,
                       "VALIDATION_ERROR"));
  EXPECT_TRUE(is_error(post(a, "/v1/events", event_body("u", "gig.paid", R"("significance":5)")), 400, "VALIDATION_ERROR"));
  EXPECT_TRUE(is_error(post(a, "/v1/events", event_body("u", "gig.paid", R"("actorType":"ROBOT")")), 400,
                       "VALIDATION_ERROR"));
  EXPECT_TRUE(is_error(post(a, "/v1/events", event_body("u", "gig.paid", R"("batchType":"NIGHTLY")")), 400,
                       "VALIDATION_ERROR"));
  EXPECT_TRUE(is_error(post(a, "/v1/events", R"({"eventType":"gig.paid"})"), 400, "VALIDATION_ERROR"));
  EXPECT_TRUE(is_error(post(a, "/v1/events", R"({"userExternalId":"u","eventType":"gig.paid")"), 400, "INVALID_JSON"));
  EXPECT_TRUE(is_error(post(a, "/v1/events", event_body("u", "gig.paid"), std::string(256, 'k')), 400, "INVALID_IDEMPOTENCY_KEY"));
  EXPECT_TRUE(is_error(call("POST", "/v1/events", event_body("u", "gig.paid"), a.key, "text/plain"), 415,
                       "UNSUPPORTED_MEDIA_TYPE"));
  EXPECT_TRUE(is_error(call("POST", "/v1/events", event_body("u", "gig.paid")), 401, "UNAUTHORIZED"));
  // None of the refused requests wrote anything: only the backfill is listed.
  const json list = body_json(get(a, "/v1/events"));
  EXPECT_EQ(list["events"].items.size(), 1u);
}

// HTTP/1.1 pipelining: events sent in one write are handled without waiting for each other's
// commit (net/shard.h, "Pipelined writes"), and still answered in order; a bad event among
// them gets its 400 in its place; a read behind them waits and sees every event before it.
TEST_F(evidence_server, PipelinedEventsAreAnsweredInOrderAndAReadBehindThemSeesThem) {
  const tenant a = make_tenant("a");
  auto request = [&](std::string_view method, std::string_view target, std::string_view body) {
    std::string r = std::string(method) + " " + std::string(target) + " HTTP/1.1\r\nHost: t\r\nx-api-key: " + a.key + "\r\n";
    if (!body.empty()) {
      r += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
    }
    return r + "\r\n" + std::string(body);
  };
  constexpr int count = 40;
  constexpr int bad = 10;   // an unknown event type
  constexpr int read = 25;  // GET /v1/events
  std::string bytes;
  for (int i = 0; i < count; ++i) {
    if (i == read) {
      bytes += request("GET", "/v1/events?limit=500", {});
    } else {
      bytes += request("POST", "/v1/events", event_body("p" + std::to_string(i), i == bad ? "gig.flew" : "gig.paid"));
    }
  }
  http_client c(port());
  std::vector<http_response> answers;
  auto first = c.raw(bytes);
  ASSERT_TRUE(first);
  answers.push_back(*first);
  while (answers.size() < count) {
    auto r = c.next();
    ASSERT_TRUE(r) << "answer " << answers.size();
    answers.push_back(*r);
  }
  std::set<std::string> ids_before_read;
  for (int i = 0; i < count; ++i) {
    const http_response& r = answers[static_cast<std::size_t>(i)];
    if (i == bad) {
      EXPECT_TRUE(is_error(r, 400, "INVALID_EVENT_TYPE")) << r.body;
    } else if (i == read) {
      ASSERT_EQ(r.status, 200) << r.body;
      std::set<std::string> listed;
      const json page = body_json(r);
      for (const json& e : page["events"].items) listed.insert(e["id"].string);
      EXPECT_EQ(listed, ids_before_read);  // every event before the read, nothing after it
    } else {
      ASSERT_EQ(r.status, 201) << i << ": " << r.body;
      const json e = body_json(r);
      EXPECT_EQ(e["entityId"].string, entity_hex(a.id, "p" + std::to_string(i))) << i;
      if (i < read) ids_before_read.insert(e["id"].string);
    }
  }
  EXPECT_EQ(ids_before_read.size(), static_cast<std::size_t>(read - 1));
  // All 38 stored.
  const http_response all = get(a, "/v1/events?limit=500");
  ASSERT_EQ(all.status, 200);
  EXPECT_EQ(body_json(all)["events"].items.size(), static_cast<std::size_t>(count - 2));
}

TEST_F(evidence_server, IdempotencyKeyReplaysAndRefusesAnotherPayload) {
  const tenant a = make_tenant("a");
  const std::string body = event_body("u", "gig.paid");
  const http_response first = post(a, "/v1/events", body, "evt-1");
  ASSERT_EQ(first.status, 201) << first.body;
  const http_response again = post(a, "/events", body, "evt-1");  // the alias shares the scope
  EXPECT_EQ(again.status, 201);
  EXPECT_EQ(again.header("X-Idempotency-Replay"), "true");
  EXPECT_EQ(again.body, first.body);
  EXPECT_TRUE(is_error(post(a, "/v1/events", event_body("u", "gig.completed"), "evt-1"), 422, "IDEMPOTENCY_KEY_REUSED"));
  // Another workspace's same key is its own.
  const tenant b = make_tenant("b");
  const http_response other = post(b, "/v1/events", body, "evt-1");
  EXPECT_EQ(other.status, 201);
  EXPECT_EQ(other.header("X-Idempotency-Replay"), "");
  EXPECT_EQ(body_json(get(a, "/v1/events"))["events"].items.size(), 1u);
}

// Racing submissions of one event — under one Idempotency-Key, and without one (auto-dedup)
// — over connections on both shards: exactly one event is stored and counted; every other
// answer is 409 IDEMPOTENCY_IN_PROGRESS or a replay of it.
TEST_F(evidence_server, RacingSubmissionsStoreExactlyOneEvent) {
  const tenant a = make_tenant("a");
  constexpr int clients = 32;
  for (const bool auto_key : {false, true}) {
    std::vector<std::unique_ptr<http_client>> conns;
    for (int i = 0; i < clients; ++i) {
      conns.push_back(std::make_unique<http_client>(port()));
      ASSERT_TRUE(conns.back()->connect());
    }
    const std::string user = auto_key ? "racer-auto" : "racer-key";
    const std::string body = event_body(user, "gig.paid", R"("occurredAt":")" + ago(1000) + "\"");
    header_list headers{{"x-api-key", a.key}, {"Content-Type", "application/json"}};
    if (!auto_key) headers.emplace_back("Idempotency-Key", "race");
    std::vector<std::optional<http_response>> answers(clients);
    std::latch go(clients);
    std::vector<std::thread> threads;
    for (int i = 0; i < clients; ++i) {
      threads.emplace_back([&, i] {
        go.arrive_and_wait();
        answers[static_cast<std::size_t>(i)] = conns[static_cast<std::size_t>(i)]->request("POST", "/v1/events", body, headers);
      });
    }
    for (auto& t : threads) t.join();
    int originals = 0;
    std::set<std::string> bodies;
    for (const auto& r : answers) {
      ASSERT_TRUE(r.has_value());
      if (r->status == 201) {
        originals += r->header("X-Idempotency-Replay").empty() ? 1 : 0;
        EXPECT_EQ(r->header("X-Idempotency-Auto"), auto_key && !r->header("X-Idempotency-Replay").empty() ? "true" : "");
        bodies.insert(r->body);
      } else {
        EXPECT_TRUE(is_error(r, 409, "IDEMPOTENCY_IN_PROGRESS"));
      }
    }
    EXPECT_EQ(originals, 1);
    EXPECT_EQ(bodies.size(), 1u);
    EXPECT_EQ(history(a, user)["eventCount"].integer, 1);
    EXPECT_EQ(body_json(get(a, "/v1/events?userExternalId=" + user))["events"].items.size(), 1u);
  }
}

TEST_F(evidence_server, AutoDedupOnlyWhenOccurredAtIsGiven) {
  const tenant a = make_tenant("a");
  const std::string with_time = event_body("u", "gig.paid", R"("occurredAt":")" + ago(60'000) + "\"");
  const http_response first = post(a, "/v1/events", with_time);
  ASSERT_EQ(first.status, 201);
  const http_response again = post(a, "/v1/events", with_time);
  EXPECT_EQ(again.status, 201);
  EXPECT_EQ(again.header("X-Idempotency-Replay"), "true");
  EXPECT_EQ(again.header("X-Idempotency-Auto"), "true");
  EXPECT_EQ(again.body, first.body);
  // Without occurredAt every submission is a new event.
  EXPECT_EQ(post(a, "/v1/events", event_body("u", "gig.paid")).status, 201);
  const http_response second = post(a, "/v1/events", event_body("u", "gig.paid"));
  EXPECT_EQ(second.status, 201);
  EXPECT_EQ(second.header("X-Idempotency-Replay"), "");
  EXPECT_EQ(body_json(get(a, "/v1/events"))["events"].items.size(), 3u);
  EXPECT_EQ(history(a, "u")["eventCount"].integer, 3);
}

TEST_F(evidence_server, ListEventsNewestFirstWithFiltersAndPaging) {
  const tenant a = make_tenant("a");
  std::vector<std::string> ids;  // in submission order
  for (int i = 0; i < 7; ++i) {
    const std::string user = i % 2 == 0 ? "even" : "odd";
    const std::string type = i < 4 ? "gig.paid" : "review.submitted";
    const http_response r = post(a, "/v1/events", event_body(user, type, R"("occurredAt":")" + ago((10 - i) * day_ms) + "\""));
    ASSERT_EQ(r.status, 201) << r.body;
    ids.push_back(body_json(r)["id"].string);
  }
  auto listed = [&](std::string_view query) {
    const http_response r = get(a, "/v1/events" + std::string(query));
    EXPECT_EQ(r.status, 200) << r.body;
    const json j = body_json(r);
    std::vector<std::string> out;
    for (const json& e : j["events"].items) out.push_back(e["id"].string);
    return std::make_pair(out, j["nextCursor"]);
  };
  auto [all, end] = listed("");
  EXPECT_EQ(all, (std::vector<std::string>{ids[6], ids[5], ids[4], ids[3], ids[2], ids[1], ids[0]}));
  EXPECT_TRUE(end.is_null());
  EXPECT_EQ(listed("?userExternalId=odd").first, (std::vector<std::string>{ids[5], ids[3], ids[1]}));
  EXPECT_EQ(listed("?eventType=review.submitted").first, (std::vector<std::string>{ids[6], ids[5], ids[4]}));
  // since <= occurredAt < until; ':' percent-encoded or not.
  const std::string since = ago(8 * day_ms + 3600'000);
  const std::string until = ago(5 * day_ms + 3600'000);
  EXPECT_EQ(listed("?since=" + since + "&until=" + until).first, (std::vector<std::string>{ids[4], ids[3], ids[2]}));
  std::string encoded = since;
  for (std::size_t p; (p = encoded.find(':')) != std::string::npos;) encoded.replace(p, 1, "%3A");
  EXPECT_EQ(listed("?since=" + encoded + "&userExternalId=even").first, (std::vector<std::string>{ids[6], ids[4], ids[2]}));
  // Paging: 3 + 3 + 1, cursors opaque and continuing.
  std::vector<std::string> paged;
  std::string cursor;
  int pages = 0;
  for (;;) {
    auto [page, next] = listed("?limit=3" + (cursor.empty() ? std::string() : "&cursor=" + cursor));
    paged.insert(paged.end(), page.begin(), page.end());
    ++pages;
    if (next.is_null()) break;
    cursor = next.string;
  }
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(paged, all);
  EXPECT_TRUE(is_error(get(a, "/v1/events?limit=0"), 400, "VALIDATION_ERROR"));
  EXPECT_TRUE(is_error(get(a, "/v1/events?limit=501"), 400, "VALIDATION_ERROR"));
  EXPECT_EQ(get(a, "/v1/events?limit=500").status, 200);
  EXPECT_TRUE(is_error(get(a, "/v1/events?cursor=nonsense"), 400, "VALIDATION_ERROR"));
  EXPECT_TRUE(is_error(get(a, "/v1/events?since=yesterday"), 400, "VALIDATION_ERROR"));
  EXPECT_TRUE(is_error(get(a, "/v1/events?eventType=gig.flew"), 400, "INVALID_EVENT_TYPE"));
  EXPECT_TRUE(is_error(get(a, "/v1/events?userExternalId=%zz"), 400, "VALIDATION_ERROR"));
  EXPECT_EQ(listed("").first, listed("").first);
  EXPECT_EQ(get(a, "/events?limit=1").status, 200);
}

TEST_F(evidence_server, HistoryOfAnUnknownEntityIsTierZero) {
  const tenant a = make_tenant("a");
  const json h = history(a, "nobody");
  EXPECT_EQ(h.keys(), (std::vector<std::string>{"entityId", "tier", "eventCount", "countedEventCount", "platformCount",
                                                 "firstEventAt", "lastEventAt", "historyAgeDays", "claimStatus", "claims"}));
  EXPECT_EQ(h["entityId"].string, entity_hex(a.id, "nobody"));
  EXPECT_EQ(h["tier"].integer, 0);
  EXPECT_EQ(h["eventCount"].integer, 0);
  EXPECT_TRUE(h["firstEventAt"].is_null());
  EXPECT_TRUE(h["lastEventAt"].is_null());
  EXPECT_EQ(h["claimStatus"].string, "clean");
  EXPECT_EQ(h["claims"].keys(), (std::vector<std::string>{"open", "disputed", "upheld", "dismissed", "withdrawn"}));
  EXPECT_TRUE(is_error(get(a, "/v1/history/" + std::string(256, 'x')), 400, "VALIDATION_ERROR"));
}

TEST_F(evidence_server, HistoryCountsAndTierFromTheIndex) {
  const tenant a = make_tenant("a");
  // 10 counted events 20 days old, one that does not count, one signal.
  for (int i = 0; i < 10; ++i) {
    ASSERT_EQ(post(a, "/v1/events", event_body("worker 7", "gig.completed", R"("occurredAt":")" + ago(20 * day_ms - i * 1000) + "\"")).status, 201);
  }
  ASSERT_EQ(post(a, "/v1/events", event_body("worker 7", "gig.cancelled")).status, 201);
  ASSERT_EQ(post(a, "/v1/events", event_body("worker 7", "signal.fraud_suspected")).status, 201);
  const json h = history(a, "worker%207");  // percent-encoded path segment
  EXPECT_EQ(h["entityId"].string, entity_hex(a.id, "worker 7"));
  EXPECT_EQ(h["eventCount"].integer, 12);
  EXPECT_EQ(h["countedEventCount"].integer, 10);
  EXPECT_EQ(h["platformCount"].integer, 1);
  EXPECT_EQ(h["historyAgeDays"].integer, 20);  // the earliest counted event is 20 days old
  EXPECT_EQ(h["tier"].integer, 1);                 // >= 10 counted, >= 14 days (enterprise: partners not needed)
  EXPECT_EQ(h["firstEventAt"].string, body_json(get(a, "/v1/events?limit=500"))["events"].items.back()["occurredAt"].string);
  EXPECT_TRUE(is_rfc3339_ms(h["lastEventAt"].string));
}

// The policy routes decide on the same index: history earns tiers, claims tighten.
TEST_F(evidence_server, EvaluateDecidesOnTheActorsHistoryAndClaims) {
  const tenant a = make_tenant("a");
  auto decide = [&](std::string_view action) {
    const http_response r = post(a, "/v1/policy/evaluate",
                                 R"({"actor":{"type":"human","id":"worker 9"},"action":")" + std::string(action) + "\"}");
    EXPECT_EQ(r.status, 200) << r.body;
    return body_json(r);
  };
  json d = decide("message.send");  // allow at tier 1, limit at 0
  EXPECT_EQ(d["tier"].integer, 0);
  EXPECT_EQ(d["decision"].string, "LIMIT");
  for (int i = 0; i < 10; ++i) {
    ASSERT_EQ(post(a, "/v1/events", event_body("worker 9", "gig.completed", R"("occurredAt":")" + ago(20 * day_ms - i * 1000) + "\"")).status, 201);
  }
  d = decide("message.send");
  EXPECT_EQ(d["tier"].integer, 1);
  EXPECT_EQ(d["decision"].string, "ALLOW");
  EXPECT_EQ(d["claimStatus"].string, "clean");
  EXPECT_EQ(decide("data.export")["decision"].string, "LIMIT");  // allow 2, limit 1
  // An open claim flags the actor: low risk tightens one step, high risk is denied.
  ASSERT_EQ(post(a, "/v1/claims", R"({"userExternalId":"worker 9","claimType":"fraud"})").status, 201);
  d = decide("message.send");
  EXPECT_EQ(d["claimStatus"].string, "flagged");
  EXPECT_EQ(d["decision"].string, "STEP_UP");
  EXPECT_EQ(decide("payout.request")["decision"].string, "DENY");
  // Another workspace (another namespace) knows nothing of this actor.
  const tenant b = make_tenant("b");
  const http_response other = post(b, "/v1/policy/evaluate", R"({"actor_id":"worker 9","action":"message.send"})");
  EXPECT_EQ(body_json(other)["tier"].integer, 0);
  EXPECT_EQ(body_json(other)["claimStatus"].string, "clean");
}

TEST_F(evidence_server, ClaimLifecycle) {
  const tenant a = make_tenant("a", "market");
  const tenant b = make_tenant("b", "market");  // same namespace: may dispute, may not uphold
  const tenant c = make_tenant("c");            // another namespace: sees nothing
  const http_response filed = post(a, "/v1/claims", R"({"userExternalId":"u","claimType":"chargeback","reference":"case-1"})", "claim-1");
  ASSERT_EQ(filed.status, 201) << filed.body;
  const json claim = body_json(filed);
  EXPECT_EQ(claim["status"].string, "open");
  EXPECT_EQ(claim["filedBy"].string, a.id);
  EXPECT_EQ(claim["claimType"].string, "chargeback");
  EXPECT_EQ(claim["entityId"].string, entity_hex("market", "u"));
  EXPECT_TRUE(is_rfc3339_ms(claim["filedAt"].string));
  const std::string id = claim["id"].string;
  // Idempotent filing.
  const http_response replay = post(a, "/claims", R"({"userExternalId":"u","claimType":"chargeback","reference":"case-1"})", "claim-1");
  EXPECT_EQ(replay.header("X-Idempotency-Replay"), "true");
  EXPECT_EQ(replay.body, filed.body);
  EXPECT_EQ(history(a, "u")["claimStatus"].string, "flagged");
  EXPECT_EQ(history(b, "u")["claims"]["open"].integer, 1);  // shared namespace, shared facts
  EXPECT_EQ(history(c, "u")["claims"]["open"].integer, 0);

  EXPECT_TRUE(is_error(post(c, "/v1/claims/" + id + "/dispute", ""), 404, "NOT_FOUND"));
  EXPECT_TRUE(is_error(post(b, "/v1/claims/" + id + "/uphold", ""), 403, "FORBIDDEN"));
  const http_response disputed = post(b, "/v1/claims/" + id + "/dispute", R"({"reason":"not me"})");
  ASSERT_EQ(disputed.status, 200) << disputed.body;
  EXPECT_EQ(body_json(disputed)["status"].string, "disputed");
  EXPECT_EQ(history(a, "u")["claimStatus"].string, "contested");
  const http_response again = post(a, "/v1/claims/" + id + "/dispute", "");
  EXPECT_TRUE(is_error(again, 409, "INVALID_CLAIM_TRANSITION"));
  EXPECT_EQ(body_json(again)["status"].string, "disputed");
  const http_response upheld = post(a, "/v1/claims/" + id + "/uphold", "");
  ASSERT_EQ(upheld.status, 200) << upheld.body;
  EXPECT_EQ(body_json(upheld)["status"].string, "upheld");
  const json h = history(a, "u");
  EXPECT_EQ(h["claimStatus"].string, "flagged");  // upheld within 365 days
  EXPECT_EQ(h["claims"]["upheld"].integer, 1);
  EXPECT_EQ(h["claims"]["disputed"].integer, 0);
  EXPECT_EQ(h["tier"].integer, 0);  // claims never change tier
  const http_response terminal = post(a, "/v1/claims/" + id + "/withdraw", "");
  EXPECT_TRUE(is_error(terminal, 409, "INVALID_CLAIM_TRANSITION"));
  EXPECT_EQ(body_json(terminal)["status"].string, "upheld");

  // Dismiss and withdraw by the filer.
  const std::string second = body_json(post(a, "/v1/claims", R"({"userExternalId":"v","claimType":"fraud"})"))["id"].string;
  EXPECT_EQ(body_json(post(a, "/claims/" + second + "/dismiss", ""))["status"].string, "dismissed");
  const std::string third = body_json(post(a, "/v1/claims", R"({"userExternalId":"v","claimType":"abuse"})"))["id"].string;
  EXPECT_TRUE(is_error(post(b, "/v1/claims/" + third + "/withdraw", ""), 403, "FORBIDDEN"));
  EXPECT_EQ(body_json(post(a, "/v1/claims/" + third + "/withdraw", "{}"))["status"].string, "withdrawn");
  const json hv = history(a, "v");
  EXPECT_EQ(hv["claims"]["dismissed"].integer, 1);
  EXPECT_EQ(hv["claims"]["withdrawn"].integer, 1);
  EXPECT_EQ(hv["claimStatus"].string, "clean");

  // Errors.
  EXPECT_TRUE(is_error(post(a, "/v1/claims/" + std::string("0190a0a0-0000-7000-8000-000000000000") + "/uphold", ""), 404, "NOT_FOUND"));
  EXPECT_TRUE(is_error(post(a, "/v1/claims/not-an-id/uphold", ""), 404, "NOT_FOUND"));
  EXPECT_TRUE(is_error(post(a, "/v1/claims/" + id + "/uphold", R"({"reason":"x"})"), 400, "UNKNOWN_FIELD"));
  EXPECT_TRUE(is_error(post(a, "/v1/claims", R"({"userExternalId":"u","claimType":"theft"})"), 400, "VALIDATION_ERROR"));
  EXPECT_TRUE(is_error(post(a, "/v1/claims", R"({"userExternalId":"u","claimType":"fraud","x":1})"), 400, "UNKNOWN_FIELD"));
  EXPECT_TRUE(is_error(post(a, "/v1/claims", R"({"userExternalId":"u","claimType":"fraud"})", "claim-1"), 422,
                       "IDEMPOTENCY_KEY_REUSED"));

  // Lists: own claims only, filters, paging.
  auto listed = [&](const tenant& t, std::string_view query) {
    const http_response r = get(t, "/v1/claims" + std::string(query));
    EXPECT_EQ(r.status, 200) << r.body;
    return body_json(r);
  };
  EXPECT_EQ(listed(a, "")["claims"].items.size(), 3u);
  EXPECT_EQ(listed(a, "")["claims"].items[0]["id"].string, third);  // newest first
  EXPECT_EQ(listed(a, "?userExternalId=v")["claims"].items.size(), 2u);
  EXPECT_EQ(listed(a, "?status=upheld")["claims"].items.size(), 1u);
  EXPECT_EQ(listed(a, "?status=open")["claims"].items.size(), 0u);
  const json p1 = listed(a, "?limit=2");
  EXPECT_EQ(p1["claims"].items.size(), 2u);
  const json p2 = listed(a, "?limit=2&cursor=" + p1["nextCursor"].string);
  EXPECT_EQ(p2["claims"].items.size(), 1u);
  EXPECT_TRUE(p2["nextCursor"].is_null());
  EXPECT_EQ(listed(b, "")["claims"].items.size(), 0u);
  EXPECT_EQ(listed(c, "")["claims"].items.size(), 0u);
  EXPECT_TRUE(is_error(get(a, "/v1/claims?status=closed"), 400, "VALIDATION_ERROR"));
  EXPECT_TRUE(is_error(get(a, "/v1/claims?limit=9999"), 400, "VALIDATION_ERROR"));
}

TEST_F(evidence_server, WorkspacesNeverSeeEachOthersEventsOrClaims) {
  const tenant a = make_tenant("a");
  const tenant b = make_tenant("b");
  ASSERT_EQ(post(a, "/v1/events", event_body("same-user", "gig.paid")).status, 201);
  ASSERT_EQ(post(a, "/v1/claims", R"({"userExternalId":"same-user","claimType":"fraud"})").status, 201);
  EXPECT_EQ(body_json(get(b, "/v1/events"))["events"].items.size(), 0u);
  EXPECT_EQ(body_json(get(b, "/v1/events?userExternalId=same-user"))["events"].items.size(), 0u);
  EXPECT_EQ(body_json(get(b, "/v1/claims"))["claims"].items.size(), 0u);
  const json hb = history(b, "same-user");
  EXPECT_EQ(hb["eventCount"].integer, 0);
  EXPECT_EQ(hb["claimStatus"].string, "clean");
  EXPECT_NE(hb["entityId"].string, history(a, "same-user")["entityId"].string);
  // A's cursor is meaningless to B: it pages B's own range.
  const std::string a_event = body_json(get(a, "/v1/events"))["events"].items[0]["id"].string;
  EXPECT_EQ(body_json(get(b, "/v1/events?cursor=" + a_event))["events"].items.size(), 0u);
}

TEST_F(evidence_server, OneIdentityNamespaceSharesHistoryAcrossWorkspaces) {
  const tenant a = make_tenant("a", "shared");
  const tenant b = make_tenant("b", "shared");
  const tenant c = make_tenant("c", "elsewhere");
  for (const tenant* t : {&a, &b, &c}) {
    ASSERT_EQ(post(*t, "/v1/events", event_body("user-x", "transaction.completed")).status, 201);
  }
  const json ha = history(a, "user-x");
  EXPECT_EQ(ha["platformCount"].integer, 2);
  EXPECT_EQ(ha["eventCount"].integer, 2);
  EXPECT_EQ(ha["entityId"].string, entity_hex("shared", "user-x"));
  EXPECT_EQ(history(b, "user-x").dump(), ha.dump());
  const json hc = history(c, "user-x");
  EXPECT_EQ(hc["platformCount"].integer, 1);
  EXPECT_EQ(hc["eventCount"].integer, 1);
  // Each still lists only its own events.
  EXPECT_EQ(body_json(get(a, "/v1/events"))["events"].items.size(), 1u);
  EXPECT_EQ(body_json(get(b, "/v1/events"))["events"].items[0]["partnerId"].string, b.id);
}

// A random workload over three workspaces (two sharing a namespace), then a restart: the
// rebuilt index answers every history exactly as the live one did, and lists are unchanged.
TEST_F(evidence_server, RestartRebuildsTheIndexToIdenticalHistories) {
  const std::vector<tenant> tenants = {make_tenant("a", "shared"), make_tenant("b", "shared"), make_tenant("c")};
  std::mt19937_64 rng(6);
  std::vector<std::pair<std::size_t, std::string>> claims;  // (tenant, id)
  const std::vector<std::string> types = {"gig.completed", "gig.cancelled", "review.submitted", "signal.velocity_anomaly",
                                          "account.created", "lending.defaulted"};
  const std::vector<std::string> actions = {"dispute", "uphold", "dismiss", "withdraw"};
  for (int op = 0; op < 150; ++op) {
    const std::size_t t = rng() % tenants.size();
    const std::string user = "u" + std::to_string(rng() % 8);
    const std::uint64_t dice = rng() % 10;
    if (dice < 7) {
      const std::string occurred = ago(static_cast<std::int64_t>(rng() % (25 * day_ms)));
      ASSERT_EQ(post(tenants[t], "/v1/events", event_body(user, types[rng() % types.size()], R"("occurredAt":")" + occurred + "\"")).status, 201);
    } else if (dice < 9 || claims.empty()) {
      const http_response r = post(tenants[t], "/v1/claims", R"({"userExternalId":")" + user + R"(","claimType":"abuse"})");
      ASSERT_EQ(r.status, 201);
      claims.emplace_back(t, body_json(r)["id"].string);
    } else {
      const auto& [filer, id] = claims[rng() % claims.size()];
      const std::size_t actor = rng() % 2 == 0 ? filer : rng() % tenants.size();
      const int status = post(tenants[actor], "/v1/claims/" + id + "/" + actions[rng() % actions.size()], "").status;
      EXPECT_TRUE(status == 200 || status == 403 || status == 404 || status == 409) << status;
    }
  }
  auto snapshot = [&] {
    std::map<std::string, std::string> out;
    for (std::size_t t = 0; t < tenants.size(); ++t) {
      for (int u = 0; u < 8; ++u) {
        json h = history(tenants[t], "u" + std::to_string(u));
        h.set("historyAgeDays", json::of(std::int64_t{0}));  // a day may turn between the two reads
        out[std::to_string(t) + "/" + std::to_string(u)] = h.dump();
      }
      out[std::to_string(t) + "/events"] = get(tenants[t], "/v1/events?limit=500").body;
      out[std::to_string(t) + "/claims"] = get(tenants[t], "/v1/claims?limit=500").body;
    }
    return out;
  };
  const auto before = snapshot();
  stop();
  start();
  EXPECT_NE(server().stderr_text().find("rebuilt the entity index"), std::string::npos);
  const auto after = snapshot();
  EXPECT_EQ(before, after);
}

}  // namespace
}  // namespace warrant::test
