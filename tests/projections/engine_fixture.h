// An Engine on a temporary directory with a controllable clock, for the read-model
// tests: each reading of the clock ticks one microsecond, and mark() moves it an
// hour on and returns an instant between two commands.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "portal/api/engine.h"
#include "portal/projections/admin_history.h"
#include "portal/projections/audit_log.h"
#include "projection_test_support.h"

namespace portal::projections::testing {

constexpr d::Timestamp kStart = 1'767'225'600'000'000;  // 2026-01-01T00:00:00Z
constexpr const char* kKey = "2.AAAA|BBBB|CCCC";
constexpr const char* kEncName = "2.bmFtZQ==|Y3Q=|bWFj";
constexpr const char* kEncNewName = "2.bmV3|bmFtZQ==|bWFj";

inline d::Uuid random_uuid() {
  d::Uuid id;
  id.bytes = es::Id16::random().bytes;
  return id;
}

inline std::string describe(const d::Error& e) {
  return std::string(d::to_string(e.kind)) + ": " + e.message;
}

class EngineFixture : public ::testing::Test {
 protected:
  void SetUp() override { open(); }
  void TearDown() override {
    if (engine_) engine_->close();
    engine_.reset();
  }

  virtual EngineOptions options() {
    EngineOptions o;
    o.durability = es::Durability::kBuffered;
    o.clock = [this] { return now_.fetch_add(1); };
    return o;
  }

  void open() {
    auto opened = Engine::open(dir_.path(), options());
    if (!opened.ok()) throw std::runtime_error("Engine::open: " + describe(opened.error()));
    engine_ = std::move(opened.value());
  }

  // An instant after everything so far and before everything after.
  d::Timestamp mark() {
    now_ += d::kMicrosPerHour;
    return now_.load();
  }

  d::Actor staff() const { return d::Actor{staff_id_, true, 0, "10.0.0.1"}; }
  static d::Actor as(const d::UserId& id) { return d::Actor{id, false, 9, "192.0.2.7"}; }

  CommandResult must(const d::Command& command, const d::Actor& actor,
                     std::optional<es::CommandId> id = std::nullopt) {
    auto r = engine_->execute(command, actor, id);
    if (!r.ok()) throw std::runtime_error(std::string(d::command_name(command)) + ": " + describe(r.error()));
    return std::move(r.value());
  }

  d::UserId register_user(const std::string& address) {
    const d::UserId id = random_uuid();
    must(d::RegisterUser{id, address, "User " + address}, as(id));
    return id;
  }

  void wait_for_read_models() {
    const std::uint64_t last = engine_->store().last_position();
    for (const char* name : {AuditLogProjection::kName, AdminHistoryProjection::kName}) {
      auto w = engine_->wait_for_projection(name, last, std::chrono::seconds(60));
      if (!w.ok()) throw std::runtime_error(std::string("waiting for ") + name + ": " + describe(w.error()));
    }
  }

  std::vector<es::RecordedEvent> log() {
    auto events = engine_->store().read_all(1, engine_->store().last_position());
    if (!events.ok()) throw std::runtime_error("read_all: " + events.status().to_string());
    return std::move(events).value();
  }

  ProjectionDb& pdb() { return engine_->projection_db(); }

  TempDir dir_{"read-models-test"};
  std::atomic<d::Timestamp> now_{kStart};
  d::UserId staff_id_ = random_uuid();
  std::unique_ptr<Engine> engine_;
};

}  // namespace portal::projections::testing
