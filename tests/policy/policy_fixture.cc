#include "tests/policy/policy_fixture.h"

#include <chrono>
#include <thread>

namespace warrant::test {

http_response policy_fixture::fetch_decision(const std::string& id, const std::string& with_key) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (true) {
    http_response r = call("GET", "/v1/policy/decisions/" + id, {}, with_key);
    if (r.status != 404 || std::chrono::steady_clock::now() > deadline) return r;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace warrant::test
