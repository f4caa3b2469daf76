/*
 * Roadlink's SocketCAN reader: one CAN_RAW socket bound to one interface, read with recvmmsg in
 * batches straight into the caller's FrameBatch arrays (drivers/can/frame-batch.ts: id, len,
 * flags, timeUs, data with a 64-byte stride), with the kernel's receive timestamps.
 * Readiness comes from a libuv poll handle on the socket, which calls a JS callback; JS then
 * drains the socket with read(). No allocation per frame, one system call per 64 frames.
 *
 * JS API (types and the loader: drivers/socketcan/native-can-socket.ts):
 *   new CanSocket(iface, { filters, errorMask, deliverErrors, rcvbufBytes, counters })
 *   socket.setTarget(id, len, flags, timeUs, data)  the batch arrays read() writes into
 *   socket.read(start, max) -> frames written at [start, start + n); n < max: queue drained
 *   socket.send(id, flags, data)   socket.poll(callback)   socket.close()
 *   socket.syncDrops()   brings counters[KERNEL_DROPS] up to date (SO_MEMINFO)
 * Errors are JS Errors with code (errno name), errno, syscall and iface.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/can.h>
#include <linux/can/raw.h>
#include <linux/sock_diag.h>
#include <node_api.h>
#include <uv.h>

/* FrameFlag bits of drivers/can/frame-batch.ts (exported as FRAME_FLAGS so JS checks they agree). */
#define FLAG_EXTENDED 1
#define FLAG_FD 2
#define FLAG_BRS 4
#define FLAG_ESI 8
#define FLAG_RTR 16
#define FLAG_ERROR 32
#define STRIDE 64

/* Slots of the counters Float64Array (SocketCounter in native-can-socket.ts). */
enum { COUNT_FRAMES, COUNT_ERROR_FRAMES, COUNT_KERNEL_DROPS, COUNT_BAD_FRAMES, COUNTERS };

/* Frames per recvmmsg call. */
#define BATCH 64
#define CONTROL_SIZE (CMSG_SPACE(sizeof(struct timespec)) + CMSG_SPACE(sizeof(uint32_t)) + 32)

typedef struct {
  int fd;
  char iface[IF_NAMESIZE];
  int deliver_errors;
  int can_fd;
  napi_env env;
  uv_poll_t *poll;          /* NULL once closed; freed by its uv_close callback */
  napi_ref self_ref;        /* held while polling, so that the object outlives its poll */
  napi_ref callback_ref;
  napi_async_context async_context;
  napi_ref target_refs[5];  /* id, len, flags, timeUs, data */
  uint32_t *t_id;
  uint8_t *t_len, *t_flags, *t_data;
  double *t_time;
  size_t t_capacity;
  napi_ref counters_ref;
  double *counters;
  uint32_t last_overflow;   /* the socket's SO_RXQ_OVFL drop count last seen */
  struct mmsghdr msgs[BATCH];
  struct iovec iov[BATCH];
  struct canfd_frame frames[BATCH];
  union {
    char buf[CONTROL_SIZE];
    struct cmsghdr align;
  } control[BATCH];
} can_socket;

static const char *errno_name(int err) {
  switch (err) {
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case EINTR: return "EINTR";
    case EIO: return "EIO";
    case ENXIO: return "ENXIO";
    case EBADF: return "EBADF";
    case EAGAIN: return "EAGAIN";
    case ENOMEM: return "ENOMEM";
    case EACCES: return "EACCES";
    case EFAULT: return "EFAULT";
    case ENODEV: return "ENODEV";
    case EINVAL: return "EINVAL";
    case ENFILE: return "ENFILE";
    case EMFILE: return "EMFILE";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case EMSGSIZE: return "EMSGSIZE";
    case ENOPROTOOPT: return "ENOPROTOOPT";
    case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
    case ENETDOWN: return "ENETDOWN";
    case ENETUNREACH: return "ENETUNREACH";
    case ENOBUFS: return "ENOBUFS";
    case ECOMM: return "ECOMM";
    default: return NULL;
  }
}

static void set_string(napi_env env, napi_value object, const char *key, const char *value) {
  napi_value v;
  if (napi_create_string_utf8(env, value, NAPI_AUTO_LENGTH, &v) == napi_ok) napi_set_named_property(env, object, key, v);
}

