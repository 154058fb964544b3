// Internal to domain/: what the decide translation units share (decide.cc for
// accounts, providers, members and groups; decide_vault.cc for collections,
// policies and vault items). Not installed, not for callers of decide().
#pragma once

#include <optional>
#include <string>
#include <utility>

#include "portal/domain/decide.h"
#include "portal/domain/messages.h"

namespace portal::domain::detail {

template <class Event>
EventPayload payload(Event&& event) {
  EventPayload p;
  p.Set(std::forward<Event>(event));
  return p;
}

// Accumulates a decision: its events, in order, and how the actor acted.
class Builder {
 public:
  Builder(ActingAs acting_as, std::optional<ProviderId> via) {
    d_.acting_as = acting_as;
    d_.via_provider = via;
  }
  static Builder direct() { return Builder(ActingAs::kDirect, std::nullopt); }
  static Builder via_provider(const ProviderId& id) { return Builder(ActingAs::kProviderUser, id); }

  template <class Event>
  Builder& emit(std::string stream, Event&& event) {
    d_.events.push_back(Emitted{std::move(stream), payload(std::forward<Event>(event))});
    return *this;
  }
  Decision& decision() { return d_; }
  Decision done() { return std::move(d_); }

 private:
  Decision d_;
};

// The organization a command addresses and how the actor relates to it.
struct OrgAccess {
  const OrganizationState* org = nullptr;
  const OrganizationMember* member = nullptr;  // the actor's own membership, any status
  const ProviderState* provider = nullptr;     // the managing provider, when there is one
  bool as_provider_user = false;               // a confirmed user of that provider

  bool confirmed() const { return member != nullptr && member->status == OrganizationUserStatus::kConfirmed; }
  bool confirmed_as(OrganizationUserType type) const { return confirmed() && member->type == type; }
  // Owners, and provider users, who act as Owners of their clients.
  bool owner_level() const { return as_provider_user || confirmed_as(OrganizationUserType::kOwner); }
  // Owner level, a confirmed Admin, or a confirmed Custom member holding the permission.
  bool holds(bool Permissions::*permission) const {
    if (owner_level() || confirmed_as(OrganizationUserType::kAdmin)) return true;
    return confirmed_as(OrganizationUserType::kCustom) && member->permissions.*permission;
  }
  bool manages_groups() const { return holds(&Permissions::manage_groups); }
  bool manages_users() const { return holds(&Permissions::manage_users); }
  Builder builder() const {
    return as_provider_user ? Builder::via_provider(provider->id) : Builder::direct();
  }
};

// The organization and the actor's relation to it. Neither a member (any status)
// nor a confirmed user of its provider: kNotFound (staff: kPermissionDenied).
Expected<OrgAccess> org_access(StateReader& states, const OrganizationId& id, const Actor& actor);

// Why joining `joining` (accepting, being confirmed or restored there) is refused
// to `user` by a SingleOrg policy, of that organization or of another one the user
// is in; nullopt when it is not. Reads the user's other organizations.
std::optional<Error> single_org_refusal(StateReader& states, const UserId& user,
                                        const OrganizationState& joining);

// The user-stream events that record joining and leaving an organization.
void emit_joined(Builder& b, const UserId& user, const OrganizationId& org, const OrganizationUserId& member);
void emit_left(Builder& b, const UserId& user, const OrganizationId& org);

// Collections, policies and vault items (decide_vault.cc).
Expected<Decision> run(const CreateCollection& c, const Actor& actor, StateReader& states,
                       const Environment& env);
Expected<Decision> run(const UpdateCollection& c, const Actor& actor, StateReader& states,
                       const Environment& env);
Expected<Decision> run(const DeleteCollection& c, const Actor& actor, StateReader& states,
                       const Environment& env);
Expected<Decision> run(const SavePolicy& c, const Actor& actor, StateReader& states, const Environment& env);
Expected<Decision> run(const CreateItem& c, const Actor& actor, StateReader& states, const Environment& env);
Expected<Decision> run(const UpdateItem& c, const Actor& actor, StateReader& states, const Environment& env);
Expected<Decision> run(const SoftDeleteItem& c, const Actor& actor, StateReader& states,
                       const Environment& env);
Expected<Decision> run(const RestoreItem& c, const Actor& actor, StateReader& states, const Environment& env);
Expected<Decision> run(const PurgeItem& c, const Actor& actor, StateReader& states, const Environment& env);
Expected<Decision> run(const ShareItem& c, const Actor& actor, StateReader& states, const Environment& env);
Expected<Decision> run(const UpdateItemCollections& c, const Actor& actor, StateReader& states,
                       const Environment& env);

}  // namespace portal::domain::detail
