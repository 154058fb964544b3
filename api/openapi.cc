// GET /openapi.json: an OpenAPI 3.1.0 description of every route of the router.
// The paths come from Router::routes(), so a new route is never missing; what a
// route reads and answers (the wire shapes of api/routes.cc and DESIGN.md section
// 6) comes from the table below, and a route without an entry gets a generic
// object body. The shared schemas are JSON text, parsed once: easier to check
// against routes.cc than nested initializer lists.
#include "portal/api/openapi.h"

#include <boost/json.hpp>

#include <cctype>
#include <map>
#include <memory>
#include <string_view>

#ifndef PORTAL_VERSION
#define PORTAL_VERSION "0.1.0"
#endif

namespace portal::api {

namespace {

namespace json = boost::json;

// components.schemas. Field names, types and nullability as routes.cc writes them.
constexpr std::string_view kSchemas = R"json({
  "error": {
    "type": "object",
    "description": "Bitwarden's error envelope.",
    "required": ["object", "message", "validationErrors"],
    "properties": {
      "object": {"const": "error"},
      "message": {"type": "string"},
      "validationErrors": {
        "type": ["object", "null"],
        "description": "Field name (camelCase, as in the request) to its problems.",
        "additionalProperties": {"type": "array", "items": {"type": "string"}}
      }
    }
  },
  "list": {
    "type": "object",
    "description": "Bitwarden's list envelope.",
    "required": ["object", "data", "continuationToken"],
    "properties": {
      "object": {"const": "list"},
      "data": {"type": "array"},
      "continuationToken": {"type": ["string", "null"]}
    }
  },
  "uuid": {"type": "string", "format": "uuid"},
  "nullableUuid": {"type": ["string", "null"], "format": "uuid"},
  "date": {"type": ["string", "null"], "format": "date-time"},
  "permissions": {
    "type": "object",
    "properties": {
      "manageUsers": {"type": "boolean"},
      "manageGroups": {"type": "boolean"},
      "managePolicies": {"type": "boolean"},
      "createNewCollections": {"type": "boolean"},
      "editAnyCollection": {"type": "boolean"},
      "deleteAnyCollection": {"type": "boolean"},
      "accessEventLogs": {"type": "boolean"}
    }
  },
  "collectionAccess": {
    "type": "object",
    "required": ["id"],
    "properties": {
      "id": {"$ref": "#/components/schemas/uuid"},
      "readOnly": {"type": "boolean"},
      "hidePasswords": {"type": "boolean"},
      "manage": {"type": "boolean"}
    }
  },
  "seatMinimum": {
    "type": "object",
    "required": ["planType", "seatMinimum"],
    "properties": {"planType": {"type": "integer"}, "seatMinimum": {"type": "integer"}}
  },
  "provider": {
    "type": "object",
    "properties": {
      "object": {"const": "provider"},
      "id": {"$ref": "#/components/schemas/uuid"},
      "name": {"type": "string"},
      "businessName": {"type": "string"},
      "businessAddress1": {"type": "null"},
      "businessAddress2": {"type": "null"},
      "businessAddress3": {"type": "null"},
      "businessCountry": {"type": "null"},
      "businessTaxNumber": {"type": "null"},
      "billingEmail": {"type": "string"},
      "creationDate": {"$ref": "#/components/schemas/date"},
      "type": {"type": "integer"},
      "status": {"type": "integer"},
      "enabled": {"type": "boolean"}
    }
  },
  "providerUserUserDetails": {
    "type": "object",
    "properties": {
      "object": {"const": "providerUserUserDetails"},
      "id": {"$ref": "#/components/schemas/uuid"},
      "userId": {"$ref": "#/components/schemas/nullableUuid"},
      "type": {"type": "integer"},
      "status": {"type": "integer"},
      "permissions": {"type": "null"},
      "name": {"type": ["string", "null"]},
      "email": {"type": "string"}
    }
  },
  "providerOrganizationOrganizationDetail": {
    "type": "object",
    "properties": {
      "object": {"const": "providerOrganizationOrganizationDetail"},
      "id": {"$ref": "#/components/schemas/uuid"},
      "providerId": {"$ref": "#/components/schemas/uuid"},
      "organizationId": {"$ref": "#/components/schemas/uuid"},
      "organizationName": {"type": "string"},
      "key": {"type": "null"},
      "settings": {"type": "null"},
      "creationDate": {"$ref": "#/components/schemas/date"},
      "revisionDate": {"$ref": "#/components/schemas/date"},
      "userCount": {"type": "integer"},
      "seats": {"type": "integer"},
      "occupiedSeats": {"type": "integer"},
      "remainingSeats": {"type": "integer"},
      "plan": {"type": "string"},
      "planType": {"type": "integer"},
      "status": {"type": "integer"},
      "enabled": {"type": "boolean"}
    }
  },
  "organization": {
    "type": "object",
    "properties": {
      "object": {"const": "organization"},
      "id": {"$ref": "#/components/schemas/uuid"},
      "name": {"type": "string"},
      "planType": {"type": "integer"},
      "plan": {"type": "string"},
      "seats": {"type": "integer"},
      "occupiedSeats": {"type": "integer"},
      "userCount": {"type": "integer"},
      "status": {"type": "integer"},
      "enabled": {"type": "boolean"},
      "billingEmail": {"type": "string"},
      "providerId": {"$ref": "#/components/schemas/nullableUuid"},
      "creationDate": {"$ref": "#/components/schemas/date"}
    }
  },
  "organizationUserUserDetails": {
    "type": "object",
    "properties": {
      "object": {"const": "organizationUserUserDetails"},
      "id": {"$ref": "#/components/schemas/uuid"},
      "userId": {"$ref": "#/components/schemas/nullableUuid"},
      "type": {"type": "integer"},
      "status": {"type": "integer"},
      "email": {"type": "string"},
      "name": {"type": ["string", "null"]},
      "permissions": {"$ref": "#/components/schemas/permissions"},
      "groups": {"type": "array", "items": {"$ref": "#/components/schemas/uuid"}},
      "collections": {"type": "array", "items": {"$ref": "#/components/schemas/collectionAccess"}}
    }
  },
  "collection": {
    "type": "object",
    "description": "A collection: \"collection\" when created, \"collectionAccessDetails\" (with its access lists) when listed.",
    "properties": {
      "object": {"enum": ["collection", "collectionAccessDetails"]},
      "id": {"$ref": "#/components/schemas/uuid"},
      "organizationId": {"$ref": "#/components/schemas/uuid"},
      "name": {"type": "string"},
      "externalId": {"type": "null"},
      "groups": {"type": "array", "items": {"$ref": "#/components/schemas/collectionAccess"}},
      "users": {"type": "array", "items": {"$ref": "#/components/schemas/collectionAccess"}}
    }
  },
  "group": {
    "type": "object",
    "properties": {
      "object": {"const": "group"},
      "id": {"$ref": "#/components/schemas/uuid"},
      "organizationId": {"$ref": "#/components/schemas/uuid"},
      "name": {"type": "string"},
      "users": {"type": "array", "items": {"$ref": "#/components/schemas/uuid"}}
    }
  },
  "policy": {
    "type": "object",
    "properties": {
      "object": {"const": "policy"},
      "id": {"type": "null"},
      "organizationId": {"$ref": "#/components/schemas/uuid"},
      "type": {"type": "integer"},
      "enabled": {"type": "boolean"},
      "data": {"type": ["object", "null"]}
    }
  },
  "cipherField": {
    "type": "object",
    "properties": {"name": {"type": "string"}, "value": {"type": ["string", "null"]}}
  },
  "cipher": {
    "type": "object",
    "properties": {
      "object": {"const": "cipher"},
      "id": {"$ref": "#/components/schemas/uuid"},
      "type": {"type": "integer"},
      "organizationId": {"$ref": "#/components/schemas/nullableUuid"},
      "collectionIds": {"type": "array", "items": {"$ref": "#/components/schemas/uuid"}},
      "name": {"type": "string", "description": "An encrypted string."},
      "notes": {"type": ["string", "null"]},
      "fields": {"type": "array", "items": {"$ref": "#/components/schemas/cipherField"}},
      "edit": {"type": "boolean"},
      "viewPassword": {"type": "boolean"},
      "manage": {"type": "boolean"},
      "creationDate": {"$ref": "#/components/schemas/date"},
      "revisionDate": {"$ref": "#/components/schemas/date"},
      "deletedDate": {"$ref": "#/components/schemas/date"}
    }
  },
  "cipherRequest": {
    "type": "object",
    "description": "Bitwarden's cipher request: every encrypted string of login, card, identity, secureNote, sshKey and fields is kept as a named field.",
    "required": ["name"],
    "properties": {
      "type": {"type": "integer"},
      "organizationId": {"$ref": "#/components/schemas/nullableUuid"},
      "name": {"type": "string"},
      "notes": {"type": ["string", "null"]},
      "login": {"type": ["object", "null"]},
      "card": {"type": ["object", "null"]},
      "identity": {"type": ["object", "null"]},
      "secureNote": {"type": ["object", "null"]},
      "sshKey": {"type": ["object", "null"]},
      "fields": {"type": ["array", "null"], "items": {"$ref": "#/components/schemas/cipherField"}}
    }
  },
  "event": {
    "type": "object",
    "properties": {
      "object": {"const": "event"},
      "type": {"type": "integer"},
      "name": {"type": "string"},
      "userId": {"$ref": "#/components/schemas/nullableUuid"},
      "organizationId": {"$ref": "#/components/schemas/nullableUuid"},
      "providerId": {"$ref": "#/components/schemas/nullableUuid"},
      "cipherId": {"$ref": "#/components/schemas/nullableUuid"},
      "collectionId": {"$ref": "#/components/schemas/nullableUuid"},
      "groupId": {"$ref": "#/components/schemas/nullableUuid"},
      "policyId": {"type": "null"},
      "policyType": {"type": ["integer", "null"]},
      "organizationUserId": {"$ref": "#/components/schemas/nullableUuid"},
      "providerUserId": {"$ref": "#/components/schemas/nullableUuid"},
      "providerOrganizationId": {"$ref": "#/components/schemas/nullableUuid"},
      "actingUserId": {"$ref": "#/components/schemas/nullableUuid"},
      "actingAs": {"type": "integer"},
      "installationId": {"type": "null"},
      "date": {"type": "string", "format": "date-time"},
      "deviceType": {"type": "integer"},
      "ipAddress": {"type": "string"},
      "systemUser": {"type": "null"},
      "position": {"type": "integer", "description": "The event's position in the log."}
    }
  },
  "administration": {
    "type": "object",
    "properties": {
      "object": {"const": "administration"},
      "providerId": {"$ref": "#/components/schemas/uuid"},
      "organizationId": {"$ref": "#/components/schemas/uuid"},
      "userId": {"$ref": "#/components/schemas/uuid"},
      "commands": {"type": "integer"},
      "firstDate": {"type": "string", "format": "date-time"},
      "lastDate": {"type": "string", "format": "date-time"},
      "lastAction": {"type": "string"}
    }
  },
  "administratorAccess": {
    "type": "object",
    "properties": {
      "object": {"const": "administratorAccess"},
      "userId": {"$ref": "#/components/schemas/uuid"},
      "as": {"type": "string"},
      "from": {"type": "string", "format": "date-time"},
      "until": {"type": ["string", "null"], "format": "date-time"}
    }
  }
})json";

