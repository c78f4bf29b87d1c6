#include "engine/evidence/catalogue.h"

#include <string>

#include "net/http_response.h"

namespace warrant::engine::evidence {

namespace {

// Every catalogue name is at least 8 bytes, so the hash can read its first and last 8 bytes
// as two words without a length branch; shorter input is not a catalogue name.
inline constexpr std::size_t name_bytes_min = [] {
  std::size_t n = event_catalogue[0].name.size();
  for (const auto& t : event_catalogue) n = t.name.size() < n ? t.name.size() : n;
  return n;
}();
static_assert(name_bytes_min >= 8, "the hash reads 8-byte words from both ends of a name");

inline constexpr std::size_t slot_count = 256;  // slots hold row + 1; 0 is empty

// Little-endian word of s[at..at+8); the byte loop compiles to one load.
constexpr std::uint64_t word_at(std::string_view s, std::size_t at) {
  std::uint64_t w = 0;
  for (std::size_t i = 0; i < 8; ++i) w |= static_cast<std::uint64_t>(static_cast<unsigned char>(s[at + i])) << (8 * i);
  return w;
}

constexpr std::size_t slot_of(std::string_view s, std::uint64_t seed) {
  std::uint64_t h = seed ^ (s.size() * 0x9e3779b97f4a7c15ull);
  h ^= word_at(s, 0) * 0xc2b2ae3d27d4eb4full;
  h = (h ^ (h >> 29)) * 0xbf58476d1ce4e5b9ull;
  h ^= word_at(s, s.size() - 8) * 0x165667b19e3779f9ull;
  h = (h ^ (h >> 32)) * 0x94d049bb133111ebull;
  return static_cast<std::size_t>(h >> 56);  // top 8 bits: 0..255
}

struct perfect_hash {
  std::uint64_t seed = 0;
  std::array<std::uint8_t, slot_count> slots{};
  bool found = false;
};

// The first seed from `first` on under which no two catalogue names share a slot. The search
// from 1 finds 540; starting there, a compiler only verifies it (clang stops constant
// evaluation after 1M steps, too few for the whole search). A change to the catalogue that
// breaks the pinned seed resumes the search from it, or fails the static_assert below: then
// lower `pinned_seed` to 1 and build with gcc to find the new one.
inline constexpr std::uint64_t pinned_seed = 540;

constexpr perfect_hash find_perfect_hash(std::uint64_t first) {
  for (std::uint64_t seed = first; seed < first + 100'000; ++seed) {
    perfect_hash p;
    p.seed = seed;
    bool collided = false;
    for (std::size_t row = 0; row < event_type_count && !collided; ++row) {
      const std::size_t slot = slot_of(event_catalogue[row].name, seed);
      collided = p.slots[slot] != 0;
      p.slots[slot] = static_cast<std::uint8_t>(row + 1);
    }
    if (!collided) {
      p.found = true;
      return p;
    }
  }
  return {};
}

inline constexpr perfect_hash name_hash = find_perfect_hash(pinned_seed);
static_assert(name_hash.found, "no collision-free seed for the event catalogue; widen the slot table");

std::string render_event_types() {
  net::byte_buffer out;
  out.append("{\"types\":[");
  for (std::size_t i = 0; i < event_type_count; ++i) {
    const event_type_info& t = event_catalogue[i];
    if (i) out.push_back(',');
    out.append("{\"type\":");
    net::append_json_string(out, t.name);
    out.append(",\"category\":");
    net::append_json_string(out, category_name(t.category));
    out.append(",\"polarity\":");
    net::append_json_string(out, polarity_name(t.sign));
    out.append(t.counts ? ",\"counts\":true}" : ",\"counts\":false}");
  }
  out.append("]}");
  return std::string(out.view());
}

}  // namespace

std::optional<event_type_id> find_event_type(std::string_view name) {
  if (name.size() < name_bytes_min || name.size() > event_type_name_bytes_max) return std::nullopt;
  const std::uint8_t slot = name_hash.slots[slot_of(name, name_hash.seed)];
  if (slot == 0) return std::nullopt;
  const std::size_t row = slot - 1u;
  if (event_catalogue[row].name != name) return std::nullopt;
  return static_cast<event_type_id>(row);
}

std::string_view category_name(event_category c) {
  switch (c) {
    case event_category::transaction: return "transaction";
    case event_category::account: return "account";
    case event_category::review: return "review";
    case event_category::rating: return "rating";
    case event_category::message: return "message";
    case event_category::ai: return "ai";
    case event_category::gig: return "gig";
    case event_category::lending: return "lending";
    case event_category::social: return "social";
    case event_category::signal: return "signal";
  }
  return "";
}

std::string_view polarity_name(polarity p) {
  switch (p) {
    case polarity::positive: return "positive";
    case polarity::neutral: return "neutral";
    case polarity::negative: return "negative";
  }
  return "";
}

std::string_view event_types_json() {
  static const std::string json = render_event_types();
  return json;
}

void append_event_types_json(net::byte_buffer& out) { out.append(event_types_json()); }

}  // namespace warrant::engine::evidence
