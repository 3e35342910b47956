// SPDX-License-Identifier: MIT
// gradcode version macros. Bumped with every release; the CMake package version matches.
#pragma once

#define GRADCODE_VERSION_MAJOR 0
#define GRADCODE_VERSION_MINOR 1
#define GRADCODE_VERSION_PATCH 0