static void set_number(napi_env env, napi_value object, const char *key, double value) {
  napi_value v;
  if (napi_create_double(env, value, &v) == napi_ok) napi_set_named_property(env, object, key, v);
}

/* Error for a failed system call: "<iface>: <syscall> failed: <strerror> (<CODE>)". */
static napi_value errno_error(napi_env env, const char *iface, const char *syscall, int err) {
  char code_buf[16], message[256];
  const char *code = errno_name(err);
  if (!code) {
    snprintf(code_buf, sizeof code_buf, "E%d", err);
    code = code_buf;
  }
  snprintf(message, sizeof message, "%s: %s failed: %s (%s)", iface, syscall, strerror(err), code);
  napi_value code_v, message_v, error;
  napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &code_v);
  napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &message_v);
  napi_create_error(env, code_v, message_v, &error);
  set_number(env, error, "errno", err);
  set_string(env, error, "syscall", syscall);
  set_string(env, error, "iface", iface);
  return error;
}

static napi_value throw_errno(napi_env env, const char *iface, const char *syscall, int err) {
  napi_throw(env, errno_error(env, iface, syscall, err));
  return NULL;
}

/* Fails the current call on a N-API error (a wrong argument type, mostly). */
#define CHECK(env, call, what)                                  \
  do {                                                          \
    if ((call) != napi_ok) {                                    \
      bool pending_ = false;                                    \
      napi_is_exception_pending((env), &pending_);              \
      if (!pending_) napi_throw_type_error((env), NULL, (what)); \
      return NULL;                                              \
    }                                                           \
  } while (0)

static void release_ref(napi_env env, napi_ref *ref) {
  if (*ref) napi_delete_reference(env, *ref);
  *ref = NULL;
}

static void free_poll_handle(uv_handle_t *handle) { free(handle); }

/* Stops polling (dropping what the poll held), closes the socket; safe to repeat. */
static void shutdown_socket(can_socket *s, napi_env env) {
  if (s->poll) {
    uv_poll_stop(s->poll);
    uv_close((uv_handle_t *)s->poll, free_poll_handle);
    s->poll = NULL;
  }
  if (s->fd >= 0) close(s->fd);
  s->fd = -1;
  release_ref(env, &s->self_ref);
  release_ref(env, &s->callback_ref);
  for (int i = 0; i < 5; i++) release_ref(env, &s->target_refs[i]);
  s->t_data = NULL;
  s->t_capacity = 0;
}

static void socket_finalize(napi_env env, void *data, void *hint) {
  can_socket *s = data;
  shutdown_socket(s, env);
  release_ref(env, &s->counters_ref);
  if (s->async_context) napi_async_destroy(env, s->async_context);
  free(s);
}

static can_socket *unwrap(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv, int need_open) {
  napi_value self;
  void *data = NULL;
  if (napi_get_cb_info(env, info, argc, argv, &self, NULL) != napi_ok || napi_unwrap(env, self, &data) != napi_ok || !data) {
    napi_throw_type_error(env, NULL, "not a CanSocket");
    return NULL;
  }
  can_socket *s = data;
  if (need_open && s->fd < 0) {
    napi_throw_error(env, "ERR_SOCKET_CLOSED", "CAN socket is closed");
    return NULL;
  }
  return s;
}

/* A typed array argument of the given type: its data, element count, and a reference to keep it. */
static int typed_array(napi_env env, napi_value value, napi_typedarray_type want, void **data, size_t *length, const char *what) {
  bool is = false;
  napi_typedarray_type type;
  if (napi_is_typedarray(env, value, &is) != napi_ok || !is ||
      napi_get_typedarray_info(env, value, &type, length, data, NULL, NULL) != napi_ok || type != want) {
    napi_throw_type_error(env, NULL, what);
    return 0;
  }
  return 1;
}

static int get_option(napi_env env, napi_value options, const char *key, napi_value *out) {
  bool has = false;
  napi_valuetype type = napi_undefined;
  if (napi_has_named_property(env, options, key, &has) != napi_ok || !has) return 0;
  if (napi_get_named_property(env, options, key, out) != napi_ok || napi_typeof(env, *out, &type) != napi_ok) return 0;
  return type != napi_undefined && type != napi_null;
}

