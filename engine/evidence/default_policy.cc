#include "engine/evidence/default_policy.h"

#include <cstdio>
#include <cstdlib>

#include "engine/evidence/policy_load.h"

namespace warrant::engine::evidence {

std::shared_ptr<const policy> default_policy() {
  static const std::shared_ptr<const policy> loaded = [] {
    policy_load_result r = load_policy(default_policy_text);
    if (!r.ok()) {
      std::fprintf(stderr, "warrant: the embedded default policy does not load: %s\n", r.error.to_string().c_str());
      std::abort();
    }
    return r.loaded;
  }();
  return loaded;
}

}  // namespace warrant::engine::evidence
