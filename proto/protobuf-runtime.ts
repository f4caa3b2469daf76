/**
 * The protobufjs runtime the generated code (gen/roadlink.pb.ts) uses, configured for Roadlink:
 * - 64-bit fields (times in ms, sequence numbers) are plain JS numbers, exact up to 2^53; without
 *   this, protobufjs decodes them as Long objects because the `long` package is installed;
 * - unknown fields (from a newer schema) are kept on decode and written back on encode, so a message
 *   passed on by older code loses nothing (proto/README.md, compatibility rules).
 *
 * protobufjs/minimal is a process-wide singleton, so this applies to every user of it (the generated
 * code and wire/sample-chunk.ts, which writes numbers anyway).
 */
import $protobuf from 'protobufjs/minimal.js';

$protobuf.util.Long = null as unknown as typeof $protobuf.util.Long;
$protobuf.configure();
$protobuf.Reader.discardUnknown = false;

export default $protobuf;
