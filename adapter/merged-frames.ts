import { createRequire } from "node:module";

/**
 * One buffer per broadcast's pre-encoded WebSocket frame, instead of a header and a payload.
 *
 * Socket.IO encodes a broadcast once and builds its WebSocket frame once (socket.io-adapter's
 * `Adapter#_encode`, with ws' `Sender.frame`), as two buffers: the frame header and the payload.
 * For every recipient, ws' `sendFrame` then corks the TCP socket, writes both and uncorks it,
 * so Node builds a two-buffer `writev` per socket. Joined once per broadcast (a copy of the
 * packet's bytes), the frame goes to each socket as one buffer through the plain write path.
 * The bytes on the wire are the same.
 */

interface EncodingAdapter {
  _encode: (this: EncodingAdapter, packet: unknown, packetOpts: { wsPreEncodedFrame?: unknown }) => unknown;
}

let installed = false;

/** socket.io-adapter's in-memory Adapter, the copy Socket.IO itself loads. */
function socketIoAdapterPrototype(): EncodingAdapter | undefined {
  const fromHere = createRequire(import.meta.url);
  const fromSocketIo = createRequire(fromHere.resolve("socket.io"));
  const module = fromSocketIo("socket.io-adapter") as { Adapter?: { prototype: EncodingAdapter } };
  return module.Adapter?.prototype;
}

/** Installs the joining once per process; false when socket.io-adapter has no `_encode` (nothing changed). */
export function mergePreEncodedFrames(): boolean {
  if (installed) return true;
  const prototype = socketIoAdapterPrototype();
  if (typeof prototype?._encode !== "function") return false;
  const encode = prototype._encode;
  prototype._encode = function mergingEncode(this: EncodingAdapter, packet, packetOpts) {
    const encoded = encode.call(this, packet, packetOpts);
    const frame = packetOpts.wsPreEncodedFrame;
    if (Array.isArray(frame) && frame.length === 2 && Buffer.isBuffer(frame[0]) && Buffer.isBuffer(frame[1])) {
      packetOpts.wsPreEncodedFrame = [Buffer.concat([frame[0], frame[1]])];
    }
    return encoded;
  };
  installed = true;
  return true;
}
