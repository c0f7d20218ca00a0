# dist/: what make install puts beside the binaries: the systemd units
# (dist/systemd/*.in, written with the installed sbin path), the group
# they use (sysusers.d).  PREFIX/DESTDIR as for the binaries; UNITDIR and
# SYSUSERSDIR follow PREFIX (/usr/local/lib/systemd/system is on systemd's
# search path, as is /usr/lib/systemd/system for PREFIX=/usr).
SBINDIR     ?= $(PREFIX)/sbin
UNITDIR     ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
DIST_UNITS  := $(wildcard dist/systemd/*.in)

.PHONY: install-dist
install: install-dist
install-dist:
	install -d $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR)
	for u in $(DIST_UNITS); do \
	  sed 's|@SBINDIR@|$(SBINDIR)|g' $$u > $(DESTDIR)$(UNITDIR)/$$(basename $$u .in) && \
	  chmod 0644 $(DESTDIR)$(UNITDIR)/$$(basename $$u .in) || exit 1; done
	install -m 0644 dist/sysusers.d/antfarm.conf $(DESTDIR)$(SYSUSERSDIR)/antfarm.conf