static int set_int_option(int fd, int level, int name, int value) {
  return setsockopt(fd, level, name, &value, sizeof value);
}

/* new CanSocket(iface, options): an open, bound, non-blocking CAN_RAW socket (not yet polled). */
static napi_value socket_new(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], self, value, options = NULL;
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, &self, NULL), "CanSocket: bad arguments");
  char iface[IF_NAMESIZE];
  size_t name_len = 0;
  CHECK(env, napi_get_value_string_utf8(env, argv[0], NULL, 0, &name_len), "CanSocket: the interface name must be a string");
  if (name_len == 0 || name_len >= IF_NAMESIZE) {
    napi_throw_error(env, "EINVAL", "CanSocket: an interface name has 1 to 15 bytes");
    return NULL;
  }
  napi_get_value_string_utf8(env, argv[0], iface, sizeof iface, &name_len);
  if (argc > 1) {
    napi_valuetype type;
    CHECK(env, napi_typeof(env, argv[1], &type), "CanSocket: bad options");
    if (type == napi_object) options = argv[1];
  }

  uint32_t *filters = NULL, error_mask = 0;
  size_t filter_words = 0;
  bool deliver_errors = false;
  int32_t rcvbuf = 0;
  napi_value counters_v = NULL;
  if (options) {
    if (get_option(env, options, "filters", &value)) {
      if (!typed_array(env, value, napi_uint32_array, (void **)&filters, &filter_words, "CanSocket: filters must be a Uint32Array of id, mask pairs")) return NULL;
      if (filter_words % 2 != 0) {
        napi_throw_range_error(env, NULL, "CanSocket: filters must hold id, mask pairs");
        return NULL;
      }
    }
    if (get_option(env, options, "errorMask", &value)) CHECK(env, napi_get_value_uint32(env, value, &error_mask), "CanSocket: errorMask must be a number");
    if (get_option(env, options, "deliverErrors", &value)) CHECK(env, napi_get_value_bool(env, value, &deliver_errors), "CanSocket: deliverErrors must be a boolean");
    if (get_option(env, options, "rcvbufBytes", &value)) CHECK(env, napi_get_value_int32(env, value, &rcvbuf), "CanSocket: rcvbufBytes must be a number");
    if (get_option(env, options, "counters", &value)) {
      void *data;
      size_t n;
      if (!typed_array(env, value, napi_float64_array, &data, &n, "CanSocket: counters must be a Float64Array")) return NULL;
      if (n < COUNTERS) {
        napi_throw_range_error(env, NULL, "CanSocket: counters needs 4 slots");
        return NULL;
      }
      counters_v = value;
    }
  }
  if (!counters_v) {
    napi_value buffer;
    CHECK(env, napi_create_arraybuffer(env, COUNTERS * sizeof(double), NULL, &buffer), "CanSocket: no memory");
    CHECK(env, napi_create_typedarray(env, napi_float64_array, COUNTERS, buffer, 0, &counters_v), "CanSocket: no memory");
  }

  unsigned ifindex = if_nametoindex(iface);
  if (ifindex == 0) return throw_errno(env, iface, "if_nametoindex", errno);
  int fd = socket(PF_CAN, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, CAN_RAW);
  if (fd < 0) return throw_errno(env, iface, "socket(PF_CAN, SOCK_RAW, CAN_RAW)", errno);

  const char *failed = NULL;
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  memcpy(ifr.ifr_name, iface, name_len + 1);
  /* CAN FD frames when the MTU carries them and the kernel agrees (else classic frames only). */
  int can_fd = 0;
  if (ioctl(fd, SIOCGIFMTU, &ifr) < 0) failed = "ioctl(SIOCGIFMTU)";
  else if (ifr.ifr_mtu >= (int)CANFD_MTU) can_fd = set_int_option(fd, SOL_CAN_RAW, CAN_RAW_FD_FRAMES, 1) == 0;
  /* Filters before bind, so that no unfiltered frame is queued in between. */
  if (!failed && filter_words > 0 &&
      setsockopt(fd, SOL_CAN_RAW, CAN_RAW_FILTER, filters, (socklen_t)(filter_words * sizeof(uint32_t))) < 0)
    failed = "setsockopt(CAN_RAW_FILTER)";
  if (!failed && error_mask && setsockopt(fd, SOL_CAN_RAW, CAN_RAW_ERR_FILTER, &error_mask, sizeof error_mask) < 0)
    failed = "setsockopt(CAN_RAW_ERR_FILTER)";
  /* Optional: without kernel timestamps read() stamps frames itself, without SO_RXQ_OVFL drops stay 0. */
  set_int_option(fd, SOL_SOCKET, SO_TIMESTAMPNS, 1);
  set_int_option(fd, SOL_SOCKET, SO_RXQ_OVFL, 1);
  /* A bigger receive queue absorbs bursts: beyond net.core.rmem_max only with CAP_NET_ADMIN. */
  if (!failed && rcvbuf > 0 && set_int_option(fd, SOL_SOCKET, SO_RCVBUFFORCE, rcvbuf) < 0 &&
      set_int_option(fd, SOL_SOCKET, SO_RCVBUF, rcvbuf) < 0)
    failed = "setsockopt(SO_RCVBUF)";
  int rcvbuf_now = 0;
  socklen_t optlen = sizeof rcvbuf_now;
  if (!failed && getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf_now, &optlen) < 0) failed = "getsockopt(SO_RCVBUF)";
  struct sockaddr_can addr;
  memset(&addr, 0, sizeof addr);
  addr.can_family = AF_CAN;
  addr.can_ifindex = (int)ifindex;
  if (!failed && bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0) failed = "bind";
  if (failed) {
    int err = errno;
    close(fd);
    return throw_errno(env, iface, failed, err);
  }

  can_socket *s = calloc(1, sizeof *s);
  uv_loop_t *loop = NULL;
  if (s) s->poll = malloc(sizeof *s->poll);
  if (!s || !s->poll || napi_get_uv_event_loop(env, &loop) != napi_ok || uv_poll_init(loop, s->poll, fd) != 0) {
    if (s) free(s->poll);
    free(s);
    close(fd);
    napi_throw_error(env, "ENOMEM", "CanSocket: cannot set up the socket's poll handle");
    return NULL;
  }
  s->poll->data = s;
  s->fd = fd;
  s->env = env;
  s->can_fd = can_fd;
  s->deliver_errors = deliver_errors;
  memcpy(s->iface, iface, name_len + 1);
  for (int i = 0; i < BATCH; i++) {
    s->iov[i].iov_base = &s->frames[i];
    s->iov[i].iov_len = sizeof s->frames[i];
    s->msgs[i].msg_hdr.msg_iov = &s->iov[i];
    s->msgs[i].msg_hdr.msg_iovlen = 1;
    s->msgs[i].msg_hdr.msg_control = s->control[i].buf;
  }
  size_t n;
  napi_get_typedarray_info(env, counters_v, NULL, &n, (void **)&s->counters, NULL, NULL);
  napi_create_reference(env, counters_v, 1, &s->counters_ref);
  if (napi_wrap(env, self, s, socket_finalize, NULL, NULL) != napi_ok) {
    socket_finalize(env, s, NULL);
    napi_throw_error(env, NULL, "CanSocket: napi_wrap failed");
    return NULL;
  }
  set_string(env, self, "iface", iface);
  set_number(env, self, "mtu", ifr.ifr_mtu);
  napi_get_boolean(env, can_fd, &value);
  napi_set_named_property(env, self, "canFd", value);
  set_number(env, self, "rcvbufBytes", rcvbuf_now);
  napi_set_named_property(env, self, "counters", counters_v);
  return self;
}

