// The cluster node's lease decisions (node/lease_plan.h) as plain functions:
// fair share with capacities, claims, the release rule and its hold time.
#include "node/lease_plan.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace vigil {
namespace {

// "<prefix><n>" (built by append: g++ 12 warns falsely on "literal" + string).
std::string numbered(const char* prefix, int n) { return std::string(prefix).append(std::to_string(n)); }

// `held[i]` streams s0.. owned by node i ("a", "b", ...), `free` more unowned.
LeaseView view_of(const std::string& self, const std::vector<int>& held, int free, std::vector<int> caps = {}) {
  LeaseView v;
  v.self = self;
  int n = 0;
  for (std::size_t i = 0; i < held.size(); ++i) {
    const std::string name(1, static_cast<char>('a' + i));
    v.nodes.push_back({name, caps.empty() ? 0 : caps[i], 0});
    for (int k = 0; k < held[i]; ++k) {
      const std::string id = numbered("s", n++);
      v.streams.push_back(id);
      v.owners[id] = name;
    }
  }
  for (int k = 0; k < free; ++k) v.streams.push_back(numbered("s", n++));
  return v;
}

TEST(LeasePlan, FairShareIsCeilOfStreamsOverNodesWithoutCaps) {
  EXPECT_EQ(fair_share_level(4, {0, 0}), 2);
  EXPECT_EQ(fair_share_level(5, {0, 0}), 3);
  EXPECT_EQ(fair_share_level(1, {0, 0, 0}), 1);
  EXPECT_EQ(fair_share_level(0, {0, 0}), 0);
  EXPECT_EQ(fair_share_level(3, {}), 0);
}

TEST(LeasePlan, FairShareFillsAroundSmallCapacities) {
  EXPECT_EQ(fair_share_level(4, {1, 0}), 3);   // a takes 1, b 3
  EXPECT_EQ(fair_share_level(6, {1, 1, 0}), 4);
  EXPECT_EQ(fair_share_level(10, {2, 2}), 10);  // more than they hold: each at its cap
  EXPECT_EQ(node_quota(3, 1), 1);
  EXPECT_EQ(node_quota(3, 0), 3);
}

TEST(LeasePlan, ANodeClaimsFreeStreamsUpToItsQuota) {
  EXPECT_EQ(streams_to_claim(view_of("a", {0}, 4)).size(), 4U);  // alone: all
  EXPECT_EQ(streams_to_claim(view_of("a", {0, 0}, 4)).size(), 2U);
  EXPECT_EQ(streams_to_claim(view_of("b", {3, 0}, 1)).size(), 1U);
  EXPECT_TRUE(streams_to_claim(view_of("a", {2, 1}, 1)).empty());  // a at its quota of 2
  EXPECT_EQ(streams_to_claim(view_of("a", {0, 0}, 4, {1, 0})).size(), 1U);  // its capacity
}

TEST(LeasePlan, TwoNodesPreferDifferentStreams) {
  const auto a = streams_to_claim(view_of("node-a", {}, 0));
  LeaseView v;
  v.nodes = {{"node-a", 0, 0}, {"node-b", 0, 0}};
  for (int i = 0; i < 8; ++i) v.streams.push_back(numbered("cam", i));
  v.self = "node-a";
  const auto first_a = streams_to_claim(v);
  v.self = "node-b";
  const auto first_b = streams_to_claim(v);
  ASSERT_EQ(first_a.size(), 4U);
  ASSERT_EQ(first_b.size(), 4U);
  EXPECT_NE(first_a, first_b);
  EXPECT_TRUE(a.empty());  // a node not among the alive ones claims nothing
}

TEST(LeasePlan, ReleaseOnlyAboveTheFairShareWithAPeerTwoBelow) {
  EXPECT_TRUE(over_fair_share(view_of("a", {4, 0}, 0)));
  EXPECT_TRUE(over_fair_share(view_of("a", {3, 1}, 0)));   // quota 2, b two below
  EXPECT_FALSE(over_fair_share(view_of("a", {2, 2}, 0)));
  EXPECT_FALSE(over_fair_share(view_of("a", {3, 2}, 0)));  // 5 streams: quota 3
  EXPECT_TRUE(over_fair_share(view_of("b", {1, 3}, 0)));   // b holds the 3
  EXPECT_FALSE(over_fair_share(view_of("a", {3, 1}, 0, {0, 1})));  // b is at its capacity
  EXPECT_FALSE(over_fair_share(view_of("a", {4}, 0)));     // alone
}

TEST(LeasePlan, EverySplitSettlesEvenInTheFewestMoves) {
  // For every split of 4, 5 or 7 streams over 2 nodes, moving one stream at
  // a time by the rule ends at the even split in the fewest moves (never one back).
  for (int total : {4, 5, 7}) {
    for (int a = 0; a <= total; ++a) {
      int held_a = a, held_b = total - a, moves = 0;
      while (true) {
        const bool a_over = over_fair_share(view_of("a", {held_a, held_b}, 0));
        const bool b_over = over_fair_share(view_of("b", {held_a, held_b}, 0));
        ASSERT_FALSE(a_over && b_over);
        if (a_over) --held_a, ++held_b;
        else if (b_over) ++held_a, --held_b;
        else break;
        ASSERT_LE(++moves, total);
      }
      EXPECT_LE(std::abs(held_a - held_b), 1) << total << " streams from " << a;
      EXPECT_EQ(moves, std::abs(2 * a - total) / 2) << total << " streams from " << a;  // each move narrows by 2
    }
  }
}

TEST(LeasePlan, TheLastStreamByIdIsReleased) {
  const auto v = view_of("a", {3, 1}, 0);
  ASSERT_TRUE(stream_to_release(v).has_value());
  EXPECT_EQ(*stream_to_release(v), "s2");
  EXPECT_FALSE(stream_to_release(view_of("b", {3, 0}, 0)).has_value());
}

TEST(LeasePlan, ReleaseWaitsForAWholeHoldAndOneAtATime) {
  ReleaseHold h(4.0);
  EXPECT_FALSE(h.should_release(true, 100.0));  // imbalance seen first
  EXPECT_FALSE(h.should_release(true, 103.9));
  EXPECT_TRUE(h.should_release(true, 104.0));
  h.released(104.0);
  EXPECT_FALSE(h.should_release(true, 105.0));  // a whole hold again
  EXPECT_FALSE(h.should_release(true, 107.9));
  EXPECT_FALSE(h.should_release(false, 108.5));  // a break resets the count
  EXPECT_FALSE(h.should_release(true, 109.0));
  EXPECT_FALSE(h.should_release(true, 112.9));
  EXPECT_TRUE(h.should_release(true, 113.0));
}

TEST(LeasePlan, ANodeOverItsCapacityReleasesToAPeerWithRoomEvenOneBelow) {
  // a measured 2 but holds 3; b holds 2 of its unlimited quota 3: one moves.
  EXPECT_TRUE(over_fair_share(view_of("a", {3, 2}, 0, {2, 0})));
  EXPECT_FALSE(over_fair_share(view_of("a", {3, 3}, 0, {2, 3})));  // b is full: a keeps its streams
  EXPECT_FALSE(over_fair_share(view_of("a", {3}, 0, {2})));        // alone: overloaded beats not run
  // After the move a is at its capacity and b under its quota: nothing more moves back.
  EXPECT_FALSE(over_fair_share(view_of("a", {2, 3}, 0, {2, 0})));
  EXPECT_FALSE(over_fair_share(view_of("b", {2, 3}, 0, {2, 0})));
  EXPECT_TRUE(streams_to_claim(view_of("a", {2, 3}, 0, {2, 0})).empty());
}

TEST(CapacityMeter, StartsWithOneAndReadsTheLoadOnceSettled) {
  CapacityMeter m(10, 0);
  EXPECT_EQ(m.update(0, true, 0.0, 0), 1);   // nothing measured yet: one stream
  EXPECT_EQ(m.update(1, false, 0.0, 1), 1);  // opening
  EXPECT_EQ(m.update(1, true, 0.2, 2), 1);   // up, not yet settled
  EXPECT_EQ(m.update(1, true, 0.2, 11.9), 1);
  EXPECT_EQ(m.update(1, true, 0.2, 12), 4);  // 0.2 a stream: 0.8 / 0.2
  EXPECT_DOUBLE_EQ(m.per_stream_load(), 0.2);
  EXPECT_EQ(m.measured_streams(), 1);
  EXPECT_EQ(m.update(4, true, 0.5, 13), 4);  // the three new ones settle first
  EXPECT_EQ(m.update(4, true, 0.5, 23), 6);  // 0.125 each: floor(6.4)
  EXPECT_EQ(m.update(0, true, 0.0, 30), 6);  // all gone: the last cost
}

TEST(CapacityMeter, NeverBelowWhatItRunsUnlessOverloaded) {
  CapacityMeter m(5, 0);
  m.update(3, true, 0.9, 0);
  EXPECT_EQ(m.update(3, true, 0.9, 5), 3);   // 0.3 each: fits 2, but 0.9 is not overload: keeps 3
  EXPECT_EQ(m.update(3, true, 0.99, 6), 2);  // overloaded: one must go
  m.update(5, true, 3.0, 10);
  EXPECT_EQ(m.update(5, true, 3.0, 15), 1);  // far over: fits 1
  m.update(1, true, 1.5, 20);
  EXPECT_EQ(m.update(1, true, 1.5, 25), 1);  // never 0
}

TEST(CapacityMeter, MaxStreamsCapsTheMeasure) {
  CapacityMeter m(1, 3);
  m.update(1, true, 0.01, 0);
  EXPECT_EQ(m.update(1, true, 0.01, 1), 3);  // fits 80, max_streams 3
}

}  // namespace
}  // namespace vigil
