// Placeholder until the tests of this file land (issue 10).
#include <gtest/gtest.h>