/* setTarget(id: Uint32Array, len: Uint8Array, flags: Uint8Array, timeUs: Float64Array, data: Uint8Array) */
static napi_value socket_set_target(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  can_socket *s = unwrap(env, info, &argc, argv, 1);
  if (!s) return NULL;
  static const napi_typedarray_type types[5] = {napi_uint32_array, napi_uint8_array, napi_uint8_array, napi_float64_array, napi_uint8_array};
  static const char *names[5] = {"setTarget: id must be a Uint32Array", "setTarget: len must be a Uint8Array", "setTarget: flags must be a Uint8Array",
                                 "setTarget: timeUs must be a Float64Array", "setTarget: data must be a Uint8Array"};
  void *data[5];
  size_t length[5];
  if (argc < 5) {
    napi_throw_type_error(env, NULL, "setTarget(id, len, flags, timeUs, data) takes 5 typed arrays");
    return NULL;
  }
  for (int i = 0; i < 5; i++)
    if (!typed_array(env, argv[i], types[i], &data[i], &length[i], names[i])) return NULL;
  size_t capacity = length[0];
  for (int i = 1; i < 4; i++)
    if (length[i] < capacity) capacity = length[i];
  if (length[4] / STRIDE < capacity) capacity = length[4] / STRIDE;
  for (int i = 0; i < 5; i++) {
    release_ref(env, &s->target_refs[i]);
    napi_create_reference(env, argv[i], 1, &s->target_refs[i]);
  }
  s->t_id = data[0];
  s->t_len = data[1];
  s->t_flags = data[2];
  s->t_time = data[3];
  s->t_data = data[4];
  s->t_capacity = capacity;
  return NULL;
}

