import assert from "node:assert/strict";
import type { Browser } from "playwright-core";
import { slotForIp } from "../../gateway/routing.js";
import { launchChromium } from "./browser.js";
import { GatewayProcess } from "./gateway-process.js";
import { RedisServer } from "./redis-server.js";

/** A documentation-range address (a header value only) that the gateway routes to `worker` of 2, from `offset` on. */
export function forwardedFor(worker: number, offset = 1): string {
  for (let n = offset; n < 255; n++) if (slotForIp(`203.0.113.${n}`, 2) === worker) return `203.0.113.${n}`;
  throw new Error("no address for the worker");
}

/**
 * What the demo-page tests run against: a private Redis, the gateway with 2 workers trusting
 * 127.0.0.1 (pages reach a chosen worker by their X-Forwarded-For), and a headless Chromium.
 */
export class DemoPageRig {
  redis!: RedisServer;
  gateway!: GatewayProcess;
  browser!: Browser;

  async start(): Promise<void> {
    this.redis = await RedisServer.start();
    this.gateway = await GatewayProcess.start(["--workers", "2", "--redis", this.redis.url, "--trust-proxy", "127.0.0.1"]);
    this.browser = await launchChromium();
  }

  /** Closes the browser, stops the gateway (which must exit 0) and Redis. */
  async stop(): Promise<void> {
    await this.browser?.close();
    const result = await this.gateway?.stop();
    await this.redis?.stop();
    if (result) assert.equal(result.code, 0, result.stderr);
  }
}
