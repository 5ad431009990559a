/* hop's side of the runtime's hooks: what each worker and the master do besides answering requests. */
#ifndef HOP_LIFECYCLE_H
#define HOP_LIFECYCLE_H

struct server_hooks;

extern const struct server_hooks lifecycle_hooks;

#endif
