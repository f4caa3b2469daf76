{
  "targets": [
    {
      "target_name": "roadlink_notify",
      "sources": ["sd_notify.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags_c": ["-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    }
  ]
}
