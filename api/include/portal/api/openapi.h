// The OpenAPI 3.1 description of portald's routes (GET /openapi.json, issue 6).
#pragma once

#include <string>

#include "portal/api/http.h"

namespace portal::api {

// An OpenAPI 3.1.0 JSON document listing every route of the router: its path
// parameters, bearer security on authenticated routes, request bodies and the
// Bitwarden-shaped responses and error envelope of api/routes.cc. Routes it has no
// specific description for still appear, with a generic object body.
std::string openapi_document(const http::Router& router);

// Registers GET /openapi.json (no authentication) and builds its document once,
// after the registration, so the document lists every route added before, and
// itself. Call it after every other route is added.
void add_openapi_route(http::Router& router);

}  // namespace portal::api
