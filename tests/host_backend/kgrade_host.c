/* kgrade with the host test backend registered ("host:0"), for tests of
 * the runner that need no device: the same commands as kgrade, and its
 * workers are this binary too (they re-execute /proc/self/exe). */
#include "commands.h"
#include "host_backend.h"
#include "host_kernels.h"

#include <stdio.h>

int main(int argc, char **argv)
{
    kg_error err = {0};
    if (kg_host_backend_register(&err) != KG_OK) {
        fprintf(stderr, "kgrade_host: %s\n", err.message);
        return 1;
    }
    kg_host_register_runner_kernels();
    kg_host_register_test_kernels();
    return kg_main(argc, argv);
}
