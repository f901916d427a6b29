// The preview lane's hand-over: the newest image wins. put() never blocks and
// returns the image it displaced (which the caller counts as dropped); an
// image displaces only a waiting image that no marker follows, so markers (the
// end of a series) are never lost and never displace an image: the last image
// of a series is always handed over. take() blocks until there is an item or
// the slot is closed (it still hands over what waits after close()).
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <utility>

namespace sira::serve {

template <typename T>
class LatestSlot {
 public:
  // `absorb(displaced, item)` (if given) lets the new item take over what the displaced one carried.
  template <typename Absorb = void (*)(T&, T&)>
  std::optional<T> put(T item, bool marker = false, Absorb absorb = [](T&, T&) {}) {
    std::lock_guard lock(mutex_);
    std::optional<T> displaced;
    if (!marker && !items_.empty() && !items_.back().second) {
      displaced = std::move(items_.back().first);
      items_.pop_back();
      absorb(*displaced, item);
    }
    items_.emplace_back(std::move(item), marker);
    ready_.notify_one();
    return displaced;
  }
  std::optional<T> take() {
    std::unique_lock lock(mutex_);
    ready_.wait(lock, [&] { return closed_ || !items_.empty(); });
    if (items_.empty()) return std::nullopt;
    std::optional<T> out(std::move(items_.front().first));
    items_.pop_front();
    return out;
  }
  // The next item if one is waiting now (never blocks).
  std::optional<T> try_take() {
    std::lock_guard lock(mutex_);
    if (items_.empty()) return std::nullopt;
    std::optional<T> out(std::move(items_.front().first));
    items_.pop_front();
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
  std::deque<std::pair<T, bool>> items_;  // (item, is a marker): at most one image after the last marker
  bool closed_ = false;
};

}  // namespace sira::serve
