# dist/: what make install puts beside the binaries: the systemd units
# (dist/systemd/*.in, written with the installed sbin path), the group
# they use (sysusers.d), the man pages (dist/man).  PREFIX/DESTDIR as for the binaries; UNITDIR and
# SYSUSERSDIR follow PREFIX (/usr/local/lib/systemd/system is on systemd's
# search path, as is /usr/lib/systemd/system for PREFIX=/usr).
SBINDIR     ?= $(PREFIX)/sbin
UNITDIR     ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
DIST_UNITS  := $(wildcard dist/systemd/*.in)

# Man pages: dist/man/NAME.N, copied to $(BUILD)/man/manN/ (a MANPATH the
# tests use) and installed to $(MANDIR)/manN/.  tests/dist/test_man.py
# checks their options against each program's --help.
MANDIR    ?= $(PREFIX)/share/man
MAN_SRCS  := $(wildcard dist/man/*.[18])
MAN_PAGES := $(foreach m,$(MAN_SRCS),$(BUILD)/man/man$(subst .,,$(suffix $(m)))/$(notdir $(m)))


.PHONY: install-dist
install: install-dist
install-dist: $(MAN_PAGES)
	install -d $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR) \
	           $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man8
	for u in $(DIST_UNITS); do \
	  sed 's|@SBINDIR@|$(SBINDIR)|g' $$u > $(DESTDIR)$(UNITDIR)/$$(basename $$u .in) && \
	  chmod 0644 $(DESTDIR)$(UNITDIR)/$$(basename $$u .in) || exit 1; done
	install -m 0644 dist/sysusers.d/antfarm.conf $(DESTDIR)$(SYSUSERSDIR)/antfarm.conf
	install -m 0644 $(filter %.1,$(MAN_PAGES)) $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 $(filter %.8,$(MAN_PAGES)) $(DESTDIR)$(MANDIR)/man8/

build-all: $(MAN_PAGES)

$(BUILD)/man/man1/%.1: dist/man/%.1
	$(Q)mkdir -p $(dir $@) && cp $< $@
$(BUILD)/man/man8/%.8: dist/man/%.8
	$(Q)mkdir -p $(dir $@) && cp $< $@

