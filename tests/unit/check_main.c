/* The main of every unit test binary: runs the suite that test_<module>.c exports and exits with its verdict.
 * Check's own environment (CK_FORK, CK_RUN_CASE, CK_VERBOSITY...) applies as Check handles it by default. */
#include "unit.h"

#include <stdlib.h>

int main(void)
{
    SRunner *sr = srunner_create(unit_suite());
    int failed;

    /* CK_NORMAL prints Check's summary line ("100%: Checks: N, Failures: 0, Errors: 0"), which make's output
     * and the README count on. */
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed != 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
