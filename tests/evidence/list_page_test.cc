// tests/evidence/list_page_test.cc: engine/evidence/list_page.h over a real LMDB store —
// newest first within one owner's range, filters, full pages, the scan budget, cursors.
#include "engine/evidence/list_page.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "engine/common/ids.h"

namespace warrant::engine::evidence {
namespace {

using storage::table;

class list_page_test : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/warrant-list-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    _dir = tmpl;
    storage::lmdb_options o;
    o.path = _dir;
    o.map_size_bytes = 256ull << 20;
    _store = storage::lmdb_store::open(o);
    // Owners "w" and "w2" (a prefix of each other's name but for the separator); 20 events of
    // "w", every third of type review.submitted.
    storage::write_txn* txn = nullptr;
    ASSERT_EQ(_store->begin_write(txn), storage::errc::ok);
    for (int i = 0; i < 20; ++i) {
      for (const char* owner : {"w", "w2"}) {
        event_record e;
        e.id = new_uuid_v7(1'780'000'000'000 + i);
        e.workspace_id = owner;
        e.entity = compute_entity_id(owner, "u");
        e.type = *find_event_type(i % 3 == 0 ? "review.submitted" : "gig.paid");
        e.occurred_at_ms = e.received_at_ms = 1'780'000'000'000 + i;
        txn->put(table::events, *inverted_id_key(owner, e.id),
                 storage::encode_record(storage::record_type::event, encode_event(e)));
        if (std::string_view(owner) == "w") _ids.insert(_ids.begin(), e.id);  // newest first
      }
    }
    ASSERT_EQ(_store->commit(), storage::errc::ok);
  }
  void TearDown() override {
    _store.reset();
    std::filesystem::remove_all(_dir);
  }

  list_page<event_record> page(std::optional<std::string_view> cursor, std::size_t limit, std::size_t budget,
                               bool reviews_only = false) {
    storage::lmdb_store::reader r(*_store);
    const auto from = page_start_key("w", cursor);
    EXPECT_TRUE(from);
    return read_page<event_record>(
        r, table::events, storage::record_type::event, "w", *from, limit, budget,
        [](std::string_view p) { return decode_event(p); },
        [reviews_only](const event_record& e) { return !reviews_only || event_type(e.type).name == "review.submitted"; });
  }
  static std::vector<std::string> ids(const list_page<event_record>& p) {
    std::vector<std::string> out;
    for (const auto& e : p.records) out.push_back(e.id);
    return out;
  }

  std::string _dir;
  std::unique_ptr<storage::lmdb_store> _store;
  std::vector<std::string> _ids;
};

TEST_F(list_page_test, NewestFirstWithinTheOwnerAndCursorsContinue) {
  auto first = page(std::nullopt, 8, 10'000);
  EXPECT_EQ(ids(first), std::vector<std::string>(_ids.begin(), _ids.begin() + 8));
  ASSERT_EQ(first.next_cursor, _ids[7]);
  auto second = page(first.next_cursor, 8, 10'000);
  EXPECT_EQ(ids(second), std::vector<std::string>(_ids.begin() + 8, _ids.begin() + 16));
  auto last = page(second.next_cursor, 8, 10'000);
  EXPECT_EQ(ids(last), std::vector<std::string>(_ids.begin() + 16, _ids.end()));
  EXPECT_TRUE(last.next_cursor.empty());  // exactly the rest: no cursor
  EXPECT_TRUE(page(std::nullopt, 20, 10'000).next_cursor.empty());
  EXPECT_FALSE(page_start_key("w", std::string_view("not-an-id")));
}

TEST_F(list_page_test, TheScanBudgetEndsAPageEarlyWithACursor) {
  // 7 reviews among 20 (i = 0, 3, ..., 18). A budget of 4 records per page.
  std::vector<std::string> seen;
  std::optional<std::string> cursor;
  int pages = 0;
  for (;;) {
    auto p = page(cursor ? std::optional<std::string_view>(*cursor) : std::nullopt, 50, 4, true);
    ++pages;
    EXPECT_LE(p.records.size(), 4u);
    for (auto& id : ids(p)) seen.push_back(id);
    if (p.next_cursor.empty()) break;
    cursor = p.next_cursor;
    ASSERT_LT(pages, 20);
  }
  ASSERT_EQ(seen.size(), 7u);
  // 20 records, 4 per page; the fifth ends on the budget at the last record, so a sixth,
  // empty page says there is no more.
  EXPECT_EQ(pages, 6);
  for (std::size_t k = 0; k < seen.size(); ++k) EXPECT_EQ(seen[k], _ids[1 + 3 * k]) << k;  // i = 18, 15, ..., 0
}

}  // namespace
}  // namespace warrant::engine::evidence
