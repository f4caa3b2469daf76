{
  "targets": [
    {
      "target_name": "roadlink_can",
      "sources": ["can_socket.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags_c": ["-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    }
  ]
}
