# The tables of `make bench` from bench/run.sh's samples (tab-separated: cell, round, app, label,
# "requests=.. seconds=.. p50_us=.. ...", CPU ticks before and after of "caddy hop trivial postgres loadgen
# hop-without-counting hop-before hop-domains").
# Run with -v tck=CLK_TCK. Every figure is the median over rounds, with min–max where the spread matters.
# Plain awk (mawk): no asort, so medians use a small insertion sort.

function median(key,    n, i, j, v, t) {
    n = cnt[key]
    if (n == 0)
        return ""
    for (i = 1; i <= n; i++)
        v[i] = val[key, i]
    for (i = 2; i <= n; i++) {
        t = v[i]
        for (j = i - 1; j >= 1 && v[j] > t; j--)
            v[j + 1] = v[j]
        v[j + 1] = t
    }
    lo[key] = v[1]
    hi[key] = v[n]
    return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
}

function add(cell, metric, x,    key) {
    key = cell SUBSEP metric
    val[key, ++cnt[key]] = x
}

function m(cell, metric) {
    return median(cell SUBSEP metric)
}

function ms(us) {
    return sprintf("%.2f", us / 1000)
}

function us1(x) {
    return x == "" ? "—" : sprintf("%.1f", x)
}

function have(cell) {
    return (cell SUBSEP "rps") in cnt
}

function ratio(a, b) {
    return b > 0 ? sprintf("%.2f", a / b) : "—"
}

function verdict(ok) {
    return ok ? "met" : "**not met**"
}

{
    cell = $1
    if (!(cell in label)) {
        order[++ncells] = cell
        label[cell] = $4
        app[cell] = $3
    }
    split($5, kv, " ")
    for (i in kv) {
        split(kv[i], pair, "=")
        r[pair[1]] = pair[2]
    }
    split($6, b, " ")
    split($7, a, " ")
    req = r["requests"] + 0
    secs = r["seconds"] + 0
    add(cell, "rps", secs > 0 ? req / secs : 0)
    add(cell, "p50", r["p50_us"])
    add(cell, "p90", r["p90_us"])
    add(cell, "p99", r["p99_us"])
    add(cell, "max", r["max_us"])
    errs[cell] += r["errors"]
    unexp[cell] += r["unexpected"]
    total[cell] += req
    # CPU us per request of each process tree
    for (k = 1; k <= 8; k++)
        add(cell, "cpu" k, req > 0 ? (a[k] - b[k]) * 1e6 / tck / req : 0)
}

