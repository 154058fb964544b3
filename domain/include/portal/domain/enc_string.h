// EncString: the client-side encrypted field format of Bitwarden's vault
// (`<type>.<b64>|<b64>|...`). The engine stores such fields opaquely; it only
// checks their shape, so that plaintext is refused and never stored or logged.
#pragma once

#include <optional>
#include <string_view>

#include "portal/domain/error.h"

namespace portal::domain {

// Whether value is a well-formed EncString: a known type (0-7) with its number of
// parts (0: 2, 1: 3, 2: 3, 3: 1, 4: 1, 5: 2, 6: 2, 7: 1), each part non-empty
// standard base64 whose length is a multiple of 4. Without a `type.` header a
// value has 3 parts if it has two `|`, else 2 (Bitwarden's legacy forms).
bool is_valid_enc_string(std::string_view value);

// A validation Error "<Label> is not a valid encrypted string." on field `field`
// when value is not an EncString; nullopt when it is. The value itself never
// appears in the message.
std::optional<Error> check_enc_string(std::string_view field, std::string_view label, std::string_view value);

}  // namespace portal::domain
