/*
 * Roadlink's sd_notify(3) sender: one datagram to the AF_UNIX socket systemd names in
 * $NOTIFY_SOCKET. Node has no unix datagram sockets (node:dgram is UDP only), and a helper process
 * (systemd-notify) would send from another PID, which systemd accepts only with NotifyAccess=all;
 * sent from the agent's own process, the default NotifyAccess=main suffices.
 *
 * Its own addon rather than a function of the SocketCAN reader (drivers/socketcan/native/): that one
 * is loaded only for socketcan buses and has a fallback (the `socketcan` package) when it does not
 * load, while this one is needed by every agent under systemd, replay or not, and has its own
 * failure mode (no watchdog); neither should be able to take the other down.
 *
 * JS API (types and the loader: agent/runtime/sd-notify.ts):
 *   send(socketPath, message) -> bytes sent
 *     socketPath: a filesystem path, or "@name" for an abstract socket (as systemd writes it).
 *     Never blocks (MSG_DONTWAIT): a full receive queue is an EAGAIN error, not a stall.
 * Errors are JS Errors with code (errno name), errno and syscall.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <node_api.h>

#define MAX_MESSAGE 4096

/* The errors socket()/sendto() on an AF_UNIX datagram socket can give, by name. */
static const char *errno_name(int err) {
  switch (err) {
    case ENOENT: return "ENOENT";           /* no socket at that path */
    case ECONNREFUSED: return "ECONNREFUSED"; /* a path, but nobody bound to it */
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case EAGAIN: return "EAGAIN";           /* the receiver's queue is full */
    case ENOBUFS: return "ENOBUFS";
    case ENOMEM: return "ENOMEM";
    case EMSGSIZE: return "EMSGSIZE";
    case EMFILE: return "EMFILE";
    case ENFILE: return "ENFILE";
    case EPROTOTYPE: return "EPROTOTYPE";   /* the socket is not a datagram socket */
    case ENOTDIR: return "ENOTDIR";
    case EINVAL: return "EINVAL";
    default: return "EUNKNOWN";
  }
}

static napi_value throw_errno(napi_env env, const char *syscall, int err) {
  char message[160];
  snprintf(message, sizeof message, "sd_notify: %s: %s", syscall, strerror(err));
  napi_value msg, error, value;
  napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &msg);
  napi_create_error(env, NULL, msg, &error);
  napi_create_string_utf8(env, errno_name(err), NAPI_AUTO_LENGTH, &value);
  napi_set_named_property(env, error, "code", value);
  napi_create_int32(env, -err, &value);
  napi_set_named_property(env, error, "errno", value);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &value);
  napi_set_named_property(env, error, "syscall", value);
  napi_throw(env, error);
  return NULL;
}

static int string_arg(napi_env env, napi_value value, char *buf, size_t size, size_t *length) {
  napi_valuetype type;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_string) return 0;
  if (napi_get_value_string_utf8(env, value, buf, size, length) != napi_ok) return 0;
  return *length < size - 1; /* truncated otherwise */
}

static napi_value send_notify(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char path[sizeof(((struct sockaddr_un *)0)->sun_path) + 1];
  char message[MAX_MESSAGE + 1];
  size_t path_len = 0, message_len = 0;
  if (argc < 2 || !string_arg(env, argv[0], path, sizeof path, &path_len) || path_len == 0) {
    napi_throw_type_error(env, NULL, "sd_notify: the socket is a non-empty string of at most 107 bytes");
    return NULL;
  }
  if (!string_arg(env, argv[1], message, sizeof message, &message_len)) {
    napi_throw_type_error(env, NULL, "sd_notify: the message is a string of at most 4096 bytes");
    return NULL;
  }
  if (path[0] != '/' && path[0] != '@') {
    napi_throw_error(env, "EAFNOSUPPORT", "sd_notify: only AF_UNIX sockets (\"/path\" or \"@abstract\") are supported");
    return NULL;
  }
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  memcpy(addr.sun_path, path, path_len);
  if (path[0] == '@') addr.sun_path[0] = '\0';
  socklen_t addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + path_len + (path[0] == '@' ? 0 : 1));

  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "socket", errno);
  ssize_t sent = sendto(fd, message, message_len, MSG_NOSIGNAL | MSG_DONTWAIT, (struct sockaddr *)&addr, addr_len);
  int err = errno;
  close(fd);
  if (sent < 0) return throw_errno(env, "sendto", err);
  napi_value result;
  napi_create_int64(env, sent, &result);
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "send", NAPI_AUTO_LENGTH, send_notify, NULL, &fn);
  napi_set_named_property(env, exports, "send", fn);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