/* The socket's drop count (sk_drops, from SO_RXQ_OVFL or SO_MEMINFO) is now `drops`. */
static void note_drops(can_socket *s, uint32_t drops) {
  int32_t more = (int32_t)(drops - s->last_overflow); /* a frame queued before the last sync carries less */
  if (more <= 0) return;
  s->counters[COUNT_KERNEL_DROPS] += more;
  s->last_overflow = drops;
}

/* Converts received frame k into target slot `out`; 0 when it is not delivered. */
static int store_frame(can_socket *s, unsigned k, uint32_t out) {
  struct canfd_frame *f = &s->frames[k];
  struct msghdr *h = &s->msgs[k].msg_hdr;
  unsigned size = s->msgs[k].msg_len, len = f->len;
  uint32_t can_id = f->can_id, id;
  uint8_t flags = 0;

  /* Control messages first: the drop count must be seen even for frames not delivered. */
  double time_us = -1;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c)) {
    if (c->cmsg_level != SOL_SOCKET) continue;
    if (c->cmsg_type == SCM_TIMESTAMPNS) {
      struct timespec ts;
      memcpy(&ts, CMSG_DATA(c), sizeof ts);
      time_us = (double)ts.tv_sec * 1e6 + (double)(ts.tv_nsec / 1000);
    } else if (c->cmsg_type == SO_RXQ_OVFL) {
      uint32_t drops;
      memcpy(&drops, CMSG_DATA(c), sizeof drops);
      note_drops(s, drops);
    }
  }

  if (size == CANFD_MTU) {
    flags = FLAG_FD | ((f->flags & CANFD_BRS) ? FLAG_BRS : 0) | ((f->flags & CANFD_ESI) ? FLAG_ESI : 0);
    if (len > CANFD_MAX_DLEN) len = CANFD_MAX_DLEN;
  } else if (size == CAN_MTU) {
    if (len > CAN_MAX_DLEN) len = CAN_MAX_DLEN;
  } else {
    s->counters[COUNT_BAD_FRAMES]++;
    return 0;
  }
  if (can_id & CAN_ERR_FLAG) {
    s->counters[COUNT_ERROR_FRAMES]++;
    if (!s->deliver_errors) return 0;
    flags = FLAG_ERROR;
    id = can_id & CAN_ERR_MASK;
  } else {
    if (can_id & CAN_EFF_FLAG) {
      flags |= FLAG_EXTENDED;
      id = can_id & CAN_EFF_MASK;
    } else {
      id = can_id & CAN_SFF_MASK;
    }
    if (can_id & CAN_RTR_FLAG) flags |= FLAG_RTR;
  }
  if (time_us < 0) {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    time_us = (double)now.tv_sec * 1e6 + (double)(now.tv_nsec / 1000);
  }
  s->t_id[out] = id;
  s->t_len[out] = (uint8_t)len;
  s->t_flags[out] = flags;
  s->t_time[out] = time_us;
  memcpy(s->t_data + (size_t)out * STRIDE, f->data, len);
  s->counters[COUNT_FRAMES]++;
  return 1;
}

/*
 * read(start, max): receives up to max frames into target slots [start, start + max) and returns
 * how many it wrote. It stops early only when the socket queue is empty, so n < max means drained.
 * A socket error (ENETDOWN, ENODEV...) throws; error.framesRead tells the frames written before it.
 */
