/* The subcommands, one file each (cmd_<name>.c); dispatch.c lists them. */
#ifndef KG_COMMANDS_H
#define KG_COMMANDS_H

#include "cli.h"

extern const kg_command kg_command_devices;
extern const kg_command kg_command_run;
extern const kg_command kg_command_report;
extern const kg_command kg_command_verify;
extern const kg_command kg_command_compare;
extern const kg_command kg_command_export;
extern const kg_command kg_command_replicate;
extern const kg_command kg_command_merge;
extern const kg_command kg_command_slurm;
extern const kg_command kg_command_check;
extern const kg_command kg_command_ledger;
extern const kg_command kg_command_replay;
/* Internal, not listed in the help: the child side of worker.h. */
extern const kg_command kg_command_worker;

/* Runs the command argv[1] names (argv as main gets it); returns the exit
 * code. */
int kg_main(int argc, char **argv);

#endif