// A request body: required fields (marked with a trailing '*') and their schemas.
struct Field {
  const char* name;
  const char* schema;  // JSON text
};
constexpr const char* kString = R"({"type":"string"})";
constexpr const char* kInteger = R"({"type":"integer"})";
constexpr const char* kBoolean = R"({"type":"boolean"})";
constexpr const char* kUuid = R"({"$ref":"#/components/schemas/uuid"})";
constexpr const char* kUuids = R"({"type":"array","items":{"$ref":"#/components/schemas/uuid"}})";
constexpr const char* kStrings = R"({"type":"array","items":{"type":"string"}})";
constexpr const char* kAccess =
    R"({"type":"array","items":{"$ref":"#/components/schemas/collectionAccess"}})";
constexpr const char* kSeatMinimums =
    R"({"type":"array","items":{"$ref":"#/components/schemas/seatMinimum"}})";
constexpr const char* kPermissions = R"({"$ref":"#/components/schemas/permissions"})";
constexpr const char* kCipherRequest = R"({"$ref":"#/components/schemas/cipherRequest"})";

struct RouteDoc {
  std::string summary;
  json::value request;   // null: no body
  json::value response;  // null: a generic object
  bool events = false;   // start, end, continuationToken
};

json::value parse(std::string_view text) {
  return json::parse(text);
}

