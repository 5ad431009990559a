/* Response building and serialisation; see resp.h. */
#include "resp.h"

#include "arena.h"

#include <json-c/json.h>
#include <string.h>

void resp_init(struct resp *w, struct arena *a)
{
    memset(w, 0, sizeof(*w));
    w->arena = a;
    w->status = 500;
    buf_init(&w->headers, a, 256);
}

static bool header_safe(const char *s)
{
    return strpbrk(s, "\r\n") == NULL;
}

/* RFC 9110 token characters. Not strspn: it builds a table from its set on each call (three a redirect). */
static bool header_name_ok(const char *name)
{
    if (!*name)
        return false;
    for (const char *s = name; *s; s++) {
        char c = *s;
        bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum && !strchr("!#$%&'*+-.^_`|~", c))
            return false;
    }
    return true;
}

int resp_header(struct resp *w, const char *name, const char *value)
{
    if (!header_name_ok(name) || !header_safe(value))
        return -1;
    buf_adds(&w->headers, name);
    buf_add(&w->headers, ": ", 2);
    buf_adds(&w->headers, value);
    buf_add(&w->headers, "\r\n", 2);
    return 0;
}

void resp_body(struct resp *w, int status, const char *content_type, const char *body, size_t len)
{
    w->status = status;
    w->content_type = content_type;
    w->body = body;
    w->body_len = len;
}

static void body_from_json(struct resp *w, int status, const char *ctype, struct json_object *obj)
{
    size_t len = 0;
    const char *s =
        json_object_to_json_string_length(obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
    /* the string belongs to obj; copy it so the caller may release obj at once */
    resp_body(w, status, ctype, arena_strndup(w->arena, s, len), len);
}

void resp_json(struct resp *w, int status, struct json_object *obj)
{
    body_from_json(w, status, "application/json", obj);
}

void resp_problem_errors(struct resp *w, int status, const char *detail, struct json_object *errors)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "type", json_object_new_string("about:blank"));
    json_object_object_add(o, "title", json_object_new_string(resp_reason(status)));
    json_object_object_add(o, "status", json_object_new_int(status));
    json_object_object_add(o, "detail", json_object_new_string(detail));
    if (errors)
        json_object_object_add(o, "errors", errors);
    body_from_json(w, status, "application/problem+json", o);
    json_object_put(o);
}

void resp_problem(struct resp *w, int status, const char *detail)
{
    resp_problem_errors(w, status, detail, NULL);
}

void resp_redirect(struct resp *w, int status, const char *url)
{
    if (resp_header(w, "Location", url) < 0) {
        resp_problem(w, 500, "the stored URL cannot be sent as a header");
        return;
    }
    resp_body(w, status, NULL, NULL, 0);
}

const char *resp_reason(int status)
{
    static const struct {
        int code;
        const char *text;
    } reasons[] = {
        {200, "OK"},
        {201, "Created"},
        {204, "No Content"},
        {301, "Moved Permanently"},
        {302, "Found"},
        {303, "See Other"},
        {304, "Not Modified"},
        {307, "Temporary Redirect"},
        {308, "Permanent Redirect"},
        {400, "Bad Request"},
        {401, "Unauthorized"},
        {403, "Forbidden"},
        {404, "Not Found"},
        {405, "Method Not Allowed"},
        {408, "Request Timeout"},
        {409, "Conflict"},
        {410, "Gone"},
        {413, "Content Too Large"},
        {414, "URI Too Long"},
        {415, "Unsupported Media Type"},
        {422, "Unprocessable Content"},
        {429, "Too Many Requests"},
        {500, "Internal Server Error"},
        {503, "Service Unavailable"},
    };
    for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
        if (reasons[i].code == status)
            return reasons[i].text;
    }
    return "Unknown";
}

/* Written on every request: appended piece by piece, without a format parse (buf_addf's two vsnprintf
 * calls were a tenth of a redirect's instructions). */
static void add_line(struct buf *out, const char *name, const char *value)
{
    buf_adds(out, name);
    buf_adds(out, value);
    buf_add(out, "\r\n", 2);
}

void resp_serialize(const struct resp *w, const char *request_id, bool head_only, struct buf *out)
{
    buf_add(out, "Status: ", 8);
    buf_addu(out, (unsigned)w->status);
    add_line(out, " ", resp_reason(w->status));
    if (w->content_type)
        add_line(out, "Content-Type: ", w->content_type);
    if (w->status != 204 && w->status != 304 && !w->stream) {
        buf_add(out, "Content-Length: ", 16);
        buf_addu(out, w->body_len);
        buf_add(out, "\r\n", 2);
    }
    add_line(out, "X-Request-Id: ", request_id);
    buf_add(out, w->headers.data, w->headers.len);
    buf_add(out, "\r\n", 2);
    if (!head_only && w->body_len)
        buf_add(out, w->body, w->body_len);
}

void resp_stream(struct resp *w, int status, const char *content_type, resp_stream_fn fn, void *ctx)
{
    w->status = status;
    w->content_type = content_type;
    w->body = NULL;
    w->body_len = 0;
    w->stream = fn;
    w->stream_ctx = ctx;
}

void resp_send(const struct resp *w, const char *request_id, bool head_only, struct buf *scratch,
               const struct resp_sink *out)
{
    resp_serialize(w, request_id, head_only, scratch);
    out->write(out->ctx, scratch->data, scratch->len);
    if (w->stream && !head_only)
        w->stream(w->stream_ctx, out);
}
