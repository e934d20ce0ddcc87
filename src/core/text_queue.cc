#include "core/text_queue.h"

#include <utility>

namespace vigil {

bool TextQueue::push(Message m) {
  std::lock_guard lock(mu_);
  if (closed_) return false;
  if (queue_.size() >= capacity_) {
    queue_.pop_front();
    ++drops_;
  }
  queue_.push_back(std::move(m));
  return true;
}

void TextQueue::close() {
  std::lock_guard lock(mu_);
  closed_ = true;
}

TextQueue::Message TextQueue::pop() {
  std::lock_guard lock(mu_);
  if (queue_.empty()) return nullptr;
  Message m = std::move(queue_.front());
  queue_.pop_front();
  return m;
}

bool TextQueue::closed() const {
  std::lock_guard lock(mu_);
  return closed_;
}

std::uint64_t TextQueue::drops() const {
  std::lock_guard lock(mu_);
  return drops_;
}

}  // namespace vigil
