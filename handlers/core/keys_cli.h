/* The `hop keys` commands: API keys are made and revoked from the command line, never over HTTP. */
#ifndef HOP_KEYS_CLI_H
#define HOP_KEYS_CLI_H

/* hop keys create|list|revoke: the process exit status. */
int keys_command(int argc, char **argv);

#endif
