/* The `hop domains` commands: the short domains are managed on the server, never over HTTP. */
#ifndef HOP_DOMAINS_CLI_H
#define HOP_DOMAINS_CLI_H

/* hop domains add|list|remove: the process exit status. */
int domains_command(int argc, char **argv);

#endif
