import { createServer, type Server } from "node:net";

function listenOn(port: number): Promise<Server | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(undefined));
    server.listen(port, "127.0.0.1", () => resolve(server));
  });
}

function closeAll(servers: (Server | undefined)[]): Promise<void> {
  const listening = servers.filter((server): server is Server => server !== undefined);
  return Promise.all(listening.map((server) => new Promise<void>((resolve) => server.close(() => resolve())))).then(() => undefined);
}

/** A TCP port that was free a moment ago (the OS picks it). */
export async function freePort(): Promise<number> {
  const server = (await listenOn(0))!;
  const { port } = server.address() as { port: number };
  await closeAll([server]);
  return port;
}

/**
 * `count` consecutive free ports (for --worker-port-base), below the ephemeral range
 * (32768 and up here) so that client sockets' local ports cannot take them meanwhile.
 */
export async function freePortRange(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 12_000);
    const servers = await Promise.all(Array.from({ length: count }, (_, i) => listenOn(base + i)));
    await closeAll(servers);
    if (servers.every(Boolean)) return base;
  }
  throw new Error(`no ${count} consecutive free ports found`);
}
