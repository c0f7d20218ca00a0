# lib/: the plumbing every program shares (logging, Unix sockets, JSON,
# the monotonic clock, number parsing, the /metrics HTTP server), one copy
# of each.
LIB_SRCS := lib/log.c lib/sock.c lib/json.c lib/num.c lib/httpd.c
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
