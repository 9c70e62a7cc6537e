import type { Server } from "socket.io";

/**
 * Open Engine.IO sessions per client IP in this worker (`--max-conns-per-ip` bounds them as it
 * bounds TCP connections): without it one IP opens sessions without end over a few keep-alive
 * connections (20,000 sessions over 4 connections cost a worker ~190 MB until they expired).
 *
 * Counted per worker: routing sends every handshake of one IP to the same worker (its hash
 * slot), so the local count is the IP's count, except while its slot is down and a fallback
 * worker takes its handshakes.
 */
export class SessionCounter {
  private readonly open = new Map<string, number>();

  /** `limit` 0 turns the check off (nothing is refused, counts are still kept). */
  constructor(private readonly limit: number) {}

  /** True when `ip` may not open another session. */
  isFull(ip: string): boolean {
    return this.limit > 0 && (this.open.get(ip) ?? 0) >= this.limit;
  }

  count(ip: string): number {
    return this.open.get(ip) ?? 0;
  }

  /**
   * Counts every new Engine.IO session by its `remoteAddress` (the client IP: ClientAddresses
   * sets it in an earlier listener) until it closes. One shared "close" listener reads the
   * address back from the connection (`this`), so an idle connection carries no closure of ours.
   */
  attach(io: Server): void {
    const open = this.open;
    function release(this: EngineConnection): void {
      const ip = this.remoteAddress;
      const left = (open.get(ip) ?? 1) - 1;
      if (left <= 0) open.delete(ip);
      else open.set(ip, left);
    }
    io.engine.on("connection", (connection: EngineConnection) => {
      const ip = connection.remoteAddress;
      open.set(ip, (open.get(ip) ?? 0) + 1);
      connection.on("close", release);
    });
  }
}

/** What the counter reads of an Engine.IO connection. */
interface EngineConnection {
  remoteAddress: string;
  on(event: "close", listener: (this: EngineConnection) => void): unknown;
}