json::value ref(std::string_view name) {
  return json::object{{"$ref", "#/components/schemas/" + std::string(name)}};
}

json::value list_of(std::string_view name) {
  json::object data;
  data["type"] = "array";
  data["items"] = ref(name);
  json::object refine;
  refine["properties"] = json::object{{"data", std::move(data)}};
  return json::object{{"allOf", json::array{ref("list"), std::move(refine)}}};
}

json::value generic_list() {
  return ref("list");
}

json::value body(std::initializer_list<Field> fields) {
  json::object properties;
  json::array required;
  for (const Field& f : fields) {
    std::string name = f.name;
    if (!name.empty() && name.back() == '*') {
      name.pop_back();
      required.push_back(json::value(name));
    }
    properties[name] = parse(f.schema);
  }
  json::object o;
  o["type"] = "object";
  if (!required.empty()) o["required"] = std::move(required);
  o["properties"] = std::move(properties);
  return o;
}

// What each route reads and answers, by "METHOD pattern".
std::map<std::string, RouteDoc> route_docs() {
  const json::value none;
  const json::value cipher_with_collections = body({{"cipher*", kCipherRequest}, {"collectionIds*", kUuids}});
  const json::value invitations = generic_list();
  std::map<std::string, RouteDoc> d;
  d["GET /healthz"] = {
      "Readiness: 200 once the store is open and the read models have caught up; 503 while starting, and "
      "once the store stopped taking commands (a full disk, a failed sync: `error` says why; restart portald "
      "once the disk is fixed).",
      none,
      parse(R"({"type":"object","properties":{"status":{"enum":["ready","starting","failed"]},)"
            R"("error":{"type":"string"}}})")};
  d["GET /metrics"] = {"Prometheus metrics (text exposition format).", none, none};
  d["GET /openapi.json"] = {"This OpenAPI document.", none, parse(R"({"type":"object"})")};
  d["POST /accounts/register"] = {"Registers the token's user.",
                                  body({{"userId", kUuid}, {"email*", kString}, {"name*", kString}}), none};
  d["POST /admin/providers"] = {
      "Staff: invites a provider (InviteProvider).",
      body({{"type", kInteger}, {"ownerEmail", kString}, {"seatMinimums", kSeatMinimums}}), none};
  d["POST /admin/providers/{id}/enable"] = {"Staff: enables a provider.", none, none};
  d["POST /admin/providers/{id}/disable"] = {"Staff: disables a provider.", none, none};
  d["PUT /admin/providers/{id}/plan"] = {"Staff: sets a provider's seat minimums.",
                                         body({{"seatMinimums", kSeatMinimums}}), none};
  d["POST /providers/{id}/setup"] = {"Sets up an invited provider.",
                                     body({{"token*", kString},
                                           {"name*", kString},
                                           {"businessName", kString},
                                           {"billingEmail*", kString},
                                           {"key*", kString}}),
                                     ref("provider")};
  d["GET /providers/{id}"] = {"A provider.", none, ref("provider")};
  d["PUT /providers/{id}"] = {
      "Updates a provider.",
      body({{"name*", kString}, {"businessName", kString}, {"billingEmail*", kString}}), ref("provider")};
  d["DELETE /providers/{id}"] = {"Deletes a provider.", none, none};
  d["GET /providers/{id}/users"] = {"The provider's users.", none, list_of("providerUserUserDetails")};
  d["POST /providers/{id}/users/invite"] = {"Invites provider users.",
                                            body({{"emails*", kStrings}, {"type", kInteger}}), invitations};
  d["POST /providers/{id}/users/confirm"] = {
      "Confirms accepted provider users with their keys.",
      body({{"keys*",
             R"({"type":"array","items":{"type":"object","required":["id","key"],)"
             R"("properties":{"id":{"$ref":"#/components/schemas/uuid"},"key":{"type":"string"}}}})"}}),
      generic_list()};
  d["POST /providers/{id}/users/{puid}/reinvite"] = {"Re-sends a provider user's invitation.", none, none};
  d["POST /providers/{id}/users/{puid}/accept"] = {"Accepts a provider invitation.",
                                                   body({{"token*", kString}}), none};
  d["POST /providers/{id}/users/{puid}/confirm"] = {"Confirms a provider user with their key.",
                                                    body({{"key*", kString}}), none};
  d["PUT /providers/{id}/users/{puid}"] = {"Changes a provider user's type.", body({{"type*", kInteger}}),
                                           none};
  d["DELETE /providers/{id}/users/{puid}"] = {"Removes a provider user.", none, none};
  d["GET /providers/{id}/organizations"] = {"The provider's client organizations.", none,
                                            list_of("providerOrganizationOrganizationDetail")};
  d["POST /providers/{id}/clients"] = {"Creates a client organization (AddNewClientOrg).",
                                       body({{"name*", kString},
                                             {"ownerEmail*", kString},
                                             {"planType*", kInteger},
                                             {"seats*", kInteger},
                                             {"collectionName*", kString}}),
                                       none};
  d["POST /providers/{id}/clients/existing"] = {"Adds an existing organization as a client.",
                                                body({{"organizationId*", kUuid}}), none};
  d["GET /providers/{id}/clients/addable"] = {"Organizations the caller owns that no provider manages.", none,
                                              generic_list()};
  d["PUT /providers/{id}/clients/{poid}"] = {"Renames a client and assigns its seats.",
                                             body({{"name*", kString}, {"assignedSeats*", kInteger}}), none};
  d["DELETE /providers/{id}/organizations/{poid}"] = {"Removes a client organization (RemoveClientOrg).",
                                                      none, none};
  d["GET /providers/{id}/events"] = {"The provider's event log, newest first, 50 a page.", none, list_of("event"), true};
  d["GET /providers/{id}/users/{puid}/events"] = {"A provider user's events, newest first, 50 a page.", none,
                                                  list_of("event"), true};
  d["POST /organizations"] = {
      "Creates an organization.",
      body({{"name*", kString}, {"planType", kInteger}, {"seats", kInteger}, {"billingEmail*", kString}}),
      none};
  d["GET /organizations/{id}"] = {"An organization.", none, ref("organization")};
  d["GET /organizations/{id}/events"] = {"The organization's event log, newest first, 50 a page.", none, list_of("event"),
                                         true};
  d["GET /organizations/{id}/users"] = {"The organization's members.", none,
                                        list_of("organizationUserUserDetails")};
  d["POST /organizations/{id}/users/invite"] = {"Invites members.",
                                                body({{"emails*", kStrings},
                                                      {"type", kInteger},
                                                      {"permissions", kPermissions},
                                                      {"collections", kAccess},
                                                      {"groups", kUuids}}),
                                                invitations};
  d["POST /organizations/{id}/users/{ouid}/accept"] = {"Accepts a member invitation.",
                                                       body({{"token*", kString}}), none};
  d["POST /organizations/{id}/users/{ouid}/confirm"] = {"Confirms a member with their key.",
                                                        body({{"key*", kString}}), none};
  d["PUT /organizations/{id}/users/{ouid}"] = {"Changes a member's type and permissions.",
                                               body({{"type*", kInteger}, {"permissions", kPermissions}}),
                                               none};
  d["DELETE /organizations/{id}/users/{ouid}"] = {"Removes a member.", none, none};
  d["PUT /organizations/{id}/users/{ouid}/revoke"] = {"Revokes a member.", none, none};
  d["PUT /organizations/{id}/users/{ouid}/restore"] = {"Restores a revoked member.", none, none};
  d["GET /organizations/{id}/groups"] = {"The organization's groups.", none, list_of("group")};
  d["POST /organizations/{id}/groups"] = {"Creates a group.", body({{"name*", kString}, {"users", kUuids}}),
                                          ref("group")};
  d["PUT /organizations/{id}/groups/{gid}"] = {"Renames a group, and sets its members when users is given.",
                                               body({{"name*", kString}, {"users", kUuids}}), none};
  d["DELETE /organizations/{id}/groups/{gid}"] = {"Deletes a group.", none, none};
  d["PUT /organizations/{id}/groups/{gid}/users"] = {"Sets a group's members.", parse(kUuids), none};
  d["GET /organizations/{id}/collections"] = {"The organization's collections with their access.", none,
                                              list_of("collection")};
  d["POST /organizations/{id}/collections"] = {
      "Creates a collection.", body({{"name*", kString}, {"groups", kAccess}, {"users", kAccess}}),
      ref("collection")};
  d["PUT /organizations/{id}/collections/{cid}"] = {
      "Updates a collection.", body({{"name*", kString}, {"groups", kAccess}, {"users", kAccess}}), none};
  d["DELETE /organizations/{id}/collections/{cid}"] = {"Deletes a collection.", none, none};
  d["GET /organizations/{id}/policies"] = {"The organization's policies.", none, list_of("policy")};
  d["PUT /organizations/{id}/policies/{type}"] = {
      "Saves a policy: {policy: {enabled, data}} or {enabled, data}.",
      body({{"policy",
             R"({"type":"object","properties":{"enabled":{"type":"boolean"},"data":{"type":"object"}}})"},
            {"enabled", kBoolean},
            {"data", R"({"type":"object"})"}}),
      none};
  d["GET /ciphers"] = {"The caller's vault.", none, list_of("cipher")};
  d["POST /ciphers"] = {"Creates a personal item.", parse(kCipherRequest), ref("cipher")};
  d["POST /ciphers/create"] = {"Creates an organization item in collections.", cipher_with_collections,
                               ref("cipher")};
  d["GET /ciphers/{cid}"] = {"An item.", none, ref("cipher")};
  d["PUT /ciphers/{cid}"] = {"Updates an item.", parse(kCipherRequest), ref("cipher")};
  d["PUT /ciphers/{cid}/delete"] = {"Moves an item to the trash.", none, none};
  d["PUT /ciphers/{cid}/restore"] = {"Restores an item from the trash.", none, none};
  d["DELETE /ciphers/{cid}"] = {"Purges an item.", none, none};
  d["PUT /ciphers/{cid}/share"] = {"Moves a personal item into an organization.", cipher_with_collections,
                                   none};
  d["PUT /ciphers/{cid}/collections"] = {"Sets an item's collections.", body({{"collectionIds*", kUuids}}),
                                         none};
  d["GET /audit/organizations/{id}/administrators"] = {
      "Who could administer the organization, and when (?at= for one instant).", none,
      list_of("administratorAccess")};
  d["GET /audit/providers/{id}/activity"] = {"Administration of clients by the provider's users.", none,
                                             list_of("administration")};
  d["GET /audit/users/{id}/activity"] = {"A user's administration of client organizations.", none,
                                         list_of("administration")};
  return d;
}

json::value error_response(std::string_view description) {
  json::object content;
  content["application/json"] = json::object{{"schema", ref("error")}};
  return json::object{{"description", description}, {"content", std::move(content)}};
}

json::object query_parameter(std::string_view name, std::string_view description, json::value schema) {
  json::object p;
  p["name"] = name;
  p["in"] = "query";
  p["required"] = false;
  p["description"] = description;
  p["schema"] = std::move(schema);
  return p;
}

std::string operation_id(const http::Router::Route& route) {
  // "PUT /organizations/{id}/users/{ouid}/revoke" -> "putOrganizationsIdUsersOuidRevoke"
  std::string out;
  for (char c : route.method) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  bool upper = true;
  for (char c : route.pattern) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      out += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
      upper = false;
    } else {
      upper = true;
    }
  }
  return out;
}

json::object operation(const http::Router::Route& route, const RouteDoc* doc) {
  json::object op;
  op["operationId"] = operation_id(route);
  op["summary"] = doc ? json::value(doc->summary) : json::value(route.name);
  if (route.segments.size() > 1 && route.segments[0] == "audit") {
    op["tags"] = json::array{"audit"};
  } else if (!route.segments.empty()) {
    op["tags"] = json::array{json::value(route.segments[0])};
  }

  json::array parameters;
  for (const std::string& segment : route.segments) {
    if (segment.size() < 3 || segment.front() != '{' || segment.back() != '}') continue;
    const std::string name = segment.substr(1, segment.size() - 2);
    json::object p;
    p["name"] = name;
    p["in"] = "path";
    p["required"] = true;
    if (name == "type") {
      p["schema"] = json::object{{"type", "integer"}};
    } else {
      p["schema"] = json::object{{"type", "string"}, {"format", "uuid"}};
    }
    parameters.push_back(std::move(p));
  }
  const bool authenticated = route.auth == http::Auth::kRequired;
  if (doc != nullptr && doc->events) {
    parameters.push_back(query_parameter("start", "ISO 8601 UTC; default 30 days before end.",
                                         json::object{{"type", "string"}, {"format", "date-time"}}));
    parameters.push_back(query_parameter("end", "ISO 8601 UTC; default now. At most 367 days after start.",
                                         json::object{{"type", "string"}, {"format", "date-time"}}));
    parameters.push_back(query_parameter("continuationToken", "The previous page's continuationToken.",
                                         json::object{{"type", "string"}}));
  }
  if (route.pattern == "/audit/organizations/{id}/administrators") {
    parameters.push_back(query_parameter("at", "ISO 8601 UTC: the administrators at that instant.",
                                         json::object{{"type", "string"}, {"format", "date-time"}}));
  }
  if (authenticated && route.method == "GET") {
    parameters.push_back(query_parameter(
        "minPosition",
        "Read your writes: wait until the read models reach this log position (X-Portal-Position).",
        json::object{{"type", "integer"}, {"minimum", 0}}));
  }
  if (!parameters.empty()) op["parameters"] = std::move(parameters);

  const bool writes = route.method == "POST" || route.method == "PUT";
  if (doc != nullptr && !doc->request.is_null()) {
    json::object content;
    content["application/json"] = json::object{{"schema", doc->request}};
    op["requestBody"] = json::object{{"required", true}, {"content", std::move(content)}};
  }

  json::object responses;
  json::object ok;
  ok["description"] = "Success.";
  json::object content;
  if (route.pattern == "/metrics") {
    content["text/plain"] = json::object{{"schema", json::object{{"type", "string"}}}};
  } else {
    json::value schema = doc != nullptr && !doc->response.is_null()
                             ? doc->response
                             : json::value(json::object{{"type", "object"}});
    content["application/json"] = json::object{{"schema", std::move(schema)}};
  }
  ok["content"] = std::move(content);
  if (authenticated && route.method != "GET") {
    json::object headers;
    headers["X-Portal-Position"] = json::object{
        {"description", "The log position of the command's events; pass it as minPosition to read them."},
        {"schema", json::object{{"type", "integer"}}}};
    ok["headers"] = std::move(headers);
  }
  responses["200"] = std::move(ok);
  if (authenticated) {
    responses["400"] =
        error_response("Invalid request: the model state is invalid, or a failed precondition.");
    json::object unauthorized = error_response("Missing, expired or invalid bearer token.").as_object();
    unauthorized["headers"] =
        json::object{{"WWW-Authenticate", json::object{{"schema", json::object{{"type", "string"}}}}}};
    responses["401"] = std::move(unauthorized);
    responses["403"] = error_response("Not allowed.");
    responses["404"] = error_response("No such resource, or not visible to the caller.");
    if (route.method != "GET") responses["409"] = error_response("A concurrent change; retry.");
  }
  if (writes) responses["413"] = error_response("The body is over the limit (1 MiB by default).");
  if (route.pattern == "/healthz") {
    json::object starting;
    starting["description"] =
        "Starting (the read models have not caught up yet), or failed (the store takes no commands until "
        "portald is restarted).";
    json::value schema = doc != nullptr ? doc->response : json::value(json::object{{"type", "object"}});
    starting["content"] = json::object{{"application/json", json::object{{"schema", std::move(schema)}}}};
    responses["503"] = std::move(starting);
  }
  op["responses"] = std::move(responses);
  if (authenticated) op["security"] = json::array{json::object{{"bearerAuth", json::array{}}}};
  return op;
}

}  // namespace

