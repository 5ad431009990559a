/* The one thing each unit test file exports: its Check suite. tests/unit/check_main.c runs it, so the suites
 * share one main (one exit policy, one summary line) instead of a copy each. */
#ifndef HOP_TESTS_UNIT_H
#define HOP_TESTS_UNIT_H

#include <check.h>

/* Builds the file's suite; check_main.c runs it with CK_NORMAL and frees it. */
Suite *unit_suite(void);

#endif
