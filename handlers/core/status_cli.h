/* `hop status`: the running pool's numbers for a person (or, with --json, for a script), asked of the pool
 * itself over its FastCGI socket. */
#ifndef HOP_STATUS_CLI_H
#define HOP_STATUS_CLI_H

/* hop status [--json] [--socket ADDR]: the process exit status (1 when the pool cannot be reached). */
int status_command(int argc, char **argv);

#endif
