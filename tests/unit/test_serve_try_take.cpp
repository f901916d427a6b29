// The non-blocking takes the serve worker uses to gather the steps of an
// incremental reconstruction: BoundedQueue::try_pop and LatestSlot::try_take
// hand over what waits, in order, and nothing (without blocking) otherwise.
#include <gtest/gtest.h>

#include "serve/latest_slot.hpp"
#include "stream/bounded_queue.hpp"

TEST(ServeTryTake, BoundedQueueTryPopNeverBlocks) {
  sira::stream::BoundedQueue<int> q(4);
  EXPECT_FALSE(q.try_pop().has_value());
  q.push(1);
  q.push(2);
  EXPECT_EQ(q.try_pop(), 1);
  EXPECT_EQ(q.pop(), 2);
  EXPECT_FALSE(q.try_pop().has_value());
  q.push(3);
  q.close();
  EXPECT_EQ(q.try_pop(), 3);  // what waits is still handed over after close
  EXPECT_FALSE(q.try_pop().has_value());
  sira::stream::BoundedQueue<int> c(2);
  c.push(4);
  c.cancel();
  EXPECT_FALSE(c.try_pop().has_value());  // a cancelled queue hands over nothing
}

TEST(ServeTryTake, LatestSlotTryTakeKeepsMarkers) {
  sira::serve::LatestSlot<int> slot;
  EXPECT_FALSE(slot.try_take().has_value());
  slot.put(1, true);   // markers are never displaced
  slot.put(2, true);
  slot.put(3);
  EXPECT_TRUE(slot.put(4).has_value());  // 4 displaces 3
  EXPECT_EQ(slot.try_take(), 1);
  EXPECT_EQ(slot.try_take(), 2);
  EXPECT_EQ(slot.take(), 4);
  EXPECT_FALSE(slot.try_take().has_value());
}
