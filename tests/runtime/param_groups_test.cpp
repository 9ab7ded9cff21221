// param_groups_test.cpp: parameter groups (freeze, lr_scale) and init-map rules, by hand.
#include "train/ParamGroups.h"

#include <gtest/gtest.h>

using namespace mtlrt;

TEST(ParamGroups, NamesPrefixesAndPatterns) {
  // A name is a value or task (its tensors NAME.*) or one tensor's full name.
  EXPECT_TRUE(inGroup("trunk", "trunk.0.weight"));
  EXPECT_TRUE(inGroup("trunk.0.weight", "trunk.0.weight"));
  EXPECT_FALSE(inGroup("trunk", "trunk2.0.weight")); // a prefix of the name is not the group
  EXPECT_FALSE(inGroup("trunk.0", "trunk.03.bias"));
  // '*' matches any run of characters, none included.
  EXPECT_TRUE(inGroup("*.bias", "species.0.bias"));
  EXPECT_FALSE(inGroup("*.bias", "species.0.weight"));
  EXPECT_TRUE(inGroup("trunk.*", "trunk.3.weight"));
  EXPECT_TRUE(inGroup("trunk.*.weight", "trunk.12.weight"));
  EXPECT_FALSE(inGroup("trunk.*.weight", "tower.1.weight"));
  EXPECT_TRUE(inGroup("a*b", "ab"));
}

TEST(ParamGroups, InitRulesRenameWhatTheStarMatched) {
  Result<InitRule> star = parseInitRule("trunk.* <- encoder.*");
  ASSERT_TRUE(star.ok()) << star.error();
  EXPECT_EQ(star->model, "trunk.*");
  EXPECT_EQ(star->checkpoint, "encoder.*");
  EXPECT_EQ(mapName(*star, "trunk.2.bias"), "encoder.2.bias");
  EXPECT_EQ(mapName(*star, "tower.2.bias"), std::nullopt);
  Result<InitRule> middle = parseInitRule("trunk.*.weight<-enc.*.w");
  ASSERT_TRUE(middle.ok());
  EXPECT_EQ(mapName(*middle, "trunk.4.weight"), "enc.4.w");
  EXPECT_EQ(mapName(*middle, "trunk.4.bias"), std::nullopt);
  // Without '*', the model side is a group and the checkpoint side replaces its name.
  Result<InitRule> group = parseInitRule("trunk <- encoder");
  ASSERT_TRUE(group.ok());
  EXPECT_EQ(mapName(*group, "trunk.0.weight"), "encoder.0.weight");
  EXPECT_EQ(mapName(*group, "trunk2.0.weight"), std::nullopt);
  for (const char *bad : {"trunk -> encoder", "trunk.* <- encoder", "<- encoder", "a.*.* <- b.*.*"})
    EXPECT_FALSE(parseInitRule(bad).ok()) << bad;
}
