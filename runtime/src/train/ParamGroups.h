// ParamGroups.h: naming sets of parameter tensors (freeze, lr_scale) and renaming them (init map).
#pragma once

#include "mtlrt/Abi.h"
#include "mtlrt/Result.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mtlrt {

/// Whether parameter `name` belongs to `group`. A group without '*' is a
/// shared value or task ("trunk": every tensor "trunk.*") or one tensor's
/// full name ("trunk.0.weight"); with '*', a pattern in which each '*'
/// matches any run of characters ("trunk.0.*", "*.bias").
bool inGroup(std::string_view group, std::string_view name);

/// The indices of `model`'s parameter tensors in `group`, or an error for a
/// group that has none: "freeze: 'trunkk' names no parameters of model 'm'
/// (its groups: trunk, species, sex); did you mean 'trunk'?". `what` names
/// the setting.
Result<std::vector<int32_t>> groupTensors(const mtl_model &model, const std::string &group,
                                          const char *what);

/// One rule of an init map, "MODEL <- CHECKPOINT": model parameters that
/// match MODEL take the checkpoint tensor named by CHECKPOINT, with the run
/// that MODEL's '*' matched put in place of CHECKPOINT's '*'. Without '*',
/// MODEL is a group as for inGroup, and CHECKPOINT replaces its prefix
/// ("trunk <- encoder": trunk.0.weight takes encoder.0.weight).
struct InitRule {
  std::string text; ///< as written, for messages
  std::string model, checkpoint;
};

/// Parses "trunk.* <- encoder.*"; an error says what a rule looks like.
Result<InitRule> parseInitRule(const std::string &text);

/// The checkpoint name for model parameter `name` under `rule`, if the rule applies.
std::optional<std::string> mapName(const InitRule &rule, std::string_view name);

} // namespace mtlrt
