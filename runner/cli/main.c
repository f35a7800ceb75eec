/* kgrade: the whole program is kg_main (dispatch.c). */
#include "commands.h"

int main(int argc, char **argv)
{
    return kg_main(argc, argv);
}
