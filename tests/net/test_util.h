// Helpers shared by the net tests.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "common/temp_dir.h"

namespace aegis::net::testing {

using ::aegis::testing::TempDir;

}  // namespace aegis::net::testing