static napi_value socket_read(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], result;
  can_socket *s = unwrap(env, info, &argc, argv, 1);
  if (!s) return NULL;
  uint32_t start = 0, max = 0;
  if (argc < 2 || napi_get_value_uint32(env, argv[0], &start) != napi_ok || napi_get_value_uint32(env, argv[1], &max) != napi_ok) {
    napi_throw_type_error(env, NULL, "read(start, max) takes two numbers");
    return NULL;
  }
  if (!s->t_data) {
    napi_throw_error(env, NULL, "read: call setTarget() first");
    return NULL;
  }
  if ((uint64_t)start + max > s->t_capacity) {
    napi_throw_range_error(env, NULL, "read: start + max exceeds the target's capacity");
    return NULL;
  }
  uint32_t out = start, end = start + max;
  while (out < end) {
    unsigned want = end - out < BATCH ? end - out : BATCH;
    for (unsigned k = 0; k < want; k++) s->msgs[k].msg_hdr.msg_controllen = CONTROL_SIZE;
    int got = recvmmsg(s->fd, s->msgs, want, MSG_DONTWAIT, NULL);
    if (got < 0) {
      int err = errno;
      if (err == EINTR) continue;
      if (err == EAGAIN || err == EWOULDBLOCK) break;
      napi_value error = errno_error(env, s->iface, "recvmmsg", err);
      set_number(env, error, "framesRead", out - start);
      napi_throw(env, error);
      return NULL;
    }
    for (int k = 0; k < got; k++) out += store_frame(s, (unsigned)k, out);
    if ((unsigned)got < want) break;
  }
  napi_create_uint32(env, out - start, &result);
  return result;
}

/* send(id, flags, data): writes one classic or FD frame (flags: FrameFlag bits); throws on failure. */
static napi_value socket_send(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  can_socket *s = unwrap(env, info, &argc, argv, 1);
  if (!s) return NULL;
  uint32_t id = 0, flags = 0;
  void *data = NULL;
  size_t len = 0;
  if (argc < 3 || napi_get_value_uint32(env, argv[0], &id) != napi_ok || napi_get_value_uint32(env, argv[1], &flags) != napi_ok) {
    napi_throw_type_error(env, NULL, "send(id, flags, data) takes two numbers and a Uint8Array");
    return NULL;
  }
  if (!typed_array(env, argv[2], napi_uint8_array, &data, &len, "send: data must be a Uint8Array")) return NULL;
  struct canfd_frame f;
  memset(&f, 0, sizeof f);
  size_t size = CAN_MTU;
  if (flags & FLAG_FD) {
    if (!s->can_fd || len > CANFD_MAX_DLEN) return throw_errno(env, s->iface, "send (CAN FD frame)", s->can_fd ? EMSGSIZE : EOPNOTSUPP);
    size = CANFD_MTU;
    f.flags = ((flags & FLAG_BRS) ? CANFD_BRS : 0) | ((flags & FLAG_ESI) ? CANFD_ESI : 0);
  } else if (len > CAN_MAX_DLEN) {
    return throw_errno(env, s->iface, "send (classic frame)", EMSGSIZE);
  }
  f.can_id = (flags & FLAG_EXTENDED) ? ((id & CAN_EFF_MASK) | CAN_EFF_FLAG) : (id & CAN_SFF_MASK);
  if (flags & FLAG_RTR) f.can_id |= CAN_RTR_FLAG;
  f.len = (uint8_t)len;
  if (!(flags & FLAG_RTR) && len > 0) memcpy(f.data, data, len);
  ssize_t written;
  do written = write(s->fd, &f, size);
  while (written < 0 && errno == EINTR);
  if (written < 0) return throw_errno(env, s->iface, "write", errno);
  if ((size_t)written != size) return throw_errno(env, s->iface, "write (short)", EIO);
  return NULL;
}

/* The socket is readable (status 0) or failed (status < 0, libuv has stopped the poll). */
static void on_poll(uv_poll_t *handle, int status, int events) {
  can_socket *s = handle->data;
  napi_env env = s->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value callback = NULL, self = NULL, arg = NULL, result;
  if (s->callback_ref) napi_get_reference_value(env, s->callback_ref, &callback);
  if (s->self_ref) napi_get_reference_value(env, s->self_ref, &self);
  if (status < 0) {
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err == 0) err = EIO;
    arg = errno_error(env, s->iface, "receive", err);
  } else {
    napi_get_undefined(env, &arg);
  }
  if (callback && self) {
    if (napi_make_callback(env, s->async_context, self, callback, 1, &arg, &result) == napi_pending_exception) {
      napi_value exception;
      napi_get_and_clear_last_exception(env, &exception);
      napi_fatal_exception(env, exception);
    }
  }
  /* libuv stopped the poll on failure: unless the callback restarted it, nothing holds the object now. */
  if (status < 0 && s->poll && !uv_is_active((uv_handle_t *)s->poll)) release_ref(env, &s->self_ref);
  napi_close_handle_scope(env, scope);
}