END {
    print "## Throughput and latency"
    print ""
    print "| cell | what | req/s, median (min–max) | p50 ms | p90 ms | p99 ms, median (min–max) | max ms | errors / unexpected status |"
    print "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
    for (i = 1; i <= ncells; i++) {
        c = order[i]
        rps = m(c, "rps")
        rlo = lo[c SUBSEP "rps"]
        rhi = hi[c SUBSEP "rps"]
        p99 = m(c, "p99")
        printf "| %s | %s | %d (%d–%d) | %s | %s | %s (%s–%s) | %s | %d / %d |\n", c, label[c], rps, rlo, rhi,
            ms(m(c, "p50")), ms(m(c, "p90")), ms(p99), ms(lo[c SUBSEP "p99"]), ms(hi[c SUBSEP "p99"]),
            ms(m(c, "max")), errs[c], unexp[c]
    }
    print ""
    print "## CPU per request, by process (µs, median over rounds)"
    print ""
    print "The app is hop (master and workers) or the trivial responder, whichever the cell drives; PostgreSQL is"
    print "every process of the throwaway cluster; the load generator is wrk, h2load, fcgi_load or pgbench."
    print ""
    print "| cell | Caddy | app | PostgreSQL | load generator | server side (Caddy + app + PostgreSQL) |"
    print "| --- | ---: | ---: | ---: | ---: | ---: |"
    for (i = 1; i <= ncells; i++) {
        c = order[i]
        caddy = m(c, "cpu1")
        ap = app[c] == "hop" ? m(c, "cpu2") : app[c] == "triv" ? m(c, "cpu3") : app[c] == "hopnv" ? m(c, "cpu6") : app[c] == "hopb" ? m(c, "cpu7") : app[c] == "hopdom" ? m(c, "cpu8") : ""
        pg = m(c, "cpu4")
        gen = m(c, "cpu5")
        side = caddy + (ap == "" ? 0 : ap) + pg
        printf "| %s | %s | %s | %s | %s | %s |\n", c, us1(caddy), us1(ap), us1(pg), us1(gen), us1(side)
    }

    print ""
    print "## Ratios and targets (issues 5 and 17)"
    print ""
    print "| comparison | value | target |"
    print "| --- | ---: | --- |"
    if (have("redirect-popular") && have("trivial-https")) {
        x = m("redirect-popular", "rps") / m("trivial-https", "rps")
        printf "| redirect (popular) via Caddy ÷ trivial responder via Caddy, req/s | %.2f | ≥ 0.98 (issue 17; 0.9 in issue 5): %s |\n", x, verdict(x >= 0.98)
        x = m("redirect-popular", "p99") / m("trivial-https", "p99")
        printf "| same, p99 latency at %d connections | %.2f | no worse, ≤ 1.00 (issue 17; 1.2 in issue 5): %s |\n", conns, x, verdict(x <= 1.0)
    }
    if (have("redirect-spread") && have("trivial-https")) {
        x = m("redirect-spread", "rps") / m("trivial-https", "rps")
        printf "| redirect (10,000 links) via Caddy ÷ trivial via Caddy, req/s | %.2f | ≥ 0.9: %s |\n", x, verdict(x >= 0.9)
        x = m("redirect-spread", "p99") / m("trivial-https", "p99")
        printf "| same, p99 latency | %.2f | ≤ 1.2: %s |\n", x, verdict(x <= 1.2)
    }
    if (have("h2-redirect-popular") && have("h2-trivial"))
        printf "| HTTP/2: redirect ÷ trivial, req/s | %s | |\n", ratio(m("h2-redirect-popular", "rps"), m("h2-trivial", "rps"))
    if (have("direct-redirect-popular") && have("direct-trivial")) {
        printf "| without Caddy (fcgi_load): redirect (popular) ÷ trivial, req/s | %s | |\n",
            ratio(m("direct-redirect-popular", "rps"), m("direct-trivial", "rps"))
        printf "| without Caddy: redirect (popular) ÷ trivial, p99 | %s | |\n",
            ratio(m("direct-redirect-popular", "p99"), m("direct-trivial", "p99"))
    }
    if (have("direct-redirect-spread") && have("direct-trivial"))
        printf "| without Caddy: redirect (10,000 links) ÷ trivial, req/s | %s | |\n",
            ratio(m("direct-redirect-spread", "rps"), m("direct-trivial", "rps"))
    n = split("redirect-popular redirect-spread direct-redirect-popular direct-redirect-spread direct-redirect-real direct-spread-real", rc, " ")
    for (i = 1; i <= n; i++) {
        c = rc[i]
        if (!have(c))
            continue
        x = m(c, "cpu2")
        printf "| hop CPU per redirect, %s | %.1f µs | ≤ 15 µs: %s |\n", c, x, verdict(x <= 15)
        x = m(c, "cpu4")
        printf "| PostgreSQL CPU per redirect, %s | %.1f µs | ≤ 5 µs: %s |\n", c, x, verdict(x <= 5)
    }
    if (have("direct-redirect-popular") && have("direct-nocount-popular"))
        printf "| without Caddy: redirect (popular) counting on ÷ counting off, req/s | %s | ≥ 0.95: %s |\n",
            ratio(m("direct-redirect-popular", "rps"), m("direct-nocount-popular", "rps")),
            verdict(m("direct-redirect-popular", "rps") >= 0.95 * m("direct-nocount-popular", "rps"))
    if (have("direct-redirect-real") && have("direct-nocount-real")) {
        printf "| without Caddy: redirect with full analytics (browser UA, Referer path, UTM) ÷ counting off, req/s | %s | ≥ 0.95 (issue 13): %s |\n",
            ratio(m("direct-redirect-real", "rps"), m("direct-nocount-real", "rps")),
            verdict(m("direct-redirect-real", "rps") >= 0.95 * m("direct-nocount-real", "rps"))
        printf "| same, p99 latency | %s | |\n", ratio(m("direct-redirect-real", "p99"), m("direct-nocount-real", "p99"))
    }
    if (have("direct-spread-real") && have("direct-nocount-spread-real"))
        printf "| without Caddy: the same over %s links at random ÷ counting off, req/s | %s | |\n", "10,000",
            ratio(m("direct-spread-real", "rps"), m("direct-nocount-spread-real", "rps"))
    if (have("direct-redirect-popular") && have("direct-redirect-domains")) {
        printf "| without Caddy: redirect on the default of 4 domains ÷ with no domains, req/s | %s | |\n",
            ratio(m("direct-redirect-domains", "rps"), m("direct-redirect-popular", "rps"))
        x = m("direct-redirect-domains", "cpu8") / m("direct-redirect-popular", "cpu2")
        printf "| hop CPU per redirect: on the default of 4 domains ÷ with no domains | %.3f | ≤ 1.03: %s |\n", x, verdict(x <= 1.03)
    }
    if (have("trivial-https") && have("redirect-popular"))
        printf "| Caddy CPU per request: via FastCGI (trivial) ÷ respond over HTTPS | %s | |\n",
            ratio(m("trivial-https", "cpu1"), m("respond-https", "cpu1"))
    n = split("healthz create get list stats", api, " ")
    for (i = 1; i <= n; i++) {
        c = api[i]
        if (have(c) && have("pg-" c))
            printf "| %s via Caddy ÷ PostgreSQL alone on its statements, req/s | %s | |\n", c,
                ratio(m(c, "rps"), m("pg-" c, "rps"))
    }
    if (have("redirect-spread") && have("pg-redirect"))
        printf "| redirect (10,000 links) via Caddy ÷ PostgreSQL alone on its lookup, req/s | %s | |\n",
            ratio(m("redirect-spread", "rps"), m("pg-redirect", "rps"))
    speed_rows()
}