std::string openapi_document(const http::Router& router) {
  json::object doc;
  doc["openapi"] = "3.1.0";
  json::object info;
  info["title"] = "Provider Portal API";
  info["version"] = PORTAL_VERSION;
  info["description"] =
      "portald: Bitwarden-shaped provider portal routes over an event-sourced engine. Errors use Bitwarden's "
      "envelope {object: \"error\", message, validationErrors}; lists use {object: \"list\", data, "
      "continuationToken}. Commands answer X-Portal-Position; reads accept ?minPosition= to read their "
      "writes.";
  doc["info"] = std::move(info);
  doc["servers"] = json::array{json::object{{"url", "/"}, {"description", "This portald."}}};

  json::object components;
  json::object bearer;
  bearer["type"] = "http";
  bearer["scheme"] = "bearer";
  bearer["bearerFormat"] = "JWT";
  bearer["description"] =
      "HS256, RS256 or ES256; exp, nbf, iss and aud are checked; the subject is the user.";
  components["securitySchemes"] = json::object{{"bearerAuth", std::move(bearer)}};
  components["schemas"] = parse(kSchemas);
  doc["components"] = std::move(components);

  const std::map<std::string, RouteDoc> docs = route_docs();
  json::object paths;
  for (const http::Router::Route& route : router.routes()) {
    auto it = docs.find(route.method + " " + route.pattern);
    json::value& item = paths[route.pattern];
    if (!item.is_object()) item = json::object{};
    std::string method;
    for (char c : route.method) method += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    item.as_object()[method] = operation(route, it == docs.end() ? nullptr : &it->second);
  }
  doc["paths"] = std::move(paths);
  return json::serialize(doc);
}

void add_openapi_route(http::Router& router) {
  auto document = std::make_shared<std::string>();
  router.add(
      "GET", "/openapi.json",
      [document](const http::Request&) {
        http::Response r;
        r.body = *document;
        return r;
      },
      http::Auth::kNone);
  *document = openapi_document(router);
}

}  // namespace portal::api
