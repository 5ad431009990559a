/* hop's side of the runtime's hooks: what each worker and the master do besides answering requests. */
#ifndef HOP_HOOKS_H
#define HOP_HOOKS_H

struct server_hooks;

extern const struct server_hooks hop_hooks;

/* Brings the worker's cache in line with its connection: after a reconnect, notifications may have been
 * missed, so the cache is emptied and the connection subscribed again. Also reads notifications that
 * arrived with a query's result. */
void hooks_sync(void);

#endif
