# What make install ships: the systemd units (verified, and their
# ExecStart= run as systemd would run them).
TEST_PROGS += tests/dist/test_units.py
