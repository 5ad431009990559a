/* `hop import`: links from another service's export (or hop's own) into an owner's links, in batches. */
#ifndef HOP_IMPORT_H
#define HOP_IMPORT_H

/* argv after "import"; returns the process's exit status. */
int import_command(int argc, char **argv);

#endif