# Issue 11: a plain redirect keeps its speed (within 3 % of HOP_BIN_BEFORE), and one with forward_query and
# app targets costs at most 5 % more than a plain one. Throughput and the app's CPU per request, both ways.
function speed_rows(    i, pre, x, y, c) {
    pre[1] = ""
    pre[2] = "direct-"
    for (i = 1; i <= 2; i++) {
        c = pre[i] "redirect-popular"
        if (have(c) && have(c "-before")) {
            x = m(c, "rps") / m(c "-before", "rps")
            printf "| %s: plain ÷ before, req/s | %.3f | ≥ 0.97: %s |\n", c, x, verdict(x >= 0.97)
            y = m(c, "cpu2") / m(c "-before", "cpu7")
            printf "| %s: plain ÷ before, hop CPU µs per request | %.3f | ≤ 1.03: %s |\n", c, y, verdict(y <= 1.03)
        }
        if (have(c) && have(pre[i] "redirect-extended")) {
            x = m(pre[i] "redirect-extended", "rps") / m(c, "rps")
            printf "| %sredirect-extended ÷ %s, req/s | %.3f | ≥ 0.95: %s |\n", pre[i], c, x, verdict(x >= 0.95)
            y = m(pre[i] "redirect-extended", "cpu2") / m(c, "cpu2")
            printf "| %sredirect-extended ÷ %s, hop CPU µs per request | %.3f | ≤ 1.05: %s |\n", pre[i], c, y, verdict(y <= 1.05)
        }
        c = pre[i] "redirect-plain-mobile"
        if (have(c) && have(pre[i] "redirect-extended")) {
            x = m(pre[i] "redirect-extended", "rps") / m(c, "rps")
            printf "| %sredirect-extended ÷ %s (same request bytes), req/s | %.3f | ≥ 0.95: %s |\n", pre[i], c, x, verdict(x >= 0.95)
            y = m(pre[i] "redirect-extended", "cpu2") / m(c, "cpu2")
            printf "| %sredirect-extended ÷ %s, hop CPU µs per request | %.3f | ≤ 1.05: %s |\n", pre[i], c, y, verdict(y <= 1.05)
        }
    }
}
