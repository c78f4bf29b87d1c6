// tests/evidence/catalogue_test.cc: the event catalogue (engine/evidence/catalogue.*) against
// the table of spec/evidence.md, copied here as text so the code is checked against the spec
// and not against itself.
#include "engine/evidence/catalogue.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace warrant::engine::evidence {
namespace {

// spec/evidence.md "Event catalogue", row by row.
constexpr std::string_view spec_table = R"(
transaction | initiated (0,n) completed (+,y) fulfilled (+,y) cancelled (0,n) refunded (0,n) disputed (-,n) chargeback (-,n)
account | created (0,y) verified (+,y) updated (0,n) reinstated (+,n) suspended (-,n) closed (0,n)
review | submitted (+,y) received (+,y) removed (-,n)
rating | given (+,y) received (0,y) flagged (-,n)
message | sent (0,y) received (0,n) response_provided (+,y) reported (-,n)
ai | task.completed (+,y) task.failed (0,n) action.approved (+,y) action.rejected (-,n) tool.invoked (0,y) escalated (0,n) policy_violation (-,n)
gig | accepted (0,y) completed (+,y) paid (+,y) cancelled (0,n) no_show (-,n)
lending | application_submitted (0,n) disbursed (+,y) repayment_made (+,y) paid_off (+,y) repayment_late (-,n) defaulted (-,n)
social | post_created (0,y) connection_made (+,y) content_removed (-,n) report_received (-,n)
signal | fraud_suspected (-,n) identity_mismatch (-,n) velocity_anomaly (-,n) device_shared (-,n)
)";

struct spec_row {
  std::string name;
  std::string category;
  char sign;  // + 0 -
  bool counts;
};

std::vector<spec_row> spec_rows() {
  std::vector<spec_row> rows;
  std::istringstream lines{std::string(spec_table)};
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    std::istringstream words(line);
    std::string category, bar, action, flags;
    words >> category >> bar;
    while (words >> action >> flags) {
      // flags is "(s,c)"
      rows.push_back({category + "." + action, category, flags[1], flags[3] == 'y'});
    }
  }
  return rows;
}

char sign_char(polarity p) { return p == polarity::positive ? '+' : p == polarity::negative ? '-' : '0'; }

TEST(EventCatalogue, HoldsExactlyTheSpecTableInItsOrder) {
  const std::vector<spec_row> rows = spec_rows();
  ASSERT_EQ(rows.size(), 49u);
  ASSERT_EQ(event_type_count, rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const event_type_info& t = event_catalogue[i];
    EXPECT_EQ(t.name, rows[i].name) << i;
    EXPECT_EQ(category_name(t.category), rows[i].category) << rows[i].name;
    EXPECT_EQ(sign_char(t.sign), rows[i].sign) << rows[i].name;
    EXPECT_EQ(t.counts, rows[i].counts) << rows[i].name;
  }
}

TEST(EventCatalogue, EveryTypeIsFoundUnderItsOwnId) {
  for (const spec_row& row : spec_rows()) {
    const auto id = find_event_type(row.name);
    ASSERT_TRUE(id.has_value()) << row.name;
    EXPECT_EQ(event_type(*id).name, row.name);
    EXPECT_EQ(event_type(*id).counts, row.counts) << row.name;
  }
}

TEST(EventCatalogue, IdsAreDenseAndDistinct) {
  std::set<int> ids;
  for (const auto& t : event_catalogue) ids.insert(static_cast<int>(*find_event_type(t.name)));
  EXPECT_EQ(ids.size(), event_type_count);
  EXPECT_EQ(*ids.begin(), 0);
  EXPECT_EQ(*ids.rbegin(), static_cast<int>(event_type_count) - 1);
}

TEST(EventCatalogue, NegativeAndSignalTypesNeverCount) {
  for (const auto& t : event_catalogue) {
    if (t.sign == polarity::negative || t.category == event_category::signal) {
      EXPECT_FALSE(t.counts) << t.name;
    }
  }
}

TEST(EventCatalogue, RejectsUnknownNames) {
  for (std::string_view name : {"", "a", "gig.paid.", "gig.pai", "gig.paidx", "GIG.PAID", "transaction", "transaction.",
                                "transaction.complete", "transaction.completed ", " transaction.completed",
                                "transaction.completed\n", "signal.*", "ai.task", "ai.task.completed.extra",
                                "lending.application_submitted_", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
                                "custom.event", "review.received.", "rating.received2"}) {
    EXPECT_FALSE(find_event_type(name).has_value()) << '"' << name << '"';
  }
  const std::string with_nul("gig.paid\0", 9);
  EXPECT_FALSE(find_event_type(with_nul).has_value());
}

// Every one-byte change of every name is either another catalogue name or unknown.
TEST(EventCatalogue, OneByteMutationsAreNeverMisread) {
  std::set<std::string> names;
  for (const auto& t : event_catalogue) names.emplace(t.name);
  std::size_t tried = 0;
  for (const auto& t : event_catalogue) {
    for (std::size_t at = 0; at < t.name.size(); ++at) {
      for (const char c : std::string_view("a_.zZ0\x80\xff")) {
        std::string m(t.name);
        if (m[at] == c) continue;
        m[at] = c;
        const auto id = find_event_type(m);
        if (names.count(m)) {
          ASSERT_TRUE(id.has_value()) << m;
          EXPECT_EQ(event_type(*id).name, m);
        } else {
          EXPECT_FALSE(id.has_value()) << m;
        }
        ++tried;
      }
      const std::string prefix(t.name.substr(0, at));
      if (!names.count(prefix)) {
        EXPECT_FALSE(find_event_type(prefix).has_value()) << prefix;
      }
    }
    EXPECT_FALSE(find_event_type(std::string(t.name) + "s").has_value()) << t.name;
  }
  EXPECT_GT(tried, 1000u);
}

TEST(EventCatalogue, ListingJsonHasEveryTypeInOrder) {
  const std::string_view json = event_types_json();
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(json.data(), json.size()).get(doc), simdjson::SUCCESS) << json;
  simdjson::dom::array types;
  ASSERT_EQ(doc["types"].get_array().get(types), simdjson::SUCCESS);
  const std::vector<spec_row> rows = spec_rows();
  ASSERT_EQ(types.size(), rows.size());
  std::size_t i = 0;
  for (simdjson::dom::element item : types) {
    simdjson::dom::object obj;
    ASSERT_EQ(item.get_object().get(obj), simdjson::SUCCESS);
    EXPECT_EQ(obj.size(), 4u);
    EXPECT_EQ(std::string_view(obj["type"]), rows[i].name);
    EXPECT_EQ(std::string_view(obj["category"]), rows[i].category);
    const std::string_view expected_polarity =
        rows[i].sign == '+' ? "positive" : rows[i].sign == '-' ? "negative" : "neutral";
    EXPECT_EQ(std::string_view(obj["polarity"]), expected_polarity) << rows[i].name;
    EXPECT_EQ(bool(obj["counts"]), rows[i].counts) << rows[i].name;
    ++i;
  }
  net::byte_buffer out;
  append_event_types_json(out);
  EXPECT_EQ(out.view(), json);
  EXPECT_EQ(event_types_json().data(), json.data());  // rendered once
}

}  // namespace
}  // namespace warrant::engine::evidence
