#include "core/hmac.h"

namespace chronicle {

bool constant_time_equal(const std::uint8_t* a, const std::uint8_t* b, std::size_t length) {
  std::uint8_t difference = 0;
  for (std::size_t i = 0; i < length; ++i) difference |= a[i] ^ b[i];
  return difference == 0;
}

}  // namespace chronicle
