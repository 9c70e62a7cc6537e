import type { Namespace, Server } from "socket.io";

/**
 * Counts broadcasts and their deliveries for the metrics, at one counter update per broadcast
 * rather than one per delivery.
 *
 * Broadcasts started here: every namespace's adapter instance gets a wrapper around its own
 * `broadcast` (the method `io.to(room).emit()` calls), installed through Socket.IO's
 * `new_namespace` event. Relayed broadcasts (from Redis or IPC) do not pass there.
 *
 * Deliveries: every broadcast a worker delivers, started here or relayed, ends in the in-memory
 * `Adapter#broadcast` of socket.io-adapter (the Redis and cluster adapters call it as
 * `super.broadcast`), which hands each matching socket to `this.apply`. No public hook sees
 * that (a per-socket `onAnyOutgoing` listener costs ~7 % more CPU per delivery,
 * bench/RESULTS.md), so this patches that one method — on the prototype found in the live
 * adapter's own chain, so the copy of socket.io-adapter the adapters really extend is the one
 * counted, however many copies are installed. Pinned by test/unit/broadcast-count.test.ts.
 */

/** `Adapter#apply` and `Adapter#broadcast` as this module uses them (apply is private in the typings). */
interface InMemoryAdapter {
  apply: (this: InMemoryAdapter, options: unknown, callback: (socket: unknown) => void) => void;
  broadcast: (this: InMemoryAdapter, packet: unknown, options: unknown) => void;
}

const countedPrototypes = new WeakMap<object, Set<(recipients: number) => void>>();

/** The prototype in `adapter`'s chain that defines both `broadcast` and `apply`: socket.io-adapter's in-memory Adapter. */
export function inMemoryAdapterPrototype(adapter: object): InMemoryAdapter | undefined {
  for (let proto: object | null = Object.getPrototypeOf(adapter) as object | null; proto !== null; proto = Object.getPrototypeOf(proto) as object | null) {
    if (Object.hasOwn(proto, "apply") && Object.hasOwn(proto, "broadcast")) return proto as InMemoryAdapter;
  }
  return undefined;
}

/** Reports the recipients of every broadcast delivered through adapters of `adapter`'s kind. False when its chain has no in-memory Adapter. */
export function countDeliveries(adapter: object, onBroadcast: (recipients: number) => void): boolean {
  const proto = inMemoryAdapterPrototype(adapter);
  if (!proto) return false;
  const listeners = countedPrototypes.get(proto);
  if (listeners) {
    listeners.add(onBroadcast);
    return true;
  }
  const all = new Set([onBroadcast]);
  countedPrototypes.set(proto, all);
  const { broadcast, apply } = proto;
  proto.broadcast = function countingBroadcast(this: InMemoryAdapter, packet, options) {
    let recipients = 0;
    // An own property for the duration of the call only: apply() also serves fetchSockets & co.,
    // which must not count as deliveries.
    this.apply = function countingApply(applyOptions, callback) {
      apply.call(this, applyOptions, (socket) => {
        recipients++;
        callback(socket);
      });
    };
    try {
      broadcast.call(this, packet, options);
    } finally {
      delete (this as Partial<InMemoryAdapter>).apply;
    }
    for (const listener of all) listener(recipients);
  };
  return true;
}

/** Counts the broadcasts each namespace's adapter starts in this process, now and for namespaces created later. */
export function countBroadcasts(io: Server, onBroadcast: () => void): void {
  const wrap = (namespace: Namespace): void => {
    const adapter = namespace.adapter as unknown as { broadcast: (...args: unknown[]) => void };
    const broadcast = adapter.broadcast.bind(adapter);
    adapter.broadcast = (...args: unknown[]) => {
      onBroadcast();
      broadcast(...args);
    };
  };
  wrap(io.of("/"));
  io.on("new_namespace", wrap);
}
