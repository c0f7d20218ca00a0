# What make install ships: the man pages (checked against --help), the
# installed tree, the systemd units (verified, and their
# ExecStart= run as systemd would run them).
TEST_PROGS += tests/dist/test_units.py tests/dist/test_man.py tests/dist/test_install.sh
