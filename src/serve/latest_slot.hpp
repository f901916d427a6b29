// The preview lane's hand-over: one slot, the newest item wins. put() never
// blocks and returns the item it displaced (which the caller counts as dropped);
// take() blocks until there is an item or the slot is closed (it still hands
// over the last item after close()).
#pragma once

#include <condition_variable>
#include <mutex>
#include <optional>

namespace sira::serve {

template <typename T>
class LatestSlot {
 public:
  std::optional<T> put(T item) {
    std::lock_guard lock(mutex_);
    std::optional<T> displaced = std::move(item_);
    item_ = std::move(item);
    ready_.notify_one();
    return displaced;
  }
  std::optional<T> take() {
    std::unique_lock lock(mutex_);
    ready_.wait(lock, [&] { return closed_ || item_.has_value(); });
    std::optional<T> out = std::move(item_);
    item_.reset();
    return out;
  }
  void close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    ready_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable ready_;
  std::optional<T> item_;
  bool closed_ = false;
};

}  // namespace sira::serve
