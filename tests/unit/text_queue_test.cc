#include "core/text_queue.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace vigil {
namespace {

TextQueue::Message text(const std::string& s) { return std::make_shared<const std::string>(s); }

TEST(TextQueue, DropsTheOldestWhenFull) {
  TextQueue q(2);
  EXPECT_TRUE(q.push(text("a")));
  EXPECT_TRUE(q.push(text("b")));
  EXPECT_TRUE(q.push(text("c")));  // "a" goes
  EXPECT_EQ(q.drops(), 1u);
  EXPECT_EQ(*q.pop(), "b");
  EXPECT_EQ(*q.pop(), "c");
  EXPECT_EQ(q.pop(), nullptr);
}

TEST(TextQueue, ClosedRefusesNewMessagesButKeepsQueuedOnes) {
  TextQueue q(4);
  q.push(text("last"));
  q.close();
  EXPECT_TRUE(q.closed());
  EXPECT_FALSE(q.push(text("late")));
  EXPECT_EQ(*q.pop(), "last");
  EXPECT_EQ(q.pop(), nullptr);
}

TEST(TextQueue, ProducersOnOtherThreads) {
  TextQueue q(1000);
  std::vector<std::thread> producers;
  for (int t = 0; t < 4; ++t)
    producers.emplace_back([&q] {
      for (int i = 0; i < 100; ++i) q.push(text("m"));
    });
  for (auto& t : producers) t.join();
  int n = 0;
  while (q.pop()) ++n;
  EXPECT_EQ(n, 400);
  EXPECT_EQ(q.drops(), 0u);
}

}  // namespace
}  // namespace vigil
