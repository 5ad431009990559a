/* The /api/tags resource: the key owner's tags, by name, with how many of the owner's links carry each.
 * Tags themselves are written through the links (PATCH replaces them whole). */
#include "app.h"

#include "auth.h"
#include "db.h"
#include "db_links.h"
#include "handler.h"
#include "req.h"

#include <json-c/json.h>

void tags_list(struct req *r, struct resp *w)
{
    struct tag_count *tags;
    size_t n;
    int rc = db_tags_count(r->arena, auth_owner(r), &tags, &n);
    if (handler_db_failed(w, rc) < 0)
        return;
    struct json_object *o = handler_own(r, json_object_new_object()), *arr = json_object_new_array();
    for (size_t i = 0; i < n; i++) {
        struct json_object *e = json_object_new_object();
        json_object_object_add(e, "tag", json_object_new_string(tags[i].tag));
        json_object_object_add(e, "links", json_object_new_int64(tags[i].links));
        json_object_array_add(arr, e);
    }
    json_object_object_add(o, "tags", arr);
    handler_json(w, 200, o);
}
