// engine/evidence/default_policy.h: the shipped policy (engine/evidence/default-policy.yaml),
// compiled into the binary at build time (embed_policy.cmake), so warrantd needs no policy
// file at run time.
//
// `default_policy()` loads it on first use and keeps it; the embedded text is checked by a
// unit test to load cleanly and to equal the shipped file byte for byte. Any thread.
#pragma once

#include <memory>
#include <string_view>

#include "engine/evidence/policy.h"

namespace warrant::engine::evidence {

extern const std::string_view default_policy_text;

// The loaded default policy. Aborts if the embedded text does not load: that is a build defect,
// which the tests catch first.
std::shared_ptr<const policy> default_policy();

}  // namespace warrant::engine::evidence
