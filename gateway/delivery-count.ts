import { Adapter } from "socket.io-adapter";

/**
 * Counts the sockets each broadcast reaches, for `sio_gateway_deliveries_total`, at one
 * counter update per broadcast rather than one per delivery.
 *
 * Why the base class: every broadcast a worker delivers, whether it started here or arrived
 * through Redis or IPC, ends in `Adapter.prototype.broadcast` (the Redis and cluster adapters
 * call it as `super.broadcast`), which hands each matching socket to `this.apply`. A per-socket
 * `onAnyOutgoing` listener did the same job at ~7% more CPU per delivery (bench/RESULTS.md).
 */
let installed = false;

/** `Adapter#apply` is private in the typings; this is the part of it used here. */
type ApplyFn = (options: unknown, callback: (socket: unknown) => void) => void;
interface WithApply {
  apply?: ApplyFn;
}

export function countDeliveries(onBroadcast: (recipients: number) => void): void {
  if (installed) return;
  installed = true;
  const broadcast = Adapter.prototype.broadcast;
  Adapter.prototype.broadcast = function countingBroadcast(this: Adapter, packet, opts) {
    const self = this as unknown as WithApply;
    const apply = self.apply!;
    let recipients = 0;
    // An own property for the duration of the call: apply() is also used by fetchSockets & co.,
    // which must not count as deliveries.
    self.apply = (options, callback) =>
      apply.call(this, options, (socket) => {
        recipients++;
        callback(socket);
      });
    try {
      broadcast.call(this, packet, opts);
    } finally {
      delete self.apply;
    }
    onBroadcast(recipients);
  };
}
