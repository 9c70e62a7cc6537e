import { Emitter as StockEmitter } from "@socket.io/redis-emitter";
import type { EmitterRequest, EncodedRequest } from "./request.js";

/**
 * Plain pub/sub: the format of `@socket.io/redis-adapter`'s classic adapter, encoded by the
 * stock `@socket.io/redis-emitter` itself (so it stays exactly what the adapter expects). The
 * stock emitter publishes synchronously to the client it is given; here that client only
 * records what it was asked to publish, and the caller publishes it with its own time limit.
 */
export function encodePlain(request: EmitterRequest, prefix: string): EncodedRequest {
  let encoded: EncodedRequest | undefined;
  const recorder = {
    publish(channel: string, payload: string | Buffer) {
      encoded = { channel, payload };
      return Promise.resolve(0);
    },
  };
  const namespace = request.type === "server-side-emit" ? request.namespace : request.target.namespace;
  const emitter = new StockEmitter(recorder, { key: prefix }, namespace);
  if (request.type === "server-side-emit") {
    emitter.serverSideEmit(request.event, ...request.args);
  } else {
    const operator = emitter.to(request.target.rooms).except(request.target.except);
    if (request.type === "broadcast") operator.emit(request.event as never, ...(request.args as never[]));
    else if (request.type === "join") operator.socketsJoin(request.rooms);
    else if (request.type === "leave") operator.socketsLeave(request.rooms);
    else operator.disconnectSockets(request.close);
  }
  if (!encoded) throw new Error(`the stock emitter encoded nothing for a ${request.type} request`);
  return encoded;
}
