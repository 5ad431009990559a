# Installing and deploying hop.
#   make install PREFIX=/usr/local DESTDIR=   the binary, the systemd units, the production Caddyfile, its
#                                             page for "/", the web page (/_hop/app/), the remote-database
#                                             drop-in example, the man page
#   make deploy HOST=user@server              build, copy the binary to HOST, reload hop there (SIGHUP: the
#                                             master re-executes the new binary on the same socket; no request
#                                             is refused)
#   make install-check                        (part of make check) installs into a temp DESTDIR and checks it

UNITDIR  ?= $(PREFIX)/lib/systemd/system
SHAREDIR ?= $(PREFIX)/share/hop
MANDIR   ?= $(PREFIX)/share/man
# where the binary goes on HOST, and how hop is told to pick it up (reload: SIGHUP, or restart)
DEPLOY_BIN    ?= /usr/local/bin/hop
DEPLOY_ACTION ?= reload

.PHONY: install-all install-check deploy

install: install-all

install-all: build/hop build/web/index.html
	install -D -m 0755 build/hop $(DESTDIR)$(PREFIX)/bin/hop
	install -D -m 0644 systemd/hop.socket $(DESTDIR)$(UNITDIR)/hop.socket
	@mkdir -p $(DESTDIR)$(UNITDIR)
	sed 's#/usr/local/bin/hop#$(PREFIX)/bin/hop#g' systemd/hop.service >$(DESTDIR)$(UNITDIR)/hop.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/hop.service
	install -D -m 0644 systemd/hop-remote-db.conf $(DESTDIR)$(SHAREDIR)/hop-remote-db.conf
	@mkdir -p $(DESTDIR)$(SHAREDIR)
	sed 's#/usr/local/share/hop/site#$(SHAREDIR)/site#g; s#/usr/local/share/hop/app#$(SHAREDIR)/app#g' \
	  caddy/Caddyfile >$(DESTDIR)$(SHAREDIR)/Caddyfile
	chmod 0644 $(DESTDIR)$(SHAREDIR)/Caddyfile
	install -D -m 0644 caddy/site/index.html $(DESTDIR)$(SHAREDIR)/site/index.html
	install -d $(DESTDIR)$(SHAREDIR)/app/vendor
	install -m 0644 build/web/*.html build/web/*.css build/web/*.js build/web/*.svg $(DESTDIR)$(SHAREDIR)/app/
	install -m 0644 build/web/vendor/* $(DESTDIR)$(SHAREDIR)/app/vendor/
	install -D -m 0644 docs/hop.1 $(DESTDIR)$(MANDIR)/man1/hop.1

# The binary goes next to the old one, then is renamed over it (atomic): the running master then sees its own
# file as deleted, and on reload re-executes the new file at the same path.
deploy: build/hop
	@test -n "$(HOST)" || { echo "usage: make deploy HOST=user@server [DEPLOY_ACTION=reload|restart]" >&2; exit 2; }
	@command -v rsync >/dev/null && command -v ssh >/dev/null || { echo "deploy needs rsync and ssh" >&2; exit 2; }
	rsync --compress --chmod=F0755 build/hop $(HOST):$(DEPLOY_BIN).new
	ssh $(HOST) 'set -e; mv -f $(DEPLOY_BIN).new $(DEPLOY_BIN); systemctl $(DEPLOY_ACTION) hop.service; \
	  sleep 1; systemctl is-active hop.service; $(DEPLOY_BIN) version'

install-check: build/hop
	@echo "== tests/install/test_install.sh"
	@bash tests/install/test_install.sh

CHECK_EXTRA += install-check
