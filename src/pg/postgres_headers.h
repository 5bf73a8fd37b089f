// The one way chronicle includes PostgreSQL's headers from C++.
//
// The standard library and fmt must be included before PostgreSQL's headers:
// port.h turns snprintf, vsnprintf, strerror ... into macros that break <cstdio>,
// <string> and fmt when they come later. Every file that needs PostgreSQL
// includes this header after its standard and fmt includes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <string_view>

#include <fmt/format.h>

extern "C" {
#include "postgres.h"

#include "fmgr.h"
}