/* poll(callback): calls callback() whenever the socket is readable, callback(error) once on failure. */
static napi_value socket_poll(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], self, name;
  can_socket *s = unwrap(env, info, &argc, argv, 1);
  if (!s) return NULL;
  napi_valuetype type = napi_undefined;
  if (argc < 1 || napi_typeof(env, argv[0], &type) != napi_ok || type != napi_function) {
    napi_throw_type_error(env, NULL, "poll(callback) takes a function");
    return NULL;
  }
  napi_get_cb_info(env, info, NULL, NULL, &self, NULL);
  if (!s->async_context) {
    napi_create_string_utf8(env, "RoadlinkCanSocket", NAPI_AUTO_LENGTH, &name);
    CHECK(env, napi_async_init(env, self, name, &s->async_context), "poll: napi_async_init failed");
  }
  release_ref(env, &s->callback_ref);
  napi_create_reference(env, argv[0], 1, &s->callback_ref);
  if (!s->self_ref) napi_create_reference(env, self, 1, &s->self_ref);
  int rc = uv_poll_start(s->poll, UV_READABLE, on_poll);
  if (rc != 0) {
    release_ref(env, &s->self_ref);
    return throw_errno(env, s->iface, "uv_poll_start", -rc);
  }
  return NULL;
}

/*
 * syncDrops(): SO_RXQ_OVFL reports drops only with the next frame received; SO_MEMINFO tells them
 * now (Linux 4.12+; without it the counter waits for that frame).
 */
static napi_value socket_sync_drops(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  can_socket *s = unwrap(env, info, &argc, NULL, 0);
  if (!s || s->fd < 0) return NULL;
  uint32_t meminfo[SK_MEMINFO_VARS];
  socklen_t len = sizeof meminfo;
  if (getsockopt(s->fd, SOL_SOCKET, SO_MEMINFO, meminfo, &len) == 0 && len > SK_MEMINFO_DROPS * sizeof(uint32_t))
    note_drops(s, meminfo[SK_MEMINFO_DROPS]);
  return NULL;
}

/* close(): closes the socket and stops polling; repeating it does nothing. */
static napi_value socket_close(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  can_socket *s = unwrap(env, info, &argc, NULL, 0);
  if (!s) return NULL;
  shutdown_socket(s, env);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor methods[] = {
      {"setTarget", NULL, socket_set_target, NULL, NULL, NULL, napi_default_method, NULL},
      {"read", NULL, socket_read, NULL, NULL, NULL, napi_default_method, NULL},
      {"send", NULL, socket_send, NULL, NULL, NULL, napi_default_method, NULL},
      {"poll", NULL, socket_poll, NULL, NULL, NULL, napi_default_method, NULL},
      {"syncDrops", NULL, socket_sync_drops, NULL, NULL, NULL, napi_default_method, NULL},
      {"close", NULL, socket_close, NULL, NULL, NULL, napi_default_method, NULL},
  };
  napi_value cls, flags;
  if (napi_define_class(env, "CanSocket", NAPI_AUTO_LENGTH, socket_new, NULL, sizeof methods / sizeof methods[0], methods, &cls) != napi_ok) return NULL;
  napi_set_named_property(env, exports, "CanSocket", cls);
  napi_create_object(env, &flags);
  set_number(env, flags, "EXTENDED", FLAG_EXTENDED);
  set_number(env, flags, "FD", FLAG_FD);
  set_number(env, flags, "BRS", FLAG_BRS);
  set_number(env, flags, "ESI", FLAG_ESI);
  set_number(env, flags, "RTR", FLAG_RTR);
  set_number(env, flags, "ERROR", FLAG_ERROR);
  napi_set_named_property(env, exports, "FRAME_FLAGS", flags);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
