// The Bitwarden-shaped routes of portald (DESIGN.md section 6) on the Engine.
#pragma once

#include "portal/api/engine.h"
#include "portal/api/http.h"

namespace portal::api {

struct RoutesOptions {
  bool self_registration = false;
};

void add_routes(http::Router& router, Engine& engine, const RoutesOptions& options);

}  // namespace portal::api
