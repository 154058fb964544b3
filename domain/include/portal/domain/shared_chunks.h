// A sequence whose copies share their storage in fixed-size chunks, gathered in
// blocks of kBlock chunks. Copying one costs a pointer per block (one per 256
// elements by default), and changing or adding an element copies only its block's
// chunk pointers and the chunk that holds it (copy on write): at most kChunk
// elements, so chunks are kept small (4 by default). An aggregate's state is
// copied for every command that changes it, so a list that grows with the
// aggregate (a provider's users and clients) must not be copied element by element, nor chunk
// by chunk.
#pragma once

#include <cstddef>
#include <iterator>
#include <memory>
#include <stdexcept>
#include <utility>
#include <vector>

namespace portal::domain {

template <class T, std::size_t kChunk = 4, std::size_t kBlock = 64>
class SharedChunks {
  using Chunk = std::vector<T>;
  using Block = std::vector<std::shared_ptr<Chunk>>;
  static constexpr std::size_t kPerBlock = kChunk * kBlock;

 public:
  using value_type = T;
  using size_type = std::size_t;

  class const_iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = T;
    using difference_type = std::ptrdiff_t;
    using pointer = const T*;
    using reference = const T&;

    const_iterator() = default;
    const_iterator(const SharedChunks* owner, std::size_t index) : owner_(owner), index_(index) {}
    reference operator*() const { return (*owner_)[index_]; }
    pointer operator->() const { return &(*owner_)[index_]; }
    const_iterator& operator++() {
      ++index_;
      return *this;
    }
    const_iterator operator++(int) {
      const_iterator before = *this;
      ++index_;
      return before;
    }
    friend bool operator==(const const_iterator& a, const const_iterator& b) { return a.index_ == b.index_; }

   private:
    const SharedChunks* owner_ = nullptr;
    std::size_t index_ = 0;
  };
  using iterator = const_iterator;  // elements change only through mutable_at()

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  void reserve(std::size_t) {}  // chunks are allocated as they fill

  const T& operator[](std::size_t i) const {
    return (*(*blocks_[i / kPerBlock])[(i % kPerBlock) / kChunk])[i % kChunk];
  }
  const T& at(std::size_t i) const {
    if (i >= size_) throw std::out_of_range("SharedChunks::at");
    return (*this)[i];
  }
  const T& front() const { return (*this)[0]; }
  const T& back() const { return (*this)[size_ - 1]; }
  const_iterator begin() const { return {this, 0}; }
  const_iterator end() const { return {this, size_}; }

  // The element, in a chunk this sequence no longer shares.
  T& mutable_at(std::size_t i) { return owned(i / kPerBlock, (i % kPerBlock) / kChunk)[i % kChunk]; }

  template <class... Args>
  T& emplace_back(Args&&... args) {
    if (size_ % kPerBlock == 0) {
      blocks_.push_back(std::make_shared<Block>());
      blocks_.back()->reserve(kBlock);
    }
    if (size_ % kChunk == 0) {
      auto chunk = std::make_shared<Chunk>();
      chunk->reserve(kChunk);
      owned(blocks_.size() - 1).push_back(std::move(chunk));
    }
    Chunk& last = owned(blocks_.size() - 1, (size_ % kPerBlock) / kChunk);
    ++size_;
    return last.emplace_back(std::forward<Args>(args)...);
  }
  void push_back(T value) { emplace_back(std::move(value)); }

  // Removes the elements that match; the sequence is rebuilt (removals are rare).
  template <class Pred>
  std::size_t erase_if(Pred pred) {
    SharedChunks kept;
    for (const T& v : *this)
      if (!pred(v)) kept.push_back(v);
    const std::size_t removed = size_ - kept.size_;
    if (removed > 0) *this = std::move(kept);
    return removed;
  }

 private:
  // A block or chunk shared with another copy is copied before it changes.
  // use_count() is exact enough here: whoever changes this sequence owns it, so no
  // other thread can be adding a reference through it.
  template <class V>
  static V& owned_ptr(std::shared_ptr<V>& p, std::size_t capacity) {
    if (p.use_count() != 1) {
      auto copy = std::make_shared<V>();
      copy->reserve(capacity);
      copy->insert(copy->end(), p->begin(), p->end());
      p = std::move(copy);
    }
    return *p;
  }
  Block& owned(std::size_t b) { return owned_ptr(blocks_[b], kBlock); }
  // A chunk in a block of its own: a chunk of a block just copied is shared with the
  // block it was copied from, and is copied in turn.
  Chunk& owned(std::size_t b, std::size_t c) { return owned_ptr(owned(b)[c], kChunk); }

  std::vector<std::shared_ptr<Block>> blocks_;
  std::size_t size_ = 0;
};

}  // namespace portal::domain
