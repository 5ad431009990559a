# The web page (web/): hop's own HTML, CSS and JavaScript, and the chart library vendored from the npm package
# pinned in web/package-lock.json, assembled into build/web/ (what Caddy serves at /_hop/app/ in `make run`
# and the tests, and what `make install` ships). Nothing is fetched by a browser from anywhere else.
#   make web            build/web/
#   make browser-check  tests/integration/test_browser.sh (also part of `make integration`)

WEB_FILES := $(wildcard web/*.html web/*.css web/*.js web/*.svg)

.PHONY: web
web: build/web/index.html

# index.html is copied last, so it is the newest file and stands for the whole folder.
build/web/index.html: $(WEB_FILES) web/package.json web/package-lock.json
	@mkdir -p build/web/vendor
	@command -v npm >/dev/null || { echo "web: npm is needed to vendor uPlot (make deps)" >&2; exit 1; }
	$(Q)cd web && npm ci --no-audit --no-fund --loglevel=error >/dev/null
	$(Q)cp web/node_modules/uplot/dist/uPlot.iife.min.js web/node_modules/uplot/dist/uPlot.min.css build/web/vendor/
	$(Q)cp $(filter-out web/index.html,$(WEB_FILES)) build/web/
	$(Q)cp web/index.html $@

# make run and every integration suite serve the page
run integration: build/web/index.html

# The README's screenshots: the ones the last browser suite took (build/browser/), copied into docs/.
.PHONY: screenshots
screenshots:
	@ls build/browser/*-desktop.png >/dev/null 2>&1 || { echo "run tests/integration/test_browser.sh first" >&2; exit 1; }
	mkdir -p docs/screenshots
	cp build/browser/*-desktop.png build/browser/*-phone.png docs/screenshots/
