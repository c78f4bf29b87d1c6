#include "engine/idempotency/fingerprint.h"

#include <openssl/evp.h>

#include <cstdlib>
#include <memory>

namespace warrant::engine::idempotency {
namespace {

// Domain separation: a digest of one kind never equals a digest of another over the same fields.
constexpr std::string_view scope_tag = "warrant.idempotency.scope.v1";
constexpr std::string_view fingerprint_tag = "warrant.idempotency.fingerprint.v1";

struct md_ctx_free {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

EVP_MD_CTX* thread_ctx() {
  thread_local std::unique_ptr<EVP_MD_CTX, md_ctx_free> ctx(EVP_MD_CTX_new());
  if (!ctx) std::abort();  // out of memory
  return ctx.get();
}

void update_field(EVP_MD_CTX* ctx, std::string_view field) {
  unsigned char length[8];
  std::uint64_t n = field.size();
  for (int i = 7; i >= 0; --i) {
    length[i] = static_cast<unsigned char>(n & 0xff);
    n >>= 8;
  }
  EVP_DigestUpdate(ctx, length, sizeof length);
  EVP_DigestUpdate(ctx, field.data(), field.size());
}

}  // namespace

digest hash_fields(std::initializer_list<std::string_view> fields) {
  EVP_MD_CTX* ctx = thread_ctx();
  digest out{};
  unsigned int len = 0;
  if (EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) != 1) std::abort();
  for (const std::string_view f : fields) update_field(ctx, f);
  if (EVP_DigestFinal_ex(ctx, out.data(), &len) != 1 || len != out.size()) std::abort();
  return out;
}

digest scope_digest(std::string_view workspace_id, std::string_view method, std::string_view route_pattern,
                    key_kind kind, std::string_view key) {
  const char kind_byte = static_cast<char>(kind);
  return hash_fields({scope_tag, workspace_id, method, route_pattern, std::string_view(&kind_byte, 1), key});
}

digest request_fingerprint(std::string_view method, std::string_view route_pattern, std::string_view canonical_body) {
  return hash_fields({fingerprint_tag, method, route_pattern, canonical_body});
}

std::uint64_t scope_hash(const digest& d) {
  std::uint64_t h = 0;
  for (std::size_t i = 0; i < 8; ++i) h = (h << 8) | d[i];
  return h == 0 ? 1 : h;
}

std::string hex(const digest& d) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(d.size() * 2);
  for (const unsigned char b : d) {
    out.push_back(digits[b >> 4]);
    out.push_back(digits[b & 0xf]);
  }
  return out;
}

}  // namespace warrant::engine::idempotency
