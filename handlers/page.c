/* HTML pages of the public redirect path; see page.h. */
#include "page.h"

#include "arena.h"
#include "req.h"
#include "resp.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The one style sheet, inline and allowed by its hash, so the policy needs no 'unsafe-inline'. */
static const char style[] =
    "body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#222}"
    "h1{font-size:1.4rem}label{display:block;margin:1rem 0 .3rem}"
    "input{font:inherit;padding:.5rem;width:100%;box-sizing:border-box}"
    "button{font:inherit;margin-top:1rem;padding:.5rem 1.2rem}"
    ".error{color:#a00;font-weight:600}";

static const char *policy(void)
{
    static char csp[256];
    if (csp[0])
        return csp;
    unsigned char digest[32];
    unsigned int len = sizeof(digest);
    unsigned char b64[64];
    EVP_Digest(style, strlen(style), digest, &len, EVP_sha256(), NULL);
    EVP_EncodeBlock(b64, digest, (int)len);
    snprintf(csp, sizeof(csp),
             "default-src 'none'; style-src 'sha256-%s'; form-action 'self'; base-uri 'none'; "
             "frame-ancestors 'none'",
             (const char *)b64);
    return csp;
}

/* The q value of one media range of an Accept header ("text/html;q=0.9"): 1 when none is given. */
static double range_q(const char *params, size_t len)
{
    for (const char *p = params; p < params + len; p++) {
        if ((p[0] == 'q' || p[0] == 'Q') && p + 1 < params + len && p[1] == '=' &&
            (p == params || p[-1] == ';' || p[-1] == ' '))
            return strtod(p + 2, NULL);
    }
    return 1.0;
}

bool page_wanted(const struct req *r)
{
    const char *accept = req_env(r, "HTTP_ACCEPT");
    if (!accept)
        return false;
    double html = -1, json = -1;
    const char *p = accept;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t n = strcspn(p, ","), type = strcspn(p, ";,");
        while (type > 0 && p[type - 1] == ' ')
            type--;
        double q = range_q(p + type, n - type);
        if (type == 9 && strncasecmp(p, "text/html", 9) == 0)
            html = q;
        else if ((type == 16 && strncasecmp(p, "application/json", 16) == 0) ||
                 (type == 24 && strncasecmp(p, "application/problem+json", 24) == 0))
            json = q > json ? q : json;
        p += n;
    }
    /* named outright and not ranked below JSON: a browser; anything else (curl's * / *) gets JSON */
    return html > 0 && html >= json;
}

static void headers(struct resp *w)
{
    resp_header(w, "Content-Security-Policy", policy());
    resp_header(w, "Cache-Control", "no-store");
    resp_header(w, "X-Robots-Tag", "noindex");
    resp_header(w, "X-Content-Type-Options", "nosniff");
    resp_header(w, "Referrer-Policy", "no-referrer");
}

static void page(struct resp *w, int status, const char *title, const char *inner)
{
    headers(w);
    const char *html =
        arena_printf(w->arena,
                     "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                     "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
                     "<meta name=\"robots\" content=\"noindex\">"
                     "<title>%s</title><style>%s</style></head>\n<body><main>\n%s</main></body></html>\n",
                     title, style, inner);
    resp_body(w, status, "text/html; charset=utf-8", html, strlen(html));
}

void page_or_problem(struct req *r, struct resp *w, int status, const char *sentence)
{
    if (!page_wanted(r)) {
        resp_header(w, "Cache-Control", "private, max-age=0");
        resp_problem(w, status, sentence);
        return;
    }
    const char *title = resp_reason(status);
    page(w, status, title, arena_printf(w->arena, "<h1>%s</h1>\n<p>%s.</p>\n", title, sentence));
}

void page_password_form(struct req *r, struct resp *w, int status, const char *slug, const char *message)
{
    (void)r;
    /* slug is [A-Za-z0-9_-]: nothing in it needs escaping */
    const char *inner = arena_printf(
        w->arena,
        "<h1>This link is protected</h1>\n"
        "<p>Enter the password its owner gave you to follow <strong>/%s</strong>.</p>\n"
        "%s%s%s"
        "<form method=\"post\">\n"
        "<label for=\"password\">Password</label>\n"
        "<input id=\"password\" name=\"password\" type=\"password\" required autofocus "
        "autocomplete=\"current-password\" maxlength=\"128\"%s>\n"
        "<button type=\"submit\">Continue</button>\n"
        "</form>\n",
        slug, message ? "<p class=\"error\" id=\"error\" role=\"alert\">" : "", message ? message : "",
        message ? "</p>\n" : "", message ? " aria-describedby=\"error\" aria-invalid=\"true\"" : "");
    page(w, status, "Password required", inner);
}
